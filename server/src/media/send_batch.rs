//! Datagrams out in batches: one `sendmmsg(2)` for up to [`BATCH`] of them instead of one
//! `sendto(2)` each. Forwarding one packet to a meeting writes a datagram per subscriber, and
//! the system call itself (entry, exit, the socket lookup) was a share of every send. A
//! datagram waits at most until the end of the loop turn that made it.

use std::net::{SocketAddr, UdpSocket};

/// Datagrams per system call; a fuller batch is sent at once.
const BATCH: usize = 64;

pub(super) struct SendBatch {
    queue: Vec<(SocketAddr, Vec<u8>)>,
}

impl SendBatch {
    pub fn new() -> SendBatch {
        SendBatch { queue: Vec::with_capacity(BATCH) }
    }

    /// Queues a datagram; sends the batch when it is full.
    pub fn push(&mut self, socket: &UdpSocket, destination: SocketAddr, contents: Vec<u8>) {
        self.queue.push((destination, contents));
        if self.queue.len() >= BATCH {
            self.send(socket);
        }
    }

    /// Sends everything queued. Sends never wait: with the kernel's buffer full (WouldBlock)
    /// the rest is dropped, as a congested link would; a datagram refused for itself (an
    /// unreachable address) is dropped alone.
    pub fn send(&mut self, socket: &UdpSocket) {
        if !self.queue.is_empty() {
            send_all(socket, &self.queue);
            self.queue.clear();
        }
    }
}

#[cfg(target_os = "linux")]
fn send_all(socket: &UdpSocket, queue: &[(SocketAddr, Vec<u8>)]) {
    use std::os::fd::AsRawFd;

    let addrs: Vec<socket2::SockAddr> = queue.iter().map(|(a, _)| socket2::SockAddr::from(*a)).collect();
    let mut iovecs: Vec<libc::iovec> = queue
        .iter()
        .map(|(_, data)| libc::iovec { iov_base: data.as_ptr() as *mut libc::c_void, iov_len: data.len() })
        .collect();
    let mut messages: Vec<libc::mmsghdr> = iovecs
        .iter_mut()
        .zip(&addrs)
        .map(|(iov, addr)| {
            // SAFETY: an all-zero msghdr is a valid empty one; the pointers set below stay
            // valid (owned by `addrs` and `iovecs`) until the last call returns.
            let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
            header.msg_name = addr.as_ptr() as *mut libc::c_void;
            header.msg_namelen = addr.len();
            header.msg_iov = iov;
            header.msg_iovlen = 1;
            libc::mmsghdr { msg_hdr: header, msg_len: 0 }
        })
        .collect();
    let fd = socket.as_raw_fd();
    let mut sent = 0;
    while sent < messages.len() {
        let rest = &mut messages[sent..];
        // SAFETY: `rest` points to initialised headers whose buffers outlive the call.
        let n = unsafe { libc::sendmmsg(fd, rest.as_mut_ptr(), rest.len() as libc::c_uint, 0) };
        if n > 0 {
            sent += n as usize;
            continue;
        }
        match std::io::Error::last_os_error().kind() {
            std::io::ErrorKind::Interrupted => {}
            std::io::ErrorKind::WouldBlock => return,
            // This datagram's own fault (an address the kernel will not send to): skip it.
            _ => sent += 1,
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn send_all(socket: &UdpSocket, queue: &[(SocketAddr, Vec<u8>)]) {
    for (destination, data) in queue {
        if let Err(e) = socket.send_to(data, destination) {
            if e.kind() == std::io::ErrorKind::WouldBlock {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_datagram_arrives_whole_and_in_order_across_batches() {
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut batch = SendBatch::new();
        // More than one batch, to two destinations, of different sizes.
        for i in 0..(BATCH + 10) as u32 {
            let to = if i % 2 == 0 { &a } else { &b };
            batch.push(&sender, to.local_addr().unwrap(), vec![i as u8; 10 + i as usize]);
        }
        batch.send(&sender);
        let mut buf = [0u8; 2048];
        for (socket, first) in [(&a, 0u32), (&b, 1)] {
            socket.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
            for i in (first..(BATCH + 10) as u32).step_by(2) {
                let n = socket.recv(&mut buf).unwrap();
                assert_eq!(&buf[..n], &vec![i as u8; 10 + i as usize][..]);
            }
        }
    }

    #[test]
    fn a_datagram_the_kernel_refuses_does_not_stop_the_others() {
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let good = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut batch = SendBatch::new();
        // An IPv6 destination on an IPv4 socket is refused for itself.
        batch.push(&sender, "[::1]:9".parse().unwrap(), vec![1; 20]);
        batch.push(&sender, good.local_addr().unwrap(), vec![2; 20]);
        batch.send(&sender);
        good.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
        let mut buf = [0u8; 64];
        let n = good.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], &[2; 20]);
    }
}

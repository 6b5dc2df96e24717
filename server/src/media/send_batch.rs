//! Datagrams out in batches: one `sendmmsg(2)` for up to [`BATCH`] of them instead of one
//! `sendto(2)` each. Forwarding one packet to a meeting writes a datagram per subscriber, and
//! the system call itself (entry, exit, the socket lookup) was a share of every send. A
//! datagram waits at most until the end of the loop turn that made it.

use std::net::{SocketAddr, UdpSocket};

use socket2::SockAddr;

/// Datagrams per system call; a fuller batch is sent at once.
const BATCH: usize = 64;

/// Reused from turn to turn, so a send allocates nothing once the loop has warmed up.
pub(super) struct SendBatch {
    queue: Vec<(SockAddr, Vec<u8>)>,
    /// `sendmmsg`'s headers and buffers for `queue`, rebuilt by every send: they point into
    /// `queue` and are stale between sends.
    #[cfg(target_os = "linux")]
    iovecs: Vec<libc::iovec>,
    #[cfg(target_os = "linux")]
    headers: Vec<libc::mmsghdr>,
}

impl SendBatch {
    pub fn new() -> SendBatch {
        SendBatch {
            queue: Vec::with_capacity(BATCH),
            #[cfg(target_os = "linux")]
            iovecs: Vec::with_capacity(BATCH),
            #[cfg(target_os = "linux")]
            headers: Vec::with_capacity(BATCH),
        }
    }

    /// Queues a datagram; sends the batch when it is full.
    pub fn push(&mut self, socket: &UdpSocket, destination: SocketAddr, contents: Vec<u8>) {
        self.queue.push((SockAddr::from(destination), contents));
        if self.queue.len() >= BATCH {
            self.send(socket);
        }
    }

    /// Sends everything queued. Sends never wait: with the kernel's buffer full (WouldBlock)
    /// the rest is dropped, as a congested link would; a datagram refused for itself (an
    /// unreachable address) is dropped alone.
    pub fn send(&mut self, socket: &UdpSocket) {
        if !self.queue.is_empty() {
            self.send_all(socket);
            self.queue.clear();
        }
    }

    #[cfg(target_os = "linux")]
    fn send_all(&mut self, socket: &UdpSocket) {
        use std::os::fd::AsRawFd;

        self.iovecs.clear();
        self.iovecs.extend(self.queue.iter().map(|(_, data)| libc::iovec {
            iov_base: data.as_ptr() as *mut libc::c_void,
            iov_len: data.len(),
        }));
        self.headers.clear();
        for (iov, (addr, _)) in self.iovecs.iter_mut().zip(&self.queue) {
            // SAFETY: an all-zero msghdr is a valid empty one; the pointers set here stay
            // valid (owned by `queue` and `iovecs`, untouched until the last call returns).
            let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
            header.msg_name = addr.as_ptr() as *mut libc::c_void;
            header.msg_namelen = addr.len();
            header.msg_iov = iov;
            header.msg_iovlen = 1;
            self.headers.push(libc::mmsghdr { msg_hdr: header, msg_len: 0 });
        }
        let fd = socket.as_raw_fd();
        let mut sent = 0;
        while sent < self.headers.len() {
            let rest = &mut self.headers[sent..];
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
    fn send_all(&mut self, socket: &UdpSocket) {
        for (destination, data) in &self.queue {
            let Some(destination) = destination.as_socket() else { continue };
            if let Err(e) = socket.send_to(data, destination) {
                if e.kind() == std::io::ErrorKind::WouldBlock {
                    return;
                }
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

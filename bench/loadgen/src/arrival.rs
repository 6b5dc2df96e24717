//! When a datagram reached a measured participant's socket, from the kernel's receive
//! timestamp (`SO_TIMESTAMPNS`). The generator is one thread running every participant: when
//! an SFU fans a frame out to hundreds of them at once, a datagram can wait in its socket for
//! milliseconds until the generator's turn comes. That wait is the generator's, not the SFU's,
//! so a frame's delay is taken at the kernel's arrival time (the wait is reported apart).

use std::io;
use std::mem::{size_of, size_of_val, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Asks the kernel to stamp every datagram this socket receives.
pub fn enable(socket: &UdpSocket) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: a valid socket and a c_int option value of the size given.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// Receives one datagram: its length, its source, and when it reached the socket (now, when
/// the kernel gave no stamp).
pub async fn recv(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<(usize, SocketAddr, Instant)> {
    socket.async_io(Interest::READABLE, || recv_stamped(socket, buf)).await
}

fn recv_stamped(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<(usize, SocketAddr, Instant)> {
    // SAFETY: plain C structs; all-zero is a valid value of each.
    let mut source: libc::sockaddr_storage = unsafe { zeroed() };
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    let mut control = [0u64; 16]; // aligned room for one timestamp message and more
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut source as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of_val(&control);
    // SAFETY: `msg` points at live buffers of the sizes it states; the socket is non-blocking.
    let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let (now, wall_now) = (Instant::now(), SystemTime::now());
    let mut arrived = now;
    // SAFETY: walking the control messages recvmsg just filled, with the kernel's macros.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS {
                let stamp: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                arrived = arrival(now, wall_now, stamp);
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n as usize, socket_addr(&source)?, arrived))
}

/// The stamp is wall-clock time (CLOCK_REALTIME); it is turned into an `Instant` by how long
/// ago it was, so only the wall clock's rate over that short wait matters, not its offset.
fn arrival(now: Instant, wall_now: SystemTime, stamp: libc::timespec) -> Instant {
    let stamped = UNIX_EPOCH + Duration::new(stamp.tv_sec as u64, stamp.tv_nsec as u32);
    let waited = wall_now.duration_since(stamped).unwrap_or_default();
    now.checked_sub(waited).unwrap_or(now)
}

fn socket_addr(storage: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let v4 = unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr));
            Ok(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(v4.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let v6 = unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(v6.sin6_addr.s6_addr);
            Ok(SocketAddr::V6(SocketAddrV6::new(ip, u16::from_be(v6.sin6_port), v6.sin6_flowinfo, v6.sin6_scope_id)))
        }
        family => Err(io::Error::new(io::ErrorKind::InvalidData, format!("address family {family}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A datagram sent, left unread for a while, then read: its arrival is when it was sent,
    /// not when it was read; its source is the sender.
    #[tokio::test]
    async fn arrival_is_when_the_kernel_received_not_when_read() {
        let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        enable(&receiver).unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        // The kernel turns stamping on from a deferred work item: give it a moment.
        std::thread::sleep(Duration::from_millis(20));
        let sent = Instant::now();
        sender.send_to(b"probe", receiver.local_addr().unwrap()).await.unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let mut buf = [0u8; 64];
        let (n, source, arrived) = recv(&receiver, &mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"probe");
        assert_eq!(source, sender.local_addr().unwrap());
        let read = Instant::now();
        assert!(arrived < sent + Duration::from_millis(20), "stamped {:?} after the send", arrived - sent);
        assert!(read - arrived >= Duration::from_millis(50));
    }
}

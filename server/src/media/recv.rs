//! Datagrams in, each with the local address it arrived at. A socket bound to `0.0.0.0` or
//! `[::]` takes datagrams sent to any of the host's addresses, and ICE must know which one
//! (`addresses::Announced::candidate_for`): `recvmsg(2)` with `IP_PKTINFO` /
//! `IPV6_RECVPKTINFO` says. Addresses come back canonical: IPv4 that reached a dual-stack
//! socket as `::ffff:a.b.c.d` is given as plain IPv4.

use std::io;
use std::net::{IpAddr, SocketAddr};
#[cfg(test)]
use std::net::UdpSocket;
use std::os::fd::AsRawFd;

/// Room for one `in6_pktinfo` or `in_pktinfo` control message.
// SAFETY: CMSG_SPACE only computes a size.
const CONTROL_BYTES: usize = unsafe { libc::CMSG_SPACE(std::mem::size_of::<libc::in6_pktinfo>() as u32) } as usize;

#[repr(C, align(8))]
struct Control([u8; CONTROL_BYTES]);

/// Asks the kernel to say where each datagram was sent to.
pub(super) fn enable_destination_info(socket: &std::net::UdpSocket) -> io::Result<()> {
    let fd = socket.as_raw_fd();
    let on: libc::c_int = 1;
    let set = |level, name| {
        // SAFETY: a plain int option on a socket we own.
        let r = unsafe {
            libc::setsockopt(fd, level, name, &on as *const _ as *const libc::c_void, std::mem::size_of_val(&on) as u32)
        };
        if r == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
    };
    if socket.local_addr()?.is_ipv6() {
        set(libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO)?;
        // IPv4 reaching a dual-stack socket is reported with IP_PKTINFO; refused on an
        // IPv6-only socket, which never sees any.
        let _ = set(libc::IPPROTO_IP, libc::IP_PKTINFO);
        Ok(())
    } else {
        set(libc::IPPROTO_IP, libc::IP_PKTINFO)
    }
}

/// One datagram: its length, its source, and the local address it arrived at (when the
/// kernel says; see [`enable_destination_info`]).
pub(super) fn recv_with_destination(
    socket: &impl AsRawFd,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, Option<IpAddr>)> {
    // SAFETY: zeroed sockaddr_storage, msghdr and control bytes are valid empty values; every
    // pointer set below outlives the recvmsg call, and the control messages read after it lie
    // within the buffer the kernel filled (CMSG_FIRSTHDR/NXTHDR check msg_controllen).
    unsafe {
        let mut source: libc::sockaddr_storage = std::mem::zeroed();
        let mut control = Control([0; CONTROL_BYTES]);
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr() as *mut libc::c_void, iov_len: buf.len() };
        let mut header: libc::msghdr = std::mem::zeroed();
        header.msg_name = &mut source as *mut _ as *mut libc::c_void;
        header.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as u32;
        header.msg_iov = &mut iov;
        header.msg_iovlen = 1;
        header.msg_control = control.0.as_mut_ptr() as *mut libc::c_void;
        header.msg_controllen = CONTROL_BYTES;
        let n = libc::recvmsg(socket.as_raw_fd(), &mut header, 0);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let source = match i32::from(source.ss_family) {
            libc::AF_INET => {
                let v4 = &*(&source as *const _ as *const libc::sockaddr_in);
                SocketAddr::new(IpAddr::from(u32::from_be(v4.sin_addr.s_addr).to_be_bytes()), u16::from_be(v4.sin_port))
            }
            libc::AF_INET6 => {
                let v6 = &*(&source as *const _ as *const libc::sockaddr_in6);
                SocketAddr::new(IpAddr::from(v6.sin6_addr.s6_addr), u16::from_be(v6.sin6_port))
            }
            _ => return Err(io::Error::new(io::ErrorKind::InvalidData, "a datagram from no IP address")),
        };
        let mut destination = None;
        let mut cmsg = libc::CMSG_FIRSTHDR(&header);
        while !cmsg.is_null() {
            match ((*cmsg).cmsg_level, (*cmsg).cmsg_type) {
                (libc::IPPROTO_IP, libc::IP_PKTINFO) => {
                    let info = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::in_pktinfo);
                    destination = Some(IpAddr::from(u32::from_be(info.ipi_addr.s_addr).to_be_bytes()));
                }
                (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => {
                    let info = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::in6_pktinfo);
                    destination = Some(IpAddr::from(info.ipi6_addr.s6_addr).to_canonical());
                }
                _ => {}
            }
            cmsg = libc::CMSG_NXTHDR(&header, cmsg);
        }
        Ok((n as usize, canonical(source), destination))
    }
}

/// IPv4-mapped IPv6 (`[::ffff:192.0.2.1]:5000`) as plain IPv4.
pub(super) fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(bind: &str, to: &str) -> (SocketAddr, Option<IpAddr>) {
        let socket = UdpSocket::bind(bind).unwrap();
        enable_destination_info(&socket).unwrap();
        let port = socket.local_addr().unwrap().port();
        let sender = UdpSocket::bind(if to.contains(':') { "[::1]:0" } else { "127.0.0.1:0" }).unwrap();
        let to_addr: IpAddr = to.parse().unwrap();
        sender.send_to(b"hello", SocketAddr::new(to_addr, port)).unwrap();
        let mut buf = [0u8; 64];
        let (n, source, destination) = recv_with_destination(&socket, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"hello");
        assert_eq!(source, canonical(sender.local_addr().unwrap()));
        (source, destination)
    }

    #[test]
    fn a_wildcard_ipv4_socket_learns_each_datagrams_destination() {
        // 127.0.0.2 is on loopback too: the destination is the one the sender chose.
        assert_eq!(received("0.0.0.0:0", "127.0.0.2").1, Some("127.0.0.2".parse().unwrap()));
        assert_eq!(received("0.0.0.0:0", "127.0.0.1").1, Some("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn a_dual_stack_socket_reports_ipv4_as_ipv4() {
        let (source, destination) = received("[::]:0", "127.0.0.3");
        assert!(source.is_ipv4(), "{source}");
        assert_eq!(destination, Some("127.0.0.3".parse().unwrap()));
        assert_eq!(received("[::]:0", "::1").1, Some("::1".parse().unwrap()));
    }
}

//! Datagrams out in batches: one `sendmmsg(2)` for up to [`BATCH`] of them instead of one
//! `sendto(2)` each. Forwarding one packet to a meeting writes a datagram per subscriber, and
//! the system call itself (entry, exit, the socket lookup) was a share of every send. A
//! datagram waits at most until the end of the loop turn that made it.
//!
//! Datagrams in a row to one address, of one size (the last may be shorter), go as one message
//! with UDP generic segmentation offload (`UDP_SEGMENT`): a video frame's packets to one
//! subscriber cross the kernel's UDP and IP layers once, and are cut into datagrams at the
//! device (or by the NIC). The receiver sees ordinary datagrams.
//!
//! A batch is grouped by destination before it is cut into runs (stably: each destination's
//! datagrams keep their order). Forwarding writes a packet's copies to every subscriber in a
//! row, then the next packet's: in the order made, no two datagrams to one address are
//! neighbours, and the fast path (which writes copies as packets come, not stream by stream)
//! lost every GSO run to 24 subscribers, its kernel time +35–50 % (BENCHMARKS.md). Only the
//! order between different addresses changes, and nothing waits longer: the batch leaves in
//! the same system call.
//!
//! A socket bound to every interface (`0.0.0.0`, `[::]`) sends each datagram from the address
//! its peer's datagrams arrived at (`IP_PKTINFO` / `IPV6_PKTINFO`), not from whichever the
//! kernel's route prefers: an ICE check's answer must come from the address the check was
//! sent to, or the browser discards it.

use std::net::{IpAddr, SocketAddr, UdpSocket};
#[cfg(target_os = "linux")]
use std::ops::Range;

use socket2::SockAddr;

/// Datagrams per system call; a fuller batch is sent at once.
const BATCH: usize = 64;

/// `linux/udp.h`: the segment size of a UDP GSO send, as a `SOL_UDP` option or control message.
#[cfg(target_os = "linux")]
const UDP_SEGMENT: libc::c_int = 103;
/// The kernel's limits for one GSO send: segments, and bytes (an IP datagram's 64 KiB less
/// headers).
#[cfg(target_os = "linux")]
const GSO_MAX_SEGMENTS: usize = 64;
#[cfg(target_os = "linux")]
const GSO_MAX_BYTES: usize = 65_000;
/// Room for a control message holding a `u16` (the GSO segment size) and one holding the
/// source address (`in6_pktinfo`, the larger of the two kinds).
#[cfg(target_os = "linux")]
// SAFETY: CMSG_SPACE only computes a size.
const CONTROL_BYTES: usize = unsafe {
    libc::CMSG_SPACE(std::mem::size_of::<u16>() as u32) + libc::CMSG_SPACE(std::mem::size_of::<libc::in6_pktinfo>() as u32)
} as usize;

#[cfg(target_os = "linux")]
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Control([u8; CONTROL_BYTES]);

/// The most spare buffers a batch keeps (two batches' worth): what a burst of sends needs
/// again, without holding on to a burst's worth forever.
const SPARE_BUFFERS: usize = 2 * BATCH;

/// Reused from turn to turn, so a send allocates nothing once the loop has warmed up.
pub(super) struct SendBatch {
    /// Each datagram's destination, buffer, and length: its first bytes of the buffer (a
    /// pooled buffer keeps its whole length, so it is not zeroed again when reused).
    queue: Vec<(SockAddr, Vec<u8>, usize)>,
    /// The buffers of datagrams sent, for the next ones to be written into
    /// ([`SendBatch::buffer`]): a forwarded copy is sealed straight into one, with no
    /// allocation and no copy (issue 25).
    spare: Vec<Vec<u8>>,
    /// The address each datagram of `queue` leaves from; `None`: the kernel chooses.
    sources: Vec<Option<IpAddr>>,
    /// An IPv6 socket (`[::]`) sends to IPv4 peers at their IPv4-mapped address.
    ipv6_socket: bool,
    /// Whether runs of datagrams go out as GSO sends: the kernel has `UDP_SEGMENT` and has not
    /// refused one (a device without checksum offload does).
    #[cfg(target_os = "linux")]
    gso: bool,
    /// `sendmmsg`'s headers, buffers and control messages for `queue`, rebuilt by every send:
    /// they point into `queue` and each other, and are stale between sends.
    #[cfg(target_os = "linux")]
    iovecs: Vec<libc::iovec>,
    #[cfg(target_os = "linux")]
    headers: Vec<libc::mmsghdr>,
    #[cfg(target_os = "linux")]
    controls: Vec<Control>,
    /// The datagrams each header carries, as a range of `order`.
    #[cfg(target_os = "linux")]
    spans: Vec<Range<usize>>,
    /// `queue`'s indexes grouped by destination, each group in queue order.
    #[cfg(target_os = "linux")]
    order: Vec<usize>,
    /// Each datagram's destination as given, to group and cut runs by (cheaper to compare
    /// than `SockAddr`).
    #[cfg(target_os = "linux")]
    destinations: Vec<SocketAddr>,
}

impl SendBatch {
    pub fn new(socket: &UdpSocket) -> SendBatch {
        SendBatch {
            queue: Vec::with_capacity(BATCH),
            spare: Vec::with_capacity(SPARE_BUFFERS),
            sources: Vec::with_capacity(BATCH),
            ipv6_socket: socket.local_addr().is_ok_and(|a| a.is_ipv6()),
            #[cfg(target_os = "linux")]
            gso: kernel_has_gso(socket),
            #[cfg(target_os = "linux")]
            iovecs: Vec::with_capacity(BATCH),
            #[cfg(target_os = "linux")]
            headers: Vec::with_capacity(BATCH),
            #[cfg(target_os = "linux")]
            controls: Vec::with_capacity(BATCH),
            #[cfg(target_os = "linux")]
            spans: Vec::with_capacity(BATCH),
            #[cfg(target_os = "linux")]
            order: Vec::with_capacity(BATCH),
            #[cfg(target_os = "linux")]
            destinations: Vec::with_capacity(BATCH),
        }
    }

    /// A buffer of `len` bytes to write a datagram into and [`push_part`](Self::push_part):
    /// a sent datagram's, or a new one while the loop warms up. Its bytes are whatever they
    /// were (zeroes only where it grew): it is for writing into. Not zeroing a reused
    /// buffer's 2 KB was 2.5 % of the loop's user space per forwarded copy (issue 25).
    pub fn buffer(&mut self, len: usize) -> Vec<u8> {
        let mut buffer = self.spare.pop().unwrap_or_default();
        buffer.resize(len, 0);
        buffer
    }

    /// Takes back a buffer that was not pushed (or whose contents went another way).
    pub fn recycle(&mut self, buffer: Vec<u8>) {
        if self.spare.len() < SPARE_BUFFERS {
            self.spare.push(buffer);
        }
    }

    /// `contents` whole as one datagram (the tests' shorthand for `push_part`).
    #[cfg(test)]
    pub fn push(&mut self, socket: &UdpSocket, destination: SocketAddr, source: Option<IpAddr>, contents: Vec<u8>) {
        let len = contents.len();
        self.push_part(socket, destination, source, contents, len);
    }

    /// Queues the first `len` bytes of `buffer` (one from [`buffer`](Self::buffer), written
    /// into, or any other) as a datagram, to leave from `source` when given (a wildcard-bound
    /// socket; see the module doc); sends the batch when it is full.
    pub fn push_part(&mut self, socket: &UdpSocket, destination: SocketAddr, source: Option<IpAddr>, buffer: Vec<u8>, len: usize) {
        let len = len.min(buffer.len());
        let destination = match destination {
            SocketAddr::V4(v4) if self.ipv6_socket => SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port()),
            other => other,
        };
        self.queue.push((SockAddr::from(destination), buffer, len));
        self.sources.push(source);
        #[cfg(target_os = "linux")]
        self.destinations.push(destination);
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
            let mut queue = std::mem::take(&mut self.queue);
            for (_, buffer, _) in queue.drain(..) {
                self.recycle(buffer);
            }
            self.queue = queue;
            self.sources.clear();
            #[cfg(target_os = "linux")]
            self.destinations.clear();
        }
    }

    /// Queued datagram `i`'s bytes.
    #[cfg(target_os = "linux")]
    fn datagram(&self, i: usize) -> &[u8] {
        let (_, buffer, len) = &self.queue[i];
        &buffer[..*len]
    }

    /// Groups `queue` by destination (see the module doc) and splits it into messages: runs
    /// for GSO where they form, single datagrams otherwise.
    #[cfg(target_os = "linux")]
    fn plan_spans(&mut self) {
        self.order.clear();
        self.order.extend(0..self.queue.len());
        if self.gso {
            let destinations = &self.destinations;
            // The index last: stable without the allocation of a stable sort. (Not by source:
            // one address's datagrams keep their order whatever they leave from.)
            self.order.sort_unstable_by_key(|&i| (destinations[i], i));
        }
        self.spans.clear();
        let mut start = 0;
        while start < self.order.len() {
            let first_index = self.order[start];
            let (to, first) = (self.destinations[first_index], self.datagram(first_index));
            let size = first.len();
            let (mut end, mut bytes) = (start + 1, size);
            while self.gso && end < self.order.len() && end - start < GSO_MAX_SEGMENTS {
                let index = self.order[end];
                let (next_to, next) = (self.destinations[index], self.datagram(index));
                if next_to != to || self.sources[index] != self.sources[first_index] || next.len() > size || next.is_empty() || bytes + next.len() > GSO_MAX_BYTES {
                    break;
                }
                bytes += next.len();
                end += 1;
                if next.len() < size {
                    break; // only the last segment may be shorter
                }
            }
            self.spans.push(start..end);
            start = end;
        }
    }

    #[cfg(target_os = "linux")]
    fn send_all(&mut self, socket: &UdpSocket) {
        use std::os::fd::AsRawFd;

        self.plan_spans();
        self.iovecs.clear();
        self.iovecs.extend(self.order.iter().map(|&i| libc::iovec {
            iov_base: self.queue[i].1.as_ptr() as *mut libc::c_void,
            iov_len: self.queue[i].2,
        }));
        self.controls.clear();
        self.controls.resize(self.spans.len(), Control([0; CONTROL_BYTES]));
        self.headers.clear();
        for (span, control) in self.spans.iter().zip(self.controls.iter_mut()) {
            let (addr, buffer, len) = &self.queue[self.order[span.start]];
            let first = &buffer[..*len];
            // SAFETY: an all-zero msghdr is a valid empty one; the pointers set here stay
            // valid (owned by `queue`, `iovecs` and `controls`, untouched until the last call
            // returns).
            let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
            header.msg_name = addr.as_ptr() as *mut libc::c_void;
            header.msg_namelen = addr.len();
            header.msg_iov = &mut self.iovecs[span.start];
            header.msg_iovlen = span.len();
            let segment = (span.len() > 1).then_some(first.len() as u16);
            let source = self.sources[self.order[span.start]];
            if segment.is_some() || source.is_some() {
                header.msg_control = control.0.as_mut_ptr() as *mut libc::c_void;
                header.msg_controllen = CONTROL_BYTES;
                // SAFETY: the control buffer has room for both messages (CONTROL_BYTES) and
                // is aligned for cmsghdr; CMSG_NXTHDR stays within msg_controllen.
                unsafe {
                    let mut used = 0;
                    let mut cmsg = libc::CMSG_FIRSTHDR(&header);
                    if let Some(segment) = segment {
                        (*cmsg).cmsg_level = libc::SOL_UDP;
                        (*cmsg).cmsg_type = UDP_SEGMENT;
                        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<u16>() as u32) as usize;
                        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut u16, segment);
                        used += libc::CMSG_SPACE(std::mem::size_of::<u16>() as u32) as usize;
                        cmsg = libc::CMSG_NXTHDR(&header, cmsg);
                    }
                    if let Some(source) = source {
                        used += write_source(cmsg, source, self.ipv6_socket);
                    }
                    header.msg_controllen = used;
                }
            }
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
            let error = std::io::Error::last_os_error();
            match error.kind() {
                std::io::ErrorKind::Interrupted => {}
                std::io::ErrorKind::WouldBlock => return,
                // A GSO send refused (EIO: the device cannot checksum it, as on some virtual
                // NICs): its datagrams go one by one, and from now on all do.
                _ if self.spans[sent].len() > 1 => {
                    if self.gso && matches!(error.raw_os_error(), Some(libc::EIO | libc::EINVAL | libc::EOPNOTSUPP)) {
                        self.gso = false;
                        tracing::warn!("UDP segmentation offload refused ({error}); sending datagrams one by one");
                    }
                    for &i in &self.order[self.spans[sent].clone()] {
                        let (to, data) = (&self.queue[i].0, self.datagram(i));
                        if let Some(to) = to.as_socket() {
                            let _ = socket.send_to(data, to);
                        }
                    }
                    sent += 1;
                }
                // This datagram's own fault (an address the kernel will not send to): skip it.
                _ => sent += 1,
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn send_all(&mut self, socket: &UdpSocket) {
        for (destination, buffer, len) in &self.queue {
            let data = &buffer[..*len];
            let Some(destination) = destination.as_socket() else { continue };
            if let Err(e) = socket.send_to(data, destination) {
                if e.kind() == std::io::ErrorKind::WouldBlock {
                    return;
                }
            }
        }
    }
}

/// Writes the control message that makes a datagram leave from `source`; returns its space.
///
/// # Safety
/// `cmsg` must point to room for a `cmsghdr` and an `in6_pktinfo`, aligned for `cmsghdr`.
#[cfg(target_os = "linux")]
unsafe fn write_source(cmsg: *mut libc::cmsghdr, source: IpAddr, ipv6_socket: bool) -> usize {
    if ipv6_socket {
        // IPv4 leaves a dual-stack socket from its IPv4-mapped address.
        let address = match source {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        };
        let info = libc::in6_pktinfo { ipi6_addr: libc::in6_addr { s6_addr: address.octets() }, ipi6_ifindex: 0 };
        (*cmsg).cmsg_level = libc::IPPROTO_IPV6;
        (*cmsg).cmsg_type = libc::IPV6_PKTINFO;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<libc::in6_pktinfo>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut libc::in6_pktinfo, info);
        libc::CMSG_SPACE(std::mem::size_of::<libc::in6_pktinfo>() as u32) as usize
    } else {
        let IpAddr::V4(v4) = source else { return 0 };
        let spec_dst = libc::in_addr { s_addr: u32::from_ne_bytes(v4.octets()) };
        let info = libc::in_pktinfo { ipi_ifindex: 0, ipi_spec_dst: spec_dst, ipi_addr: libc::in_addr { s_addr: 0 } };
        (*cmsg).cmsg_level = libc::IPPROTO_IP;
        (*cmsg).cmsg_type = libc::IP_PKTINFO;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<libc::in_pktinfo>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut libc::in_pktinfo, info);
        libc::CMSG_SPACE(std::mem::size_of::<libc::in_pktinfo>() as u32) as usize
    }
}

/// Whether this kernel knows `UDP_SEGMENT` (Linux 4.18 and later).
#[cfg(target_os = "linux")]
fn kernel_has_gso(socket: &UdpSocket) -> bool {
    use std::os::fd::AsRawFd;

    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `value`.
    let result = unsafe {
        libc::getsockopt(socket.as_raw_fd(), libc::SOL_UDP, UDP_SEGMENT, (&mut value as *mut libc::c_int).cast(), &mut len)
    };
    result == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_datagrams_buffer_is_written_into_again() {
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut batch = SendBatch::new(&sender);
        let mut first = batch.buffer(2016);
        assert!(first.len() == 2016 && first.iter().all(|&b| b == 0));
        first[..4].copy_from_slice(b"abcd");
        first[4..8].copy_from_slice(b"tail");
        let at = first.as_ptr();
        // Only the datagram's bytes leave, not the rest of the buffer.
        batch.push_part(&sender, receiver.local_addr().unwrap(), None, first, 4);
        batch.send(&sender);
        let mut got = [0; 16];
        assert_eq!(receiver.recv(&mut got).unwrap(), 4);
        assert_eq!(&got[..4], b"abcd");
        // The same allocation comes back whole, at the length asked for, not zeroed again.
        let again = batch.buffer(2016);
        assert_eq!(again.as_ptr(), at);
        assert_eq!(again.len(), 2016);
        assert_eq!(&again[..8], b"abcdtail");
        // A length past the buffer's end sends the whole buffer.
        batch.push_part(&sender, receiver.local_addr().unwrap(), None, again[..6].to_vec(), 100);
        batch.send(&sender);
        assert_eq!(receiver.recv(&mut got).unwrap(), 6);
        // A buffer not sent is taken back too; the pool keeps at most SPARE_BUFFERS.
        batch.recycle(again);
        for _ in 0..SPARE_BUFFERS + 5 {
            batch.recycle(vec![1; 8]);
        }
        assert_eq!(batch.spare.len(), SPARE_BUFFERS);
        assert_eq!(batch.buffer(3), vec![1; 3]);
    }

    #[test]
    fn every_datagram_arrives_whole_and_in_order_across_batches() {
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut batch = SendBatch::new(&sender);
        // More than one batch, to two destinations, of different sizes.
        for i in 0..(BATCH + 10) as u32 {
            let to = if i % 2 == 0 { &a } else { &b };
            batch.push(&sender, to.local_addr().unwrap(), None, vec![i as u8; 10 + i as usize]);
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
        let mut batch = SendBatch::new(&sender);
        // An IPv6 destination on an IPv4 socket is refused for itself.
        batch.push(&sender, "[::1]:9".parse().unwrap(), None, vec![1; 20]);
        batch.push(&sender, good.local_addr().unwrap(), None, vec![2; 20]);
        batch.send(&sender);
        good.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
        let mut buf = [0u8; 64];
        let n = good.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], &[2; 20]);
    }

    #[test]
    fn a_wildcard_socket_sends_from_the_address_asked() {
        for (bind, receiver, sources) in [
            ("0.0.0.0:0", "127.0.0.1:0", ["127.0.0.2", "127.0.0.3"]),
            // A dual-stack socket, to IPv4 and to IPv6.
            ("[::]:0", "127.0.0.1:0", ["127.0.0.2", "127.0.0.3"]),
            ("[::]:0", "[::1]:0", ["::1", "::1"]),
        ] {
            let sender = UdpSocket::bind(bind).unwrap();
            let receiver = UdpSocket::bind(receiver).unwrap();
            receiver.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
            let mut batch = SendBatch::new(&sender);
            let to = receiver.local_addr().unwrap();
            // Two runs of a frame each: one GSO send per source, then a single datagram.
            for (i, source) in sources.iter().enumerate() {
                for _ in 0..3 {
                    batch.push(&sender, to, Some(source.parse().unwrap()), vec![i as u8; 1000]);
                }
            }
            batch.push(&sender, to, None, vec![9; 10]);
            batch.send(&sender);
            let mut buf = [0u8; 2048];
            for (i, source) in sources.iter().enumerate() {
                for _ in 0..3 {
                    let (n, from) = receiver.recv_from(&mut buf).unwrap();
                    assert_eq!((n, buf[0]), (1000, i as u8), "{bind}");
                    assert_eq!(from.ip().to_canonical(), source.parse::<IpAddr>().unwrap(), "{bind}");
                }
            }
            let (n, _) = receiver.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..n], &[9; 10]);
        }
    }

    #[test]
    fn runs_to_one_address_arrive_as_the_datagrams_they_were() {
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut batch = SendBatch::new(&sender);
        #[cfg(target_os = "linux")]
        assert!(batch.gso, "this kernel has UDP_SEGMENT");
        // A frame of three to a (the last shorter), one to b, then sizes that may not share a
        // send: a longer after a shorter, and a shorter in the middle.
        let plan: [(&UdpSocket, u8, usize); 9] = [
            (&a, 1, 1100),
            (&a, 2, 1100),
            (&a, 3, 900),
            (&b, 4, 1100),
            (&a, 5, 300),
            (&a, 6, 1100),
            (&a, 7, 1100),
            (&a, 8, 500),
            (&a, 9, 1100),
        ];
        for (to, tag, len) in plan {
            batch.push(&sender, to.local_addr().unwrap(), None, vec![tag; len]);
        }
        // Grouped by address: a's datagrams in their order, and b's (whichever address sorts
        // first).
        #[cfg(target_os = "linux")]
        {
            batch.plan_spans();
            let a_first = a.local_addr().unwrap() < b.local_addr().unwrap();
            let runs: Vec<Vec<usize>> = batch.spans.iter().map(|s| batch.order[s.clone()].to_vec()).collect();
            let (a_runs, b_runs) = (vec![vec![0, 1, 2], vec![4], vec![5, 6, 7], vec![8]], vec![vec![3]]);
            assert_eq!(runs, if a_first { [a_runs, b_runs].concat() } else { [b_runs, a_runs].concat() });
        }
        batch.send(&sender);
        #[cfg(target_os = "linux")]
        assert!(batch.gso, "the kernel took the GSO sends");
        let mut buf = [0u8; 2048];
        for socket in [&a, &b] {
            socket.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
            for (_, tag, len) in plan.iter().filter(|(to, ..)| std::ptr::eq(*to, socket)) {
                let n = socket.recv(&mut buf).unwrap();
                assert_eq!((n, buf[0], buf[n - 1]), (*len, *tag, *tag), "datagram {tag}");
            }
        }
    }

    /// The fast path's order: each packet's copies to every subscriber in a row. Grouped by
    /// address, each subscriber's packets form one GSO run again, in their order.
    #[test]
    fn copies_to_many_addresses_in_a_row_are_grouped_into_runs_per_address() {
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let receivers: Vec<UdpSocket> = (0..4).map(|_| UdpSocket::bind("127.0.0.1:0").unwrap()).collect();
        let mut batch = SendBatch::new(&sender);
        // Five packets of a frame (the last shorter), each copied to four subscribers.
        let sizes = [1100, 1100, 1100, 1100, 700];
        for (packet, &len) in sizes.iter().enumerate() {
            for (r, receiver) in receivers.iter().enumerate() {
                batch.push(&sender, receiver.local_addr().unwrap(), None, vec![(packet * 4 + r) as u8; len]);
            }
        }
        #[cfg(target_os = "linux")]
        {
            batch.plan_spans();
            let runs: Vec<usize> = batch.spans.iter().map(|s| s.len()).collect();
            assert_eq!(runs, [5, 5, 5, 5], "one run per subscriber");
        }
        batch.send(&sender);
        let mut buf = [0u8; 2048];
        for (r, receiver) in receivers.iter().enumerate() {
            receiver.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
            for (packet, &len) in sizes.iter().enumerate() {
                let n = receiver.recv(&mut buf).unwrap();
                assert_eq!((n, buf[0]), (len, (packet * 4 + r) as u8), "subscriber {r} packet {packet}");
            }
        }
    }

    /// How much the grouping saves the kernel, for BENCHMARKS.md (not a pass/fail test):
    /// `cargo test --release -p haven --lib grouping_cost -- --ignored --nocapture`. A video
    /// frame of 8 packets copied to 24 subscribers in the fast path's order (each packet's
    /// copies in a row), sent grouped into GSO runs against one datagram per message (what
    /// the order made before the grouping: no two neighbours shared an address), alternated.
    #[test]
    #[ignore]
    fn grouping_cost() {
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let (receivers, addresses) = measurement_receivers();
        let mut batch = SendBatch::new(&sender);
        let mut buf = [0u8; 2048];
        let (mut grouped, mut single) = (Vec::new(), Vec::new());
        for round in 0..4000 {
            let gso = round % 2 == 0;
            batch.gso = gso;
            for _ in 0..8 {
                for &to in &addresses {
                    batch.queue.push((SockAddr::from(to), vec![7u8; 1_150], 1_150));
                    batch.sources.push(None);
                    batch.destinations.push(to);
                }
            }
            // 192 datagrams: three sends of BATCH, as `push` would make them.
            let started = std::time::Instant::now();
            while !batch.queue.is_empty() {
                let rest = batch.queue.split_off(batch.queue.len().min(BATCH));
                let rest_sources = batch.sources.split_off(batch.sources.len().min(BATCH));
                let rest_destinations = batch.destinations.split_off(batch.destinations.len().min(BATCH));
                batch.send(&sender);
                batch.queue = rest;
                batch.sources = rest_sources;
                batch.destinations = rest_destinations;
            }
            let took = started.elapsed().as_nanos() as f64 / 192.0;
            if gso { grouped.push(took) } else { single.push(took) }
            for r in &receivers {
                while r.recv(&mut buf).is_ok() {}
            }
        }
        let (g, s) = (median(grouped), median(single));
        println!("ns per datagram sent (median of 2000 rounds): grouped into GSO runs {g:.0}, one per message {s:.0}, ratio {:.2}", g / s);
    }

    /// The 24 non-blocking receivers (with room for a burst) the ignored measurements send
    /// to, and their addresses.
    fn measurement_receivers() -> (Vec<UdpSocket>, Vec<SocketAddr>) {
        let receivers: Vec<UdpSocket> = (0..24).map(|_| UdpSocket::bind("127.0.0.1:0").unwrap()).collect();
        for r in &receivers {
            r.set_nonblocking(true).unwrap();
            socket2::SockRef::from(r).set_recv_buffer_size(1 << 21).unwrap();
        }
        let addresses = receivers.iter().map(|r| r.local_addr().unwrap()).collect();
        (receivers, addresses)
    }

    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    /// What a forwarded copy's buffer costs, measured in debug and release builds:
    /// `cargo test -p haven --release --lib pooled_buffer_cost -- --ignored --nocapture`.
    /// Per round, 192 copies of 1 150 bytes to 24 addresses are written and sent as the
    /// fast path does: sealed into one buffer then copied into a new `Vec` (before), or sealed
    /// into a pooled buffer ([`SendBatch::buffer`]); the rounds alternate. The time is the
    /// whole write-and-send per datagram, system calls included.
    #[test]
    #[ignore]
    fn pooled_buffer_cost() {
        const LEN: usize = 2016;
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let (receivers, addresses) = measurement_receivers();
        let mut batch = SendBatch::new(&sender);
        let mut sealed = vec![0u8; LEN];
        let mut buf = [0u8; 2048];
        let (mut pooled, mut copied) = (Vec::new(), Vec::new());
        for round in 0..4000u32 {
            let pool = round % 2 == 0;
            let started = std::time::Instant::now();
            for packet in 0..8u8 {
                for &to in &addresses {
                    // Stands for forward_rtp's sealing: the bytes written either way.
                    if pool {
                        let mut out = batch.buffer(LEN);
                        out[..1_150].fill(packet);
                        batch.push_part(&sender, to, None, out, 1_150);
                    } else {
                        sealed[..1_150].fill(packet);
                        batch.push(&sender, to, None, sealed[..1_150].to_vec());
                    }
                }
            }
            batch.send(&sender);
            let took = started.elapsed().as_nanos() as f64 / 192.0;
            if pool { pooled.push(took) } else { copied.push(took) }
            for r in &receivers {
                while r.recv(&mut buf).is_ok() {}
            }
        }
        let (p, c) = (median(pooled), median(copied));
        println!("ns per datagram written and sent (median of 2000 rounds): pooled buffer {p:.0}, new Vec {c:.0}, ratio {:.2}", p / c);
    }
}

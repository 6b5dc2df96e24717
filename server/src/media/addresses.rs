//! Which addresses media is announced on, and which announced address a datagram was sent to.
//!
//! str0m answers a connectivity check only when the check's destination is one of its local
//! candidates. A socket bound to a concrete address sees one destination; a socket bound to
//! `0.0.0.0` or `[::]` sees the address each datagram arrived at (`IP_PKTINFO`, see
//! `recv`), and behind a 1:1 NAT that is the private address, while browsers were told the
//! public one. [`Announced::candidate_for`] maps the one to the other. Pure but for
//! [`interface_addresses`].

use std::net::{IpAddr, SocketAddr};

/// The addresses browsers are given as host candidates, all on one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    ips: Vec<IpAddr>,
    port: u16,
}

impl Announced {
    /// `public_ips` when set (a server behind NAT); else the bound address; else, for a
    /// wildcard bind, `interfaces` (the host's own addresses, see [`usable_interface_addresses`]).
    pub fn new(bound: SocketAddr, public_ips: &[IpAddr], interfaces: impl FnOnce() -> Vec<IpAddr>) -> Announced {
        let ips = if !public_ips.is_empty() {
            public_ips.iter().map(|ip| ip.to_canonical()).collect()
        } else if !bound.ip().is_unspecified() {
            vec![bound.ip().to_canonical()]
        } else {
            let v6 = bound.is_ipv6();
            // A `[::]` socket also takes IPv4 (dual stack, Linux's default); `0.0.0.0` only IPv4.
            usable_interface_addresses(interfaces()).into_iter().filter(|ip| v6 || ip.is_ipv4()).collect()
        };
        Announced { ips, port: bound.port() }
    }

    pub fn addrs(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.ips.iter().map(|ip| SocketAddr::new(*ip, self.port))
    }

    /// The announced address a datagram that arrived at local address `to` was sent to: `to`
    /// itself when announced; else the first announced address of its family (the public
    /// address a 1:1 NAT translated to `to`); else the first announced address. `None` (the
    /// kernel did not say) is taken as the first announced address.
    pub fn candidate_for(&self, to: Option<IpAddr>) -> SocketAddr {
        let ip = match to.map(|ip| ip.to_canonical()) {
            Some(to) if self.ips.contains(&to) => to,
            Some(to) => self.ips.iter().copied().find(|ip| ip.is_ipv4() == to.is_ipv4()).unwrap_or(self.first()),
            None => self.first(),
        };
        SocketAddr::new(ip, self.port)
    }

    fn first(&self) -> IpAddr {
        // `validate` and `usable_interface_addresses` never leave the list empty.
        self.ips.first().copied().unwrap_or(IpAddr::from([127, 0, 0, 1]))
    }
}

/// The host's addresses a browser elsewhere could reach: no loopback, link-local or
/// unspecified ones, unless the host has nothing else (then loopback: a machine on its own).
pub fn usable_interface_addresses(all: Vec<IpAddr>) -> Vec<IpAddr> {
    let link_local = |ip: &IpAddr| match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    };
    let mut usable: Vec<IpAddr> =
        all.iter().copied().filter(|ip| !ip.is_loopback() && !ip.is_unspecified() && !link_local(ip)).collect();
    if usable.is_empty() {
        usable = all.into_iter().filter(IpAddr::is_loopback).collect();
    }
    if usable.is_empty() {
        usable.push(IpAddr::from([127, 0, 0, 1]));
    }
    usable.dedup();
    usable
}

/// Every address of the host's interfaces (`getifaddrs`).
pub fn interface_addresses() -> Vec<IpAddr> {
    let mut found = Vec::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list we only read, then free once.
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return found;
        }
        let mut cursor = list;
        while !cursor.is_null() {
            let addr = (*cursor).ifa_addr;
            if !addr.is_null() {
                match i32::from((*addr).sa_family) {
                    libc::AF_INET => {
                        let v4 = &*(addr as *const libc::sockaddr_in);
                        found.push(IpAddr::from(u32::from_be(v4.sin_addr.s_addr).to_be_bytes()));
                    }
                    libc::AF_INET6 => {
                        let v6 = &*(addr as *const libc::sockaddr_in6);
                        found.push(IpAddr::from(v6.sin6_addr.s6_addr));
                    }
                    _ => {}
                }
            }
            cursor = (*cursor).ifa_next;
        }
        libc::freeifaddrs(list);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn sock(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn none() -> Vec<IpAddr> {
        panic!("interfaces are only listed for a wildcard bind without public_ips")
    }

    #[test]
    fn a_concrete_bind_announces_itself_and_maps_everything_to_itself() {
        let a = Announced::new(sock("192.0.2.10:10000"), &[], none);
        assert_eq!(a.addrs().collect::<Vec<_>>(), [sock("192.0.2.10:10000")]);
        assert_eq!(a.candidate_for(Some(ip("192.0.2.10"))), sock("192.0.2.10:10000"));
        assert_eq!(a.candidate_for(None), sock("192.0.2.10:10000"));
    }

    #[test]
    fn behind_a_one_to_one_nat_the_private_address_maps_to_the_public_one() {
        let a = Announced::new(sock("0.0.0.0:10000"), &[ip("203.0.113.10")], none);
        assert_eq!(a.candidate_for(Some(ip("192.0.2.10"))), sock("203.0.113.10:10000"));
        // A concrete private bind with a public address announced: the same mapping.
        let a = Announced::new(sock("192.0.2.10:10000"), &[ip("203.0.113.10")], none);
        assert_eq!(a.candidate_for(Some(ip("192.0.2.10"))), sock("203.0.113.10:10000"));
        assert_eq!(a.candidate_for(None), sock("203.0.113.10:10000"));
    }

    #[test]
    fn each_family_maps_to_its_own_public_address() {
        let a = Announced::new(sock("[::]:10000"), &[ip("203.0.113.10"), ip("2001:db8::10")], none);
        assert_eq!(a.candidate_for(Some(ip("192.0.2.10"))), sock("203.0.113.10:10000"));
        assert_eq!(a.candidate_for(Some(ip("fd00::10"))), sock("[2001:db8::10]:10000"));
        // IPv4 arriving on a dual-stack socket is reported as an IPv4-mapped IPv6 address.
        assert_eq!(a.candidate_for(Some(ip("::ffff:192.0.2.10"))), sock("203.0.113.10:10000"));
        // An announced address that is also the interface's maps to itself.
        assert_eq!(a.candidate_for(Some(ip("2001:db8::10"))), sock("[2001:db8::10]:10000"));
    }

    #[test]
    fn several_public_addresses_each_map_to_themselves() {
        let a = Announced::new(sock("0.0.0.0:10000"), &[ip("203.0.113.10"), ip("203.0.113.11")], none);
        assert_eq!(a.candidate_for(Some(ip("203.0.113.11"))), sock("203.0.113.11:10000"));
        assert_eq!(a.candidate_for(Some(ip("203.0.113.10"))), sock("203.0.113.10:10000"));
    }

    #[test]
    fn a_family_with_no_announced_address_falls_back_to_the_first() {
        let a = Announced::new(sock("[::]:10000"), &[ip("203.0.113.10")], none);
        assert_eq!(a.candidate_for(Some(ip("2001:db8::10"))), sock("203.0.113.10:10000"));
    }

    #[test]
    fn a_wildcard_bind_without_public_ips_announces_the_hosts_reachable_addresses() {
        let host = || vec![ip("127.0.0.1"), ip("192.0.2.10"), ip("::1"), ip("fe80::1"), ip("2001:db8::10"), ip("169.254.1.1")];
        let a = Announced::new(sock("0.0.0.0:10000"), &[], host);
        assert_eq!(a.addrs().collect::<Vec<_>>(), [sock("192.0.2.10:10000")]);
        let a = Announced::new(sock("[::]:10000"), &[], host);
        assert_eq!(a.addrs().collect::<Vec<_>>(), [sock("192.0.2.10:10000"), sock("[2001:db8::10]:10000")]);
        // A host with only loopback announces loopback: a trial on one machine still works.
        let a = Announced::new(sock("0.0.0.0:10000"), &[], || vec![ip("127.0.0.1"), ip("::1")]);
        assert_eq!(a.addrs().collect::<Vec<_>>(), [sock("127.0.0.1:10000")]);
    }

    #[test]
    fn this_host_has_interface_addresses() {
        assert!(interface_addresses().iter().any(IpAddr::is_loopback), "{:?}", interface_addresses());
    }
}

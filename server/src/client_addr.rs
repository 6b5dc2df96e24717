//! Who a request really comes from, behind reverse proxies (`server.trusted_proxies`).
//! Pure: imports nothing from the crate.
//!
//! Behind nginx or Caddy every connection comes from the proxy, so per-address limits and
//! address bans would hit everyone at once. A request whose TCP peer is a trusted proxy is
//! taken to come from the rightmost address of `X-Forwarded-For` that is not itself a trusted
//! proxy: every hop appends the address it received the request from, so hops right of the
//! first untrusted one were written by our own proxies and anything left of it by whoever
//! sent the request (and may be forged). `Forwarded` (RFC 7239) is read the same way, only
//! when a request has no `X-Forwarded-For`: the documented proxies set the latter, and one
//! that appends to it passes a forged `Forwarded` through untouched.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The address to hold the request to: `peer` unless `peer` is a trusted proxy that says
/// whom it forwards for.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = forwarded_hops(headers);
    let mut client = peer;
    for hop in hops.iter().rev() {
        // A hop our own proxy could not name ("unknown", an obfuscated id): nothing to its
        // left can be believed, so the request is held to the last address we know.
        let Some(ip) = hop else { return client };
        client = *ip;
        if !is_trusted(ip) {
            return client;
        }
    }
    client
}

/// Whether a request carries forwarding headers at all (to warn an operator who runs a proxy
/// without trusting it).
pub fn has_forwarding_headers(headers: &HeaderMap) -> bool {
    headers.contains_key("x-forwarded-for") || headers.contains_key("forwarded")
}

/// The hops of `X-Forwarded-For` (or else `Forwarded`'s `for=`), left to right; `None` for one
/// that is not an address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    // Split as bytes: a value is not always ASCII (nginx appends the real address to whatever
    // the client sent, `é` included), and a hop that is not text must not take the good hops
    // of its header with it: it becomes an unreadable hop, and the walk stops there.
    let values = |name| {
        headers
            .get_all(name)
            .iter()
            .flat_map(|v| v.as_bytes().split(|&b| b == b','))
            .map(|hop| std::str::from_utf8(hop).ok())
            .collect::<Vec<_>>()
    };
    if headers.contains_key("x-forwarded-for") {
        return values("x-forwarded-for").into_iter().map(|hop| hop.and_then(parse_hop)).collect();
    }
    values("forwarded")
        .into_iter()
        .map(|element| element.unwrap_or("for=unknown"))
        .map(|element| {
            let node = element.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                key.trim().eq_ignore_ascii_case("for").then_some(value)
            });
            node.and_then(parse_hop)
        })
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`, quoted or not.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(addr) = hop.parse::<SocketAddr>() {
        return Some(addr.ip().to_canonical());
    }
    hop.strip_prefix('[')?.strip_suffix(']')?.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, value.parse().unwrap());
        }
        h
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| crate::config::parse_net(n).unwrap()).collect()
    }

    #[test]
    fn without_trusted_proxies_the_headers_are_ignored() {
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &[]), ip("127.0.0.1"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &nets(&["127.0.0.1"])), ip("198.51.100.7"));
    }

    #[test]
    fn an_untrusted_peer_cannot_claim_another_address() {
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(client_ip(ip("203.0.113.9"), &h, &nets(&["127.0.0.1"])), ip("203.0.113.9"));
    }

    #[test]
    fn a_forged_leftmost_hop_is_not_believed() {
        // The client sent "X-Forwarded-For: 192.0.2.66"; nginx appended the address it saw.
        let h = headers(&[("x-forwarded-for", "192.0.2.66, 198.51.100.7")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &nets(&["127.0.0.1"])), ip("198.51.100.7"));
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_from_the_right() {
        // CDN edge 192.0.2.10 → load balancer 10.1.2.3 → nginx on loopback → Haven.
        let h = headers(&[("x-forwarded-for", "198.51.100.7, 192.0.2.10"), ("x-forwarded-for", "10.1.2.3")]);
        let trusted = nets(&["127.0.0.0/8", "10.0.0.0/8", "192.0.2.0/24"]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn ports_brackets_and_mapped_addresses_are_understood() {
        let trusted = nets(&["::1"]);
        let h = headers(&[("x-forwarded-for", "[2001:db8::7]:4711")]);
        assert_eq!(client_ip(ip("::1"), &h, &trusted), ip("2001:db8::7"));
        let h = headers(&[("x-forwarded-for", "198.51.100.7:5000")]);
        assert_eq!(client_ip(ip("::1"), &h, &trusted), ip("198.51.100.7"));
        // A dual-stack listener reports an IPv4 proxy as ::ffff:127.0.0.1.
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(client_ip(ip("::ffff:127.0.0.1"), &h, &nets(&["127.0.0.1"])), ip("198.51.100.7"));
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let h = headers(&[("forwarded", "for=192.0.2.66, for=\"[2001:db8::7]:4711\";proto=https")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &nets(&["127.0.0.1"])), ip("2001:db8::7"));
        // With both, X-Forwarded-For wins: a proxy that appends to it passes Forwarded on as
        // the client wrote it.
        let h = headers(&[("forwarded", "for=192.0.2.66"), ("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &nets(&["127.0.0.1"])), ip("198.51.100.7"));
    }

    #[test]
    fn a_hop_that_is_not_text_does_not_hide_the_real_address_appended_after_it() {
        // The client sent `X-Forwarded-For: é`; nginx appended the address it saw.
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", HeaderValue::from_bytes(b"\xc3\xa9, 198.51.100.7").unwrap());
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &nets(&["127.0.0.1"])), ip("198.51.100.7"));
        let mut h = HeaderMap::new();
        h.append("forwarded", HeaderValue::from_bytes(b"for=\xc3\xa9, for=198.51.100.7").unwrap());
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &nets(&["127.0.0.1"])), ip("198.51.100.7"));
    }

    #[test]
    fn an_unnamed_hop_holds_the_request_to_the_last_known_address() {
        let h = headers(&[("x-forwarded-for", "198.51.100.7, unknown, 10.1.2.3")]);
        let trusted = nets(&["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("10.1.2.3"));
        let h = headers(&[("x-forwarded-for", "")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("127.0.0.1"));
    }
}

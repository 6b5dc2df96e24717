//! Media on a wildcard bind, as docs/deploy.md tells a server to run: `media.udp_addr` on
//! `0.0.0.0` or `[::]` with `media.public_ips`. Each datagram's real destination (IP_PKTINFO)
//! is mapped to the announced address it was sent to; before that, str0m was told every
//! datagram came to `0.0.0.0`, matched no candidate, and no browser ever connected.

use std::net::{IpAddr, SocketAddr};

use anyhow::{ensure, Result};
use haven_tests::{start_server_with, two_in_a_room};

async fn media_flows_on(bind: &str, public_ips: &[&str]) -> Result<()> {
    let server = start_server_with(|c| {
        c.media.udp_addr = bind.parse().unwrap();
        c.media.public_ips = public_ips.iter().map(|ip| ip.parse().unwrap()).collect();
    })
    .await;
    let bound = server.media_addrs()[0];
    ensure!(bound.ip().is_unspecified(), "bound to the wildcard: {bound}");
    let announced: Vec<SocketAddr> = server.announced_media_addrs()[0].clone();
    let expected: Vec<SocketAddr> =
        public_ips.iter().map(|ip| SocketAddr::new(ip.parse::<IpAddr>().unwrap(), bound.port())).collect();
    ensure!(announced == expected, "announced {announced:?}, expected {expected:?}");
    // Both ways (two_in_a_room waits until each receives the other).
    let meeting = two_in_a_room(&server).await?;
    ensure!(meeting.ana.server_media_ports().await.contains(&bound.port()));
    meeting.ana.wait_still_receiving_from(&meeting.ben.id).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn media_flows_on_an_ipv4_wildcard_bind_with_public_ips() -> Result<()> {
    media_flows_on("0.0.0.0:0", &["127.0.0.1"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn media_flows_on_an_ipv6_wildcard_bind_over_ipv6() -> Result<()> {
    media_flows_on("[::]:0", &["::1"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn media_flows_on_an_ipv6_wildcard_bind_over_ipv4() -> Result<()> {
    // Linux's `[::]` socket is dual-stack: IPv4 arrives as ::ffff:127.0.0.1 and leaves to it.
    media_flows_on("[::]:0", &["127.0.0.1"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn media_flows_to_a_second_announced_address_on_a_wildcard_bind() -> Result<()> {
    // Browsers pick one of several host candidates; each must be answered from what it was
    // sent to (127.0.0.2 is on loopback too).
    media_flows_on("0.0.0.0:0", &["127.0.0.2"]).await
}

//! A guest whose network lets nothing through but a TURN server still joins: the server
//! hands out short-lived credentials in coturn's shared-secret scheme, and a webrtc-rs client
//! allowed to use relayed candidates only reaches the meeting through a real coturn.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use haven_tests::{create_room, start_server_with, Participant};

const SECRET: &str = "the-shared-secret-of-this-test";

/// Debian's coturn on loopback, stopped when dropped.
struct Coturn(Child);

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_udp_port() -> Result<u16> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn start_coturn(port: u16) -> Result<Coturn> {
    let relay = free_udp_port()?;
    let run_dir = std::env::temp_dir().join(format!("haven-coturn-{}", std::process::id()));
    std::fs::create_dir_all(&run_dir)?;
    let child = Command::new("turnserver")
        .args(["-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--realm=haven.test"])
        .arg(format!("--listening-port={port}"))
        .arg(format!("--min-port={relay}"))
        .arg(format!("--max-port={}", relay.saturating_add(20)))
        .args(["--use-auth-secret", &format!("--static-auth-secret={SECRET}")])
        // The SFU is on loopback too; coturn refuses to relay to it unless told.
        .args(["--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls", "--no-tcp-relay"])
        .arg(format!("--pidfile={}", run_dir.join("turnserver.pid").display()))
        .args(["--log-file=stdout", "--simple-log"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting turnserver (Debian package coturn; tests/setup.sh installs it)")?;
    Ok(Coturn(child))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_relay_only_client_meets_others_through_coturn() -> Result<()> {
    let turn_port = free_udp_port()?;
    let _coturn = start_coturn(turn_port)?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let server = start_server_with(|c| {
        c.turn.urls = vec![format!("turn:127.0.0.1:{turn_port}?transport=udp")];
        c.turn.secret = SECRET.into();
    })
    .await;
    let room = create_room(&server).await?;
    let ben = Participant::join(server.http_addr(), &room, "Ben").await?;
    let ana = Participant::join_relay_only(server.http_addr(), &room, "Ana").await?;
    let servers = &ana.joined["ice_servers"];
    ensure!(servers[0]["username"].as_str().is_some_and(|u| u.parse::<u64>().is_ok()), "{servers}");

    ana.wait_receiving_from(&[&ben.id]).await?;
    ben.wait_receiving_from(&[&ana.id]).await?;
    ana.check_invariants()?;
    ben.check_invariants()?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn without_turn_configured_joined_carries_no_ice_servers() -> Result<()> {
    let server = start_server_with(|_| {}).await;
    let room = create_room(&server).await?;
    let mut client = haven_tests::SignalingClient::connect(server.http_addr()).await?;
    client.join(&room, "Ana", "j1").await?;
    let (joined, _) = client.recv_type("joined").await?;
    ensure!(joined.get("ice_servers").is_none(), "{joined}");
    server.shutdown().await;
    Ok(())
}

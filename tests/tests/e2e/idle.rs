//! Connections that hold the server's resources without doing anything are closed: a TCP
//! connection that sends no request (or half a request line), a WebSocket that never joins a
//! meeting, and a joined WebSocket whose other end has gone silent. The durations are the
//! ones `docs/protocol.md` and `docs/deploy.md` give.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use futures_util::{SinkExt, StreamExt};
use haven_tests::{create_room, http_request, start_server, start_server_with, Incoming, SignalingClient};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// An HTTP request's head must have arrived this long after the connection opened.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A WebSocket must be in a meeting this long after opening.
const JOIN_TIMEOUT: Duration = Duration::from_secs(20);
/// The server pings every WebSocket this often…
const PING_INTERVAL: Duration = Duration::from_secs(10);
/// …and drops one it has heard nothing from for this long (checked at each ping).
const SILENCE_LIMIT: Duration = Duration::from_secs(30);
/// Scheduling on two busy cores.
const SLACK: Duration = Duration::from_secs(5);

/// Reads until the server closes `tcp`; how long that took, or an error if it stays open
/// past `within`. (A server may say something first, a `408` say: only the close counts.)
async fn closed_within(mut tcp: impl AsyncReadExt + Unpin, opened: Instant, within: Duration) -> Result<Duration> {
    let mut sink = Vec::new();
    match tokio::time::timeout_at((opened + within).into(), tcp.read_to_end(&mut sink)).await {
        Ok(_) => Ok(opened.elapsed()),
        Err(_) => bail!("still open after {within:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http_connections_are_closed_while_health_checks_answer() -> Result<()> {
    let server = start_server().await;
    let addr = server.http_addr();
    let opened = Instant::now();
    let mut waits = Vec::new();
    for i in 0..50 {
        let mut tcp = TcpStream::connect(addr).await?;
        // Half of them send the start of a request line and stop there (slowloris).
        if i % 2 == 1 {
            tcp.write_all(b"GET /healthz HT").await?;
        }
        waits.push(tokio::spawn(closed_within(tcp, opened, HEADER_READ_TIMEOUT + SLACK)));
    }

    // Everyone else is served meanwhile, promptly.
    let mut checks = 0;
    while waits.iter().any(|w| !w.is_finished()) {
        let asked = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(2), http_request(addr, "GET", "/healthz")).await;
        let (status, body) = answer.context("GET /healthz took over 2 s while idle connections were open")??;
        ensure!(status == 200 && body == "ok", "{status} {body}");
        ensure!(asked.elapsed() < Duration::from_secs(2));
        checks += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    ensure!(checks > 10, "health was checked throughout ({checks} times)");
    for wait in waits {
        let took = wait.await??;
        ensure!(took >= HEADER_READ_TIMEOUT - Duration::from_secs(1), "closed too early, after {took:?}");
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_tls_connections_are_closed() -> Result<()> {
    let server = start_server_with(|c| c.tls.self_signed = true).await;
    let addr = server.http_addr();
    let opened = Instant::now();
    let mut waits = Vec::new();
    for i in 0..10 {
        let mut tcp = TcpStream::connect(addr).await?;
        // A TLS record header that announces a ClientHello that never comes.
        if i % 2 == 1 {
            tcp.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).await?;
        }
        waits.push(tokio::spawn(closed_within(tcp, opened, HEADER_READ_TIMEOUT + SLACK)));
    }
    for wait in waits {
        wait.await??;
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_that_never_joins_is_closed_and_frees_its_place() -> Result<()> {
    let server = start_server_with(|c| c.limits.max_connections_per_address = 3).await;
    let addr = server.http_addr();
    let room = create_room(&server).await?;
    let mut member = SignalingClient::connect(addr).await?;
    member.join(&room, "Ana", "j1").await?;
    member.recv_type("joined").await?;
    let opened = Instant::now();
    let mut idle = [SignalingClient::connect(addr).await?, SignalingClient::connect(addr).await?];
    let mut refused = SignalingClient::connect(addr).await?;
    let (error, _) = refused.recv_type("error").await?;
    ensure!(error["code"] == "too_many_connections", "the idle sockets hold their places: {error}");

    for client in &mut idle {
        let deadline = (opened + JOIN_TIMEOUT + SLACK).saturating_duration_since(Instant::now());
        let closed = match client.recv_within(deadline).await? {
            Some(Incoming::Message(message)) => message,
            other => bail!("expected `closed` (join_timeout) within {JOIN_TIMEOUT:?}, got {other:?}"),
        };
        ensure!(closed["type"] == "closed" && closed["code"] == "join_timeout", "{closed}");
        ensure!(opened.elapsed() >= JOIN_TIMEOUT - Duration::from_secs(1), "closed too early: {:?}", opened.elapsed());
        match client.recv_within(SLACK).await? {
            Some(Incoming::Ended(_)) => {}
            other => bail!("the socket stays open after `closed`: {other:?}"),
        }
    }

    // The joined member, as old as they are, is still served.
    member.send(&json!({"type": "raise_hand"})).await?;
    member.recv_type("queue").await?;
    // And the places the idle sockets held are free again.
    let mut late = SignalingClient::connect(addr).await?;
    late.join(&room, "Ben", "j2").await?;
    late.recv_type("joined").await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joined_websocket_is_pinged_and_dropped_once_it_goes_silent() -> Result<()> {
    let server = start_server_with(|c| c.rooms.reconnect_grace_seconds = 1).await;
    let addr = server.http_addr();
    let room = create_room(&server).await?;
    let mut ana = SignalingClient::connect(addr).await?;
    ana.join(&room, "Ana", "j1").await?;
    ana.recv_type("joined").await?;

    // Ben's socket is read frame by frame, pings included.
    let (mut ben, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await?;
    let join = json!({"type": "join", "room": room, "name": "Ben", "accepted_guidelines": true});
    ben.send(Message::text(join.to_string())).await?;
    let joined_at = Instant::now();
    let mut ben_id = None;
    let pinged = tokio::time::timeout(PING_INTERVAL + SLACK, async {
        while let Some(frame) = ben.next().await {
            match frame? {
                Message::Ping(_) => return anyhow::Ok(()),
                Message::Text(text) => {
                    let message: Value = serde_json::from_str(text.as_str())?;
                    if message["type"] == "joined" {
                        ben_id = Some(message["you"]["id"].clone());
                    }
                }
                _ => {}
            }
        }
        bail!("the socket ended")
    })
    .await;
    pinged.context("no ping within the ping interval")??;
    let ben_id = ben_id.context("Ben never got `joined`")?;

    // Ben now reads nothing and so answers nothing: like a laptop closed mid-meeting, its
    // connection never told the server. Ana keeps reading (her client answers the pings).
    let gone = loop {
        let left = (joined_at + SILENCE_LIMIT + PING_INTERVAL + 2 * SLACK).saturating_duration_since(Instant::now());
        match ana.recv_within(left).await? {
            Some(Incoming::Message(m)) if m["type"] == "participant_left" && m["id"] == ben_id => break joined_at.elapsed(),
            Some(Incoming::Message(_)) => continue,
            other => bail!("Ben was never taken for gone ({other:?}, {:?} after his join)", joined_at.elapsed()),
        }
    };
    ensure!(gone >= SILENCE_LIMIT - Duration::from_secs(1), "dropped too early: {gone:?} after his join");
    drop(ben);
    server.shutdown().await;
    Ok(())
}

//! Stopping the server (SIGTERM in `main`, `RunningServer::shutdown` here): everyone is told
//! in plain words, no one new gets in, and it ends even when a client will not let go.

use std::time::Instant;

use anyhow::{ensure, Result};
use haven::SHUTDOWN_DEADLINE;
use haven_tests::{create_room, start_server, wait_until, Participant, SignalingClient, WAIT};
use tokio::io::AsyncWriteExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stopping_tells_everyone_and_ends_within_the_deadline() -> Result<()> {
    let server = start_server().await;
    let addr = server.http_addr();
    let room = create_room(&server).await?;
    let ana = Participant::join(addr, &room, "Ana").await?;
    let mut lurker = SignalingClient::connect(addr).await?;
    // A client that opened TCP and never finished its WebSocket handshake.
    let mut stuck = tokio::net::TcpStream::connect(addr).await?;
    stuck.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\n").await?;

    let started = Instant::now();
    server.shutdown().await;
    let took = started.elapsed();
    ensure!(took <= SHUTDOWN_DEADLINE + std::time::Duration::from_secs(2), "shutdown took {took:?}");

    let closed = ana
        .wait_message("closed with server_stopping", |m| m["type"] == "closed")
        .await?;
    ensure!(closed["code"] == "server_stopping", "{closed}");
    wait_until(WAIT, "Ana's socket to end", || ana.socket_ended().is_some(), || ana.describe()).await?;

    // The one who had not joined yet is told too, and no one new gets in.
    let (closed, _) = lurker.recv_type("closed").await?;
    ensure!(closed["code"] == "server_stopping", "{closed}");
    ensure!(SignalingClient::connect(addr).await.is_err(), "a new connection after shutdown is refused");
    Ok(())
}

//! Anyone can open TCP connections to the media port (ICE-TCP). A flood of idle connections
//! must not exhaust the server's file descriptors or stall its media thread: a few per
//! address are kept, each must send a valid connectivity check within seconds, and meetings
//! and HTTP carry on meanwhile.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use haven_tests::{http_request, start_server, two_in_a_room};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Whether the server has closed `stream` (a read sees the end, or a reset).
async fn closed(stream: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0u8; 1];
    matches!(tokio::time::timeout(within, stream.read(&mut byte)).await, Ok(Ok(0) | Err(_)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_idle_ice_tcp_connections_is_shed_and_meetings_carry_on() -> Result<()> {
    let server = start_server().await;
    let media = server.media_addrs()[0];
    let meeting = two_in_a_room(&server).await?;

    let mut flood = Vec::new();
    for _ in 0..1100 {
        if let Ok(stream) = TcpStream::connect(media).await {
            flood.push(stream);
        }
    }
    // HTTP answers at once, and the meeting's media keeps flowing.
    let started = Instant::now();
    let (status, _) = http_request(server.http_addr(), "GET", "/healthz").await?;
    ensure!(status == 200 && started.elapsed() < Duration::from_secs(1), "healthz took {:?}", started.elapsed());
    meeting.ana.wait_still_receiving_from(&meeting.ben.id).await?;

    // Only a few connections from one address are kept open...
    let mut open = 0;
    for stream in &mut flood {
        if !closed(stream, Duration::from_millis(5)).await {
            open += 1;
        }
    }
    ensure!(open <= 16, "{open} of {} idle connections from one address kept open", flood.len());
    // ...and those that never send a connectivity check are closed within seconds.
    tokio::time::sleep(Duration::from_secs(6)).await;
    for (i, stream) in flood.iter_mut().enumerate() {
        ensure!(closed(stream, Duration::from_millis(100)).await, "connection {i} still open after 6 s of silence");
    }
    meeting.ben.wait_still_receiving_from(&meeting.ana.id).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ice_tcp_connection_that_sends_no_valid_check_is_closed_at_once() -> Result<()> {
    let server = start_server().await;
    let mut stream = TcpStream::connect(server.media_addrs()[0]).await?;
    // A well-framed packet (RFC 4571 length, then bytes) that is no check for any peer.
    stream.write_all(&[0, 4, 0x16, 0xfe, 0xfd, 0]).await?;
    ensure!(closed(&mut stream, Duration::from_secs(2)).await, "a connection carrying junk stays open");
    server.shutdown().await;
    Ok(())
}

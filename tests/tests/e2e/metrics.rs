//! `/metrics` tells an operator how the server is doing in aggregates only: it counts the
//! people and the media, and names no one.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use haven_tests::{http_request, start_server, start_server_with, two_in_a_room, TwoInARoom};

fn value(metrics: &str, name: &str) -> Result<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .with_context(|| format!("{name} missing from:\n{metrics}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_count_people_and_media_and_name_no_one() -> Result<()> {
    let server = start_server_with(|c| c.server.metrics = true).await;
    let addr = server.http_addr();
    let TwoInARoom { room, ana, ben } = two_in_a_room(&server).await?;

    let (status, first) = http_request(addr, "GET", "/metrics").await?;
    ensure!(status == 200, "{status} {first}");
    ensure!(value(&first, "haven_participants")? == 2.0);
    ensure!(value(&first, "haven_active_meetings")? == 1.0);
    ensure!(value(&first, "haven_media_peers")? == 2.0);
    ensure!(value(&first, "haven_join_seconds_count")? >= 2.0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, second) = http_request(addr, "GET", "/metrics").await?;
    let [before, after] = [&first, &second].map(|m| value(m, "haven_forwarded_frames_total"));
    ensure!(after? > before?, "forwarded media keeps counting up");
    ensure!(value(&second, "haven_forwarded_bytes_total")? > 0.0);
    // Published once a second by the media thread, which has been decrypting and forwarding.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, third) = http_request(addr, "GET", "/metrics").await?;
    let cpu = value(&third, "haven_media_loop_cpu_seconds_total{worker=\"0\"}")?;
    ensure!(cpu > 0.0 && cpu < 60.0, "media loop CPU {cpu} s");
    // The forwarding fast path (`media.fast_path`, on by default) carries the copies once the
    // connections are up, beside str0m's pacer (bandwidth estimation is on): only the first
    // few, before a stream's first timeout, go through str0m's queue.
    let fast = value(&third, "haven_fast_path_copies_total")?;
    let queued = value(&third, "haven_queued_copies_total")?;
    ensure!(fast > 0.0 && queued < fast / 4.0, "fast path {fast} copies, queued {queued}");

    for private in [room.as_str(), ana.id.as_str(), ben.id.as_str(), "Ana", "Ben", "127.0.0.1"] {
        ensure!(!third.contains(private), "/metrics mentions {private:?}:\n{third}");
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn metrics_are_off_unless_turned_on() -> Result<()> {
    let server = start_server().await;
    let (status, _) = http_request(server.http_addr(), "GET", "/metrics").await?;
    ensure!(status == 404, "/metrics answered {status} with metrics off");
    server.shutdown().await;
    Ok(())
}

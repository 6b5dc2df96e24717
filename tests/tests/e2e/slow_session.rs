//! A member toggling their camera at the message rate cannot flood everyone's sessions:
//! state changes are coalesced, the latest standing. (A session that still falls behind is
//! let go with a reason and its place kept: `hub::slow_session_tests`, since filling a
//! loopback socket's buffers would take minutes.)

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use haven_tests::{create_room, start_server, Incoming, SignalingClient};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn camera_toggles_at_the_message_rate_reach_others_coalesced_and_end_right() -> Result<()> {
    let server = start_server().await;
    let room = create_room(&server).await?;
    let mut ana = SignalingClient::connect(server.http_addr()).await?;
    ana.join(&room, "Ana", "j").await?;
    ana.recv_type("joined").await?;
    let mut ben = SignalingClient::connect(server.http_addr()).await?;
    ben.join(&room, "Ben", "j").await?;
    ben.recv_type("joined").await?;
    // 60 toggles, ending with the camera on.
    for i in 0..60 {
        ben.send(&json!({"type": "media_state", "video": i % 2 == 1})).await?;
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut updates = Vec::new();
    while let Some(Incoming::Message(m)) = ana.recv_within(Duration::from_millis(300)).await? {
        if m["type"] == "participant_updated" || m["type"] == "media_state" {
            updates.push(m);
        }
    }
    ensure!(updates.len() < 30, "{} updates for 60 toggles in 1.5 s", updates.len());
    let last = updates.last().context("Ana heard of Ben's camera")?;
    ensure!(last.to_string().contains("\"video\":true"), "the last state stands: {last}");
    server.shutdown().await;
    Ok(())
}

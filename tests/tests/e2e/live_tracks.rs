//! Only live tracks are negotiated: a camera or microphone reaches the others' peer
//! connections while it is on (or was on moments ago), so a big meeting where few speak
//! carries few m-lines.

use std::time::Duration;

use anyhow::Result;
use haven_tests::{create_room, start_server_with, Kind, Participant};
use serde_json::json;

/// The server's `media.idle_track_seconds` in these tests.
const IDLE: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_camera_off_for_a_while_leaves_everyone_and_comes_back_when_turned_on() -> Result<()> {
    let server = start_server_with(|c| c.media.idle_track_seconds = IDLE.as_secs()).await;
    let room = create_room(&server).await?;
    let addr = server.http_addr();
    let ana = Participant::join(addr, &room, "Ana").await?;
    let ben = Participant::join(addr, &room, "Ben").await?;
    ana.wait_receiving_from(&[&ben.id]).await?;
    ana.wait_tracks_sent_to_me(2).await?;

    // A short pause keeps the tracks: no renegotiation, sound and picture come back at once,
    // numbered on from where they stopped (what the SFU held back leaves no hole).
    let offers_before = ana.offers_answered();
    ben.send(&json!({"type": "media_state", "audio": false, "video": false}))?;
    ana.wait_flow_stopped(&ben.id, Kind::Video, Duration::from_millis(500)).await?;
    ana.wait_flow_stopped(&ben.id, Kind::Audio, Duration::from_millis(300)).await?;
    ben.send(&json!({"type": "media_state", "audio": true, "video": true}))?;
    ana.wait_flow_rising(&ben.id, Kind::Video).await?;
    ana.wait_flow_rising(&ben.id, Kind::Audio).await?;
    assert_eq!(ana.offers_answered(), offers_before, "a short pause renegotiates nothing\n{}", ana.describe());
    // Half a second held back is 25 audio or ~45 video packets; a stray loss is one or two.
    let gap = ana.received_from(&ben.id).largest_seq_gap;
    assert!(gap < 10, "Ana's tracks from Ben resumed with {gap} sequence numbers missing\n{}", ana.describe());

    // Off for longer than the idle limit: Ben's camera leaves Ana's peer connection.
    ben.send(&json!({"type": "media_state", "video": false}))?;
    ana.wait_tracks_sent_to_me(1).await?;

    // A newcomer gets Ana's two tracks and Ben's microphone, never Ben's dark camera.
    let cai = Participant::join(addr, &room, "Cai").await?;
    cai.wait_receiving_from(&[&ana.id]).await?;
    cai.wait_flow_rising(&ben.id, Kind::Audio).await?;
    assert_eq!(cai.tracks_sent_to_me().await, 3, "{}", cai.describe());
    assert_eq!(cai.received_from(&ben.id).video_packets, 0, "{}", cai.describe());

    // Camera on again: both see it, starting with a keyframe.
    ben.send(&json!({"type": "media_state", "video": true}))?;
    for p in [&ana, &cai] {
        p.wait_flow_rising(&ben.id, Kind::Video).await?;
    }
    ana.wait_tracks_sent_to_me(4).await?;
    cai.wait_tracks_sent_to_me(4).await?;
    for p in [&ana, &ben, &cai] {
        p.check_invariants()?;
        p.check_no_errors()?;
    }
    server.shutdown().await;
    Ok(())
}

//! Hostile SDP from an admitted member: it must not reach anyone else's peer connection,
//! and the meeting carries on.

use std::time::Duration;

use anyhow::{ensure, Result};
use haven_tests::{start_server, two_in_a_room};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_members_extra_transceivers_are_refused_and_never_offered_to_others() -> Result<()> {
    let server = start_server().await;
    let meeting = two_in_a_room(&server).await?;
    let (ana, ben) = (&meeting.ana, &meeting.ben);
    let before = ben.tracks_sent_to_me().await;
    ensure!(before == 2, "Ben receives Ana's microphone and camera: {before}");

    ana.offer_extra_cameras(100).await?;
    let refused = ana.wait_message("the offer refused", |m| m["type"] == "error").await?;
    ensure!(refused["code"] == "bad_sdp", "{refused}");
    // Ana says her camera is on (as the attack did): the server renegotiates with Ben if it
    // has something new for him, which it must not.
    ana.send(&json!({"type": "media_state", "audio": true, "video": true}))?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    ensure!(ben.tracks_sent_to_me().await == before, "Ben is offered {} tracks", ben.tracks_sent_to_me().await);
    ben.wait_still_receiving_from(&ana.id).await?;
    server.shutdown().await;
    Ok(())
}

//! The screen track through the SFU, as a viewer's peer connection observes it: a share's
//! screen arrives on a track whose stream id is `screen-<sharer's id>`, beside the sharer's
//! camera; whatever a client sends on its screen m-line reaches no one while its share is not
//! on (counted in packets at the viewer, not trusted to the client); a share that ends stops
//! the packets at once and stops the line in the viewer's next offer.

use std::time::Duration;

use anyhow::{ensure, Result};
use haven_tests::{create_room_with_key, start_server, Kind, Participant};
use serde_json::json;

/// Long enough for a forwarded flow to show up many times over (30 frames a second).
const LISTEN: Duration = Duration::from_millis(1500);

fn screen_of(p: &Participant) -> String {
    format!("screen-{}", p.id)
}

/// `viewer` decodes `sharer`'s screen from its first keyframe, and still gets their camera.
async fn sees_screen(viewer: &Participant, sharer: &Participant) -> Result<()> {
    let screen = screen_of(sharer);
    viewer.wait_flow_rising(&screen, Kind::Video).await?;
    let got = viewer.received_from(&screen);
    ensure!(got.video_keyframes >= 1, "{}: the screen starts at a keyframe\n{}", viewer.name, viewer.describe());
    ensure!(got.video_before_first_keyframe == 0, "{}: nothing before the keyframe\n{}", viewer.name, viewer.describe());
    ensure!(got.audio_packets == 0, "{}: a screen track carries no sound\n{}", viewer.name, viewer.describe());
    ensure!(got.markers.keys().all(|(id, kind)| id == &screen && *kind == 'v'), "{}", viewer.describe());
    ensure!(
        viewer.remote_sdp().await.contains(&format!("a=msid:{screen} ")),
        "{}: the screen's line names stream {screen}",
        viewer.name
    );
    viewer.wait_still_receiving_from(&sharer.id).await?;
    Ok(())
}

/// Nothing of `sharer`'s screen arrives at `viewer` for `LISTEN` while the sharer sends on it.
async fn hears_no_screen(viewer: &Participant, sharer: &Participant) -> Result<()> {
    let screen = screen_of(sharer);
    let before = viewer.received_from(&screen).video_packets;
    let sent = sharer.sent().screen_frames;
    tokio::time::sleep(LISTEN).await;
    ensure!(sharer.sent().screen_frames >= sent + 20, "{} kept sending on its screen line\n{}", sharer.name, sharer.describe());
    let after = viewer.received_from(&screen).video_packets;
    ensure!(
        after == before,
        "{}: {} screen packets arrived from {}\n{}",
        viewer.name,
        after - before,
        sharer.name,
        viewer.describe()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_facilitators_screen_reaches_viewers_beside_their_camera_and_stopping_ends_it() -> Result<()> {
    let server = start_server().await;
    let addr = server.http_addr();
    let room = create_room_with_key(&server).await?;
    let fay = Participant::join_as(addr, &room.id, "Fay", &json!({"key": room.facilitator_key})).await?;
    let oli = Participant::join(addr, &room.id, "Oli").await?;
    oli.wait_receiving_from(&[&fay.id]).await?;
    oli.wait_tracks_sent_to_me(2).await?;

    fay.send(&json!({"type": "start_screen_share"}))?;
    fay.start_screen_media();
    sees_screen(&oli, &fay).await?;
    oli.wait_tracks_sent_to_me(3).await?;
    ensure!(fay.sent().screen_keyframe_requests >= 1, "the sharer was asked for a keyframe\n{}", fay.describe());

    // A late joiner gets the screen in its first offer.
    let lee = Participant::join(addr, &room.id, "Lee").await?;
    sees_screen(&lee, &fay).await?;

    // Stopped: no more packets although the browser still sends, and the line is stopped.
    fay.send(&json!({"type": "stop_screen_share"}))?;
    for viewer in [&oli, &lee] {
        viewer.wait_flow_stopped(&screen_of(&fay), Kind::Video, Duration::from_millis(500)).await?;
        viewer.wait_tracks_sent_to_me(4).await?;
        hears_no_screen(viewer, &fay).await?;
        viewer.wait_still_receiving_from(&fay.id).await?;
    }

    // A new share opens it again.
    fay.send(&json!({"type": "start_screen_share"}))?;
    sees_screen(&oli, &fay).await?;
    for p in [&fay, &oli, &lee] {
        p.check_invariants()?;
        p.check_no_errors()?;
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_screen_reaches_no_one_until_staff_let_them_share_and_staff_end_it() -> Result<()> {
    let server = start_server().await;
    let addr = server.http_addr();
    let room = create_room_with_key(&server).await?;
    let fay = Participant::join_as(addr, &room.id, "Fay", &json!({"key": room.facilitator_key})).await?;
    let mo = Participant::join(addr, &room.id, "Mo").await?;
    let oli = Participant::join(addr, &room.id, "Oli").await?;
    oli.wait_receiving_from(&[&fay.id, &mo.id]).await?;

    // A modified client sends on its screen line without a share: it reaches no one, and
    // its own start is refused.
    mo.start_screen_media();
    hears_no_screen(&oli, &mo).await?;
    hears_no_screen(&fay, &mo).await?;
    mo.send(&json!({"type": "start_screen_share"}))?;
    mo.wait_message("start refused", |m| m["type"] == "error" && m["code"] == "screen_share_not_allowed").await?;
    hears_no_screen(&oli, &mo).await?;
    ensure!(oli.received_from(&screen_of(&mo)).tracks == 0, "no screen track at all\n{}", oli.describe());
    oli.wait_tracks_sent_to_me(4).await?;

    fay.send(&json!({"type": "allow_screen_share", "id": mo.id}))?;
    mo.wait_message("let share", |m| m["type"] == "screen_share_permission" && m["allowed"] == true).await?;
    mo.send(&json!({"type": "start_screen_share"}))?;
    sees_screen(&oli, &mo).await?;
    sees_screen(&fay, &mo).await?;

    // Staff end it: gone at once, the line stopped; Mo's browser sending on changes nothing.
    fay.send(&json!({"type": "end_screen_share", "id": mo.id}))?;
    oli.wait_flow_stopped(&screen_of(&mo), Kind::Video, Duration::from_millis(500)).await?;
    oli.wait_tracks_sent_to_me(4).await?;
    hears_no_screen(&oli, &mo).await?;
    let errors: Vec<_> = mo.errors().into_iter().filter(|e| e["code"] != "screen_share_not_allowed").collect();
    ensure!(errors.is_empty(), "{errors:?}");
    for p in [&fay, &oli] {
        p.check_invariants()?;
        p.check_no_errors()?;
    }
    mo.check_invariants()?;
    server.shutdown().await;
    Ok(())
}

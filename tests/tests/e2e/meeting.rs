//! Media through a real server between webrtc-rs participants: who receives whom, late
//! joiners, and people leaving.

use std::time::Duration;

use anyhow::Result;
use haven_tests::{create_room, start_server, start_server_with, wait_until, Participant, WAIT};

/// The ids of everyone in `all` but `me`.
fn others<'a>(all: &[&'a Participant], me: &Participant) -> Vec<&'a str> {
    all.iter()
        .filter(|p| p.id != me.id)
        .map(|p| p.id.as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_participants_receive_each_other_and_never_themselves() -> Result<()> {
    let server = start_server().await;
    let room = create_room(&server).await?;
    let addr = server.http_addr();
    let ana = Participant::join(addr, &room, "Ana").await?;
    let ben = Participant::join(addr, &room, "Ben").await?;
    let cai = Participant::join(addr, &room, "Cai").await?;
    let all = [&ana, &ben, &cai];

    for p in all {
        p.wait_receiving_from(&others(&all, p)).await?;
    }
    // Half a second more of everything, so "never themselves" covers a steady meeting too.
    for p in all {
        for other in others(&all, p) {
            p.wait_still_receiving_from(other).await?;
        }
    }
    for p in all {
        let streams: Vec<String> = p.received().into_keys().collect();
        let mut expected: Vec<String> = others(&all, p).into_iter().map(String::from).collect();
        expected.sort();
        assert_eq!(
            streams,
            expected,
            "{} receives exactly the others' streams\n{}",
            p.name,
            p.describe()
        );
        p.check_invariants()?;
        p.check_no_errors()?;
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_joiner_receives_existing_tracks_in_one_negotiation_and_publisher_gets_keyframe_request() -> Result<()> {
    let server = start_server().await;
    let room = create_room(&server).await?;
    let addr = server.http_addr();
    let ana = Participant::join(addr, &room, "Ana").await?;
    let ben = Participant::join(addr, &room, "Ben").await?;
    ana.wait_receiving_from(&[&ben.id]).await?;
    ben.wait_receiving_from(&[&ana.id]).await?;
    let (ana_before, ben_before) = (ana.sent(), ben.sent());

    let cai = Participant::join(addr, &room, "Cai").await?;
    let existing = cai.joined["participants"].as_array().map(Vec::len);
    assert_eq!(
        existing,
        Some(2),
        "joined lists the two already there: {}",
        cai.joined
    );
    cai.wait_receiving_from(&[&ana.id, &ben.id]).await?;

    for (publisher, before) in [(&ana, ana_before), (&ben, ben_before)] {
        wait_until(
            WAIT,
            &format!(
                "{} to be asked for a keyframe and send one after Cai joined",
                publisher.name
            ),
            || {
                let now = publisher.sent();
                now.keyframe_requests() > before.keyframe_requests()
                    && now.keyframes > before.keyframes
            },
            || format!("before {before:?}; {}", publisher.describe()),
        )
        .await?;
        let got = cai.received_from(&publisher.id);
        assert_eq!(
            got.video_before_first_keyframe,
            0,
            "Cai's first video from {} starts a keyframe (a decoder can start on it)\n{}",
            publisher.name,
            cai.describe()
        );
    }
    ana.wait_receiving_from(&[&cai.id]).await?;
    ben.wait_receiving_from(&[&cai.id]).await?;
    // One round trip started Cai's media both ways: the server's first offer, right behind
    // `joined`, carried Ana's and Ben's tracks, Cai answered it and never offered.
    let negotiation: Vec<String> = cai
        .messages()
        .iter()
        .filter_map(|m| m["type"].as_str())
        .filter(|t| matches!(*t, "joined" | "offer" | "answer"))
        .map(String::from)
        .collect();
    assert_eq!(negotiation, ["joined", "offer"], "Cai's negotiation\n{}", cai.describe());
    assert_eq!(cai.offers_answered(), 1, "{}", cai.describe());
    for p in [&ana, &ben, &cai] {
        p.check_invariants()?;
        p.check_no_errors()?;
    }
    server.shutdown().await;
    Ok(())
}

/// Leaves with `leave`, or vanishes (socket and peer connection gone without a word).
async fn someone_goes_and_the_others_notice(politely: bool) -> Result<()> {
    // Someone who vanishes keeps their place for the grace period in case they come back
    // (tests/tests/e2e/reconnect.rs); a short one keeps this test quick.
    let server = start_server_with(|c| c.rooms.reconnect_grace_seconds = 1).await;
    let room = create_room(&server).await?;
    let addr = server.http_addr();
    let ana = Participant::join(addr, &room, "Ana").await?;
    let ben = Participant::join(addr, &room, "Ben").await?;
    let cai = Participant::join(addr, &room, "Cai").await?;
    ana.wait_receiving_from(&[&ben.id, &cai.id]).await?;
    ben.wait_receiving_from(&[&ana.id, &cai.id]).await?;
    let offers_before = (ana.offers_answered(), ben.offers_answered());

    let gone = cai.id.clone();
    if politely {
        let last = cai.leave().await?;
        assert_eq!(
            last["type"], "closed",
            "the server confirms a leave with `closed`: {last}"
        );
        assert_eq!(last["code"], "left", "closed code for a leave: {last}");
    } else {
        cai.vanish().await;
    }
    for p in [&ana, &ben] {
        let left = p
            .wait_message(&format!("participant_left for {gone}"), |m| {
                m["type"] == "participant_left" && m["id"] == gone.as_str()
            })
            .await?;
        assert_eq!(
            left["reason"], "left",
            "{}: someone who went is `left`, not `removed`: {left}",
            p.name
        );
        let last = p.wait_stopped_from(&gone, Duration::from_secs(1)).await?;
        // Still nothing after more time: the flow ended, it did not merely pause.
        let other = if p.id == ana.id { &ben.id } else { &ana.id };
        p.wait_still_receiving_from(other).await?;
        let after = p.received_from(&gone);
        assert_eq!(
            (after.audio_packets, after.video_packets),
            (last.audio_packets, last.video_packets),
            "{}: {gone}'s packets keep arriving after it left\n{}",
            p.name,
            p.describe()
        );
    }
    // The server takes the departed tracks out of everyone's session with a new offer.
    wait_until(
        WAIT,
        "a renegotiation removing the departed tracks, answered by both",
        || ana.offers_answered() > offers_before.0 && ben.offers_answered() > offers_before.1,
        || format!("{}\n{}", ana.describe(), ben.describe()),
    )
    .await?;
    for p in [&ana, &ben] {
        p.check_invariants()?;
        p.check_no_errors()?;
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participant_who_leaves_is_announced_and_its_tracks_stop() -> Result<()> {
    someone_goes_and_the_others_notice(true).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participant_who_vanishes_is_announced_after_the_grace_period_and_its_tracks_stop() -> Result<()> {
    someone_goes_and_the_others_notice(false).await
}

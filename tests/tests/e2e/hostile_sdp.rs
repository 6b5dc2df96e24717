//! Hostile SDP from an admitted member: it must not reach anyone else's peer connection,
//! and the meeting carries on.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use haven_tests::{start_server, two_in_a_room, SignalingClient};
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

/// An offer as the attack sent them: a new DTLS fingerprint each time (so the server would
/// take it for a new peer connection) and thousands of valid m-lines, under the SDP cap.
fn monster_offer(seed: usize, m_lines: usize) -> String {
    let fingerprint: Vec<String> = (0..32).map(|i| format!("{:02X}", (i * 7 + seed) % 256)).collect();
    let mids: Vec<String> = (0..m_lines).map(|m| m.to_string()).collect();
    let mut sdp = format!(
        "v=0\r\no=- {seed} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE {}\r\na=fingerprint:sha-256 {}\r\n",
        mids.join(" "),
        fingerprint.join(":")
    );
    for mid in 0..m_lines {
        sdp.push_str(&format!(
            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:{mid}\r\na=sendonly\r\n\
             a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\na=rtcp-mux\r\n\
             a=rtpmap:111 opus/48000/2\r\n"
        ));
    }
    sdp
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_offer_flood_in_one_meeting_does_not_stall_another_meetings_newcomer() -> Result<()> {
    let server = start_server().await;
    let addr = server.http_addr();
    let other = two_in_a_room(&server).await?;
    let attacked_room = haven_tests::create_room(&server).await?;
    let mut attacker = SignalingClient::connect(addr).await?;
    attacker.join(&attacked_room, "Raider", "j").await?;
    attacker.recv_type("joined").await?;

    // 40 offers of ~0.86 MB, as fast as the message rate lets them through.
    let offers: Vec<String> = (0..40).map(|i| json!({"type": "offer", "sdp": monster_offer(i, 4_200)}).to_string()).collect();
    ensure!(offers[0].len() > 800_000 && offers[0].len() < 1_048_576, "{} bytes", offers[0].len());
    for offer in &offers {
        attacker.send_raw(offer).await?;
    }
    // A newcomer to the other meeting gets its first offer at once.
    let mut newcomer = SignalingClient::connect(addr).await?;
    let asked = Instant::now();
    newcomer.join(&other.room, "Nia", "j").await?;
    newcomer.recv_type("joined").await?;
    newcomer.recv_type("offer").await?;
    let waited = asked.elapsed();
    ensure!(waited < Duration::from_millis(1000), "the newcomer waited {waited:?} for its first offer");
    other.ana.wait_still_receiving_from(&other.ben.id).await?;

    // What the attacker was told: each monster refused with a code, none answered.
    let mut codes = std::collections::BTreeSet::new();
    while let Some(incoming) = attacker.recv_within(Duration::from_millis(300)).await? {
        if let haven_tests::Incoming::Message(m) = incoming {
            ensure!(m["type"] != "answer", "a monster offer was answered");
            if m["type"] == "error" {
                codes.insert(m["code"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    ensure!(codes.contains("bad_sdp"), "refused as bad_sdp: {codes:?}");
    eprintln!("newcomer's first offer after {waited:?} during the flood; attacker told {codes:?}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_may_not_queue_offers() -> Result<()> {
    let server = start_server().await;
    let room = haven_tests::create_room(&server).await?;
    let mut client = SignalingClient::connect(server.http_addr()).await?;
    client.join(&room, "Ola", "j").await?;
    client.recv_type("joined").await?;
    // Small, plausible offers back to back: one reaches the media worker at a time (a second
    // may follow once the first is answered); the rest are refused at once, never queued.
    for i in 0..6 {
        client.send(&json!({"type": "offer", "sdp": monster_offer(i, 1)})).await?;
    }
    let (mut answers, mut codes) = (0, Vec::new());
    while let Some(incoming) = client.recv_within(Duration::from_millis(500)).await? {
        if let haven_tests::Incoming::Message(m) = incoming {
            match m["type"].as_str() {
                Some("answer") => answers += 1,
                Some("error") => codes.push(m["code"].as_str().unwrap_or_default().to_string()),
                _ => {}
            }
        }
    }
    ensure!(answers + codes.len() == 6, "each offer answered or refused: {answers} answers, {codes:?}");
    let held_back = codes.iter().filter(|c| *c == "negotiation_in_progress").count();
    ensure!(held_back >= 4, "at most two of six offers reached the media worker: {codes:?}");
    // Spaced out, a client still gets only a few a minute.
    let mut limited = false;
    for i in 0..6 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        client.send(&json!({"type": "offer", "sdp": monster_offer(10 + i, 1)})).await?;
        while let Some(haven_tests::Incoming::Message(m)) = client.recv_within(Duration::from_millis(100)).await? {
            limited |= m["code"] == "rate_limited";
        }
    }
    ensure!(limited, "six offers in a second were not rate-limited");
    server.shutdown().await;
    Ok(())
}

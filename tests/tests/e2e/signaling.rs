//! The signaling protocol as `docs/protocol.md` writes it: request ids, and refused
//! requests answered with the documented error code, nothing else harmed.

use anyhow::{ensure, Result};
use haven_tests::{
    create_room, start_server, two_in_a_room, wait_until, Participant, SignalingClient, TwoInARoom, WAIT,
};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joined_echoes_the_request_id_of_join() -> Result<()> {
    let server = start_server().await;
    let room = create_room(&server).await?;
    let mut socket = SignalingClient::connect(server.http_addr()).await?;
    socket.join(&room, "Ana", "req-7").await?;
    let (joined, _) = socket.recv_type("joined").await?;
    ensure!(
        joined["request_id"] == "req-7",
        "joined answers join's request_id \"req-7\", got {joined}"
    );
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_room_gets_error_code_and_socket_stays_usable() -> Result<()> {
    let server = start_server().await;
    let room = create_room(&server).await?;
    let addr = server.http_addr();

    let mut socket = SignalingClient::connect(addr).await?;
    socket.join("no-such-room", "Ana", "r1").await?;
    let error = socket.recv().await?;
    ensure!(
        error["type"] == "error"
            && error["code"] == "unknown_room"
            && error["request_id"] == "r1"
            && error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "joining an unknown room answers unknown_room with the request id, got {error}"
    );

    // The same socket joins a real room and holds a meeting.
    let ana = Participant::join_with(socket, &room, "Ana").await?;
    let ben = Participant::join(addr, &room, "Ben").await?;
    ana.wait_receiving_from(&[&ben.id]).await?;
    ben.wait_receiving_from(&[&ana.id]).await?;
    for p in [&ana, &ben] {
        p.check_invariants()?;
        p.check_no_errors()?;
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_message_gets_bad_message_and_room_unharmed() -> Result<()> {
    let server = start_server().await;
    let room = create_room(&server).await?;
    let addr = server.http_addr();
    let ana = Participant::join(addr, &room, "Ana").await?;
    let ben = Participant::join(addr, &room, "Ben").await?;
    ana.wait_receiving_from(&[&ben.id]).await?;
    ben.wait_receiving_from(&[&ana.id]).await?;

    let garbage = [
        "{nope".to_string(),
        json!({"type": "dance"}).to_string(),
        json!({"type": "media_state", "audio": true, "video": true, "volume": 11}).to_string(),
        json!({"type": "media_state", "audio": "yes", "video": true}).to_string(),
    ];
    for (i, text) in garbage.iter().enumerate() {
        ana.send_raw(text)?;
        wait_until(
            WAIT,
            &format!("an error for {text}"),
            || ana.errors().len() > i,
            || ana.describe(),
        )
        .await?;
        let error = &ana.errors()[i];
        ensure!(
            error["code"] == "bad_message",
            "{text} is refused with bad_message, got {error}"
        );
    }

    // Media keeps flowing both ways, and Ana's socket still works for valid messages.
    ana.wait_still_receiving_from(&ben.id).await?;
    ben.wait_still_receiving_from(&ana.id).await?;
    ana.send(&json!({"type": "media_state", "audio": true, "video": false}))?;
    ben.wait_message("participant_updated for Ana", |m| {
        m["type"] == "participant_updated"
            && m["participant"]["id"] == ana.id.as_str()
            && m["participant"]["audio"] == true
            && m["participant"]["video"] == false
    })
    .await?;
    ensure!(
        !ben.messages()
            .iter()
            .any(|m| m["type"] == "participant_left"),
        "Ana's garbage made her leave: {}",
        ben.describe()
    );
    ensure!(
        ana.socket_ended().is_none(),
        "Ana's socket closed: {}",
        ana.describe()
    );
    ensure!(
        ana.errors().len() == garbage.len(),
        "one error per bad message: {}",
        ana.describe()
    );
    ana.check_invariants()?;
    ben.check_invariants()?;
    ben.check_no_errors()?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_offers_get_bad_sdp_and_harm_no_one() -> Result<()> {
    let server = start_server().await;
    let addr = server.http_addr();
    let TwoInARoom { room, ana, ben } = two_in_a_room(&server).await?;

    let mut mallory = haven_tests::SignalingClient::connect(addr).await?;
    mallory.join(&room, "Mallory", "j1").await?;
    mallory.recv_type("joined").await?;
    let many_lines: String = (0..1500).map(|i| format!("m=audio {i} RTP/AVP 0\r\n")).collect();
    let hostile = [
        "v=0 this is not SDP".to_string(),
        format!("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n{many_lines}"),
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n".to_string(),
        "\u{0}\u{1}\u{2}".repeat(1000),
    ];
    for sdp in &hostile {
        mallory.send(&json!({"type": "offer", "sdp": sdp})).await?;
        let (error, _) = mallory.recv_type("error").await?;
        ensure!(error["code"] == "bad_sdp", "a hostile offer is refused with bad_sdp: {error}");
    }
    // The same offers from someone already connected (taken as an ICE restart) are refused
    // just the same, and her own media carries on.
    for (i, sdp) in hostile.iter().enumerate() {
        ana.send(&json!({"type": "offer", "sdp": sdp}))?;
        wait_until(WAIT, "an error for a hostile renegotiation", || ana.errors().len() > i, || ana.describe()).await?;
        ensure!(ana.errors()[i]["code"] == "bad_sdp", "{}", ana.errors()[i]);
    }
    ana.wait_still_receiving_from(&ben.id).await?;
    ben.wait_still_receiving_from(&ana.id).await?;
    ensure!(ana.socket_ended().is_none(), "Ana's socket stays open: {}", ana.describe());
    ana.check_invariants()?;
    ben.check_no_errors()?;
    server.shutdown().await;
    Ok(())
}

/// The server offers first, right behind `joined`; a client that never answers (no WebRTC,
/// or signaling only) keeps its place: the media loop's 12 s silence rule counts only from
/// an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_offer_follows_joined_and_a_client_that_never_answers_keeps_its_place() -> Result<()> {
    let server = start_server().await;
    let room = create_room(&server).await?;
    let mut socket = SignalingClient::connect(server.http_addr()).await?;
    socket.join(&room, "Ana", "j1").await?;
    let (_, before) = socket.recv_type("joined").await?;
    ensure!(before.iter().all(|m| m["type"] != "offer"), "no offer before joined: {before:?}");
    let (offer, _) = socket.recv_type("offer").await?;
    let sdp = offer["sdp"].as_str().unwrap_or_default();
    let receiving: Vec<&str> =
        sdp.split("\r\nm=").skip(1).filter(|m| m.contains("\r\na=recvonly")).map(|m| m.split(' ').next().unwrap_or("")).collect();
    ensure!(
        receiving == ["audio", "video", "video"],
        "the first offer receives audio, camera and screen from the browser, in that order: {sdp}"
    );
    // The screen's own two layers (half and full size, docs/protocol.md "Screen share"),
    // named apart from the camera's.
    ensure!(
        sdp.split("\r\nm=").nth(3).is_some_and(|screen| screen.contains("a=simulcast:recv sh;sf")),
        "the screen line (the third) asks for the layers sh;sf: {sdp}"
    );

    // Past the silence limit, with nothing answered and no media sent: still in.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match socket.recv_within(left).await? {
            Some(haven_tests::Incoming::Message(m)) => {
                ensure!(m["type"] != "closed", "a silent newcomer was sent away: {m}")
            }
            Some(haven_tests::Incoming::Ended(why)) => anyhow::bail!("the socket ended: {why}"),
            None => break,
        }
    }
    let ben = Participant::join(server.http_addr(), &room, "Ben").await?;
    let names: Vec<&str> =
        ben.joined["participants"].as_array().into_iter().flatten().filter_map(|p| p["name"].as_str()).collect();
    ensure!(names == ["Ana"], "Ana is still in the meeting: {names:?}");
    server.shutdown().await;
    Ok(())
}

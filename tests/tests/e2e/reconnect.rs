//! Connections that drop, as people in the meeting observe them: a participant whose
//! WebSocket drops keeps their place (and their media keeps reaching the others) for the
//! grace period, takes it back with `resume`, and loses it after; an ICE restart keeps a
//! participant's media flowing both ways.

use std::time::Duration;

use anyhow::{ensure, Result};
use haven_tests::{create_room, start_server_with, two_in_a_room, Kind, Participant, TwoInARoom};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dropped_connection_keeps_the_place_and_resume_takes_it_back() -> Result<()> {
    let server = start_server_with(|c| c.rooms.reconnect_grace_seconds = 30).await;
    let room = create_room(&server).await?;
    let mut ana = Participant::join(server.http_addr(), &room, "Ana").await?;
    let ben = Participant::join(server.http_addr(), &room, "Ben").await?;
    ana.wait_receiving_from(&[&ben.id]).await?;
    ben.wait_receiving_from(&[&ana.id]).await?;
    ana.send(&json!({"type": "raise_hand"}))?;
    ben.wait_message("Ana's raised hand", |m| m["type"] == "queue" && m["queue"][0]["id"] == ana.id.as_str())
        .await?;

    ana.drop_socket();
    // Her phone lost its data connection, not her media: Ben keeps hearing and seeing her.
    ben.wait_still_receiving_from(&ana.id).await?;

    let joined = ana.resume(server.http_addr()).await?;
    ensure!(joined["type"] == "joined" && joined["resumed"] == true, "resume answered {joined}");
    ensure!(joined["you"]["id"] == ana.id.as_str(), "a resume keeps the same participant: {joined}");
    ensure!(joined["queue"][0]["id"] == ana.id.as_str(), "her hand is still first in the queue: {joined}");
    ensure!(
        !ben.messages().iter().any(|m| m["type"] == "participant_left"),
        "Ben was never told Ana left: {:?}",
        ben.messages()
    );

    // The resumed session carries renegotiation: a newcomer's media reaches Ana.
    let cy = Participant::join(server.http_addr(), &room, "Cy").await?;
    ana.wait_receiving_from(&[&cy.id, &ben.id]).await?;
    cy.wait_receiving_from(&[&ana.id, &ben.id]).await?;
    for p in [&ana, &ben, &cy] {
        p.check_invariants()?;
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_the_grace_period_the_place_is_given_up() -> Result<()> {
    let server = start_server_with(|c| c.rooms.reconnect_grace_seconds = 1).await;
    let room = create_room(&server).await?;
    let mut ana = Participant::join(server.http_addr(), &room, "Ana").await?;
    let ben = Participant::join(server.http_addr(), &room, "Ben").await?;

    ana.drop_socket();
    let left = ben
        .wait_message("Ana to leave once her grace period is over", |m| {
            m["type"] == "participant_left" && m["id"] == ana.id.as_str()
        })
        .await?;
    ensure!(left["reason"] == "left", "{left}");
    ben.wait_stopped_from(&ana.id, Duration::from_secs(1)).await?;

    let answer = ana.resume(server.http_addr()).await?;
    ensure!(answer["type"] == "error" && answer["code"] == "resume_failed", "resume answered {answer}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_resume_needs_the_key_the_server_gave() -> Result<()> {
    let server = start_server_with(|_| {}).await;
    let room = create_room(&server).await?;
    let ana = Participant::join(server.http_addr(), &room, "Ana").await?;
    let mut client = haven_tests::SignalingClient::connect(server.http_addr()).await?;

    client.send(&json!({"type": "resume", "room": room, "resume_key": "guessed", "request_id": "r1"})).await?;
    let (error, _) = client.recv_type("error").await?;
    ensure!(error["code"] == "resume_failed" && error["request_id"] == "r1", "{error}");

    // Ana's own key names her room only.
    let key = ana.joined["resume_key"].as_str().unwrap_or_default();
    ensure!(key.len() >= 20, "resume keys are long random secrets: {key:?}");
    client.send(&json!({"type": "resume", "room": "nosuchroom", "resume_key": key})).await?;
    let (error, _) = client.recv_type("error").await?;
    ensure!(error["code"] == "unknown_room", "{error}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_ice_restart_keeps_media_flowing_both_ways() -> Result<()> {
    let server = start_server_with(|_| {}).await;
    let TwoInARoom { ana, ben, .. } = two_in_a_room(&server).await?;

    ana.restart_ice().await?;
    ben.wait_flow_rising(&ana.id, Kind::Audio).await?;
    ben.wait_flow_rising(&ana.id, Kind::Video).await?;
    ana.wait_flow_rising(&ben.id, Kind::Audio).await?;
    ana.wait_flow_rising(&ben.id, Kind::Video).await?;
    // Her first credentials came with the server's first offer, the new ones with its answer.
    let ufrags: Vec<String> = ana
        .messages()
        .iter()
        .filter(|m| m["type"] == "answer" || m["type"] == "offer")
        .filter_map(|m| m["sdp"].as_str()?.lines().find(|l| l.starts_with("a=ice-ufrag:")).map(str::to_string))
        .collect();
    let answers = ana.messages().iter().filter(|m| m["type"] == "answer").count();
    ensure!(
        answers == 1 && ufrags.len() >= 2 && ufrags[0] != ufrags[ufrags.len() - 1],
        "the server answered the restart with new ICE credentials: {ufrags:?}"
    );
    for p in [&ana, &ben] {
        p.check_invariants()?;
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn closing_the_page_leaves_at_once() -> Result<()> {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    let server = start_server_with(|c| c.rooms.reconnect_grace_seconds = 600).await;
    let room = create_room(&server).await?;
    let ana = Participant::join(server.http_addr(), &room, "Ana").await?;
    let mut tab = haven_tests::SignalingClient::connect(server.http_addr()).await?;
    tab.join(&room, "Ben", "j1").await?;
    let (joined, _) = tab.recv_type("joined").await?;
    let ben = joined["you"]["id"].as_str().unwrap_or_default().to_string();
    ana.wait_message("Ben's arrival", |m| m["type"] == "participant_joined" && m["participant"]["id"] == ben.as_str())
        .await?;

    // A closed tab sends a WebSocket close frame: that is leaving, not a dropped connection.
    let (mut sink, _stream) = tab.into_parts();
    sink.send(Message::Close(None)).await?;
    let left = ana
        .wait_message("Ben to leave without a grace period", |m| {
            m["type"] == "participant_left" && m["id"] == ben.as_str()
        })
        .await?;
    ensure!(left["reason"] == "left", "{left}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_peer_whose_media_stops_is_told_and_removed_after_the_grace_period() -> Result<()> {
    let server = start_server_with(|c| c.rooms.reconnect_grace_seconds = 1).await;
    let TwoInARoom { ana, ben, .. } = two_in_a_room(&server).await?;

    ana.close_media().await;
    let closed = ana.wait_message("the server to notice her media is gone", |m| m["type"] == "closed").await?;
    ensure!(closed["code"] == "connection_lost", "{closed}");
    let left = ben
        .wait_message("Ana to be removed once she did not come back", |m| {
            m["type"] == "participant_left" && m["id"] == ana.id.as_str()
        })
        .await?;
    ensure!(left["reason"] == "left", "{left}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_resume_with_a_new_peer_connection_replaces_the_old_one() -> Result<()> {
    let server = start_server_with(|c| c.rooms.reconnect_grace_seconds = 30).await;
    let TwoInARoom { room, mut ana, ben } = two_in_a_room(&server).await?;
    let key = ana.joined["resume_key"].as_str().unwrap_or_default().to_string();

    // A browser that reloaded its media: socket and peer connection both gone.
    ana.drop_socket();
    ana.close_media().await;
    let mut signaling = haven_tests::SignalingClient::connect(server.http_addr()).await?;
    signaling.send(&json!({"type": "resume", "room": room, "resume_key": key})).await?;
    let again = Participant::when_admitted(signaling, &room, "Ana").await?;
    ensure!(again.id == ana.id && again.joined["resumed"] == true, "{}", again.joined);

    ben.wait_flow_rising(&ana.id, Kind::Audio).await?;
    ben.wait_flow_rising(&ana.id, Kind::Video).await?;
    again.wait_receiving_from(&[&ben.id]).await?;
    ensure!(
        !ben.messages().iter().any(|m| m["type"] == "participant_left"),
        "Ben was never told Ana left: {}",
        ben.describe()
    );
    server.shutdown().await;
    Ok(())
}

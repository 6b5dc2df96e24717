//! Limits that keep one noisy address or connection from harming anyone else's meeting:
//! each refusal has its stable code, and the people already in the meeting carry on.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{ensure, Result};
use haven_tests::{create_room, start_server_with, Participant, SignalingClient};
use serde_json::json;

const CHAT_LEN: usize = 100_000;
const OTHER_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_address_cannot_hold_more_connections_than_allowed() -> Result<()> {
    let server = start_server_with(|c| c.limits.max_connections_per_address = 2).await;
    let first = SignalingClient::connect(server.http_addr()).await?;
    let _second = SignalingClient::connect(server.http_addr()).await?;
    let mut third = SignalingClient::connect(server.http_addr()).await?;
    let (error, _) = third.recv_type("error").await?;
    ensure!(error["code"] == "too_many_connections", "{error}");

    // Another address is not affected, and a closed connection frees its place.
    let mut elsewhere = SignalingClient::connect_from(server.http_addr(), OTHER_ADDRESS).await?;
    elsewhere.send(&json!({"type": "raise_hand"})).await?;
    let (error, _) = elsewhere.recv_type("error").await?;
    ensure!(error["code"] == "not_joined", "a connection from elsewhere is served normally: {error}");
    drop(first);
    let room = create_room(&server).await?;
    let mut again = None;
    for _ in 0..50 {
        // The server notices the closed socket a moment later.
        let mut client = SignalingClient::connect(server.http_addr()).await?;
        client.join(&room, "Ana", "j1").await?;
        let (reply, _) = client.recv_type_any(&["joined", "error"]).await?;
        if reply["type"] == "joined" {
            again = Some(reply);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    ensure!(again.is_some(), "a closed connection's place was never given back");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn join_attempts_from_one_address_are_limited_per_minute() -> Result<()> {
    let server = start_server_with(|c| c.limits.joins_per_address_per_minute = 3).await;
    let room = create_room(&server).await?;
    let mut codes = Vec::new();
    for attempt in 0..4 {
        // Fresh connections: closing and reopening does not reset the count.
        let mut client = SignalingClient::connect(server.http_addr()).await?;
        client.join("nosuchroom", "Ana", &format!("j{attempt}")).await?;
        let (error, _) = client.recv_type("error").await?;
        codes.push(error["code"].as_str().unwrap_or_default().to_string());
    }
    ensure!(
        codes == ["unknown_room", "unknown_room", "unknown_room", "too_many_attempts"],
        "the fourth attempt in a minute is refused: {codes:?}"
    );
    // Someone at another address joins as usual.
    let mut elsewhere = SignalingClient::connect_from(server.http_addr(), OTHER_ADDRESS).await?;
    elsewhere.join(&room, "Ben", "j9").await?;
    elsewhere.recv_type("joined").await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flooding_connection_is_slowed_and_the_meeting_goes_on() -> Result<()> {
    let server = start_server_with(|c| c.limits.messages_per_second = 5).await;
    let room = create_room(&server).await?;
    let ana = Participant::join(server.http_addr(), &room, "Ana").await?;
    let ben = Participant::join(server.http_addr(), &room, "Ben").await?;
    ana.wait_receiving_from(&[&ben.id]).await?;

    for _ in 0..300 {
        ben.send(&json!({"type": "react", "reaction": "heart"}))?;
    }
    ben.wait_message("a rate_limited error", |m| m["type"] == "error" && m["code"] == "rate_limited")
        .await?;
    let hearts = ana.messages().iter().filter(|m| m["type"] == "reaction").count();
    ensure!(hearts <= 10, "most of the flood never reached Ana ({hearts} reactions did)");
    let rate_errors = ben.errors().iter().filter(|m| m["code"] == "rate_limited").count();
    ensure!(rate_errors <= 20, "the flooder is told, not flooded back: {rate_errors} errors for 300 messages");

    // Ana's meeting goes on: Ben's media still reaches her, and her chat reaches him.
    ana.wait_still_receiving_from(&ben.id).await?;
    ana.send(&json!({"type": "chat", "text": "still here"}))?;
    ben.wait_message("Ana's chat", |m| m["type"] == "chat" && m["message"]["text"] == "still here")
        .await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_oversized_message_is_refused_but_a_big_meetings_sdp_is_not() -> Result<()> {
    let server = start_server_with(|_| {}).await;
    let room = create_room(&server).await?;
    let mut sam = SignalingClient::connect(server.http_addr()).await?;
    sam.join(&room, "Sam", "j1").await?;
    sam.recv_type("joined").await?;

    // 100 KiB of chat is over the 64 KiB cap.
    sam.send(&json!({"type": "chat", "text": "x".repeat(CHAT_LEN)})).await?;
    let (refused, _) = sam.recv_type("error").await?;
    ensure!(refused["code"] == "message_too_large", "{refused}");

    // An answer that size is what a browser sends in a 50-person meeting: it is judged by
    // what it says (here: no media yet, so nothing to answer), not refused for its size.
    let sdp = format!("v=0\r\n{}", "a=x-filler\r\n".repeat(9_000));
    sam.send(&json!({"type": "answer", "sdp": sdp})).await?;

    // The socket stayed open through both, and only the chat was too large.
    sam.send(&json!({"type": "raise_hand"})).await?;
    let (queue, before) = sam.recv_type("queue").await?;
    ensure!(queue["queue"][0]["name"] == "Sam", "{queue}");
    let too_large: Vec<_> = before.iter().filter(|m| m["code"] == "message_too_large").collect();
    ensure!(too_large.is_empty(), "the SDP was refused for its size: {too_large:?}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_past_every_cap_is_closed_with_1009_and_a_reason() -> Result<()> {
    let server = start_server_with(|_| {}).await;
    let mut sam = SignalingClient::connect(server.http_addr()).await?;
    // 3 MiB: past the SDP cap and the WebSocket layer's own limit above it.
    sam.send_raw(&format!("{{\"type\":\"chat\",\"text\":\"{}\"}}", "x".repeat(3 << 20))).await.ok();
    let ended = loop {
        match sam.recv_within(std::time::Duration::from_secs(5)).await? {
            Some(haven_tests::Incoming::Ended(how)) => break how,
            Some(_) => continue,
            None => anyhow::bail!("the socket stayed open after a 3 MiB frame"),
        }
    };
    ensure!(ended.contains("Size") || ended.contains("1009"), "closed with: {ended}");
    ensure!(ended.contains("message too large"), "the close frame says why: {ended}");
    server.shutdown().await;
    Ok(())
}

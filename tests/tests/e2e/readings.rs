//! Readings as people in a meeting observe them on the wire: the file's readings arrive in
//! `joined`, staff show one and move its highlight, a member who tries is refused with
//! `not_permitted`, a late joiner finds the reading on show, and suspend closes it.

use anyhow::{ensure, Result};
use haven::config::{DeclaredRoom, Reading};
use haven_tests::{start_server_with, SignalingClient};
use serde_json::{json, Value};

/// The room's secret and its SHA-256, as an operator writes it in the file.
const KEY: &str = "tuesday-secret";
const KEY_SHA256: &str = "e55a89cf02c78f9db4d9fc6bc0ba75127c53507061f7e51ae6bf897061f2c88d";
const PREAMBLE: &str = "We are glad you are here.\n\nWhat is said here stays here.";

async fn join(addr: std::net::SocketAddr, name: &str, fields: Value) -> Result<(SignalingClient, Value)> {
    let mut socket = SignalingClient::connect(addr).await?;
    let answer = socket.try_join("tuesday", name, fields).await?;
    ensure!(answer["type"] == "joined", "{name} joins, got {answer}");
    Ok((socket, answer))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_show_a_reading_members_follow_it_and_cannot_drive_it() -> Result<()> {
    let server = start_server_with(|c| {
        c.declared_rooms.push(DeclaredRoom {
            id: "tuesday".into(),
            facilitator_key_sha256: KEY_SHA256.into(),
            guidelines: Some("Be kind.".into()),
            readings: vec![Reading { title: "Preamble".into(), text: PREAMBLE.into() }],
            ..Default::default()
        })
    })
    .await;
    let addr = server.http_addr();
    let (mut fay, _) = join(addr, "Fay", json!({"key": KEY})).await?;
    let (mut mo, mo_joined) = join(addr, "Mo", json!({})).await?;
    let readings = &mo_joined["readings"];
    ensure!(
        readings[0]["title"] == "Our guidelines"
            && readings[0]["text"] == "Be kind."
            && readings[1]["title"] == "Preamble"
            && readings[1]["text"] == PREAMBLE,
        "the guidelines, then the file's readings: {readings}"
    );
    ensure!(mo_joined.get("shown_reading").is_none(), "nothing on show yet: {mo_joined}");
    let preamble = readings[1]["id"].clone();

    fay.send(&json!({"type": "show_reading", "id": preamble, "reader": "Fay"})).await?;
    let (shown, _) = mo.recv_type("reading_shown").await?;
    ensure!(shown["shown"] == json!({"id": preamble, "paragraph": 0, "reader": "Fay"}), "{shown}");
    fay.send(&json!({"type": "show_reading", "id": preamble, "paragraph": 1})).await?;
    let (shown, _) = mo.recv_type("reading_shown").await?;
    ensure!(shown["shown"] == json!({"id": preamble, "paragraph": 1}), "the highlight moved: {shown}");

    for attempt in [
        json!({"type": "show_reading", "id": preamble, "paragraph": 0}),
        json!({"type": "stop_reading"}),
        json!({"type": "add_reading", "title": "Mine", "text": "Hello"}),
    ] {
        mo.send(&attempt).await?;
        let (error, _) = mo.recv_type("error").await?;
        ensure!(error["code"] == "not_permitted", "{attempt} from a member: {error}");
    }

    // Text stays text: the server passes markup through untouched for the client to show as such.
    let pasted = "Step one.\n\n<script>alert(1)</script>";
    fay.send(&json!({"type": "add_reading", "title": "Pasted", "text": pasted})).await?;
    let (saved, _) = mo.recv_type("reading_saved").await?;
    ensure!(saved["reading"]["text"] == pasted && saved["reading"]["title"] == "Pasted", "{saved}");
    fay.send(&json!({"type": "add_reading", "title": "Pasted", "text": "x".repeat(20_001)})).await?;
    let (error, _) = fay.recv_type("error").await?;
    ensure!(error["code"] == "reading_too_long", "{error}");

    let (_late, late_joined) = join(addr, "Lee", json!({})).await?;
    ensure!(
        late_joined["shown_reading"] == json!({"id": preamble, "paragraph": 1})
            && late_joined["readings"].as_array().map(Vec::len) == Some(3),
        "a late joiner finds the reading on show: {late_joined}"
    );

    fay.send(&json!({"type": "suspend"})).await?;
    mo.recv_type("reading_stopped").await?;
    server.shutdown().await;
    Ok(())
}

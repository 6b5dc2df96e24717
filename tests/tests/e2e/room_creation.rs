//! Starting meetings cannot be used to fill the server: one address starts only so many an
//! hour, and an organisation can require a code to start one at all.

use anyhow::{ensure, Context, Result};
use haven_tests::{http_call, http_request_with, start_server, start_server_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_starts_only_a_few_meetings_an_hour_and_others_still_can() -> Result<()> {
    let server = start_server_with(|c| {
        c.limits.rooms_per_address_per_hour = 3;
        c.server.trusted_proxies = vec![haven::config::parse_net("127.0.0.1").unwrap()];
    })
    .await;
    let from = |who: &'static str| [("X-Forwarded-For", who)];
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(http_request_with(server.http_addr(), "POST", "/api/rooms", &from("198.51.100.7")).await?);
    }
    let codes: Vec<u16> = statuses.iter().map(|(status, _)| *status).collect();
    ensure!(codes == [201, 201, 201, 429, 429], "{codes:?}");
    ensure!(statuses[3].1.contains("\"too_many_rooms\""), "{}", statuses[3].1);
    let (status, _) = http_request_with(server.http_addr(), "POST", "/api/rooms", &from("198.51.100.8")).await?;
    ensure!(status == 201, "another address starts a meeting: {status}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_create_secret_only_people_given_the_code_start_meetings() -> Result<()> {
    let server = start_server_with(|c| c.rooms.create_secret = "tuesday-intergroup".into()).await;
    let addr = server.http_addr();
    let (status, body) = http_request_with(addr, "POST", "/api/rooms", &[]).await?;
    ensure!(status == 401 && body.contains("\"create_secret_required\""), "{status} {body}");
    let (status, body) = http_request_with(addr, "POST", "/api/rooms", &[("Authorization", "Bearer guess")]).await?;
    ensure!(status == 403 && body.contains("\"wrong_create_secret\""), "{status} {body}");
    let (status, body) = http_request_with(addr, "POST", "/api/rooms", &[("Authorization", "Bearer tuesday-intergroup")]).await?;
    ensure!(status == 201 && body.contains("join_url"), "{status} {body}");
    server.shutdown().await;
    Ok(())
}

/// A meeting may be started with a name (shown on its join screen and in the meeting); a
/// name that is too long, or on more than one line, and a body that is not the JSON asked
/// for, are refused with their codes. The answer says how long the links work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_started_with_a_name_shows_it_and_says_how_long_its_links_work() -> Result<()> {
    let server = start_server().await;
    let addr = server.http_addr();
    let json = [("Content-Type", "application/json")];
    let made = http_call(addr, "POST", "/api/rooms", &json, Some(r#"{"title":"  Tuesday night group  "}"#)).await?;
    ensure!(made.status == 201, "{made:?}");
    let body = made.json();
    ensure!(body["title"] == "Tuesday night group", "trimmed: {body}");
    ensure!(body["kept_hours_after_last_leaves"] == 6 && body["kept_hours_if_unused"] == 1, "{body}");
    let id = body["id"].as_str().context("an id")?;
    let info = http_call(addr, "GET", &format!("/api/rooms/{id}"), &[], None).await?.json();
    ensure!(info["title"] == "Tuesday night group", "the join screen's title: {info}");
    // Without a body, or a blank name: untitled (`[room_defaults]`'s title is empty), and the
    // join screen names it in the person's language.
    let plain = http_call(addr, "POST", "/api/rooms", &[], None).await?.json();
    let blank = http_call(addr, "POST", "/api/rooms", &json, Some(r#"{"title":"   "}"#)).await?.json();
    ensure!(plain["title"].is_null() && blank["title"].is_null(), "{plain} {blank}");
    let id = plain["id"].as_str().context("an id")?;
    let info = http_call(addr, "GET", &format!("/api/rooms/{id}"), &[], None).await?.json();
    ensure!(info["title"].is_null(), "the join screen's title: {info}");
    let long = format!(r#"{{"title":"{}"}}"#, "a".repeat(201));
    for (body, status, code) in [
        (long.as_str(), 400, "invalid_title"),
        (r#"{"title":"one\ntwo"}"#, 400, "invalid_title"),
        (r#"{"name":"x"}"#, 400, "bad_request"),
        ("not json", 400, "bad_request"),
    ] {
        let answer = http_call(addr, "POST", "/api/rooms", &json, Some(body)).await?;
        ensure!(answer.status == status && answer.json()["code"] == code, "{body}: {answer:?}");
    }
    server.shutdown().await;
    Ok(())
}

/// `key_id` at creation (the links' key id, docs/e2ee.md "Rotation"): carried by the answer,
/// the join screen's room and `joined`; refused with `invalid_key_id` when it is not an integer
/// from 0 to 65535 or the meeting is not encrypted, before any meeting is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_meetings_key_id_is_checked_and_given_to_every_page() -> Result<()> {
    let server = start_server().await;
    let addr = server.http_addr();
    let json = [("Content-Type", "application/json")];
    for bad in [
        r#"{"e2ee":true,"key_id":65536}"#,
        r#"{"e2ee":true,"key_id":-1}"#,
        r#"{"e2ee":true,"key_id":1.5}"#,
        r#"{"e2ee":true,"key_id":"4660"}"#,
        r#"{"key_id":4660}"#,
        r#"{"e2ee":false,"key_id":0}"#,
    ] {
        let refused = http_call(addr, "POST", "/api/rooms", &json, Some(bad)).await?;
        ensure!(refused.status == 400 && refused.json()["code"] == "invalid_key_id", "{bad}: {refused:?}");
        ensure!(refused.json()["message"].as_str().is_some_and(|m| m.contains("65535")), "{refused:?}");
    }
    let made = http_call(addr, "POST", "/api/rooms", &json, Some(r#"{"e2ee":true,"key_id":65535}"#)).await?;
    ensure!(made.status == 201 && made.json()["key_id"] == 65535, "{made:?}");
    let id = made.json()["id"].as_str().context("an id")?.to_string();
    let info = http_call(addr, "GET", &format!("/api/rooms/{id}"), &[], None).await?.json();
    ensure!(info["e2ee"] == true && info["key_id"] == 65535, "{info}");
    let mut sam = haven_tests::signaling::SignalingClient::connect(addr).await?;
    let joined = sam.try_join(&id, "Sam", serde_json::json!({})).await?;
    ensure!(joined["room"]["key_id"] == 65535, "{joined}");
    // Without one (an older page, or `null`), the room says none: every key joins.
    let made = http_call(addr, "POST", "/api/rooms", &json, Some(r#"{"e2ee":true,"key_id":null}"#)).await?.json();
    let id = made["id"].as_str().context("an id")?;
    let info = http_call(addr, "GET", &format!("/api/rooms/{id}"), &[], None).await?.json();
    ensure!(info["e2ee"] == true && info.get("key_id").is_none(), "{info}");
    server.shutdown().await;
    Ok(())
}

/// An encrypted meeting (`"e2ee": true`) is one from its creation: the answer, the join
/// screen's room and `joined` say so; the links carry no meeting key (the page adds it); and
/// the server relays only ciphertext-shaped chat, refusing text in clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_meeting_says_so_everywhere_and_takes_no_chat_in_clear() -> Result<()> {
    let server = start_server().await;
    let addr = server.http_addr();
    let json = [("Content-Type", "application/json")];
    let made = http_call(addr, "POST", "/api/rooms", &json, Some(r#"{"title":"Quiet room","e2ee":true}"#)).await?;
    ensure!(made.status == 201, "{made:?}");
    let body = made.json();
    ensure!(body["e2ee"] == true, "{body}");
    let join_url = body["join_url"].as_str().context("join_url")?;
    let facilitator_url = body["facilitator_url"].as_str().context("facilitator_url")?;
    ensure!(!join_url.contains('#') && !facilitator_url.contains("e2ee"), "no key from the server: {body}");
    let id = body["id"].as_str().context("an id")?;
    let info = http_call(addr, "GET", &format!("/api/rooms/{id}"), &[], None).await?.json();
    ensure!(info["e2ee"] == true, "the join screen knows: {info}");
    let plain = http_call(addr, "POST", "/api/rooms", &json, Some(r#"{"title":"Open room"}"#)).await?.json();
    ensure!(plain["e2ee"] == false, "{plain}");
    let plain_id = plain["id"].as_str().context("an id")?;
    let info = http_call(addr, "GET", &format!("/api/rooms/{plain_id}"), &[], None).await?.json();
    ensure!(info["e2ee"] == false, "{info}");

    let mut sam = haven_tests::signaling::SignalingClient::connect(addr).await?;
    let joined = sam.try_join(id, "Sam", serde_json::json!({})).await?;
    ensure!(joined["type"] == "joined" && joined["room"]["e2ee"] == true, "{joined}");
    sam.send(&serde_json::json!({"type": "chat", "text": "hello in clear"})).await?;
    let (refused, _) = sam.recv_type("error").await?;
    ensure!(refused["code"] == "message_not_encrypted", "{refused}");
    sam.send(&serde_json::json!({"type": "chat", "text": "AQABc2VhbGVkLXRleHQ_"})).await?;
    let (chat, _) = sam.recv_type("chat").await?;
    ensure!(chat["message"]["text"] == "AQABc2VhbGVkLXRleHQ_", "{chat}");
    server.shutdown().await;
    Ok(())
}

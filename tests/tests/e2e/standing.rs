//! Standing meetings (#21) through the admin API: an admin signs in, makes a meeting, issues
//! a facilitator link that gives the role over the WebSocket until it is revoked or rotated;
//! a restart on the same data directory keeps the meeting and its settings; every admin error
//! code; the schedule's open window and archiving at join.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{ensure, Context, Result};
use haven_tests::{create_admin, create_room_with_key, http_call, start_server_with, temp_data_dir, HttpResponse, RunningServer, SignalingClient};
use serde_json::{json, Value};

const PASSWORD: &str = "a long enough password";

pub(super) async fn start(dir: &Path, adjust: impl FnOnce(&mut haven::config::Config)) -> RunningServer {
    let dir = dir.to_string_lossy().to_string();
    start_server_with(move |c| {
        c.store.data_dir = dir;
        adjust(c);
    })
    .await
}

/// `haven admin create ops` on the data directory `dir`, as an operator runs it.
pub(super) fn make_admin(dir: &Path) -> Result<()> {
    let mut config = haven::config::Config::default();
    config.store.data_dir = dir.to_string_lossy().to_string();
    create_admin(&config, "ops", PASSWORD)
}

/// A signed-in admin: every request with the CSRF header, JSON and the session cookie.
pub(super) struct Admin {
    pub(super) addr: SocketAddr,
    pub(super) cookie: String,
}

async fn call(addr: SocketAddr, method: &str, path: &str, extra: &[(&str, &str)], body: Option<Value>) -> Result<HttpResponse> {
    let body = body.map(|b| b.to_string());
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend_from_slice(extra);
    http_call(addr, method, path, &headers, body.as_deref()).await
}

async fn login(addr: SocketAddr, name: &str, password: &str) -> Result<HttpResponse> {
    call(addr, "POST", "/api/admin/login", &[("X-Haven-Admin", "1")], Some(json!({"name": name, "password": password}))).await
}

impl Admin {
    pub(super) async fn sign_in(addr: SocketAddr) -> Result<Admin> {
        let answer = login(addr, "ops", PASSWORD).await?;
        ensure!(answer.status == 204, "login: {answer:?}");
        let set_cookie = answer.header("set-cookie").context("a session cookie")?.to_string();
        let cookie = set_cookie.split(';').next().unwrap().to_string();
        Ok(Admin { addr, cookie })
    }

    pub(super) async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<HttpResponse> {
        call(self.addr, method, path, &[("X-Haven-Admin", "1"), ("Cookie", &self.cookie)], body).await
    }

    /// Calls and checks the status, returning the JSON body.
    pub(super) async fn ok(&self, method: &str, path: &str, body: Option<Value>, status: u16) -> Result<Value> {
        let answer = self.call(method, path, body).await?;
        ensure!(answer.status == status, "{method} {path}: expected {status}, got {answer:?}");
        Ok(answer.json())
    }

    /// Calls and checks the refusal's status and code.
    pub(super) async fn refused(&self, method: &str, path: &str, body: Option<Value>, status: u16, code: &str) -> Result<()> {
        let answer = self.call(method, path, body).await?;
        ensure!(answer.status == status && answer.json()["code"] == code, "{method} {path}: expected {status} {code}, got {answer:?}");
        ensure!(answer.json()["message"].as_str().is_some_and(|m| !m.is_empty()), "a sentence for people: {answer:?}");
        Ok(())
    }
}

pub(super) fn tuesday() -> Value {
    json!({
        "slug": "tuesday-night",
        "title": "Tuesday night",
        "description": "An open discussion meeting.",
        "language": "en",
        "guidelines": "What is said here stays here.",
        "readings": [{"title": "Preamble", "text": "We are glad you are here.\n\nListening is enough."}],
        "listed": true,
        "settings": {"share_seconds": 240, "waiting_room": false, "chat_enabled": true},
        "schedule": {
            "time_zone": "America/New_York",
            "rules": [{"kind": "weekly", "days": ["tue"], "time": "19:00"}],
            "duration_minutes": 90
        }
    })
}

pub(super) fn key_of(issued: &Value) -> Result<String> {
    let url = issued["facilitator_url"].as_str().context("facilitator_url")?;
    Ok(url.split_once("#key=").context("#key= in the link")?.1.to_string())
}

pub(super) async fn join(addr: SocketAddr, room: &str, name: &str, key: Option<&str>) -> Result<(SignalingClient, Value)> {
    let mut client = SignalingClient::connect(addr).await?;
    let fields = match key {
        Some(key) => json!({"key": key}),
        None => json!({}),
    };
    let answer = client.try_join(room, name, fields).await?;
    Ok((client, answer))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admins_facilitator_link_gives_the_role_until_revoked_or_rotated() -> Result<()> {
    let dir = temp_data_dir("standing-keys");
    let server = start(&dir, |_| {}).await;
    make_admin(&dir)?;
    let addr = server.http_addr();
    let admin = Admin::sign_in(addr).await?;

    let made = admin.ok("POST", "/api/admin/meetings", Some(tuesday()), 201).await?;
    ensure!(made["join_url"].as_str().is_some_and(|u| u.ends_with("/m/tuesday-night")), "{made}");
    ensure!(made["settings"]["share_seconds"] == 240 && made["schedule"]["time_zone"] == "America/New_York", "{made}");
    // The member link works at once, with the meeting's own settings.
    let info = http_call(addr, "GET", "/api/rooms/tuesday-night", &[], None).await?.json();
    ensure!(info["title"] == "Tuesday night" && info["share_seconds"] == 240, "{info}");
    ensure!(info["guidelines"] == "What is said here stays here.", "{info}");

    let issued = admin.call("POST", "/api/admin/meetings/tuesday-night/keys", Some(json!({"label": "Tuesday chair"}))).await?;
    ensure!(issued.status == 201 && issued.header("cache-control") == Some("no-store"), "{issued:?}");
    let chair_key = key_of(&issued.json())?;
    let chair_id = issued.json()["id"].as_i64().context("key id")?;
    ensure!(issued.json()["label"] == "Tuesday chair", "{issued:?}");

    let (mut chair, joined) = join(addr, "tuesday-night", "Chair", Some(&chair_key)).await?;
    ensure!(joined["type"] == "joined" && joined["you"]["role"] == "facilitator", "{joined}");
    let (_member, joined) = join(addr, "tuesday-night", "Sam", None).await?;
    ensure!(joined["you"]["role"] == "member", "{joined}");
    // The stored readings, after the guidelines', in the meeting.
    let titles: Vec<_> = joined["readings"].as_array().context("readings")?.iter().map(|r| r["title"].clone()).collect();
    ensure!(titles == [json!("Our guidelines"), json!("Preamble")], "{joined}");
    ensure!(joined["readings"][1]["text"] == "We are glad you are here.\n\nListening is enough.", "{joined}");
    chair.recv_type("participant_joined").await.ok();

    // Live counts: how many, never who.
    let live = admin.ok("GET", "/api/admin/live", None, 200).await?;
    ensure!(live == json!([{"slug": "tuesday-night", "people": 2}]), "{live}");
    let listed = admin.ok("GET", "/api/admin/meetings", None, 200).await?;
    ensure!(listed[0]["people"] == 2, "{listed}");
    ensure!(!listed.to_string().contains("Sam") && !listed.to_string().contains("Chair\""), "no names: {listed}");

    // The list of links shows labels, never a secret or its hash.
    let keys = admin.ok("GET", "/api/admin/meetings/tuesday-night/keys", None, 200).await?;
    ensure!(keys.as_array().map(Vec::len) == Some(1) && keys[0]["label"] == "Tuesday chair", "{keys}");
    ensure!(!keys.to_string().contains(&chair_key) && keys[0].get("facilitator_url").is_none(), "{keys}");

    // Revoked: the same link no longer gives the role, checked at join.
    let revoked = admin.ok("DELETE", &format!("/api/admin/meetings/tuesday-night/keys/{chair_id}"), None, 200).await?;
    ensure!(revoked["revoked_at"].is_i64(), "{revoked}");
    let (_, refused) = join(addr, "tuesday-night", "Chair again", Some(&chair_key)).await?;
    ensure!(refused["type"] == "error" && refused["code"] == "bad_key", "{refused}");
    admin.refused("DELETE", &format!("/api/admin/meetings/tuesday-night/keys/{chair_id}"), None, 404, "unknown_key").await?;

    // Rotated: the new link works, the old one does not, the label stays.
    let co = admin.ok("POST", "/api/admin/meetings/tuesday-night/keys", Some(json!({"label": "Co-chair"})), 201).await?;
    let old_key = key_of(&co)?;
    let rotated =
        admin.ok("POST", &format!("/api/admin/meetings/tuesday-night/keys/{}/rotate", co["id"]), None, 201).await?;
    ensure!(rotated["label"] == "Co-chair" && rotated["id"] != co["id"], "{rotated}");
    let (_, refused) = join(addr, "tuesday-night", "Co old", Some(&old_key)).await?;
    ensure!(refused["code"] == "bad_key", "{refused}");
    let (_co, joined) = join(addr, "tuesday-night", "Co new", Some(&key_of(&rotated)?)).await?;
    ensure!(joined["you"]["role"] == "facilitator", "{joined}");

    server.shutdown().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_the_meeting_its_settings_its_links_and_the_admin() -> Result<()> {
    let dir = temp_data_dir("standing-restart");
    let server = start(&dir, |_| {}).await;
    make_admin(&dir)?;
    let admin = Admin::sign_in(server.http_addr()).await?;
    admin.ok("POST", "/api/admin/meetings", Some(tuesday()), 201).await?;
    let edited = admin
        .ok("PATCH", "/api/admin/meetings/tuesday-night", Some(json!({"title": "Tuesday late", "settings": {"waiting_room": true}})), 200)
        .await?;
    ensure!(edited["settings"]["share_seconds"] == 240 && edited["settings"]["waiting_room"] == true, "{edited}");
    let key = key_of(&admin.ok("POST", "/api/admin/meetings/tuesday-night/keys", Some(json!({"label": "Chair"})), 201).await?)?;
    server.shutdown().await;

    let server = start(&dir, |_| {}).await;
    let addr = server.http_addr();
    let info = http_call(addr, "GET", "/api/rooms/tuesday-night", &[], None).await?.json();
    ensure!(info["title"] == "Tuesday late" && info["share_seconds"] == 240 && info["waiting_room"] == true, "{info}");
    let (_chair, joined) = join(addr, "tuesday-night", "Chair", Some(&key)).await?;
    ensure!(joined["you"]["role"] == "facilitator", "{joined}");
    ensure!(joined["room"]["title"] == "Tuesday late" && joined["room"]["share_seconds"] == 240, "{joined}");
    // The old session cookie is still good (sessions are stored, hashed), and so is the admin.
    let admin = Admin { addr, cookie: admin.cookie };
    let listed = admin.ok("GET", "/api/admin/meetings", None, 200).await?;
    ensure!(listed.as_array().map(Vec::len) == Some(1) && listed[0]["title"] == "Tuesday late", "{listed}");
    Admin::sign_in(addr).await?;
    server.shutdown().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// A facilitator's live change kept as the meeting's own (`save_settings`): the next
/// meeting, and the one after a restart, start with it; a member and a co-facilitator are
/// refused; a meeting the admin did not make says `not_standing`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_facilitator_keeps_a_live_change_for_the_next_meetings() -> Result<()> {
    let dir = temp_data_dir("standing-save");
    let server = start(&dir, |_| {}).await;
    make_admin(&dir)?;
    let addr = server.http_addr();
    let admin = Admin::sign_in(addr).await?;
    admin.ok("POST", "/api/admin/meetings", Some(tuesday()), 201).await?;
    let key = key_of(&admin.ok("POST", "/api/admin/meetings/tuesday-night/keys", Some(json!({"label": "Chair"})), 201).await?)?;

    let (mut chair, joined) = join(addr, "tuesday-night", "Chair", Some(&key)).await?;
    ensure!(joined["standing"] == true, "a stored meeting says so: {joined}");
    let (mut sam, joined) = join(addr, "tuesday-night", "Sam", None).await?;
    ensure!(joined["standing"] == true, "{joined}");
    let sam_id = joined["you"]["id"].as_str().context("Sam's id")?.to_string();
    let change = json!({"type": "update_settings", "settings": {"share_seconds": 300, "waiting_room": true, "guidelines": "Phones on silent."}});
    chair.send(&change).await?;
    chair.recv_type("room_updated").await?;
    sam.send(&json!({"type": "save_settings"})).await?;
    let (refused, _) = sam.recv_type("error").await?;
    ensure!(refused["code"] == "not_permitted", "{refused}");
    chair.send(&json!({"type": "promote", "id": sam_id})).await?;
    sam.recv_type("participant_updated").await?;
    sam.send(&json!({"type": "save_settings"})).await?;
    let (refused, _) = sam.recv_type("error").await?;
    ensure!(refused["code"] == "not_permitted", "a co-facilitator: {refused}");
    chair.send(&json!({"type": "add_reading", "title": "Closing", "text": "Keep coming back."})).await?;
    chair.recv_type("reading_saved").await?;
    chair.send(&json!({"type": "save_settings"})).await?;
    chair.recv_type("settings_saved").await?;
    let stored = admin.ok("GET", "/api/admin/meetings/tuesday-night", None, 200).await?;
    ensure!(stored["settings"]["share_seconds"] == 300 && stored["settings"]["waiting_room"] == true, "{stored}");
    ensure!(stored["guidelines"] == "Phones on silent." && stored["title"] == "Tuesday night", "{stored}");
    // The meeting's own reading, then the one added live; not the one the guidelines became.
    let titles: Vec<&str> = stored["readings"].as_array().context("readings")?.iter().filter_map(|r| r["title"].as_str()).collect();
    ensure!(titles == ["Preamble", "Closing"], "{stored}");
    drop((chair, sam));
    server.shutdown().await;

    // After a restart the meeting starts with what was kept.
    let server = start(&dir, |_| {}).await;
    let addr = server.http_addr();
    let info = http_call(addr, "GET", "/api/rooms/tuesday-night", &[], None).await?.json();
    ensure!(info["share_seconds"] == 300 && info["waiting_room"] == true && info["guidelines"] == "Phones on silent.", "{info}");
    // An ad-hoc meeting has nowhere to keep them.
    let adhoc = create_room_with_key(&server).await?;
    let (mut host, joined) = join(addr, &adhoc.id, "Host", Some(&adhoc.facilitator_key)).await?;
    ensure!(joined.get("standing").is_none(), "an ad-hoc meeting leaves `standing` out: {joined}");
    host.send(&json!({"type": "save_settings"})).await?;
    let (refused, _) = host.recv_type("error").await?;
    ensure!(refused["code"] == "not_standing", "{refused}");
    server.shutdown().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// `settings.e2ee` of a stored meeting: set through the admin API, in the room object; a
/// change while people are in reaches the meeting at its next start, never the one under
/// way; a facilitator's `save_settings` leaves it as the admin set it; the directory and the
/// feeds give no link for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_meetings_encryption_is_staffs_choice_and_changes_only_between_meetings() -> Result<()> {
    let dir = temp_data_dir("standing-e2ee");
    let server = start(&dir, |_| {}).await;
    make_admin(&dir)?;
    let addr = server.http_addr();
    let admin = Admin::sign_in(addr).await?;
    let mut meeting = tuesday();
    meeting["settings"]["e2ee"] = json!(true);
    let made = admin.ok("POST", "/api/admin/meetings", Some(meeting), 201).await?;
    ensure!(made["settings"]["e2ee"] == true, "{made}");
    let info = http_call(addr, "GET", "/api/rooms/tuesday-night", &[], None).await?.json();
    ensure!(info["e2ee"] == true, "{info}");
    let key = key_of(&admin.ok("POST", "/api/admin/meetings/tuesday-night/keys", Some(json!({"label": "Chair"})), 201).await?)?;
    let (mut chair, joined) = join(addr, "tuesday-night", "Chair", Some(&key)).await?;
    ensure!(joined["room"]["e2ee"] == true, "{joined}");

    // Staff turn it off while the meeting is on: this meeting stays encrypted.
    admin.ok("PATCH", "/api/admin/meetings/tuesday-night", Some(json!({"settings": {"e2ee": false}})), 200).await?;
    let info = http_call(addr, "GET", "/api/rooms/tuesday-night", &[], None).await?.json();
    ensure!(info["e2ee"] == true, "fixed once anyone has joined: {info}");
    chair.send(&json!({"type": "chat", "text": "in clear"})).await?;
    let (refused, _) = chair.recv_type("error").await?;
    ensure!(refused["code"] == "message_not_encrypted", "{refused}");
    // Turned on again, then kept by the chair: `save_settings` does not touch it.
    admin.ok("PATCH", "/api/admin/meetings/tuesday-night", Some(json!({"settings": {"e2ee": true}})), 200).await?;
    chair.send(&json!({"type": "save_settings"})).await?;
    chair.recv_type("settings_saved").await?;
    let stored = admin.ok("GET", "/api/admin/meetings/tuesday-night", None, 200).await?;
    ensure!(stored["settings"]["e2ee"] == true, "{stored}");

    // Listed: the directory and the Meeting Guide feed give no link, only where to ask.
    let entry = http_call(addr, "GET", "/api/directory/tuesday-night", &[], None).await?.json();
    ensure!(entry["e2ee"] == true && entry["join_url"].is_null(), "{entry}");
    let feed = http_call(addr, "GET", "/meetings.json", &[], None).await?.json();
    let first = &feed.as_array().context("a feed")?[0];
    ensure!(first.get("conference_url").is_none() && first["conference_url_notes"].as_str().is_some(), "{feed}");

    // Off, with no one in: the next meeting is not encrypted.
    admin.ok("PATCH", "/api/admin/meetings/tuesday-night", Some(json!({"settings": {"e2ee": false}})), 200).await?;
    chair.send(&json!({"type": "leave"})).await?;
    drop(chair);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let info = http_call(addr, "GET", "/api/rooms/tuesday-night", &[], None).await?.json();
        if info["e2ee"] == false {
            break;
        }
        ensure!(std::time::Instant::now() < deadline, "the meeting starts again unencrypted: {info}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    server.shutdown().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// The admin page's "Encrypted links" send the new key's id: kept with the meeting (and
/// across a restart), in the room object at once, in a meeting under way too, so a page with
/// an older link can say so; `invalid_key_id` for anything but 0–65535 or a meeting that is
/// not encrypted; `null` forgets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_encrypted_links_key_id_is_kept_and_reaches_the_room_at_once() -> Result<()> {
    let dir = temp_data_dir("standing-key-id");
    let server = start(&dir, |_| {}).await;
    make_admin(&dir)?;
    let addr = server.http_addr();
    let admin = Admin::sign_in(addr).await?;
    admin.ok("POST", "/api/admin/meetings", Some(tuesday()), 201).await?;
    let path = "/api/admin/meetings/tuesday-night/e2ee-key-id";
    admin.refused("POST", path, Some(json!({"key_id": 4660})), 400, "invalid_key_id").await?;
    admin.ok("PATCH", "/api/admin/meetings/tuesday-night", Some(json!({"settings": {"e2ee": true}})), 200).await?;
    for bad in [json!(65536), json!(-1), json!(2.5), json!("4660"), json!([1])] {
        admin.refused("POST", path, Some(json!({"key_id": bad})), 400, "invalid_key_id").await?;
    }
    admin.refused("POST", path, Some(json!({})), 400, "bad_request").await?;
    admin.refused("POST", "/api/admin/meetings/nope/e2ee-key-id", Some(json!({"key_id": 1})), 404, "unknown_meeting").await?;
    let answer = call(addr, "POST", path, &[], Some(json!({"key_id": 1}))).await?;
    ensure!(answer.status == 403 && answer.json()["code"] == "csrf_header_missing", "{answer:?}");
    let info = http_call(addr, "GET", "/api/rooms/tuesday-night", &[], None).await?.json();
    ensure!(info.get("key_id").is_none(), "none stored yet: {info}");

    let made = admin.ok("POST", path, Some(json!({"key_id": 4660})), 200).await?;
    ensure!(made["e2ee_key_id"] == 4660, "{made}");
    // Facilitators, as the schedule is not open now.
    let key = key_of(&admin.ok("POST", "/api/admin/meetings/tuesday-night/keys", Some(json!({"label": "Chair"})), 201).await?)?;
    let (_sam, joined) = join(addr, "tuesday-night", "Sam", Some(&key)).await?;
    ensure!(joined["room"]["key_id"] == 4660, "{joined}");
    // Links made again while Sam is in: the next arrival hears of the new id at once.
    admin.ok("POST", path, Some(json!({"key_id": 0})), 200).await?;
    let info = http_call(addr, "GET", "/api/rooms/tuesday-night", &[], None).await?.json();
    ensure!(info["key_id"] == 0, "{info}");
    let (_ana, joined) = join(addr, "tuesday-night", "Ana", Some(&key)).await?;
    ensure!(joined["room"]["key_id"] == 0, "{joined}");
    server.shutdown().await;

    let server = start(&dir, |_| {}).await;
    let addr = server.http_addr();
    let admin = Admin::sign_in(addr).await?;
    let stored = admin.ok("GET", "/api/admin/meetings/tuesday-night", None, 200).await?;
    ensure!(stored["e2ee_key_id"] == 0, "kept across a restart: {stored}");
    admin.ok("POST", path, Some(json!({"key_id": null})), 200).await?;
    let info = http_call(addr, "GET", "/api/rooms/tuesday-night", &[], None).await?.json();
    ensure!(info.get("key_id").is_none(), "forgotten: {info}");
    server.shutdown().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_data_dir_the_admin_api_is_disabled_and_nothing_changes() -> Result<()> {
    let server = haven_tests::start_server().await;
    let answer = login(server.http_addr(), "ops", PASSWORD).await?;
    ensure!(answer.status == 404 && answer.json()["code"] == "admin_disabled", "{answer:?}");
    // Ad-hoc meetings work as ever.
    haven_tests::create_room(&server).await?;
    server.shutdown().await;
    Ok(())
}

/// Over plain HTTP only this computer may sign in: a client another computer (here behind a
/// trusted proxy) is refused `https_required`, with no cookie; behind an HTTPS proxy
/// (`public_url` https://) it may, and the cookie is `Secure`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_plain_http_only_this_computer_may_sign_in() -> Result<()> {
    let dir = temp_data_dir("standing-https");
    make_admin(&dir)?;
    let proxied = |c: &mut haven::config::Config| c.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let from_afar = [("X-Haven-Admin", "1"), ("X-Forwarded-For", "192.0.2.7")];
    let body = || Some(json!({"name": "ops", "password": PASSWORD}));
    let server = start(&dir, proxied).await;
    let answer = call(server.http_addr(), "POST", "/api/admin/login", &from_afar, body()).await?;
    ensure!(answer.status == 403 && answer.json()["code"] == "https_required", "{answer:?}");
    ensure!(answer.header("set-cookie").is_none(), "{answer:?}");
    Admin::sign_in(server.http_addr()).await.context("from this computer")?;
    server.shutdown().await;

    let server = start(&dir, |c| {
        proxied(c);
        c.server.public_url = "https://meet.example.org".into();
    })
    .await;
    let answer = call(server.http_addr(), "POST", "/api/admin/login", &from_afar, body()).await?;
    ensure!(answer.status == 204, "{answer:?}");
    ensure!(answer.header("set-cookie").is_some_and(|c| c.contains("; Secure")), "{answer:?}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_error_has_its_code() -> Result<()> {
    let dir = temp_data_dir("standing-errors");
    let server = start(&dir, |c| {
        c.limits.admin_logins_per_address_per_hour = 4;
        c.declared_rooms.push(haven::config::DeclaredRoom { id: "from-file".into(), title: "File".into(), ..Default::default() });
    })
    .await;
    let addr = server.http_addr();
    make_admin(&dir)?;

    // CSRF: no header, or a page of another site.
    let answer = call(addr, "GET", "/api/admin/meetings", &[], None).await?;
    ensure!(answer.status == 403 && answer.json()["code"] == "csrf_header_missing", "{answer:?}");
    let answer = call(addr, "GET", "/api/admin/meetings", &[("X-Haven-Admin", "1"), ("Origin", "https://evil.example")], None).await?;
    ensure!(answer.status == 403 && answer.json()["code"] == "forbidden_origin", "{answer:?}");
    let body = json!({"name": "ops", "password": PASSWORD});
    let answer = call(addr, "POST", "/api/admin/login", &[("X-Haven-Admin", "1"), ("Origin", "https://evil.example")], Some(body)).await?;
    ensure!(answer.status == 403 && answer.json()["code"] == "forbidden_origin", "{answer:?}");
    // Not signed in, or with a made-up cookie.
    let answer = call(addr, "GET", "/api/admin/meetings", &[("X-Haven-Admin", "1")], None).await?;
    ensure!(answer.status == 401 && answer.json()["code"] == "unauthenticated", "{answer:?}");
    let nobody = Admin { addr, cookie: "haven_admin=madeup".into() };
    nobody.refused("GET", "/api/admin/live", None, 401, "unauthenticated").await?;
    // Wrong password, unknown name: the same answer.
    for (name, password) in [("ops", "not the password"), ("nobody", PASSWORD)] {
        let answer = login(addr, name, password).await?;
        ensure!(answer.status == 401 && answer.json()["code"] == "bad_credentials", "{answer:?}");
        ensure!(answer.header("set-cookie").is_none(), "{answer:?}");
    }
    let admin = Admin::sign_in(addr).await?;
    let set_cookie = login(addr, "ops", PASSWORD).await?;
    let cookie = set_cookie.header("set-cookie").unwrap_or_default().to_string();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/api/admin"] {
        ensure!(cookie.contains(part), "{cookie}");
    }
    ensure!(!cookie.contains("Secure"), "plain HTTP here: {cookie}");
    // The fifth attempt in the hour from this address, right or wrong, is refused.
    let answer = login(addr, "ops", PASSWORD).await?;
    ensure!(answer.status == 429 && answer.json()["code"] == "too_many_logins", "{answer:?}");

    let m = "/api/admin/meetings";
    admin.refused("GET", "/api/admin/meetings/nope", None, 404, "unknown_meeting").await?;
    admin.refused("PATCH", "/api/admin/meetings/nope", Some(json!({"title": "x"})), 404, "unknown_meeting").await?;
    admin.refused("POST", "/api/admin/meetings/nope/archive", None, 404, "unknown_meeting").await?;
    admin.refused("POST", "/api/admin/meetings/nope/keys", Some(json!({"label": "Chair"})), 404, "unknown_meeting").await?;
    for slug in ["Bad Slug", "ab", "-tuesday", "tuesday_night"] {
        let mut body = tuesday();
        body["slug"] = slug.into();
        admin.refused("POST", m, Some(body), 400, "invalid_slug").await?;
    }
    let mut body = tuesday();
    body["schedule"]["rules"][0]["time"] = "25:00".into();
    admin.refused("POST", m, Some(body), 400, "invalid_schedule").await?;
    let mut body = tuesday();
    body["schedule"]["rules"] = json!([]);
    admin.refused("POST", m, Some(body), 400, "invalid_schedule").await?;
    let mut body = tuesday();
    body["schedule"]["time_zone"] = "Mars/Olympus_Mons".into();
    admin.refused("POST", m, Some(body), 400, "invalid_time_zone").await?;
    let mut body = tuesday();
    body["title"] = "".into();
    admin.refused("POST", m, Some(body), 400, "invalid_meeting").await?;
    let mut body = tuesday();
    body["settings"]["share_seconds"] = 99999.into();
    admin.refused("POST", m, Some(body), 400, "invalid_meeting").await?;
    // A reading over its cap is refused as the room would refuse it.
    let mut body = tuesday();
    body["readings"] = json!([{"title": "Long", "text": "x".repeat(20_001)}]);
    admin.refused("POST", m, Some(body), 400, "invalid_meeting").await?;
    // Meeting types are the spec's codes Haven knows, case and all.
    let mut body = tuesday();
    body["types"] = json!(["O", "o"]);
    admin.refused("POST", m, Some(body), 400, "invalid_meeting").await?;
    // A location is one short line (a city or region).
    for location in ["Chicago,\nIL".to_string(), "x".repeat(201)] {
        let mut body = tuesday();
        body["location"] = location.into();
        admin.refused("POST", m, Some(body), 400, "invalid_meeting").await?;
    }
    admin.refused("POST", m, Some(json!({"title": "x", "colour": "red"})), 400, "bad_request").await?;
    let answer = http_call(addr, "POST", m, &[("X-Haven-Admin", "1"), ("Cookie", &admin.cookie)], Some("{not json")).await?;
    ensure!(answer.status == 400 && answer.json()["code"] == "bad_request", "{answer:?}");
    // Nothing refused was stored.
    ensure!(admin.ok("GET", m, None, 200).await? == json!([]), "nothing stored");

    admin.ok("POST", m, Some(tuesday()), 201).await?;
    admin.refused("POST", m, Some(tuesday()), 409, "slug_taken").await?;
    let mut body = tuesday();
    body["slug"] = "from-file".into();
    admin.refused("POST", m, Some(body), 409, "slug_taken").await?;
    let k = "/api/admin/meetings/tuesday-night/keys";
    admin.refused("POST", k, Some(json!({"label": ""})), 400, "invalid_label").await?;
    admin.refused("POST", k, Some(json!({"label": "x".repeat(81)})), 400, "invalid_label").await?;
    admin.refused("DELETE", &format!("{k}/999"), None, 404, "unknown_key").await?;
    admin.refused("DELETE", &format!("{k}/abc"), None, 404, "unknown_key").await?;
    admin.refused("POST", &format!("{k}/999/rotate"), None, 404, "unknown_key").await?;
    admin.refused("PATCH", "/api/admin/meetings/tuesday-night", Some(json!({"schedule": {"time_zone": "Nowhere", "rules": [], "duration_minutes": 60}})), 400, "invalid_time_zone").await?;

    // Signed out: the cookie is cleared and no longer works.
    let answer = admin.call("POST", "/api/admin/logout", None).await?;
    ensure!(answer.status == 204 && answer.header("set-cookie").is_some_and(|c| c.contains("Max-Age=0")), "{answer:?}");
    admin.refused("GET", m, None, 401, "unauthenticated").await?;

    server.shutdown().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_enter_only_while_the_schedule_is_open_and_never_once_archived() -> Result<()> {
    let dir = temp_data_dir("standing-window");
    let server = start(&dir, |_| {}).await;
    let addr = server.http_addr();
    make_admin(&dir)?;
    let admin = Admin::sign_in(addr).await?;
    // A one-off meeting long past, opening 10 minutes before: closed for good.
    let mut body = tuesday();
    body["schedule"] = json!({
        "time_zone": "Europe/London",
        "rules": [{"kind": "once", "date": "2020-01-07", "time": "19:00"}],
        "duration_minutes": 60,
        "opens_minutes_before": 10
    });
    admin.ok("POST", "/api/admin/meetings", Some(body), 201).await?;
    let key = key_of(&admin.ok("POST", "/api/admin/meetings/tuesday-night/keys", Some(json!({"label": "Chair"})), 201).await?)?;
    let (_, refused) = join(addr, "tuesday-night", "Sam", None).await?;
    ensure!(refused["type"] == "error" && refused["code"] == "meeting_closed", "{refused}");
    ensure!(refused.get("opens_at").is_none() && refused.get("starts_at").is_none(), "no more dates: {refused}");
    // Every day two hours from now, opening 15 minutes before: the refusal says when, exactly.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let start = (now / 60 + 1) * 60 + 2 * 3600;
    let time = format!("{:02}:{:02}", start % 86400 / 3600, start % 3600 / 60);
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let daily = json!({"time_zone": "UTC", "rules": [{"kind": "weekly", "days": days, "time": time}], "duration_minutes": 60, "opens_minutes_before": 15});
    admin.ok("PATCH", "/api/admin/meetings/tuesday-night", Some(json!({ "schedule": daily })), 200).await?;
    let (_, refused) = join(addr, "tuesday-night", "Sam", None).await?;
    ensure!(refused["code"] == "meeting_closed", "{refused}");
    ensure!(refused["opens_at"] == rfc3339(start - 15 * 60) && refused["starts_at"] == rfc3339(start), "{refused}");
    let (_chair, joined) = join(addr, "tuesday-night", "Chair", Some(&key)).await?;
    ensure!(joined["you"]["role"] == "facilitator", "a facilitator may open up any time: {joined}");
    // Always open once the schedule says so.
    admin
        .ok("PATCH", "/api/admin/meetings/tuesday-night", Some(json!({"schedule": {"time_zone": "Europe/London", "rules": [{"kind": "weekly", "days": ["mon"], "time": "10:00"}], "duration_minutes": 60, "opens_minutes_before": null}})), 200)
        .await?;
    let (_sam, joined) = join(addr, "tuesday-night", "Sam", None).await?;
    ensure!(joined["type"] == "joined", "{joined}");
    // Archived: the link leads nowhere for newcomers.
    let archived = admin.ok("POST", "/api/admin/meetings/tuesday-night/archive", None, 200).await?;
    ensure!(archived["archived"] == true, "{archived}");
    let answer = http_call(addr, "GET", "/api/rooms/tuesday-night", &[], None).await?;
    ensure!(answer.status == 404 && answer.json()["code"] == "unknown_room", "{answer:?}");
    let (_, refused) = join(addr, "tuesday-night", "Ana", None).await?;
    ensure!(refused["code"] == "unknown_room", "{refused}");
    admin.ok("POST", "/api/admin/meetings/tuesday-night/unarchive", None, 200).await?;
    let (_ana, joined) = join(addr, "tuesday-night", "Ana", Some(&key)).await?;
    ensure!(joined["type"] == "joined", "{joined}");
    server.shutdown().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// The calendar read back by the `icalendar` parser, python-dateutil and the system's zoneinfo
/// (tests/tools/check_ics.py). Debian's own interpreter: its python3-icalendar is not on the
/// path of a pyenv or venv `python3` that may come first on PATH.
fn check_ics(text: &str) -> Result<Value> {
    use std::io::Write;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/check_ics.py");
    let mut child = std::process::Command::new("/usr/bin/python3")
        .arg(&script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("/usr/bin/python3 (tests/setup.sh installs it with python3-icalendar and python3-dateutil)")?;
    child.stdin.take().context("stdin")?.write_all(text.as_bytes())?;
    let out = child.wait_with_output()?;
    ensure!(out.status.success(), "check_ics.py: {}", String::from_utf8_lossy(&out.stderr));
    Ok(serde_json::from_slice(&out.stdout)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listed_meetings_are_in_the_meeting_guide_feed_and_their_calendar_keeps_local_time() -> Result<()> {
    let dir = temp_data_dir("standing-feeds");
    let server = start(&dir, |c| c.server.public_url = "https://meet.example.org".into()).await;
    let addr = server.http_addr();
    make_admin(&dir)?;
    let admin = Admin::sign_in(addr).await?;
    let mut body = tuesday();
    body["types"] = json!(["SP", "O", "SP"]);
    body["location"] = "  Chicago, IL, USA ".into();
    body["schedule"]["rules"] = json!([
        {"kind": "weekly", "days": ["tue", "thu"], "time": "19:00"},
        {"kind": "monthly_weekday", "nth": -1, "day": "fri", "time": "12:00"}
    ]);
    let made = admin.ok("POST", "/api/admin/meetings", Some(body), 201).await?;
    ensure!(made["types"] == json!(["O", "SP"]), "each once, in the table's order: {made}");
    let mut hidden = tuesday();
    hidden["slug"] = "not-listed".into();
    hidden["listed"] = false.into();
    admin.ok("POST", "/api/admin/meetings", Some(hidden), 201).await?;

    let feed = http_call(addr, "GET", "/meetings.json", &[], None).await?;
    ensure!(feed.status == 200 && feed.header("access-control-allow-origin") == Some("*"), "{feed:?}");
    let feed = feed.json();
    ensure!(feed.as_array().map(Vec::len) == Some(1), "only the listed meeting: {feed}");
    let m = &feed[0];
    // The spec's required fields and types (code4recovery/spec meeting.schema.json).
    ensure!(m["name"] == "Tuesday night" && m["slug"] == "tuesday-night", "{m}");
    ensure!(m["day"] == json!([2, 4]) && m["time"] == "19:00" && m["end_time"] == "20:30", "{m}");
    ensure!(m["timezone"] == "America/New_York", "{m}");
    ensure!(m["conference_url"] == "https://meet.example.org/m/tuesday-night", "{m}");
    ensure!(m["types"] == json!(["ONL", "EN", "O", "SP"]), "{m}");
    // The place the Meeting Guide app needs to list it, approximate for an online meeting.
    ensure!(m["formatted_address"] == "Chicago, IL, USA" && m["approximate"] == "yes", "{m}");
    let listed = http_call(addr, "GET", "/api/directory/tuesday-night", &[], None).await?.json();
    ensure!(listed["types"] == json!([{"code": "O", "name": "Open"}, {"code": "SP", "name": "Speaker"}]), "{listed}");
    let updated = m["updated"].as_str().unwrap_or_default();
    ensure!(updated.len() == 19 && updated.as_bytes()[10] == b' ', "{m}");

    let ics = http_call(addr, "GET", "/meetings/tuesday-night.ics", &[], None).await?;
    ensure!(ics.status == 200 && ics.header("content-type").is_some_and(|t| t.starts_with("text/calendar")), "{ics:?}");
    let checked = check_ics(&ics.body)?;
    ensure!(checked["vtimezone_ok"] == true, "VTIMEZONE offsets agree with zoneinfo: {checked}\n{}", ics.body);
    let weekly = &checked["events"][0];
    ensure!(weekly["rrule"] == "FREQ=WEEKLY;BYDAY=TU,TH", "{checked}");
    // What the parser read besides the times: the same meeting, link and length in both events.
    for (i, event) in checked["events"].as_array().context("events")?.iter().enumerate() {
        ensure!(event["uid"] == format!("tuesday-night-{}@meet.example.org", i + 1), "{event}");
        ensure!(event["summary"] == "Tuesday night" && event["tzid"] == "America/New_York", "{event}");
        ensure!(event["url"].as_str().is_some_and(|u| u.starts_with("https://meet.example.org/")), "{event}");
        ensure!(event["minutes"] == tuesday()["schedule"]["duration_minutes"], "{event}");
        ensure!(event["dtstamp"].as_str().is_some_and(|s| s.len() == 16 && s.ends_with('Z')), "{event}");
    }
    // Sixty meetings (thirty weeks) cross a change of offset; every one is 7 pm local.
    let local = weekly["local"].as_array().context("local times")?;
    ensure!(local.len() == 60 && local.iter().all(|t| t == "Tue 19:00" || t == "Thu 19:00"), "{weekly}");
    ensure!(weekly["offsets"] == json!([-18000, -14400]), "EST and EDT both: {weekly}");
    let monthly = &checked["events"][1];
    ensure!(monthly["local"].as_array().is_some_and(|l| l.iter().all(|t| t == "Fri 12:00")), "{monthly}");
    let missing = http_call(addr, "GET", "/meetings/nope.ics", &[], None).await?;
    ensure!(missing.status == 404 && missing.json()["code"] == "unknown_meeting", "{missing:?}");
    server.shutdown().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Seconds since the epoch as RFC 3339 in UTC (civil-from-days, Howard Hinnant's algorithm).
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let s = secs % 86400;
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", s / 3600, s % 3600 / 60, s % 60)
}

//! Standing meetings (#21) when the store cannot write, when the server stops, and when a
//! meeting empties: the admin API and `save_settings` answer `store_failed` while meetings go
//! on; an admin request in flight as the server stops answers `server_stopping`; an emptied
//! meeting starts again with what its facilitator saved, not with what was changed after.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use haven_tests::{http_call, temp_data_dir};
use serde_json::{json, Value};

use super::standing::{join, key_of, make_admin, start, tuesday, Admin};

/// Makes the database and its WAL immutable (`chattr +i`) until dropped. The tests run as
/// root, and root writes through a read-only mode bit, so `chmod` would fail nothing; an
/// immutable file refuses every write with EPERM, even through the descriptors the server
/// already holds, so SQLite's next write fails as a broken disk would make it. Reads still
/// work. Needs root and a file system with the attribute (ext4, xfs, btrfs; not tmpfs). The
/// `-shm` index stays writable: SQLite maps it, and it holds no data.
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn set(dir: &Path) -> Result<Immutable> {
        let db = dir.join(haven::store::DB_FILE);
        let wal = dir.join(format!("{}-wal", haven::store::DB_FILE));
        ensure!(db.exists() && wal.exists(), "the database and its WAL are open in {dir:?}");
        let mut guard = Immutable(Vec::new());
        for file in [db, wal] {
            let status = std::process::Command::new("chattr").arg("+i").arg(&file).status().context("chattr (e2fsprogs)")?;
            ensure!(status.success(), "chattr +i {file:?}: run as root on a file system with the immutable attribute");
            guard.0.push(file);
        }
        Ok(guard)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for file in &self.0 {
            let _ = std::process::Command::new("chattr").arg("-i").arg(file).status();
        }
    }
}

fn thursday() -> Value {
    let mut body = tuesday();
    body["slug"] = "thursday-night".into();
    body["title"] = "Thursday night".into();
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_write_answers_store_failed_and_meetings_go_on() -> Result<()> {
    let dir = temp_data_dir("store-faults");
    let server = start(&dir, |_| {}).await;
    make_admin(&dir)?;
    let addr = server.http_addr();
    let admin = Admin::sign_in(addr).await?;
    admin.ok("POST", "/api/admin/meetings", Some(tuesday()), 201).await?;
    admin.ok("POST", "/api/admin/meetings", Some(thursday()), 201).await?;
    let key = key_of(&admin.ok("POST", "/api/admin/meetings/tuesday-night/keys", Some(json!({"label": "Chair"})), 201).await?)?;
    let (mut chair, joined) = join(addr, "tuesday-night", "Chair", Some(&key)).await?;
    ensure!(joined["you"]["role"] == "facilitator", "{joined}");

    let broken = Immutable::set(&dir)?;
    // The admin's create and edit: the documented status and code, and a sentence for people.
    let mut friday = tuesday();
    friday["slug"] = "friday-night".into();
    for (method, path, body) in [
        ("POST", "/api/admin/meetings", friday.clone()),
        ("PATCH", "/api/admin/meetings/tuesday-night", json!({"title": "Tuesday late"})),
    ] {
        let answer = admin.call(method, path, Some(body)).await?;
        ensure!(answer.status == 500 && answer.json()["code"] == "store_failed", "{method} {path}: {answer:?}");
        ensure!(answer.json()["message"] == "The server could not read or write its data. Please try again.", "{answer:?}");
    }
    // The facilitator's save: refused with the same code; the live change still holds.
    chair.send(&json!({"type": "update_settings", "settings": {"share_seconds": 300}})).await?;
    chair.recv_type("room_updated").await?;
    chair.send(&json!({"type": "save_settings"})).await?;
    let (refused, _) = chair.recv_type_any(&["error", "settings_saved"]).await?;
    ensure!(refused["type"] == "error" && refused["code"] == "store_failed", "{refused}");
    ensure!(refused["message"].as_str().is_some_and(|m| m.contains("still hold")), "{refused}");
    // Meetings go on: a member joins this one, with the live setting, and another meeting.
    let (_sam, joined) = join(addr, "tuesday-night", "Sam", None).await?;
    ensure!(joined["type"] == "joined" && joined["room"]["share_seconds"] == 300, "{joined}");
    let (_kim, joined) = join(addr, "thursday-night", "Kim", None).await?;
    ensure!(joined["type"] == "joined" && joined["room"]["title"] == "Thursday night", "{joined}");
    let listed = admin.ok("GET", "/api/admin/meetings", None, 200).await?;
    ensure!(listed.as_array().map(Vec::len) == Some(2), "reads still work, and no half-made meeting: {listed}");

    // Writable again: the same requests go through, and nothing of the failed ones was kept.
    drop(broken);
    let stored = admin.ok("GET", "/api/admin/meetings/tuesday-night", None, 200).await?;
    ensure!(stored["title"] == "Tuesday night" && stored["settings"]["share_seconds"] == 240, "{stored}");
    admin.ok("POST", "/api/admin/meetings", Some(friday), 201).await?;
    chair.send(&json!({"type": "save_settings"})).await?;
    chair.recv_type("settings_saved").await?;
    let stored = admin.ok("GET", "/api/admin/meetings/tuesday-night", None, 200).await?;
    ensure!(stored["settings"]["share_seconds"] == 300, "{stored}");

    server.shutdown().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// A facilitator saves one live change and makes another without saving; everyone leaves,
/// and the meeting (still on the same running server) starts again for the next arrival
/// with what was saved, and without what was not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emptied_meeting_starts_again_with_what_was_saved_and_not_what_was_changed_after() -> Result<()> {
    let dir = temp_data_dir("store-empty-room");
    let server = start(&dir, |_| {}).await;
    make_admin(&dir)?;
    let addr = server.http_addr();
    let admin = Admin::sign_in(addr).await?;
    admin.ok("POST", "/api/admin/meetings", Some(tuesday()), 201).await?;
    let key = key_of(&admin.ok("POST", "/api/admin/meetings/tuesday-night/keys", Some(json!({"label": "Chair"})), 201).await?)?;
    let (mut chair, joined) = join(addr, "tuesday-night", "Chair", Some(&key)).await?;
    ensure!(joined["you"]["role"] == "facilitator" && joined["room"]["chat_enabled"] == true, "{joined}");
    let (mut sam, _) = join(addr, "tuesday-night", "Sam", None).await?;

    let saved = json!({"type": "update_settings", "settings": {"share_seconds": 300, "guidelines": "Phones on silent."}});
    chair.send(&saved).await?;
    chair.recv_type("room_updated").await?;
    chair.send(&json!({"type": "save_settings"})).await?;
    chair.recv_type("settings_saved").await?;
    let unsaved = json!({"type": "update_settings", "settings": {"share_seconds": 600, "chat_enabled": false}});
    chair.send(&unsaved).await?;
    let (updated, _) = chair.recv_type("room_updated").await?;
    ensure!(updated["room"]["share_seconds"] == 600 && updated["room"]["chat_enabled"] == false, "live, unsaved: {updated}");

    for client in [&mut chair, &mut sam] {
        client.send(&json!({"type": "leave"})).await?;
        let (closed, _) = client.recv_type("closed").await?;
        ensure!(closed["code"] == "left", "{closed}");
    }
    // Empty: the admin's live list says so (counts only) before anyone comes back.
    let mut live = Value::Null;
    for _ in 0..100 {
        live = admin.ok("GET", "/api/admin/live", None, 200).await?;
        if live == json!([]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ensure!(live == json!([]), "the meeting emptied: {live}");

    let (_alex, joined) = join(addr, "tuesday-night", "Alex", None).await?;
    let room = &joined["room"];
    ensure!(joined["type"] == "joined", "{joined}");
    ensure!(room["share_seconds"] == 300 && room["guidelines"] == "Phones on silent.", "the saved defaults: {joined}");
    ensure!(room["chat_enabled"] == true, "the unsaved change is gone: {joined}");
    let info = http_call(addr, "GET", "/api/rooms/tuesday-night", &[], None).await?.json();
    ensure!(info["share_seconds"] == 300 && info["chat_enabled"] == true, "{info}");

    server.shutdown().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// `server_stopping` from the admin API: a create whose request is already being served when
/// the server starts stopping. Made deterministic with `Expect: 100-continue`: the server
/// says `100 Continue` only once the handler reads the body, so the request is known to be
/// in flight (a stopping server finishes those) before the shutdown starts; a member's
/// WebSocket closing with `server_stopping` says the hub has stopped; only then is the body
/// sent. The meeting is written, but the stopped hub cannot take it: 503, as documented.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_request_in_flight_when_the_server_stops_answers_server_stopping() -> Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = temp_data_dir("store-stopping");
    let server = start(&dir, |_| {}).await;
    make_admin(&dir)?;
    let addr = server.http_addr();
    let admin = Admin::sign_in(addr).await?;
    admin.ok("POST", "/api/admin/meetings", Some(tuesday()), 201).await?;
    let (mut sam, joined) = join(addr, "tuesday-night", "Sam", None).await?;
    ensure!(joined["type"] == "joined", "{joined}");

    let body = thursday().to_string();
    let mut tcp = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "POST /api/admin/meetings HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-Haven-Admin: 1\r\n\
         Cookie: {}\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        admin.cookie,
        body.len()
    );
    tcp.write_all(head.as_bytes()).await?;
    let mut interim = Vec::new();
    while !interim.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut byte)).await.context("100 Continue")??;
        ensure!(n == 1, "the connection closed before 100 Continue: {}", String::from_utf8_lossy(&interim));
        interim.push(byte[0]);
    }
    ensure!(interim.starts_with(b"HTTP/1.1 100 Continue"), "{}", String::from_utf8_lossy(&interim));

    let stopping = tokio::spawn(server.shutdown());
    let (closed, _) = sam.recv_type("closed").await?;
    ensure!(closed["code"] == "server_stopping", "the hub has stopped: {closed}");
    tcp.write_all(body.as_bytes()).await?;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer)).await.context("the answer")??;
    let answer = String::from_utf8_lossy(&answer);
    let (head, json) = answer.split_once("\r\n\r\n").context("a response")?;
    ensure!(head.starts_with("HTTP/1.1 503 "), "{answer}");
    let json: Value = serde_json::from_str(json).with_context(|| answer.to_string())?;
    ensure!(json == json!({"code": "server_stopping", "message": "The server is restarting."}), "{answer}");
    stopping.await?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

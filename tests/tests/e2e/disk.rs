//! "Nothing about members written to disk", proven on the real binary: run with its working
//! directory, HOME and TMPDIR in an empty directory through a meeting (joins, chat, a ban),
//! it never holds a file open for writing, and leaves the directory empty. The same run checks
//! `HAVEN_LOG_FORMAT=json`: every line on stderr is a JSON object a log collector can read.
//! With a store (`HAVEN_DATA_DIR`), a meeting in a stored meeting leaves none of its names,
//! chat or ban token in the database, its WAL or its shared-memory file, during or after.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use haven_tests::{http_call, http_request, SignalingClient};
use serde_json::json;

/// The server binary `cargo build` made beside these tests.
pub(crate) fn haven_binary() -> Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("debug/haven");
    ensure!(bin.exists(), "{} is missing: run `cargo build -p haven` first (tests/run does)", bin.display());
    Ok(bin)
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Regular files the process holds open for writing (not devices, pipes or sockets).
fn files_open_for_writing(pid: u32) -> Result<Vec<String>> {
    let mut open = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        let fd = entry?.file_name();
        let Ok(target) = std::fs::read_link(format!("/proc/{pid}/fd/{}", fd.to_string_lossy())) else { continue };
        let target = target.to_string_lossy().to_string();
        if !target.starts_with('/') || target.starts_with("/dev/") || target.starts_with("/proc/") {
            continue;
        }
        let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{}", fd.to_string_lossy()))?;
        let flags = info
            .lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
            .unwrap_or(0);
        // O_WRONLY = 1, O_RDWR = 2
        if flags & 3 != 0 {
            open.push(target);
        }
    }
    Ok(open)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_leaves_nothing_on_disk() -> Result<()> {
    let home = std::env::temp_dir().join(format!("haven-disk-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home)?;
    let (http_port, udp_port) = (free_port()?, free_port()?);
    let mut child = Command::new(haven_binary()?)
        .current_dir(&home)
        .env_clear()
        .env("HOME", &home)
        .env("TMPDIR", &home)
        .env("XDG_RUNTIME_DIR", &home)
        .env("HAVEN_HTTP_ADDR", format!("127.0.0.1:{http_port}"))
        .env("HAVEN_UDP_ADDR", format!("127.0.0.1:{udp_port}"))
        .env("HAVEN_LOG", "haven=debug")
        .env("HAVEN_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting haven")?;
    let mut stderr = child.stderr.take().context("stderr")?;
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let addr = format!("127.0.0.1:{http_port}").parse()?;
    let result = async {
        let mut up = false;
        for _ in 0..100 {
            if http_request(addr, "GET", "/healthz").await.is_ok_and(|(status, _)| status == 200) {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure!(up, "the server did not come up");
        let (status, body) = http_request(addr, "POST", "/api/rooms").await?;
        ensure!(status == 201, "{status} {body}");
        let room: serde_json::Value = serde_json::from_str(&body)?;
        let key = room["facilitator_url"].as_str().unwrap_or_default().split_once("#key=").map(|(_, k)| k.to_string());
        let id = room["id"].as_str().unwrap_or_default().to_string();

        let mut fay = SignalingClient::connect(addr).await?;
        fay.send(&json!({"type": "join", "room": id, "name": "Fay Diskless", "key": key})).await?;
        fay.recv_type("joined").await?;
        // A few more in the room, so the process has several goodbyes to say on SIGTERM
        // (they join before the ban below, which is by address: all of us are on loopback).
        let mut others = Vec::new();
        for i in 0..6 {
            let mut other = SignalingClient::connect(addr).await?;
            other.join(&id, &format!("Other {i}"), "j").await?;
            other.recv_type("joined").await?;
            others.push(other);
        }
        let mut sam = SignalingClient::connect(addr).await?;
        sam.join(&id, "Sam Diskless", "j1").await?;
        let (joined, _) = sam.recv_type("joined").await?;
        sam.send(&json!({"type": "chat", "text": "a sentence that must stay in memory"})).await?;
        fay.recv_type("chat").await?;
        fay.send(&json!({"type": "remove", "id": joined["you"]["id"], "ban": true})).await?;
        sam.recv_type("closed").await?;

        let writing = files_open_for_writing(child.id())?;
        ensure!(writing.is_empty(), "the server holds files open for writing: {writing:?}");
        Ok::<_, anyhow::Error>((fay, others))
    }
    .await;
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    // The process must not end before every session has said why: a socket that just drops
    // looks like a network fault, and browsers would keep reconnecting to a stopped server.
    let (fay, others) = result?;
    for mut client in std::iter::once(fay).chain(others) {
        let (closed, _) = client.recv_type("closed").await?;
        ensure!(closed["code"] == "server_stopping", "{closed}");
    }
    let exited = tokio::task::spawn_blocking(move || child.wait()).await??;
    ensure!(exited.success(), "haven exited with {exited} after SIGTERM");
    let log = log.join().expect("the stderr reader");
    for line in log.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).with_context(|| format!("a JSON log line: {line}"))?;
        ensure!(entry["level"].is_string() && entry["fields"]["message"].is_string(), "{line}");
    }
    ensure!(log.contains("participant arrived"), "the JSON log has the meeting's events:\n{log}");
    let left: Vec<_> = std::fs::read_dir(&home)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    std::fs::remove_dir_all(&home)?;
    if !left.is_empty() {
        bail!("the server wrote {left:?}");
    }
    Ok(())
}

/// Every file under `dir` with its bytes.
fn files_under(dir: &std::path::Path) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(files_under(&path)?);
        } else {
            let bytes = std::fs::read(&path)?;
            out.push((path, bytes));
        }
    }
    Ok(out)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_in_a_stored_meeting_leaves_no_member_data_in_the_database() -> Result<()> {
    let home = std::env::temp_dir().join(format!("haven-disk-store-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home)?;
    let data = home.join("data");
    let (http_port, udp_port) = (free_port()?, free_port()?);
    let command = |args: &[&str]| {
        let mut c = Command::new(haven_binary().expect("the haven binary"));
        c.args(args)
            .current_dir(&home)
            .env_clear()
            .env("HOME", &home)
            .env("TMPDIR", &home)
            .env("HAVEN_DATA_DIR", &data)
            .env("HAVEN_HTTP_ADDR", format!("127.0.0.1:{http_port}"))
            .env("HAVEN_UDP_ADDR", format!("127.0.0.1:{udp_port}"))
            .env("HAVEN_LOG", "haven=debug");
        c
    };
    let mut create = command(&["admin", "create", "ops", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("haven admin create")?;
    std::io::Write::write_all(&mut create.stdin.take().context("stdin")?, b"disk test password\n")?;
    let created = create.wait_with_output()?;
    ensure!(created.status.success(), "haven admin create: {created:?}");
    ensure!(!String::from_utf8_lossy(&created.stdout).contains("disk test password"), "the password is not echoed");

    let mut child = command(&[]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().context("starting haven")?;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{http_port}").parse()?;
    // Names, words and the banned browser's token: none may reach a file.
    let needles = ["Fay Diskless", "Sam Diskless", "Other Diskless", "a sentence that must stay in memory"];
    let result = async {
        let mut up = false;
        for _ in 0..100 {
            if http_request(addr, "GET", "/healthz").await.is_ok_and(|(status, _)| status == 200) {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure!(up, "the server did not come up");
        let json_headers = [("Content-Type", "application/json"), ("X-Haven-Admin", "1")];
        let login = json!({"name": "ops", "password": "disk test password"}).to_string();
        let answer = http_call(addr, "POST", "/api/admin/login", &json_headers, Some(&login)).await?;
        ensure!(answer.status == 204, "{answer:?}");
        let cookie = answer.header("set-cookie").unwrap_or_default().split(';').next().unwrap_or_default().to_string();
        let headers = [json_headers[0], json_headers[1], ("Cookie", cookie.as_str())];
        let meeting = json!({"slug": "standing-disk", "title": "Standing disk", "guidelines": "Kept on disk: the organisation's words."});
        let answer = http_call(addr, "POST", "/api/admin/meetings", &headers, Some(&meeting.to_string())).await?;
        ensure!(answer.status == 201, "{answer:?}");
        let label = json!({"label": "Chair"}).to_string();
        let answer = http_call(addr, "POST", "/api/admin/meetings/standing-disk/keys", &headers, Some(&label)).await?;
        ensure!(answer.status == 201, "{answer:?}");
        let key = answer.json()["facilitator_url"].as_str().unwrap_or_default().split_once("#key=").map(|(_, k)| k.to_string());

        let mut fay = SignalingClient::connect(addr).await?;
        fay.send(&json!({"type": "join", "room": "standing-disk", "name": "Fay Diskless", "key": key, "accepted_guidelines": true})).await?;
        let (joined, _) = fay.recv_type("joined").await?;
        ensure!(joined["you"]["role"] == "facilitator", "{joined}");
        let mut other = SignalingClient::connect(addr).await?;
        other.join("standing-disk", "Other Diskless", "j").await?;
        other.recv_type("joined").await?;
        let mut sam = SignalingClient::connect(addr).await?;
        sam.join("standing-disk", "Sam Diskless", "j1").await?;
        let (joined, _) = sam.recv_type("joined").await?;
        let token = joined["token"].as_str().unwrap_or_default().to_string();
        ensure!(token.len() >= 16, "{joined}");
        sam.send(&json!({"type": "chat", "text": "a sentence that must stay in memory"})).await?;
        fay.recv_type("chat").await?;
        fay.send(&json!({"type": "remove", "id": joined["you"]["id"], "ban": true})).await?;
        sam.recv_type("closed").await?;
        // The ban holds (it lives in memory): Sam's browser token is refused.
        let mut again = SignalingClient::connect(addr).await?;
        let refused = again.try_join("standing-disk", "Sam Diskless", json!({"token": token})).await?;
        ensure!(refused["code"] == "banned" || refused["type"] == "closed", "{refused}");

        // Only the store's files are open for writing.
        let writing = files_open_for_writing(child.id())?;
        ensure!(writing.iter().all(|f| f.starts_with(&*data.to_string_lossy())), "the server writes outside its data_dir: {writing:?}");
        let files = files_under(&data)?;
        let names: Vec<String> = files.iter().map(|(p, _)| p.file_name().unwrap_or_default().to_string_lossy().to_string()).collect();
        ensure!(names.iter().any(|n| n == "haven.sqlite3-wal"), "the database runs in WAL mode: {names:?}");
        // The test reads what the store wrote: the meeting's own words are there.
        ensure!(files.iter().any(|(_, b)| contains(b, "Kept on disk: the organisation")), "the meeting is in {names:?}");
        for (path, bytes) in &files {
            for needle in needles.iter().copied().chain([token.as_str()]) {
                ensure!(!contains(bytes, needle), "{} holds {needle:?}", path.display());
            }
        }
        Ok::<_, anyhow::Error>((fay, other, token))
    }
    .await;
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let (_fay, _other, token) = result?;
    let exited = tokio::task::spawn_blocking(move || child.wait()).await??;
    ensure!(exited.success(), "haven exited with {exited} after SIGTERM");
    // After the checkpoint at exit, the same: the database file holds no member's words.
    let files = files_under(&data)?;
    ensure!(!files.is_empty(), "the database stays");
    for (path, bytes) in &files {
        for needle in needles.iter().copied().chain([token.as_str()]) {
            ensure!(!contains(bytes, needle), "{} holds {needle:?}", path.display());
        }
    }
    let left: Vec<_> = std::fs::read_dir(&home)?.map(|e| e.map(|e| e.file_name())).collect::<Result<_, _>>()?;
    std::fs::remove_dir_all(&home)?;
    ensure!(left == ["data"], "the server wrote only its data_dir: {left:?}");
    Ok(())
}

//! "Nothing about members written to disk", proven on the real binary: run with its working
//! directory, HOME and TMPDIR in an empty directory through a meeting (joins, chat, a ban),
//! it never holds a file open for writing, and leaves the directory empty. The same run checks
//! `HAVEN_LOG_FORMAT=json`: every line on stderr is a JSON object a log collector can read.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use haven_tests::{http_request, SignalingClient};
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

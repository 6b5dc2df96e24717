//! End-to-end test support for Haven: a server on port 0, an independent signaling client and
//! webrtc-rs participants that publish marked synthetic media and record what they receive.
//!
//! # Layout
//!
//! | module        | job                                                                    |
//! |---------------|------------------------------------------------------------------------|
//! | `signaling`   | a JSON-over-WebSocket client written from `docs/protocol.md`, not from `haven::protocol` |
//! | `synthetic`   | marked Opus/VP8 payloads: building them, and reading markers back        |
//! | `participant` | one webrtc-rs peer: joins, negotiates, publishes paced media, counts what arrives |
//!
//! `src/bin/tap.rs` (the `tap` binary) uses `signaling`: a member with no key that writes every
//! frame the SFU forwards it, for the browser suite's server-blindness test (docs/e2ee.md).
//!
//! Only this file touches the `haven` crate, and only its start/stop API (and
//! `haven admin create`'s function, [`create_admin`]): everything else
//! speaks the wire protocol, so the tests catch a server that drifts from the document.

pub mod participant;
pub mod signaling;
pub mod synthetic;

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub use haven::RunningServer;
pub use participant::{Kind, Participant, Received};
pub use signaling::{Incoming, SignalingClient};

/// How long any one condition may take before a test fails. Generous: debug builds on two
/// cores set up DTLS slowly, and five peers at once share those cores.
pub const WAIT: Duration = Duration::from_secs(20);

/// Starts a server with the default configuration on free ports of 127.0.0.1.
pub async fn start_server() -> RunningServer {
    start_server_with(|_| {}).await
}

/// Like [`start_server`], with a chance to adjust the configuration first.
pub async fn start_server_with(adjust: impl FnOnce(&mut haven::config::Config)) -> RunningServer {
    init_logging();
    let mut config = haven::config::Config::default();
    config.server.http_addr = "127.0.0.1:0".parse().unwrap();
    config.media.udp_addr = "127.0.0.1:0".parse().unwrap();
    // These peers run in a debug build on a loaded two-core machine, where packet timing
    // (and so a delay-based bandwidth estimate) says more about the scheduler than about any
    // link: most tests check who gets what, so every video goes to everyone. The tests of the
    // estimate itself turn it back on (`bandwidth.rs`); the browser suite runs the default.
    config.media.bandwidth_estimation = false;
    adjust(&mut config);
    haven::start_server(config)
        .await
        .expect("the server starts on port 0")
}

/// `RUST_LOG=haven=debug,str0m=info cargo test -p haven-tests -- --nocapture` shows the
/// server's side of a failure.
fn init_logging() {
    install_crypto_provider();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Two people in a new room, Ana and Ben, each already receiving the other's media.
pub struct TwoInARoom {
    pub room: String,
    pub ana: Participant,
    pub ben: Participant,
}

/// Creates a room on `server`, joins Ana and Ben, and waits until media flows both ways.
pub async fn two_in_a_room(server: &RunningServer) -> Result<TwoInARoom> {
    let room = create_room(server).await?;
    let ana = Participant::join(server.http_addr(), &room, "Ana").await?;
    let ben = Participant::join(server.http_addr(), &room, "Ben").await?;
    ana.wait_receiving_from(&[&ben.id]).await?;
    ben.wait_receiving_from(&[&ana.id]).await?;
    Ok(TwoInARoom { room, ana, ben })
}

/// rustls is built here with both ring (webrtc-rs) and aws-lc-rs (the HTTPS test client), so
/// it cannot pick a process default by itself: pick the one the server uses.
pub fn install_crypto_provider() {
    let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Creates an ad-hoc room through `POST /api/rooms` and returns its id.
pub async fn create_room(server: &RunningServer) -> Result<String> {
    Ok(create_room_with_key(server).await?.id)
}

/// A room made through `POST /api/rooms`, with the facilitator secret its creator was given.
#[derive(Debug, Clone)]
pub struct NewRoom {
    pub id: String,
    /// What follows `#key=` in `facilitator_url`; joining with it makes the facilitator.
    pub facilitator_key: String,
}

/// Like [`create_room`], keeping the facilitator secret from `facilitator_url`.
pub async fn create_room_with_key(server: &RunningServer) -> Result<NewRoom> {
    let (status, body) = http_request(server.http_addr(), "POST", "/api/rooms").await?;
    if status != 201 {
        bail!("POST /api/rooms answered {status}: {body}");
    }
    let json: serde_json::Value = serde_json::from_str(&body)
        .with_context(|| format!("POST /api/rooms body is not JSON: {body}"))?;
    for field in ["id", "join_url", "facilitator_url"] {
        if !json[field].is_string() {
            bail!("POST /api/rooms body lacks string `{field}`: {body}");
        }
    }
    let (_, key) = json["facilitator_url"]
        .as_str()
        .unwrap()
        .split_once("#key=")
        .with_context(|| format!("facilitator_url has no `#key=` fragment: {body}"))?;
    if key.is_empty() {
        bail!("facilitator_url has an empty key: {body}");
    }
    Ok(NewRoom {
        id: json["id"].as_str().unwrap().to_string(),
        facilitator_key: key.to_string(),
    })
}

/// A bare HTTP/1.1 request; enough for one JSON endpoint without another client crate.
pub async fn http_request(addr: SocketAddr, method: &str, path: &str) -> Result<(u16, String)> {
    http_request_with(addr, method, path, &[]).await
}

/// Like [`http_request`], with extra request headers (`("Authorization", "Bearer …")`).
pub async fn http_request_with(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    let extra: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw))
        .await
        .context("HTTP response timed out")??;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .context("HTTP response without a header end")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad HTTP status line: {head}"))?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

/// A whole HTTP answer: status, headers (names lower-cased) and body.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A request with headers and an optional JSON body; the answer with its headers.
pub async fn http_call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<HttpResponse> {
    let mut stream = TcpStream::connect(addr).await?;
    let extra: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw)).await.context("HTTP response timed out")??;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").context("HTTP response without a header end")?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad HTTP status line: {head}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_string() };
    Ok(HttpResponse { status, headers, body })
}

/// Adds an admin to the store of `config` (what `haven admin create` does).
pub fn create_admin(config: &haven::config::Config, name: &str, password: &str) -> Result<()> {
    Ok(haven::admin::create_admin(config, name, password)?)
}

/// A fresh, empty directory under the system's temporary one, for a store.
pub fn temp_data_dir(name: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("haven-test-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes. On timeout the error
/// carries `describe()`, taken at that moment, so a failure shows what was observed.
pub async fn wait_until<F, D>(
    timeout: Duration,
    what: &str,
    mut condition: F,
    describe: D,
) -> Result<()>
where
    F: FnMut() -> bool,
    D: FnOnce() -> String,
{
    let start = Instant::now();
    loop {
        if condition() {
            return Ok(());
        }
        if start.elapsed() > timeout {
            bail!(
                "timed out after {timeout:?} waiting for {what}; observed: {}",
                describe()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs `f` with a deadline, naming what was awaited when it is missed.
pub async fn within<T>(
    timeout: Duration,
    what: &str,
    f: impl Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(timeout, f).await {
        Ok(result) => result.with_context(|| format!("while waiting for {what}")),
        Err(_) => bail!("timed out after {timeout:?} waiting for {what}"),
    }
}

//! Response headers that keep pages and secrets where they belong: camera and microphone for
//! Haven's own pages only, HTTPS remembered once served, a facilitator link never cached.

use std::net::SocketAddr;

use anyhow::{ensure, Context, Result};
use haven_tests::start_server_with;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The response head (status line and headers), lower-cased.
async fn head(addr: SocketAddr, method: &str, path: &str) -> Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    Ok(text.split_once("\r\n\r\n").context("a response head")?.0.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_limit_devices_to_haven_and_https_is_remembered_only_when_served() -> Result<()> {
    let plain = start_server_with(|_| {}).await;
    let page = head(plain.http_addr(), "GET", "/").await?;
    ensure!(page.contains("permissions-policy: camera=(self), microphone=(self)"), "{page}");
    ensure!(!page.contains("strict-transport-security"), "HSTS on plain HTTP: {page}");
    let created = head(plain.http_addr(), "POST", "/api/rooms").await?;
    ensure!(created.starts_with("http/1.1 201"), "{created}");
    ensure!(created.contains("cache-control: no-store"), "the facilitator link may be cached: {created}");
    plain.shutdown().await;

    // Behind a TLS proxy: the public URL says https.
    let proxied = start_server_with(|c| c.server.public_url = "https://meet.example.org".into()).await;
    let page = head(proxied.http_addr(), "GET", "/").await?;
    ensure!(page.contains("strict-transport-security: max-age=31536000"), "{page}");
    proxied.shutdown().await;
    Ok(())
}

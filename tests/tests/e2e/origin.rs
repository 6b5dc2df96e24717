//! A page of another site cannot open a meeting socket or create rooms in a visitor's name:
//! the WebSocket and `POST /api/rooms` check `Origin`.

use anyhow::{ensure, Result};
use haven_tests::start_server_with;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Error as WsError;

/// Opens `/ws` with `origin`; the HTTP status the server refused with, or 101.
async fn ws_status(addr: std::net::SocketAddr, origin: &str) -> Result<u16> {
    let mut request = format!("ws://{addr}/ws").into_client_request()?;
    request.headers_mut().insert("Origin", origin.parse()?);
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => Ok(101),
        Err(WsError::Http(response)) => Ok(response.status().as_u16()),
        Err(e) => Err(e.into()),
    }
}

async fn post_rooms_status(addr: std::net::SocketAddr, origin: &str) -> Result<u16> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "POST /api/rooms HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response.split_whitespace().nth(1).unwrap_or_default().parse()?)
}

#[tokio::test]
async fn only_the_sites_own_pages_may_open_sockets_and_rooms() -> Result<()> {
    let server = start_server_with(|_| {}).await;
    let addr = server.http_addr();
    let own = format!("http://{addr}");
    ensure!(ws_status(addr, &own).await? == 101, "the site's own page connects");
    ensure!(ws_status(addr, "https://evil.example").await? == 403, "another site's page is refused");
    ensure!(post_rooms_status(addr, &own).await? == 201);
    ensure!(post_rooms_status(addr, "https://evil.example").await? == 403);
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn configured_origins_are_the_only_ones_allowed() -> Result<()> {
    let server = start_server_with(|c| c.server.allowed_origins = vec!["https://meet.example.org".into()]).await;
    let addr = server.http_addr();
    ensure!(ws_status(addr, "https://meet.example.org").await? == 101);
    ensure!(ws_status(addr, &format!("http://{addr}")).await? == 403, "only the listed origins");
    server.shutdown().await;
    Ok(())
}

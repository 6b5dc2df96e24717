//! HTTPS, as a browser on another machine needs it to use a camera: the server serves its
//! pages and the WebSocket over TLS with the certificate from its configuration, and a
//! client that trusts the issuing authority gets the page and `hello`.

use std::sync::Arc;

use anyhow::{ensure, Context, Result};
use haven_tests::start_server_with;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;

use futures_util::StreamExt;

/// A throwaway authority and a certificate it issued for 127.0.0.1, written as PEM files.
struct Pki {
    dir: std::path::PathBuf,
    authority: rcgen::Certificate,
}

fn make_pki() -> Result<Pki> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate()?;
    let authority = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate()?;
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?
        .signed_by(&leaf_key, &issuer)?;
    let dir = std::env::temp_dir().join(format!("haven-tls-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("cert.pem"), leaf.pem())?;
    std::fs::write(dir.join("key.pem"), leaf_key.serialize_pem())?;
    Ok(Pki { dir, authority })
}

fn connector(authority: &rcgen::Certificate) -> Result<TlsConnector> {
    let mut roots = RootCertStore::empty();
    roots.add(authority.der().clone())?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_the_websocket_are_served_over_https() -> Result<()> {
    let pki = make_pki()?;
    let (cert, key) = (pki.dir.join("cert.pem"), pki.dir.join("key.pem"));
    let server = start_server_with(|c| {
        c.tls.cert = cert.display().to_string();
        c.tls.key = key.display().to_string();
    })
    .await;
    let addr = server.http_addr();
    ensure!(server.url().starts_with("https://"), "{}", server.url());
    let tls = connector(&pki.authority)?;
    let name = ServerName::try_from("127.0.0.1")?.to_owned();

    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let mut stream = tls.connect(name.clone(), tcp).await.context("TLS handshake")?;
    stream.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response).await;
    ensure!(response.starts_with("HTTP/1.1 200") && response.ends_with("ok"), "{response}");

    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let stream = tls.connect(name, tcp).await?;
    let (mut ws, _) = tokio_tungstenite::client_async(format!("wss://{addr}/ws"), stream).await?;
    let hello = ws.next().await.context("no message")??;
    let Message::Text(text) = hello else { anyhow::bail!("not text: {hello:?}") };
    ensure!(text.contains("\"hello\""), "{text}");

    // Plain HTTP on the HTTPS port is not served.
    let plain = haven_tests::http_request(addr, "GET", "/healthz").await;
    ensure!(plain.map_or(true, |(status, _)| status != 200), "plain HTTP was answered");
    server.shutdown().await;
    std::fs::remove_dir_all(&pki.dir)?;
    Ok(())
}

#[tokio::test]
async fn a_self_signed_certificate_is_made_when_asked_for() -> Result<()> {
    let server = start_server_with(|c| c.tls.self_signed = true).await;
    let fingerprint = server.tls_fingerprint().context("no fingerprint")?;
    ensure!(fingerprint.len() == 32 * 3 - 1, "a SHA-256 fingerprint: {fingerprint}");
    ensure!(server.url().starts_with("https://"));
    server.shutdown().await;
    Ok(())
}

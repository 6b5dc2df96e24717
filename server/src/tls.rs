//! HTTPS without a reverse proxy: a browser allows the camera and microphone only on a secure
//! page (or localhost). The certificate comes from `[tls]` files, or is made at start-up
//! for trials on a local network (`--self-signed`; browsers warn, the fingerprint printed at
//! start lets people check it). rustls on aws-lc-rs, the crypto str0m already uses.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::{Extension, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// A TLS handshake that has not finished by then is dropped (slowloris).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS certificate {path}: {reason}")]
    Cert { path: String, reason: String },
    #[error("cannot read the TLS key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("the TLS certificate and key do not go together: {0}")]
    Mismatch(String),
    #[error("cannot make a self-signed certificate: {0}")]
    SelfSigned(String),
}

/// What HTTPS serves with, and the certificate's SHA-256 fingerprint to show people.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
    pub fingerprint: String,
}

impl Tls {
    /// From PEM files: the certificate chain (leaf first) and its private key.
    pub fn from_files(cert: &Path, key: &Path) -> Result<Tls, TlsError> {
        let certs = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| TlsError::Cert { path: cert.display().to_string(), reason: e.to_string() })?;
        if certs.is_empty() {
            let path = cert.display().to_string();
            return Err(TlsError::Cert { path, reason: "no certificate in it".into() });
        }
        let key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| TlsError::Key { path: key.display().to_string(), reason: e.to_string() })?;
        Self::new(certs, key)
    }

    /// A certificate made now for `names` (host names or IP addresses), kept in memory only.
    pub fn self_signed(names: Vec<String>) -> Result<Tls, TlsError> {
        let made = rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::SelfSigned(e.to_string()))?;
        let key = PrivateKeyDer::try_from(made.signing_key.serialize_der())
            .map_err(|e| TlsError::SelfSigned(e.to_string()))?;
        Self::new(vec![made.cert.der().clone()], key)
    }

    fn new(certs: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<Tls, TlsError> {
        let fingerprint = Sha256::digest(certs[0].as_ref())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Mismatch(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| TlsError::Mismatch(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls { acceptor: TlsAcceptor::from(Arc::new(config)), fingerprint })
    }
}

/// Serves `app` over HTTPS until `shutdown` resolves. Each connection learns its peer's
/// address (`ConnectInfo`), as with plain HTTP.
pub async fn serve(listener: TcpListener, tls: Tls, app: Router, shutdown: impl Future<Output = ()>) {
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // See `start_server`: small signaling messages go out at once.
        let _ = tcp.set_nodelay(true);
        let acceptor = tls.acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await else {
                return;
            };
            let service = TowerToHyperService::new(app.layer(Extension(ConnectInfo::<SocketAddr>(remote))));
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HANDSHAKE_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}

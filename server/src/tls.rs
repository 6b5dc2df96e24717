//! HTTPS without a reverse proxy: a browser allows the camera and microphone only on a secure
//! page (or localhost). The certificate comes from `[tls]` files, or is made at start-up
//! for trials on a local network (`--self-signed`; browsers warn, the fingerprint printed at
//! start lets people check it). rustls on aws-lc-rs, the crypto str0m already uses; `serve`
//! runs the handshakes.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

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

    /// The server's side of a TLS handshake on `tcp` (`serve` puts a deadline on it).
    pub async fn accept(&self, tcp: TcpStream) -> std::io::Result<TlsStream<TcpStream>> {
        self.acceptor.accept(tcp).await
    }
}

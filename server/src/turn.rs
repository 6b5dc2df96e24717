//! Short-lived TURN credentials for browsers that cannot reach the media port directly,
//! in coturn's shared-secret ("TURN REST API") scheme: the username is the expiry time in
//! Unix seconds, the password `base64(HMAC-SHA1(secret, username))`. coturn checks them with
//! the same secret (`use-auth-secret`, `static-auth-secret`); nothing per person is involved.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::Engine;

use crate::config::TurnConfig;
use crate::protocol::IceServer;

/// The `ice_servers` a `joined` hands out: none unless TURN is configured.
pub fn ice_servers(config: &TurnConfig, now: SystemTime) -> Vec<IceServer> {
    if config.urls.is_empty() {
        return Vec::new();
    }
    let expires = now + Duration::from_secs(config.credential_seconds);
    let username = expires.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs().to_string();
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, config.secret.as_bytes());
    let tag = hmac::sign(&key, username.as_bytes());
    let credential = base64::engine::general_purpose::STANDARD.encode(tag.as_ref());
    vec![IceServer { urls: config.urls.clone(), username, credential }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_follow_coturns_shared_secret_scheme() {
        let config = TurnConfig {
            urls: vec!["turn:turn.example.org:3478".into()],
            secret: "north".into(),
            credential_seconds: 3600,
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let servers = ice_servers(&config, now);
        assert_eq!(servers.len(), 1);
        assert_eq!(servers[0].username, "1700003600");
        // python3 -c 'import hmac,hashlib,base64;print(base64.b64encode(hmac.new(b"north",b"1700003600",hashlib.sha1).digest()).decode())'
        assert_eq!(servers[0].credential, "xF4I6gruVt/PjGbjajGu2UlidPk=");
    }

    #[test]
    fn no_turn_no_servers() {
        let config = TurnConfig { urls: vec![], secret: String::new(), credential_seconds: 3600 };
        assert!(ice_servers(&config, SystemTime::now()).is_empty());
    }
}

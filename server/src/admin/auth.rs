//! Admin credentials and sessions: Argon2id password hashes, a random session token in an
//! `HttpOnly`, `SameSite=Strict` cookie scoped to `/api/admin` (`Secure` over HTTPS), only
//! its SHA-256 stored. Over plain HTTP only this computer may sign in ([`may_sign_in`]): a
//! password or a cookie must never cross a network unencrypted. CSRF: every admin request
//! must carry `X-Haven-Admin: 1` (a header a cross-site form cannot send, and a cross-site
//! script cannot without a CORS preflight this server never grants) and, when it has an
//! `Origin`, an allowed one.

use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use axum::http::{header, HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

use super::error::AdminError;
use crate::config::Config;

pub const COOKIE: &str = "haven_admin";
pub const CSRF_HEADER: &str = "x-haven-admin";
/// Shorter passwords are refused by `haven admin create`.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// An Argon2id PHC string (random salt, the crate's default cost: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> String {
    Argon2::default().hash_password(password.as_bytes()).expect("hashing with a fresh salt").to_string()
}

/// Checks `password` against a PHC string; with `None` (no such admin) it checks against a
/// throw-away hash, so an unknown name takes as long as a wrong password.
pub fn verify_password(password: &str, phc: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not a password anyone has"));
    let Ok(parsed) = PasswordHash::new(phc.unwrap_or(dummy)) else { return false };
    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && phc.is_some()
}

pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The CSRF rules, before anything else is looked at.
pub fn check_request(config: &Config, headers: &HeaderMap) -> Result<(), AdminError> {
    if !crate::origin::origin_allowed(config, headers) {
        return Err(AdminError::ForbiddenOrigin);
    }
    if headers.get(CSRF_HEADER).is_none_or(|v| v.as_bytes() != b"1") {
        return Err(AdminError::CsrfHeaderMissing);
    }
    Ok(())
}

/// The session token from the `Cookie` header.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty() && v.len() <= 64)
}

/// Sign-in is refused over plain HTTP unless the client (behind trusted proxies, see
/// `client_addr`) is this computer: a browser on the server itself, or an SSH tunnel to it.
pub fn may_sign_in(config: &Config, client: std::net::IpAddr) -> Result<(), AdminError> {
    if served_over_https(config) || client.to_canonical().is_loopback() {
        Ok(())
    } else {
        Err(AdminError::HttpsRequired)
    }
}

fn served_over_https(config: &Config) -> bool {
    config.tls.enabled() || config.server.public_url.starts_with("https://")
}

/// `Set-Cookie` for a new session (`max_age` seconds), or to forget one (`None`).
pub fn cookie(config: &Config, token: Option<&str>, max_age: u64) -> HeaderValue {
    let secure = if served_over_https(config) { "; Secure" } else { "" };
    let value = match token {
        Some(token) => format!("{COOKIE}={token}; Path=/api/admin; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"),
        None => format!("{COOKIE}=; Path=/api/admin; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&value).expect("token alphabet is cookie-safe")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_and_others_and_unknown_names_do_not() {
        let phc = hash_password("correct horse battery");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify_password("correct horse battery", Some(&phc)));
        assert!(!verify_password("correct horse batterz", Some(&phc)));
        assert!(!verify_password("correct horse battery", None));
    }

    #[test]
    fn the_cookie_is_http_only_strict_scoped_and_secure_over_https() {
        let mut config = Config::default();
        let plain = cookie(&config, Some("abc"), 60);
        assert_eq!(plain, "haven_admin=abc; Path=/api/admin; HttpOnly; SameSite=Strict; Max-Age=60");
        config.server.public_url = "https://meet.example.org".into();
        assert!(cookie(&config, Some("abc"), 60).to_str().unwrap().ends_with("; Secure"));
        assert!(cookie(&config, None, 0).to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn over_plain_http_only_this_computer_may_sign_in() {
        let mut config = Config::default();
        for local in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            may_sign_in(&config, local.parse().unwrap()).unwrap();
        }
        for remote in ["192.168.1.20", "10.0.0.2", "2001:db8::1", "::ffff:192.168.1.20"] {
            let refused = may_sign_in(&config, remote.parse().unwrap()).unwrap_err();
            assert_eq!((refused.code(), refused.status().as_u16()), ("https_required", 403), "{remote}");
        }
        config.server.public_url = "https://meet.example.org".into();
        may_sign_in(&config, "192.168.1.20".parse().unwrap()).unwrap();
    }

    #[test]
    fn requests_need_the_header_and_an_allowed_origin() {
        let config = Config::default();
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(check_request(&config, &headers).unwrap_err().code(), "csrf_header_missing");
        headers.insert(CSRF_HEADER, "1".parse().unwrap());
        check_request(&config, &headers).unwrap();
        headers.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert_eq!(check_request(&config, &headers).unwrap_err().code(), "forbidden_origin");
        headers.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        check_request(&config, &headers).unwrap();
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; haven_admin=tok123; b=2".parse().unwrap());
        assert_eq!(session_token(&headers).as_deref(), Some("tok123"));
        headers.insert(header::COOKIE, "haven_admin=".parse().unwrap());
        assert_eq!(session_token(&headers), None);
    }
}

//! PURE: which pages may act on this server (the `Origin` check of the WebSocket, room
//! creation and the admin API) and the base URL of the links handed out. Imports config only.

use axum::http::{header, HeaderMap};

use crate::config::Config;

/// The configured public URL, or else the address the browser used to reach us.
pub fn base_url(config: &Config, headers: &HeaderMap) -> String {
    if !config.server.public_url.is_empty() {
        return config.server.public_url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
        .map(str::to_string)
        .unwrap_or_else(|| config.server.http_addr.to_string());
    let scheme = if config.tls.enabled() { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// Browsers send `Origin` with every WebSocket and every POST: a page of another site must
/// not open meetings or sockets in a visitor's name. Allowed: the configured origins, or
/// else the origin of `public_url`, or else the site the request came to (its `Host`).
/// Requests without `Origin` come from programs, not from a page, and are let through.
pub fn origin_allowed(config: &Config, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    let Ok(origin) = origin.to_str() else { return false };
    let origin = origin.trim_end_matches('/');
    if !config.server.allowed_origins.is_empty() {
        return config.server.allowed_origins.iter().any(|o| o.trim_end_matches('/') == origin);
    }
    if !config.server.public_url.is_empty() {
        return origin == origin_of(&config.server.public_url);
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    host.is_some() && origin_host == host
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(path) => &url[..after_scheme + path],
        None => url.trim_end_matches('/'),
    }
}


//! The web client: embedded in the binary at build time (see build.rs), or read from a
//! directory while developing. Imports nothing from the crate.

use std::path::PathBuf;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/web_files.rs"));

#[derive(Clone)]
pub enum WebAssets {
    Embedded,
    Directory(PathBuf),
}

impl WebAssets {
    pub fn new(web_dir: &str) -> WebAssets {
        if web_dir.is_empty() {
            WebAssets::Embedded
        } else {
            WebAssets::Directory(PathBuf::from(web_dir))
        }
    }

    /// The file at `path` (relative, '/'-separated), if any.
    pub async fn get(&self, path: &str) -> Option<Vec<u8>> {
        // Only plain names: no way out of the web directory.
        if path.split('/').any(|part| part.is_empty() || part.starts_with('.')) {
            return None;
        }
        match self {
            WebAssets::Embedded => {
                WEB_FILES.iter().find(|(name, _)| *name == path).map(|(_, bytes)| bytes.to_vec())
            }
            WebAssets::Directory(dir) => tokio::fs::read(dir.join(path)).await.ok(),
        }
    }

    /// An HTML page of the client (`index.html`), never cached without asking.
    pub async fn page(&self, file: &str, status: StatusCode) -> Response {
        match self.get(file).await {
            Some(bytes) => {
                let headers = [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")];
                (status, headers, bytes).into_response()
            }
            None => (status, "Haven").into_response(),
        }
    }
}

pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn paths_cannot_escape_the_web_directory() {
        let assets = WebAssets::new(env!("CARGO_MANIFEST_DIR"));
        assert!(assets.get("../Cargo.toml").await.is_none());
        assert!(assets.get("/etc/passwd").await.is_none());
        assert!(assets.get("Cargo.toml").await.is_some());
    }
}

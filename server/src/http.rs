//! HTTP routes: pages, the room API, health, and the WebSocket upgrade. Talks to the hub
//! only; knows nothing of media.

use std::sync::Arc;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::config::{is_valid_room_id, Config};
use crate::origin::{base_url, origin_allowed};
use crate::limits::AddressLimits;
use crate::hub::{HubCommand, HubHandle};
use crate::web_assets::{content_type, WebAssets};

/// Frames this far above the largest configured cap are cut off by the WebSocket layer; up
/// to there the session answers `message_too_large` and stays open.
const WS_HARD_LIMIT_MARGIN: usize = 1 << 16;
/// What a WebSocket reads at a time: most messages fit; a longer one (an SDP) grows the buffer.
const WS_READ_BUFFER_BYTES: usize = 8 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub hub: HubHandle,
    pub config: Arc<Config>,
    pub web: WebAssets,
    pub limits: Arc<AddressLimits>,
    /// Every upgraded WebSocket holds a receiver until its session has said goodbye: the
    /// HTTP server's graceful shutdown does not wait for upgraded connections, so
    /// [`crate::RunningServer::shutdown`] waits for these instead.
    pub open_sessions: Arc<tokio::sync::watch::Sender<()>>,
    /// Set once an operator has been told that forwarding headers arrive but no proxy is
    /// trusted (or arrive from an untrusted peer): said once, not per request.
    pub forwarding_warned: Arc<std::sync::atomic::AtomicBool>,
}

impl AppState {
    /// The address limits and bans hold a request to (see `client_addr`).
    fn client_ip(&self, peer: SocketAddr, headers: &HeaderMap) -> std::net::IpAddr {
        let trusted = &self.config.server.trusted_proxies;
        let client = crate::client_addr::client_ip(peer.ip(), headers, trusted);
        if client == peer.ip().to_canonical()
            && crate::client_addr::has_forwarding_headers(headers)
            && !self.forwarding_warned.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            // No address in the line: the operator knows their proxy's.
            tracing::warn!(
                "requests carry X-Forwarded-For or Forwarded from a peer not in server.trusted_proxies: \
                 limits and bans hold everyone behind that proxy as one address. If Haven runs behind \
                 a reverse proxy, list its address in server.trusted_proxies (docs/deploy.md)"
            );
        }
        client
    }
}

/// `admin` is the admin API (`crate::admin::router`), served under `/api/admin`, `feeds`
/// the public meeting feeds (`crate::feeds::router`) and `directory` the public directory's
/// pages and JSON (`crate::directory::router`), with the same security headers as
/// everything else.
pub fn router(state: AppState, admin: Router, feeds: Router, directory: Router) -> Router {
    let metrics_on = state.config.server.metrics;
    let router = Router::new()
        .route("/", get(landing_page))
        .route("/m/{id}", get(meeting_page))
        .route("/admin", get(admin_page))
        .route("/assets/{*path}", get(asset))
        .route("/api/rooms", post(create_room))
        .route("/api/rooms/{id}", get(room_info))
        .route("/healthz", get(|| async { "ok" }))
        .route("/ws", get(websocket))
        .nest_service("/api/admin", admin)
        .route_service("/meetings.json", feeds)
        // A meeting's page and its `.ics`: the directory hands calendars to the feeds.
        .route_service("/meetings", directory.clone())
        .route_service("/meetings/{file}", directory.clone())
        .route_service("/api/directory", directory.clone())
        .route_service("/api/directory/{slug}", directory);
    // Off by default: even counts of people say something. Expose it to your monitoring only.
    let router = if metrics_on { router.route("/metrics", get(metrics)) } else { router };
    let https = state.config.tls.enabled() || state.config.server.public_url.starts_with("https://");
    router
        .layer(axum::middleware::map_response(move |response| security_headers(response, https)))
        .with_state(state)
}

async fn metrics(State(state): State<AppState>) -> Response {
    let content_type = [(header::CONTENT_TYPE, "text/plain; version=0.0.4")];
    (content_type, state.hub.metrics.render()).into_response()
}

async fn security_headers(mut response: Response, https: bool) -> Response {
    let headers = response.headers_mut();
    let set = |h: &mut HeaderMap, name, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    // The meeting uses the camera, microphone and (later) the screen of its own pages only.
    set(
        headers,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=(), \
         interest-cohort=()",
    );
    if https {
        // Served over HTTPS (by Haven or by the proxy in front of `public_url`): browsers
        // never try plain HTTP again, where a network could read a facilitator's link.
        set(headers, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         media-src 'self' blob: mediastream:; connect-src 'self'; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'none'",
    );
    response
}

async fn landing_page(State(state): State<AppState>) -> Response {
    page(&state, "index.html", StatusCode::OK).await
}

async fn meeting_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let exists = is_valid_room_id(&id)
        && matches!(state.hub.ask(|reply| HubCommand::RoomInfo { id, reply }).await, Some(Some(_)));
    if exists {
        page(&state, "meeting.html", StatusCode::OK).await
    } else {
        page(&state, "not-found.html", StatusCode::NOT_FOUND).await
    }
}

async fn page(state: &AppState, file: &str, status: StatusCode) -> Response {
    state.web.page(file, status).await
}

/// The admin page: static; everything it shows comes from the admin API, behind sign-in.
async fn admin_page(State(state): State<AppState>) -> Response {
    page(&state, "admin.html", StatusCode::OK).await
}

async fn asset(State(state): State<AppState>, Path(path): Path<String>) -> Response {
    match state.web.get(&path).await {
        Some(bytes) => (
            [(header::CONTENT_TYPE, content_type(&path)), (header::CACHE_CONTROL, "no-cache")],
            bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// `POST /api/rooms`'s optional JSON body.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewRoom {
    #[serde(default)]
    title: Option<String>,
    /// End-to-end encrypted: the page that asks makes the key and adds it to both links.
    #[serde(default)]
    e2ee: bool,
    /// The key id of that key (16 bits, not secret): a page with another key is told its link
    /// is stale. Checked here, so any JSON value is taken and refused in words.
    #[serde(default)]
    key_id: Option<serde_json::Value>,
}

async fn create_room(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !origin_allowed(&state.config, &headers) {
        return forbidden_origin();
    }
    if !state.config.rooms.allow_adhoc {
        return api_error(
            StatusCode::FORBIDDEN,
            "adhoc_rooms_disabled",
            "This server only hosts the meetings its operator has set up.",
        );
    }
    if let Some(refusal) = check_create_secret(&state.config.rooms.create_secret, &headers) {
        return refusal;
    }
    // Read before the hourly allowance is spent: a bad body costs nothing.
    let new = if body.iter().all(u8::is_ascii_whitespace) {
        NewRoom::default()
    } else {
        match serde_json::from_slice::<NewRoom>(&body) {
            Ok(new) => new,
            Err(_) => return api_error(StatusCode::BAD_REQUEST, "bad_request", "The body must be JSON: {\"title\": \"...\", \"e2ee\": true}, or nothing."),
        }
    };
    let key_id = match &new.key_id {
        None => None,
        Some(given) => match crate::protocol::key_id_from_json(given).filter(|_| new.e2ee) {
            Some(id) => Some(id),
            None => return api_error(StatusCode::BAD_REQUEST, "invalid_key_id", crate::protocol::INVALID_KEY_ID),
        },
    };
    let client = state.client_ip(peer, &headers);
    if !state.limits.try_create_room(client, std::time::Instant::now()) {
        return api_error(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_rooms",
            "Too many meetings were started from your network this hour. Please try again later.",
        );
    }
    let created = state.hub.ask(|reply| HubCommand::CreateRoom { title: new.title, e2ee: new.e2ee, key_id, reply }).await;
    match created {
        Some(Ok(room)) => {
            let base = base_url(&state.config, &headers);
            let join_url = format!("{base}/m/{}", room.id);
            let facilitator_url = format!("{join_url}#key={}", room.facilitator_key);
            let body = serde_json::json!({
                "id": room.id,
                "title": room.title,
                "join_url": join_url,
                "facilitator_url": facilitator_url,
                // The links as given carry no key: the page adds `#e2ee=` (the server has none).
                "e2ee": new.e2ee,
                "key_id": key_id,
                // How long the links work, for the page to say.
                "kept_hours_after_last_leaves": crate::hub::ADHOC_ROOM_IDLE_LIFETIME.as_secs() / 3600,
                "kept_hours_if_unused": crate::hub::UNUSED_ADHOC_ROOM_LIFETIME.as_secs() / 3600,
            });
            // It carries the facilitator secret: no cache may keep it.
            (StatusCode::CREATED, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
        }
        Some(Err(refusal)) => {
            let status = match refusal.code {
                "server_full" => StatusCode::SERVICE_UNAVAILABLE,
                "invalid_title" => StatusCode::BAD_REQUEST,
                _ => StatusCode::FORBIDDEN,
            };
            api_error(status, refusal.code, &refusal.message)
        }
        None => api_error(StatusCode::SERVICE_UNAVAILABLE, "server_stopping", "The server is restarting."),
    }
}

/// With `rooms.create_secret` set, starting a meeting needs `Authorization: Bearer <code>`.
fn check_create_secret(secret: &str, headers: &HeaderMap) -> Option<Response> {
    if secret.is_empty() {
        return None;
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(given) = given else {
        return Some(api_error(
            StatusCode::UNAUTHORIZED,
            "create_secret_required",
            "This server asks for an organiser code to start a meeting.",
        ));
    };
    // Compared as digests: the time taken says nothing about how much of the code matched.
    let digest = |s: &str| <sha2::Sha256 as sha2::Digest>::digest(s.trim().as_bytes());
    if digest(given) != digest(secret) {
        return Some(api_error(StatusCode::FORBIDDEN, "wrong_create_secret", "That organiser code is not right."));
    }
    None
}

fn forbidden_origin() -> Response {
    api_error(
        StatusCode::FORBIDDEN,
        "forbidden_origin",
        "This server does not accept meetings opened from another site.",
    )
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(serde_json::json!({ "code": code, "message": message }))).into_response()
}

/// What the join screen needs before joining: title, guidelines, whether there is a
/// waiting room.
async fn room_info(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    if !is_valid_room_id(&id) {
        return api_error(StatusCode::NOT_FOUND, "unknown_room", "There is no meeting with that link.");
    }
    match state.hub.ask(|reply| HubCommand::RoomInfo { id, reply }).await {
        Some(Some(room)) => Json(room).into_response(),
        _ => api_error(StatusCode::NOT_FOUND, "unknown_room", "There is no meeting with that link."),
    }
}

async fn websocket(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&state.config, &headers) {
        return forbidden_origin();
    }
    let limits = &state.config.limits;
    let max = limits.max_message_bytes.max(limits.max_sdp_message_bytes) + WS_HARD_LIMIT_MARGIN;
    let client = state.client_ip(peer, &headers);
    let slot = state.limits.connect(client, std::time::Instant::now());
    let open = state.open_sessions.subscribe();
    // tungstenite's default read buffer, 128 KiB per connection, was a fifth of a participant's
    // memory (BENCHMARKS.md).
    let upgrade = upgrade.max_message_size(max).read_buffer_size(WS_READ_BUFFER_BYTES);
    upgrade.on_upgrade(move |socket| async move {
        // Three m-lines per participant (microphone, camera, screen: the others' and the
        // browser's own) and a few more.
        let max_m_lines = 3 * state.config.rooms.max_participants + 8;
        crate::session::run(socket, state.hub, &state.config.limits, Some(client), slot, max_m_lines).await;
        // Named here so the session's future owns it: shutdown waits until this drop.
        drop(open);
    })
}

//! Haven: self-hosted video meetings for anonymous peer-support groups.
//!
//! # Layout
//!
//! | module        | job                                                                  | may import |
//! |---------------|----------------------------------------------------------------------|------------|
//! | `config`      | defaults → TOML → env → `validate()`                                  | nothing    |
//! | `protocol`    | client→server and server→client message enums (the wire format)       | nothing    |
//! | `names`       | display-name rules                                                    | nothing    |
//! | `ids`         | random ids and secrets                                                | nothing    |
//! | `room`        | PURE meeting state machine: roles, queue, timer, lock, waiting room, bans, chat (ciphertext only in an `e2ee` meeting, a setting fixed for the room's life; its newest links' key id, set by staff at once), readings (the list, the one shown to everyone and its highlight), screen share (`screen`: who may share, one screen at a time, every way a share ends; the one sharer's `screen` forwarding flag) | nothing (std, thiserror) |
//! | `allocator`   | PURE: per-subscriber bandwidth allocation: per track audio always, video at a layer or paused (priority: a screen, the floor holder, the speaker; tile size, hysteresis with time passed in), and what str0m's estimator should probe for (a step out of reach asks again every few seconds, and gets padding when the estimate only creeps up, `prober`); the priority video kept through the estimator's back-off cascades, longer after the allocator's own probes while the member's path shows no queue, and no tolerance at all for a link that overflows (`budget`); driven per member by `media` | nothing    |
//! | `media`       | the SFU (full ICE; remote candidates only from the browser's checks): media workers (`workers`: a meeting lives on one, new meetings go to the one with the fewest people), each a run loop on its own thread owning its UDP socket (own port; on a wildcard bind each datagram's destination, `IP_PKTINFO`, is mapped to the announced address it was sent to, `addresses`, and answers leave from it), ICE-TCP listener and every str0m `Rtc` of its meetings (RTP mode: packets forwarded as they come, each copy sealed at once by the vendored str0m's `forward_rtp` beside its pacer straight into a pooled send-batch buffer, `media.fast_path`, or queued through `write_rtp` when refused; datagrams out in `sendmmsg` batches grouped by destination, runs to one address as UDP GSO sends); offers first to each newcomer (one round trip starts media both ways: its microphone, camera and screen m-lines, then the others' tracks); negotiates only live tracks, TWCC both ways; the screen (the third published m-line, simulcast layers sh;sf: half and full size) forwarded and negotiated to the others only while that peer's `screen` flag is on, as stream `screen-<label>`, ranked before every camera, one layer per subscriber like a camera's; cameras as simulcast layers q;h;f (each layer's height read from its VP8 keyframes for the tile cap), one per subscriber through `layer_switch` (PURE: switched at the target's keyframe, sequence numbers, timestamps, VP8 picture id / TL0PICIDX continuous), and a camera's layers that no subscriber gets switched off at its publisher (`camera_layers`, PURE: off after 10 s unwanted, back at once; told with `MediaSignal::CameraLayers`; a screen's layers all stay on); sound first (`run_loop::bandwidth` + `downlink`): each member's downlink estimate (str0m BWE) and their `receive` choices feed their `allocator`, whose changes pause or resume the videos written to them (audio never), the floor holder's (from the hub) and the debounced active speaker's first; retransmission history fitted to each subscriber's round trip; sound redundancy (`red`, PURE: RFC 2198 RED written by the SFU, with a loss switch held off while the member's link is congested, and the link's queue and overflow tests the allocator reads too; `media.audio_red`, on by default) to a member whose browser took RED while their link shows a lasting loss (transport-wide feedback, `PeerStats`), RED from a publisher forwarded as plain Opus | config (`MediaConfig`), metrics (counters), allocator |
//! | `hub`         | the only place that knows meetings and media; owns all meetings; opens a participant's media connection on admission (right behind `joined`); keeps a dropped participant's place for the grace period (not their screen share); starts a meeting again once it empties or ends (an ended ad-hoc one stays ended until forgotten; bans of the last day carried over); stored meetings handed to it at start and after each admin change (`PutStanding`: never waits on the store), their keys checked and their schedule's open window enforced at join; a facilitator's `save_settings` written to the store by a task it starts, which answers the hub (`SettingsSaved`) | config, protocol, names, ids, media, metrics, turn, schedule, store, standing |
//! | `session`     | one WebSocket: decode, order (room messages before media signals), rate-limit, relay to the hub; close one not in a meeting in time; ping, and drop one gone silent; detach on drop | hub, protocol, limits, media (signal types only), room (`RateLimiter` only) |
//! | `metrics`     | aggregate counters for `/metrics`: never per person or per room       | nothing    |
//! | `limits`      | per-address connection and join-attempt limits (salted hashes, memory only) | config, room (`RateLimiter` only) |
//! | `client_addr` | PURE: the client's address behind trusted reverse proxies (`X-Forwarded-For`, `Forwarded`) | nothing (axum's `HeaderMap`, ipnet) |
//! | `http`        | axum routes: pages (the admin page at `/admin` among them), room API (`POST /api/rooms` with `e2ee` and its `key_id`), health, metrics, WebSocket upgrade; mounts the admin, feeds and directory routers it is given | hub, session, config, limits, client_addr, origin, web_assets, protocol (`key_id_from_json`) |
//! | `serve`       | the HTTP(S) accept loop (hyper): `TCP_NODELAY`, `ConnectInfo`, TLS-handshake and header-read deadlines, graceful shutdown | tls |
//! | `tls`         | HTTPS: rustls from PEM files or a self-signed certificate; the handshake | nothing    |
//! | `turn`        | short-lived TURN credentials (coturn shared-secret scheme) for `joined` | config, protocol |
//! | `web_assets`  | the web client, embedded or from disk; its HTML pages as responses     | nothing (axum) |
//! | `store`       | the organisation's data in SQLite (`store.data_dir`, WAL, SQL migrations in `server/migrations/`): meetings (their readings, approximate location and an encrypted meeting's newest links' key id among them; never a key), schedules, facilitator key hashes, admins (Argon2id), admin sessions (hashed tokens); never anything about members; blocking work on tokio's blocking pool | schedule |
//! | `meeting_types` | PURE: the Meeting Guide type codes a stored meeting may have, with plain names (the same table as `web/js/meeting-types.js`) | nothing |
//! | `schedule`    | PURE: when a standing meeting happens: weekly, monthly and one-off rules in an IANA time zone (jiff's bundled tz database), duration, open window; time passed in | nothing (jiff, serde) |
//! | `standing`    | a stored meeting into the hub's `StandingRoom` (settings over `[room_defaults]`, live key hashes, compiled schedule); loads them all at start; a meeting's live settings as the store's edit (`save_settings`) | config, store, schedule, hub (types), room (`RoomSettings`) |
//! | `admin`       | the JSON admin API under `/api/admin` (docs/admin.md): Argon2id sign-in (rate-limited per address), session cookie, CSRF header and origin check, meetings, facilitator links, an encrypted meeting's key id (`e2ee-key-id`), live counts; `haven admin create` | store, schedule, standing, hub, config, limits, client_addr, origin, ids, protocol (`key_id_from_json`) |
//! | `feeds`       | `/meetings.json` (Meeting Guide format: weekly day/time, timezone, `conference_url` (for an `e2ee` meeting `conference_url_notes`: ask the group), types `ONL` and the language) and `/meetings/{slug}.ics` (RFC 5545: RRULE per rule, VTIMEZONE from jiff's transitions); builders pure, time passed in | store (records), schedule, origin, config, admin (`is_valid_slug`) |
//! | `directory`   | the public directory: `/meetings` and `/meetings/{slug}` pages (listed meetings only; an unlisted slug is a 404) and `/api/directory[/{slug}]` JSON: next times as instants, a "live now" flag, never a count, no join link for an `e2ee` meeting; `.ics` handed to `feeds` | feeds, store (records), schedule, hub (`LiveCounts`), origin, web_assets |
//! | `origin`      | PURE: the `Origin` check (WebSocket, room creation, admin API) and the base URL of links handed out | config |
//!
//! `media` never imports room or moderation logic: it obeys per-peer forwarding flags (which
//! also decide which tracks are negotiated to the others: only live ones; `screen` gates the
//! peer's screen track), and learns whose
//! video comes first as a plain peer key (`MediaCommand::SetFloor`), which the hub sends when
//! the room's floor holder changes.
//! `main.rs` only parses arguments and calls [`start_server`].

pub mod admin;
pub mod allocator;
mod client_addr;
pub mod config;
mod directory;
pub mod feeds;
pub mod hub;
pub mod ids;
pub mod media;
pub mod meeting_types;
pub mod names;
pub mod protocol;
pub mod room;
pub mod schedule;
mod standing;
pub mod store;
mod http;
mod limits;
pub mod metrics;
mod origin;
mod serve;
mod session;
mod tls;
pub mod turn;
mod web_assets;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use config::Config;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot listen for HTTP on {addr}: {source}")]
    Http { addr: SocketAddr, source: std::io::Error },
    #[error("cannot open the media UDP socket on {addr}: {source}")]
    Media { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("the store (store.data_dir): {0}")]
    Store(#[from] store::StoreError),
}

/// How long a shutdown waits for connections to close after telling everyone.
pub const SHUTDOWN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// A server started by [`start_server`]; stop it with [`RunningServer::shutdown`].
pub struct RunningServer {
    http_addr: SocketAddr,
    /// One per media worker, in worker order.
    media_addrs: Vec<SocketAddr>,
    /// What browsers are told, per worker.
    announced_media_addrs: Vec<Vec<SocketAddr>>,
    hub: hub::HubHandle,
    stop_http: oneshot::Sender<()>,
    http_task: JoinHandle<()>,
    /// Closed once no WebSocket session is left (see [`http::AppState::open_sessions`]).
    open_sessions: Arc<watch::Sender<()>>,
    /// SHA-256 of the HTTPS certificate, when serving HTTPS.
    tls_fingerprint: Option<String>,
}

impl RunningServer {
    /// Where HTTP and the WebSocket (`/ws`) listen.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The address to open in a browser.
    pub fn url(&self) -> String {
        let scheme = if self.tls_fingerprint.is_some() { "https" } else { "http" };
        format!("{scheme}://{}/", self.http_addr)
    }

    /// The HTTPS certificate's SHA-256 fingerprint (`AB:CD:…`), when serving HTTPS.
    pub fn tls_fingerprint(&self) -> Option<&str> {
        self.tls_fingerprint.as_deref()
    }

    /// Every media worker's UDP socket, in worker order.
    pub fn media_addrs(&self) -> &[SocketAddr] {
        &self.media_addrs
    }

    /// The addresses browsers are told to send each worker's media to (its ICE candidates), in
    /// worker order: `media.public_ips`, the bound address, or for a wildcard bind without
    /// `public_ips` the host's own addresses.
    pub fn announced_media_addrs(&self) -> &[Vec<SocketAddr>] {
        &self.announced_media_addrs
    }

    /// Stops taking joins, tells every participant the server is stopping, and stops
    /// within [`SHUTDOWN_DEADLINE`] even if some connection will not close.
    pub async fn shutdown(self) {
        let deadline = tokio::time::Instant::now() + SHUTDOWN_DEADLINE;
        self.hub.send(hub::HubCommand::Shutdown);
        let _ = self.stop_http.send(());
        let mut http_task = self.http_task;
        // Both waits matter: returning while a session is still saying `server_stopping`
        // ends the process under it, and the browser then sees a dropped connection and
        // keeps trying to reconnect instead of explaining the restart.
        let http_done = tokio::time::timeout_at(deadline, &mut http_task).await.is_ok();
        let sessions_done = tokio::time::timeout_at(deadline, self.open_sessions.closed()).await.is_ok();
        if !http_done || !sessions_done {
            tracing::warn!("connections still open at the shutdown deadline; closing them");
            http_task.abort();
        }
    }

    /// Runs until the HTTP server ends.
    pub async fn wait(self) {
        let _ = self.http_task.await;
    }
}

/// What `haven check-config` checks before a restart: `validate()`, and that the `[tls]`
/// certificate and key can be read and go together. Binds nothing and starts nothing.
pub fn check_config(config: &Config) -> Result<(), StartError> {
    config.validate()?;
    hub::check_declared_rooms(config)?;
    if !config.tls.cert.is_empty() {
        tls::Tls::from_files(config.tls.cert.as_ref(), config.tls.key.as_ref())?;
    }
    Ok(())
}

/// Validates `config`, binds both sockets and starts serving. Port 0 picks a free port.
pub async fn start_server(config: Config) -> Result<RunningServer, StartError> {
    config.validate()?;
    hub::check_declared_rooms(&config)?;
    let tls = if config.tls.self_signed {
        let mut names = vec!["localhost".to_string(), config.server.http_addr.ip().to_string()];
        names.extend(config.media.public_ips.iter().map(|ip| ip.to_string()));
        Some(tls::Tls::self_signed(names)?)
    } else if !config.tls.cert.is_empty() {
        Some(tls::Tls::from_files(config.tls.cert.as_ref(), config.tls.key.as_ref())?)
    } else {
        None
    };
    let tls_fingerprint = tls.as_ref().map(|t| t.fingerprint.clone());
    let http_addr = config.server.http_addr;
    let listener = TcpListener::bind(http_addr)
        .await
        .map_err(|source| StartError::Http { addr: http_addr, source })?;
    let http_addr = listener.local_addr().map_err(|source| StartError::Http { addr: http_addr, source })?;

    let (media_events, media_event_rx) = mpsc::unbounded_channel();
    let metrics = Arc::new(metrics::Metrics::new(config.media.workers));
    let media = media::MediaWorkers::spawn(&config.media, media_events, &metrics)
        .map_err(|media::SpawnError { addr, source }| StartError::Media { addr, source })?;
    let media_addrs = media.local_addrs();
    let announced_media_addrs = media.announced_addrs();

    // The organisation's data, read once here; the admin API keeps the hub up to date after.
    let (store, standing) = if config.store.enabled() {
        let opened = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || {
                let store = store::Store::open(std::path::Path::new(&config.store.data_dir))?;
                let standing = standing::load(&config, &store)?;
                if store.run_blocking(|db| db.admin_count())? == 0 {
                    // No secret here: the operator makes the first admin on the command line.
                    tracing::warn!("the store has no admin yet: run `haven admin create NAME` with the same configuration (docs/admin.md)");
                }
                Ok::<_, store::StoreError>((store, standing))
            })
            .await
            .map_err(|_| store::StoreError::Stopped)??
        };
        tracing::info!(meetings = opened.1.len(), "store opened");
        (Some(opened.0), opened.1)
    } else {
        (None, Vec::new())
    };
    let hub = hub::spawn(config.clone(), store.clone(), standing, media, media_event_rx, metrics.clone());
    let limits = limits::AddressLimits::new(&config.limits);
    let config = Arc::new(config);
    let feeds_state = feeds::FeedsState { config: config.clone(), store: store.clone() };
    let web = web_assets::WebAssets::new(&config.server.web_dir);
    let directory = directory::router(directory::DirectoryState { feeds: feeds_state.clone(), hub: hub.clone(), web: web.clone() });
    let feeds = feeds::router(feeds_state);
    let admin = admin::router(admin::AdminState { hub: hub.clone(), config: config.clone(), limits: limits.clone(), store });
    let open_sessions = Arc::new(watch::channel(()).0);
    let state = http::AppState {
        hub: hub.clone(),
        web,
        limits,
        open_sessions: open_sessions.clone(),
        forwarding_warned: Default::default(),
        config,
    };
    let (stop_http, stopped) = oneshot::channel::<()>();
    let app = http::router(state, admin, feeds, directory);
    let stopped = async {
        let _ = stopped.await;
    };
    let http_task = tokio::spawn(serve::serve(listener, tls, app, stopped));
    Ok(RunningServer { http_addr, media_addrs, announced_media_addrs, hub, stop_http, http_task, open_sessions, tls_fingerprint })
}

//! Configuration: built-in defaults → TOML file (unknown keys rejected) → `HAVEN_*` environment
//! and command-line overrides → `validate()`. Imports nothing from the rest of the crate.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// More media workers than this would be more threads than any host has cores for.
pub const MAX_MEDIA_WORKERS: usize = 256;

/// The embedded default: what `cargo run --release` uses when no file is given.
pub const DEFAULT_TOML: &str = include_str!("../../config/haven.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub media: MediaConfig,
    pub rooms: RoomsConfig,
    pub limits: LimitsConfig,
    pub tls: TlsConfig,
    pub turn: TurnConfig,
    pub store: StoreConfig,
    /// Settings every meeting starts with (a `[[room]]` may override them).
    pub room_defaults: RoomDefaults,
    /// Rooms declared by the operator; they exist from start-up.
    #[serde(default, rename = "room", skip_serializing_if = "Vec::is_empty")]
    pub declared_rooms: Vec<DeclaredRoom>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Where the HTTP and WebSocket server listens.
    pub http_addr: SocketAddr,
    /// Base URL put in the links the server hands out, e.g. `https://meet.example.org`.
    /// Empty: links are relative to the page that asked.
    pub public_url: String,
    /// Serve the web client from this directory instead of the copy embedded in the binary
    /// (for development: edit, reload). Empty: embedded.
    pub web_dir: String,
    /// Origins whose pages may open the WebSocket and create rooms (`https://meet.example.org`).
    /// Empty: the origin of `public_url`, or else the site the request came to.
    pub allowed_origins: Vec<String>,
    /// Serve Prometheus counters at `/metrics` (aggregates only; keep it off the public
    /// internet, e.g. allow it only from your monitoring host in the reverse proxy).
    pub metrics: bool,
    /// Reverse proxies (addresses or CIDR blocks, `127.0.0.1`, `10.0.0.0/8`) whose
    /// `Forwarded` / `X-Forwarded-For` headers are believed: a request from one of them is
    /// taken to come from the rightmost address in those headers that is not itself a trusted
    /// proxy. Empty: every request comes from its TCP peer, and the headers are ignored.
    #[serde(deserialize_with = "deserialize_nets", serialize_with = "serialize_nets")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MediaConfig {
    /// The one UDP socket every browser sends media to.
    pub udp_addr: SocketAddr,
    /// Addresses announced to browsers as ICE candidates (a server behind NAT lists its public
    /// IP here). Empty: the bound address, or for a wildcard bind (`0.0.0.0`, `[::]`) the
    /// host's own addresses but loopback and link-local (start-up says which, with a warning).
    pub public_ips: Vec<IpAddr>,
    /// Also accept media over TCP on the same address and port (ICE-TCP), for networks that
    /// block UDP.
    pub ice_tcp: bool,
    /// A microphone or camera off this long is taken out of the others' peer connections
    /// (only live tracks are negotiated: big meetings stay cheap); turned on again after
    /// that, it waits for one renegotiation before it is heard or seen.
    pub idle_track_seconds: u64,
    /// Media worker threads, each on its own core with its own UDP (and ICE-TCP) port:
    /// `udp_addr`'s port, the next one, and so on. A meeting's media stays on one worker, so
    /// one worker carries what one core can; more workers carry more meetings at once.
    pub workers: usize,
    /// Estimate each member's downlink (congestion feedback on what the server sends them)
    /// and send them only the videos it carries after the sound (see docs/protocol.md, "Sound
    /// first"). Off: every shown video is sent to everyone at the publisher's rate ("sound
    /// only" and hidden tiles still send no video).
    pub bandwidth_estimation: bool,
    /// Offer RFC 2198 redundancy for the sound (`red`) and, to a member whose browser
    /// accepted it (Chromium), send each sound packet with a copy of the one before while
    /// their link loses packets (`media/red.rs`): one lost packet in a row costs no sound.
    /// Doubles the sound sent to that member, and their bandwidth allocation counts it; never
    /// while their link is congested (a video paused for them for room).
    pub audio_red: bool,
    /// Forward each packet to each member at once, sealed into one reused buffer
    /// (`Rtc::forward_rtp`, vendor/str0m/HAVEN.md patches 4 and 5), instead of through
    /// str0m's send queue and `poll_output`; str0m's pacer counts it. Off: the general path.
    pub fast_path: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RoomsConfig {
    /// Whether anyone who can reach the server may create a meeting with `POST /api/rooms`.
    pub allow_adhoc: bool,
    /// Upper bound of people in one meeting.
    pub max_participants: usize,
    /// Upper bound of meetings on this server.
    pub max_rooms: usize,
    /// How long a participant whose connection dropped keeps their place (role, hand in the
    /// queue, mute state) for a `resume`.
    pub reconnect_grace_seconds: u64,
    /// When set, starting a meeting (`POST /api/rooms`) needs this code (the landing page asks
    /// for it): anyone may join a meeting by its link, but only people given the code start
    /// one. Empty: anyone who can reach the server may (with `allow_adhoc`).
    pub create_secret: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TurnConfig {
    /// TURN servers handed to browsers (`turn:turn.example.org:3478?transport=udp`,
    /// `turns:turn.example.org:5349`). Empty: no TURN.
    pub urls: Vec<String>,
    /// coturn's `static-auth-secret`.
    pub secret: String,
    /// How long a handed-out credential stays valid.
    pub credential_seconds: u64,
}

/// The organisation's own data (standing meetings, schedules, facilitator key hashes, admin
/// credentials) in SQLite. Never anything about members.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Directory of the database (`haven.sqlite3` and SQLite's `-wal` and `-shm` beside it).
    /// Empty: no store, no admin API, no standing meetings but `[[room]]`s; Haven writes
    /// nothing to disk (as before there was a store).
    pub data_dir: String,
    /// How long an admin stays signed in.
    pub admin_session_hours: u32,
}

impl StoreConfig {
    pub fn enabled(&self) -> bool {
        !self.data_dir.trim().is_empty()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain (leaf first). With `key`, HTTP becomes HTTPS.
    pub cert: String,
    /// PEM private key of `cert`.
    pub key: String,
    /// Make a certificate at start-up, in memory (LAN trials; browsers warn about it).
    pub self_signed: bool,
}

impl TlsConfig {
    pub fn enabled(&self) -> bool {
        self.self_signed || !self.cert.is_empty()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest WebSocket message accepted, in bytes, but for SDP.
    pub max_message_bytes: usize,
    /// Largest `offer` or `answer`: SDP grows with the meeting (two m-lines per other
    /// participant, about 1 KiB each from a browser), so 50 people need more than 64 KiB.
    pub max_sdp_message_bytes: usize,
    /// Open WebSocket connections from one address.
    pub max_connections_per_address: usize,
    /// `join` and `resume` attempts from one address per minute.
    pub joins_per_address_per_minute: u32,
    /// Messages per second one connection may send, sustained (bursts of twice this pass).
    /// Chat, reactions and hand raises have their own, tighter limits in the room.
    pub messages_per_second: u32,
    /// Meetings one address may start in an hour (`POST /api/rooms`).
    pub rooms_per_address_per_hour: u32,
    /// Admin sign-in attempts from one address in an hour (`POST /api/admin/login`).
    pub admin_logins_per_address_per_hour: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RoomDefaults {
    /// Empty: meetings are untitled, and each client names them in its person's language.
    pub title: String,
    /// Shown before joining; people must accept them to join. Empty: none.
    pub guidelines: String,
    pub waiting_room: bool,
    pub mute_on_entry: bool,
    pub camera_off_on_entry: bool,
    pub members_may_unmute: bool,
    /// Share timer in seconds; 0 = no timer.
    pub share_seconds: u32,
    pub auto_mute_on_expiry: bool,
    pub chat_enabled: bool,
    pub member_private_messages: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredRoom {
    pub id: String,
    #[serde(default)]
    pub title: String,
    /// SHA-256 (hex) of the facilitator secret; the secret itself is never stored.
    #[serde(default)]
    pub facilitator_key_sha256: String,
    // Per-room overrides of `[room_defaults]`.
    pub guidelines: Option<String>,
    pub waiting_room: Option<bool>,
    pub mute_on_entry: Option<bool>,
    pub camera_off_on_entry: Option<bool>,
    pub members_may_unmute: Option<bool>,
    pub share_seconds: Option<u32>,
    pub auto_mute_on_expiry: Option<bool>,
    pub chat_enabled: Option<bool>,
    pub member_private_messages: Option<bool>,
    /// End-to-end encrypted (docs/e2ee.md): members need a link ending in `#e2ee=<key>`, a
    /// key made outside the server. Not in `[room_defaults]`: turning it on for meetings
    /// whose links are already out would lock everyone out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub e2ee: bool,
    /// Texts the group reads together, after the guidelines: `readings = [{ title = "…",
    /// text = "…" }]`; paragraphs are separated by blank lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<Reading>,
}

/// One reading of a `[[room]]` (or of a stored meeting).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Reading {
    pub title: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Default for Config {
    fn default() -> Self {
        Config::from_toml(DEFAULT_TOML, "embedded default").expect("embedded default is valid")
    }
}

impl Config {
    /// Reads a TOML file laid over the embedded defaults: a file need only name what it changes.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        Config::from_toml(&text, &path.display().to_string())
    }

    pub fn from_toml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let parse = |t: &str, origin: &str| {
            t.parse::<toml::Table>()
                .map_err(|e| ConfigError::Parse { origin: origin.into(), message: without_values(&e, t) })
        };
        let mut merged = parse(DEFAULT_TOML, "embedded default")?;
        merge(&mut merged, parse(text, origin)?);
        merged
            .try_into::<Config>()
            .map_err(|e| ConfigError::Parse { origin: origin.into(), message: without_values(&e, "") })
    }

    /// Applies `HAVEN_*` variables from `vars` (taken as a parameter so tests need not touch
    /// the process environment).
    pub fn apply_env<I>(&mut self, vars: I) -> Result<(), ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        for (name, value) in vars {
            if !name.starts_with("HAVEN_") {
                continue;
            }
            let bad = |message: String| ConfigError::Env { name: name.clone(), message };
            match name.as_str() {
                "HAVEN_HTTP_ADDR" => self.server.http_addr = parse_value(&value).map_err(bad)?,
                "HAVEN_PUBLIC_URL" => self.server.public_url = value,
                "HAVEN_WEB_DIR" => self.server.web_dir = value,
                "HAVEN_TURN_URLS" => {
                    self.turn.urls = value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
                }
                "HAVEN_TURN_SECRET" => self.turn.secret = value,
                "HAVEN_TLS_CERT" => self.tls.cert = value,
                "HAVEN_TLS_KEY" => self.tls.key = value,
                "HAVEN_TRUSTED_PROXIES" => {
                    self.server.trusted_proxies = value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(parse_net)
                        .collect::<Result<_, _>>()
                        .map_err(bad)?
                }
                "HAVEN_METRICS" => self.server.metrics = parse_value(&value).map_err(bad)?,
                "HAVEN_ALLOWED_ORIGINS" => {
                    self.server.allowed_origins =
                        value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
                }
                "HAVEN_UDP_ADDR" => self.media.udp_addr = parse_value(&value).map_err(bad)?,
                "HAVEN_PUBLIC_IPS" => {
                    self.media.public_ips = value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(parse_value)
                        .collect::<Result<_, _>>()
                        .map_err(bad)?
                }
                "HAVEN_IDLE_TRACK_SECONDS" => {
                    self.media.idle_track_seconds = parse_value(&value).map_err(bad)?
                }
                "HAVEN_MEDIA_WORKERS" => self.media.workers = parse_value(&value).map_err(bad)?,
                "HAVEN_BANDWIDTH_ESTIMATION" => {
                    self.media.bandwidth_estimation = parse_value(&value).map_err(bad)?
                }
                "HAVEN_AUDIO_RED" => self.media.audio_red = parse_value(&value).map_err(bad)?,
                "HAVEN_FAST_PATH" => self.media.fast_path = parse_value(&value).map_err(bad)?,
                "HAVEN_CREATE_SECRET" => self.rooms.create_secret = value,
                "HAVEN_DATA_DIR" => self.store.data_dir = value,
                "HAVEN_ROOMS_PER_ADDRESS_PER_HOUR" => {
                    self.limits.rooms_per_address_per_hour = parse_value(&value).map_err(bad)?
                }
                "HAVEN_ALLOW_ADHOC" => self.rooms.allow_adhoc = parse_value(&value).map_err(bad)?,
                "HAVEN_MAX_PARTICIPANTS" => {
                    self.rooms.max_participants = parse_value(&value).map_err(bad)?
                }
                // Read by main; anything else is a typo.
                "HAVEN_CONFIG" | "HAVEN_LOG" | "HAVEN_LOG_FORMAT" => {}
                _ => return Err(bad("unknown setting".into())),
            }
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if self.rooms.max_participants < 2 {
            return invalid("rooms.max_participants must be at least 2".into());
        }
        if self.limits.rooms_per_address_per_hour == 0 {
            return invalid("limits.rooms_per_address_per_hour must be at least 1".into());
        }
        if self.rooms.max_rooms == 0 {
            return invalid("rooms.max_rooms must be at least 1".into());
        }
        if let Some(url) = self.turn.urls.iter().find(|u| !["turn:", "turns:", "stun:"].iter().any(|p| u.starts_with(p))) {
            return invalid(format!("turn.urls: {url:?} must start with turn:, turns: or stun:"));
        }
        if !self.turn.urls.is_empty() && self.turn.secret.is_empty() {
            return invalid("turn.secret is required with turn.urls (coturn's static-auth-secret)".into());
        }
        if !(60..=7 * 86400).contains(&self.turn.credential_seconds) {
            return invalid("turn.credential_seconds must be between 60 and 604800".into());
        }
        if self.tls.cert.is_empty() != self.tls.key.is_empty() {
            return invalid("tls.cert and tls.key go together: set both or neither".into());
        }
        if self.tls.self_signed && !self.tls.cert.is_empty() {
            return invalid("tls.self_signed and tls.cert exclude each other".into());
        }
        if !(1..=720).contains(&self.store.admin_session_hours) {
            return invalid("store.admin_session_hours must be between 1 and 720".into());
        }
        if self.limits.admin_logins_per_address_per_hour == 0 {
            return invalid("limits.admin_logins_per_address_per_hour must be at least 1".into());
        }
        if self.rooms.reconnect_grace_seconds > 3600 {
            return invalid("rooms.reconnect_grace_seconds must be at most 3600".into());
        }
        if self.limits.max_connections_per_address == 0 {
            return invalid("limits.max_connections_per_address must be at least 1".into());
        }
        if self.limits.joins_per_address_per_minute == 0 {
            return invalid("limits.joins_per_address_per_minute must be at least 1".into());
        }
        if self.limits.messages_per_second < 5 {
            return invalid("limits.messages_per_second must be at least 5 (a join sends several)".into());
        }
        if self.limits.max_message_bytes < 16 * 1024 {
            return invalid("limits.max_message_bytes must be at least 16384".into());
        }
        if self.limits.max_sdp_message_bytes < self.limits.max_message_bytes {
            return invalid("limits.max_sdp_message_bytes must be at least limits.max_message_bytes".into());
        }
        if let Some(ip) = self.media.public_ips.iter().find(|ip| ip.is_unspecified()) {
            return invalid(format!("media.public_ips: {ip} cannot be announced to browsers"));
        }
        if !(1..=MAX_MEDIA_WORKERS).contains(&self.media.workers) {
            return invalid(format!("media.workers must be between 1 and {MAX_MEDIA_WORKERS}"));
        }
        let port = self.media.udp_addr.port();
        if port != 0 && usize::from(port) + self.media.workers - 1 > usize::from(u16::MAX) {
            return invalid("media.workers: the workers' ports (media.udp_addr's and the next ones) pass 65535".into());
        }
        if let Some(o) = self.server.allowed_origins.iter().find(|o| !(o.starts_with("http://") || o.starts_with("https://"))) {
            return invalid(format!("server.allowed_origins: {o:?} must start with http:// or https://"));
        }
        let url = &self.server.public_url;
        let is_web_url = |u: &str| u.starts_with("http://") || u.starts_with("https://");
        if !url.is_empty() && !is_web_url(url) {
            return invalid(format!("server.public_url must start with http:// or https://, not {url:?}"));
        }
        if self.room_defaults.share_seconds > 3600 {
            return invalid("room_defaults.share_seconds must be at most 3600".into());
        }
        let mut seen = std::collections::HashSet::new();
        for room in &self.declared_rooms {
            if !is_valid_room_id(&room.id) {
                return invalid(format!(
                    "room id {:?}: use 1–64 letters, digits, '-' or '_'",
                    room.id
                ));
            }
            if room.share_seconds.is_some_and(|s| s > 3600) {
                return invalid(format!("room {:?}: share_seconds must be at most 3600", room.id));
            }
            if !seen.insert(&room.id) {
                return invalid(format!("room id {:?} is declared twice", room.id));
            }
            let hash = &room.facilitator_key_sha256;
            let is_sha256 = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
            if !hash.is_empty() && !is_sha256 {
                return invalid(format!(
                    "room {:?}: facilitator_key_sha256 must be 64 hex digits",
                    room.id
                ));
            }
        }
        Ok(())
    }
}

/// What `haven check-config` prints in place of a secret that is set (an unset one stays
/// `""`, so the operator still sees that it is missing).
pub const HIDDEN: &str = "(hidden)";

impl Config {
    /// A copy fit to show on a terminal or paste into a support request: `turn.secret` and
    /// every room's `facilitator_key_sha256` replaced by [`HIDDEN`] when set. The hash is
    /// hidden too: a key a person chose can be guessed from it offline. `tls.key` is a path,
    /// shown as it is; the key itself is never read here.
    pub fn masked(&self) -> Config {
        let hide = |value: &mut String| {
            if !value.is_empty() {
                *value = HIDDEN.to_string();
            }
        };
        let mut masked = self.clone();
        hide(&mut masked.turn.secret);
        hide(&mut masked.rooms.create_secret);
        for room in &mut masked.declared_rooms {
            hide(&mut room.facilitator_key_sha256);
        }
        masked
    }

    /// The effective settings as TOML, secrets [`masked`](Config::masked): what
    /// `haven check-config` prints. It reads back with [`Config::from_toml`].
    pub fn to_masked_toml(&self) -> String {
        // Every field is a string, number, bool, address or list of them: nothing TOML lacks.
        toml::to_string(&self.masked()).expect("the configuration serializes as TOML")
    }
}

/// A TOML error told without the text it is about: toml quotes the offending line and serde
/// the offending value, and either may be a secret (`turn.secret`, `rooms.create_secret`)
/// that would end up in the journal or a pasted `check-config` output. The line and column,
/// the key and what was expected are enough to find it.
fn without_values(error: &toml::de::Error, text: &str) -> String {
    // Errors from the parsed table (`text` empty) carry no source line, and their display
    // names the key (`in \`turn.secret\``); a syntax error's display shows the line itself.
    let whole = error.to_string();
    let mut message = String::new();
    let mut rest = if text.is_empty() { whole.as_str() } else { error.message() };
    // serde: "invalid type: integer `98765`, expected a string" — drop the quoted value.
    while let Some(at) = rest.find("invalid type: ").or_else(|| rest.find("invalid value: ")) {
        let Some(open) = rest[at..].find('`').map(|i| at + i) else { break };
        let Some(close) = rest[open + 1..].find('`').map(|i| open + 1 + i) else { break };
        message.push_str(rest[..open].trim_end());
        rest = &rest[close + 1..];
    }
    message.push_str(rest);
    let message = message.trim().to_string();
    match error.span().filter(|_| !text.is_empty()) {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// Room ids appear in URLs: keep them to a safe alphabet.
pub fn is_valid_room_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn parse_value<T: std::str::FromStr>(value: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    value.trim().parse().map_err(|e: T::Err| format!("{value:?}: {e}"))
}

/// An address or a CIDR block; a bare address is a block of one.
pub fn parse_net(value: &str) -> Result<ipnet::IpNet, String> {
    let value = value.trim();
    value
        .parse::<ipnet::IpNet>()
        .or_else(|_| value.parse::<IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{value:?} is neither an address nor a CIDR block (10.0.0.0/8)"))
}

/// Accepts `"127.0.0.1"` as well as `"127.0.0.1/32"` in the file.
fn deserialize_nets<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    let values = Vec::<String>::deserialize(d)?;
    values.iter().map(|v| parse_net(v).map_err(serde::de::Error::custom)).collect()
}

/// Written back as the strings the file takes (`"10.0.0.0/8"`), for `haven check-config`.
fn serialize_nets<S: serde::Serializer>(nets: &[ipnet::IpNet], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(nets.iter().map(ToString::to_string))
}

/// Overlays `over` onto `base`, table by table, so a file names only what it changes.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_valid_and_local() {
        let c = Config::default();
        c.validate().unwrap();
        assert_eq!(c.server.http_addr, "127.0.0.1:8080".parse().unwrap());
        assert!(c.rooms.allow_adhoc);
    }

    #[test]
    fn file_overrides_only_what_it_names() {
        let c = Config::from_toml("[media]\npublic_ips = [\"203.0.113.7\"]\n", "t").unwrap();
        assert_eq!(c.media.public_ips, vec!["203.0.113.7".parse::<IpAddr>().unwrap()]);
        assert_eq!(c.server.http_addr, "127.0.0.1:8080".parse().unwrap());
    }

    #[test]
    fn unknown_key_is_rejected_by_name() {
        let err = Config::from_toml("[server]\nhttp_adr = \"1.2.3.4:1\"\n", "t").unwrap_err();
        assert!(err.to_string().contains("http_adr"), "{err}");
    }

    #[test]
    fn env_overrides_apply_and_typos_are_refused() {
        let mut c = Config::default();
        c.apply_env([
            ("HAVEN_HTTP_ADDR".to_string(), "127.0.0.1:9000".to_string()),
            ("HAVEN_PUBLIC_IPS".to_string(), "198.51.100.1, 198.51.100.2".to_string()),
            ("PATH".to_string(), "/bin".to_string()),
        ])
        .unwrap();
        assert_eq!(c.server.http_addr.port(), 9000);
        assert_eq!(c.media.public_ips.len(), 2);
        let err = c.apply_env([("HAVEN_HTTP_PORT".to_string(), "1".to_string())]).unwrap_err();
        assert!(err.to_string().contains("HAVEN_HTTP_PORT"));
        let err = c.apply_env([("HAVEN_UDP_ADDR".to_string(), "nope".to_string())]).unwrap_err();
        assert!(err.to_string().contains("HAVEN_UDP_ADDR"));
    }

    #[test]
    fn validate_explains_problems() {
        let mut c = Config::default();
        c.media.public_ips = vec!["0.0.0.0".parse().unwrap()];
        assert!(c.validate().unwrap_err().to_string().contains("public_ips"));
        let mut c = Config::default();
        c.declared_rooms.push(DeclaredRoom { id: "bad id!".into(), ..DeclaredRoom::default() });
        assert!(c.validate().unwrap_err().to_string().contains("bad id!"));
    }

    #[test]
    fn trusted_proxies_take_addresses_and_blocks() {
        let c = Config::from_toml("[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\"]\n", "t").unwrap();
        let nets: Vec<String> = c.server.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(nets, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        let err = Config::from_toml("[server]\ntrusted_proxies = [\"nginx\"]\n", "t").unwrap_err();
        assert!(err.to_string().contains("nginx"), "{err}");
        let mut c = Config::default();
        assert!(c.server.trusted_proxies.is_empty(), "no proxy is trusted unless named");
        c.apply_env([("HAVEN_TRUSTED_PROXIES".to_string(), "192.0.2.1, 2001:db8::/32".to_string())]).unwrap();
        assert_eq!(c.server.trusted_proxies.len(), 2);
        assert!(c.apply_env([("HAVEN_TRUSTED_PROXIES".to_string(), "10.0.0.0/33".to_string())]).is_err());
    }

    #[test]
    fn errors_in_the_file_never_repeat_a_secret() {
        for (file, secret) in [
            ("[turn]\nsecret = \"S3cretTurnKey-unterminated\n", "S3cretTurnKey"),
            ("[rooms]\ncreate_secret = Organiser-Code-42\n", "Organiser-Code-42"),
            ("[turn]\nsecret = 98765432109876\n", "98765432109876"),
            ("[rooms]\ncreate_secret = [\"Organiser-Code-42\"]\n", "Organiser-Code-42"),
        ] {
            let err = Config::from_toml(file, "haven.toml").unwrap_err().to_string();
            assert!(!err.contains(secret), "{err}");
            assert!(err.contains("haven.toml"), "{err}");
        }
        // Still says where: the line, or the key.
        let err = Config::from_toml("[turn]\nsecret = 98765432109876\n", "t").unwrap_err().to_string();
        assert!(err.contains("secret"), "{err}");
        let err = Config::from_toml("\n\n[rooms]\ncreate_secret = Organiser\n", "t").unwrap_err().to_string();
        assert!(err.contains("line 4"), "{err}");
    }

    #[test]
    fn media_workers_need_a_port_each() {
        let mut c = Config::default();
        assert_eq!(c.media.workers, 1, "one worker, one port, unless asked");
        c.apply_env([("HAVEN_MEDIA_WORKERS".to_string(), "4".to_string())]).unwrap();
        assert_eq!(c.media.workers, 4);
        c.validate().unwrap();
        c.media.workers = 0;
        assert!(c.validate().unwrap_err().to_string().contains("media.workers"));
        c.media.workers = 2;
        c.media.udp_addr = "127.0.0.1:65535".parse().unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("65535"));
        c.media.udp_addr = "127.0.0.1:0".parse().unwrap();
        c.validate().unwrap();
    }

    #[test]
    fn printed_settings_hide_secrets_and_read_back() {
        let hash = "ab".repeat(32);
        let file = format!(
            "[turn]\nurls = [\"turn:turn.example.org:3478\"]\nsecret = \"coturn-shared-secret\"\n\
             [server]\ntrusted_proxies = [\"10.0.0.0/8\"]\n\
             [[room]]\nid = \"tuesday\"\nfacilitator_key_sha256 = \"{hash}\"\nwaiting_room = true\n"
        );
        let c = Config::from_toml(&file, "t").unwrap();
        let printed = c.to_masked_toml();
        assert!(!printed.contains("coturn-shared-secret"), "{printed}");
        assert!(!printed.contains(&hash), "{printed}");
        assert_eq!(printed.matches(HIDDEN).count(), 2, "{printed}");
        assert!(printed.contains("turn:turn.example.org:3478") && printed.contains("10.0.0.0/8"), "{printed}");
        // Everything else reads back as it was: printing it again gives the same text.
        let back = Config::from_toml(&printed, "printed").unwrap();
        assert_eq!(back.to_masked_toml(), printed);
        assert_eq!(back.declared_rooms[0].waiting_room, Some(true));
        assert_eq!(back.declared_rooms[0].mute_on_entry, None, "unset overrides stay unset");
    }

    #[test]
    fn no_data_dir_means_no_store_and_the_env_sets_one() {
        let mut c = Config::default();
        assert!(!c.store.enabled(), "out of the box Haven writes nothing");
        c.apply_env([("HAVEN_DATA_DIR".to_string(), "/var/lib/haven".to_string())]).unwrap();
        assert!(c.store.enabled());
        let c = Config::from_toml("[store]\ndata_dir = \"/srv/haven\"\nadmin_session_hours = 0\n", "t").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("admin_session_hours"));
        let err = Config::from_toml("[store]\ndatadir = \"x\"\n", "t").unwrap_err();
        assert!(err.to_string().contains("datadir"), "{err}");
    }

    #[test]
    fn unset_secrets_print_empty_not_hidden() {
        let printed = Config::default().to_masked_toml();
        assert!(!printed.contains(HIDDEN), "{printed}");
        assert!(printed.contains("secret = \"\""), "{printed}");
    }
}

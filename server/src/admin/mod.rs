//! The admin API under `/api/admin` (JSON, stable error codes; docs/admin.md): sign in and
//! out, meetings made, edited, archived and listed, facilitator links issued (the secret
//! shown once), rotated and revoked, and how many people are in each live meeting (counts
//! only). Every change is written to the store first, then handed to the hub.
//! Imports store, schedule, standing, hub, config, limits, client_addr, origin, ids, protocol
//! (the key id's check).

mod auth;
mod error;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};

pub use auth::{hash_password, MIN_PASSWORD_CHARS};
pub use error::AdminError;

use crate::config::Config;
use crate::hub::{HubCommand, HubHandle};
use crate::limits::AddressLimits;
use crate::schedule::Schedule;
use crate::store::{MeetingEdit, MeetingRecord, MeetingSettings, NewMeeting, Reading, Store, StoreError};

/// Longest description, label and location, in characters.
const MAX_DESCRIPTION_CHARS: usize = 4000;
const MAX_LABEL_CHARS: usize = 80;
const MAX_LOCATION_CHARS: usize = 200;

#[derive(Clone)]
pub struct AdminState {
    pub hub: HubHandle,
    pub config: Arc<Config>,
    pub limits: Arc<AddressLimits>,
    /// `None` without `store.data_dir`: every endpoint answers `admin_disabled`.
    pub store: Option<Store>,
}

pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/live", get(live))
        .route("/meetings", get(list_meetings).post(create_meeting))
        .route("/meetings/{slug}", get(get_meeting).patch(edit_meeting))
        .route("/meetings/{slug}/archive", post(archive))
        .route("/meetings/{slug}/unarchive", post(unarchive))
        .route("/meetings/{slug}/e2ee-key-id", post(set_e2ee_key_id))
        .route("/meetings/{slug}/keys", get(list_keys).post(issue_key))
        .route("/meetings/{slug}/keys/{id}", axum::routing::delete(revoke_key))
        .route("/meetings/{slug}/keys/{id}/rotate", post(rotate_key))
        .fallback(|| async { AdminError::BadRequest("no such admin endpoint".into()) })
        .with_state(state)
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

type Reply = Result<Response, AdminError>;

impl AdminState {
    /// The store, and the CSRF rules met.
    fn guard(&self, headers: &HeaderMap) -> Result<&Store, AdminError> {
        let store = self.store.as_ref().ok_or(AdminError::Disabled)?;
        auth::check_request(&self.config, headers)?;
        Ok(store)
    }

    /// [`guard`](Self::guard), and a live session.
    async fn signed_in(&self, headers: &HeaderMap) -> Result<&Store, AdminError> {
        let store = self.guard(headers)?;
        let token = auth::session_token(headers).ok_or(AdminError::Unauthenticated)?;
        let hash = auth::token_hash(&token);
        let now = unix_now();
        match store.run(move |db| db.session_admin(&hash, now)).await? {
            Some(_) => Ok(store),
            None => Err(AdminError::Unauthenticated),
        }
    }

    /// Hands the stored meeting, as it now is, to the hub.
    async fn publish(&self, store: &Store, slug: &str) -> Result<(), AdminError> {
        let owned = slug.to_string();
        let record = store.run(move |db| db.standing_one(&owned)).await?;
        let room = crate::standing::room(&self.config, record);
        match self.hub.ask(|reply| HubCommand::PutStanding { room, reply }).await {
            Some(Ok(())) => Ok(()),
            Some(Err(_)) => Err(AdminError::SlugTaken),
            None => Err(AdminError::Stopping),
        }
    }

    async fn live_counts(&self) -> Vec<(String, usize)> {
        self.hub.ask(|reply| HubCommand::LiveCounts { reply }).await.unwrap_or_default()
    }
}

/// A JSON body, or `bad_request` (which a missing `Content-Type: application/json` is too).
fn body<T>(json: Result<Json<T>, JsonRejection>) -> Result<T, AdminError> {
    json.map(|Json(t)| t).map_err(|e| AdminError::BadRequest(e.body_text()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    name: String,
    password: String,
}

async fn login(
    State(state): State<AdminState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    json: Result<Json<Login>, JsonRejection>,
) -> Reply {
    let store = state.guard(&headers)?.clone();
    // Counted before anything is checked: a guesser pays for every try.
    let client = crate::client_addr::client_ip(peer.ip(), &headers, &state.config.server.trusted_proxies);
    if !state.limits.try_login(client, Instant::now()) {
        return Err(AdminError::TooManyLogins);
    }
    auth::may_sign_in(&state.config, client)?;
    let Login { name, password } = body(json)?;
    let found = store.run(move |db| db.admin_password(&name)).await?;
    let checked = tokio::task::spawn_blocking(move || {
        let ok = auth::verify_password(&password, found.as_ref().map(|(_, phc)| phc.as_str()));
        found.filter(|_| ok).map(|(id, _)| id)
    })
    .await
    .map_err(|_| AdminError::Stopping)?;
    let admin_id = checked.ok_or(AdminError::BadCredentials)?;
    let token = crate::ids::random_token(32);
    let hash = auth::token_hash(&token);
    let max_age = u64::from(state.config.store.admin_session_hours) * 3600;
    let expires = unix_now() + max_age as i64;
    store.run(move |db| db.create_session(&hash, admin_id, expires)).await?;
    tracing::info!("admin signed in");
    let cookie = auth::cookie(&state.config, Some(&token), max_age);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

async fn logout(State(state): State<AdminState>, headers: HeaderMap) -> Reply {
    let store = state.guard(&headers)?;
    if let Some(token) = auth::session_token(&headers) {
        let hash = auth::token_hash(&token);
        store.run(move |db| db.delete_session(&hash)).await?;
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, auth::cookie(&state.config, None, 0))]).into_response())
}

/// People in each live stored meeting: `[{"slug": "tuesday-night", "people": 7}]`.
async fn live(State(state): State<AdminState>, headers: HeaderMap) -> Reply {
    state.signed_in(&headers).await?;
    let live: Vec<_> = state
        .live_counts()
        .await
        .into_iter()
        .map(|(slug, people)| serde_json::json!({ "slug": slug, "people": people }))
        .collect();
    Ok(Json(live).into_response())
}

/// A meeting as the API shows it: the record, its member link, people in it now.
fn meeting_json(state: &AdminState, headers: &HeaderMap, m: &MeetingRecord, people: usize) -> serde_json::Value {
    let mut json = serde_json::to_value(m).expect("records serialize");
    let base = crate::origin::base_url(&state.config, headers);
    json["join_url"] = format!("{base}/m/{}", m.slug).into();
    json["people"] = people.into();
    json
}

async fn list_meetings(State(state): State<AdminState>, headers: HeaderMap) -> Reply {
    let store = state.signed_in(&headers).await?;
    let meetings = store.run(|db| db.meetings()).await?;
    let live = state.live_counts().await;
    let people = |slug: &str| live.iter().find(|(s, _)| s == slug).map_or(0, |(_, n)| *n);
    let list: Vec<_> = meetings.iter().map(|m| meeting_json(&state, &headers, m, people(&m.slug))).collect();
    Ok(Json(list).into_response())
}

async fn get_meeting(State(state): State<AdminState>, headers: HeaderMap, Path(slug): Path<String>) -> Reply {
    let store = state.signed_in(&headers).await?;
    let m = store.run(move |db| db.meeting(&slug)).await?;
    let people = state.live_counts().await.into_iter().find(|(s, _)| *s == m.slug).map_or(0, |(_, n)| n);
    Ok(Json(meeting_json(&state, &headers, &m, people)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeetingInput {
    /// Omitted: made from the title with a random tail (`tuesday-night-k3m9qa`), so an
    /// unlisted meeting's link cannot be guessed.
    slug: Option<String>,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    language: String,
    /// Meeting Guide type codes (`crate::meeting_types`).
    #[serde(default)]
    types: Vec<String>,
    /// An approximate place for the Meeting Guide feed ("Chicago, IL, USA").
    #[serde(default)]
    location: String,
    #[serde(default)]
    guidelines: String,
    /// `[{title, text}]`, read together after the guidelines.
    #[serde(default)]
    readings: Vec<Reading>,
    #[serde(default)]
    settings: MeetingSettings,
    #[serde(default)]
    schedule: Option<Schedule>,
    #[serde(default)]
    listed: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MeetingPatch {
    title: Option<String>,
    description: Option<String>,
    language: Option<String>,
    types: Option<Vec<String>>,
    location: Option<String>,
    guidelines: Option<String>,
    readings: Option<Vec<Reading>>,
    settings: Option<MeetingSettings>,
    /// Absent: unchanged; `null`: removed (always open).
    #[serde(default, deserialize_with = "present")]
    schedule: Option<Option<Schedule>>,
    listed: Option<bool>,
}

/// A field that is present, even as `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Known codes only, each once, in the table's order (`invalid_meeting` otherwise).
fn meeting_types(codes: &[String]) -> Result<Vec<String>, AdminError> {
    crate::meeting_types::normalize(codes)
        .map_err(|code| AdminError::InvalidMeeting(format!("{code:?} is not a meeting type Haven knows (see docs/admin.md).")))
}

/// Meeting ids are links people type and read: lower-case, digits, inner dashes.
pub fn is_valid_slug(slug: &str) -> bool {
    let b = slug.as_bytes();
    (3..=64).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// `"Tuesday Night (Step 3)"` → `tuesday-night-step-3-<random>`.
fn slug_from_title(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let stem = slug.trim_matches('-');
    let stem = if stem.is_empty() { "meeting" } else { stem };
    format!("{stem}-{}", crate::ids::random_token(6))
}

/// The checks a meeting passes before it is stored: the room's own rules for title,
/// guidelines and timer (as a facilitator's live change meets), the rest here.
fn check_meeting(config: &Config, m: &MeetingRecord) -> Result<(), AdminError> {
    // An empty title would fall back to `[room_defaults]`'s: say so instead.
    if m.title.trim().is_empty() {
        return Err(AdminError::InvalidMeeting("A meeting needs a title.".into()));
    }
    crate::standing::settings(config, m).validate().map_err(|e| AdminError::InvalidMeeting(e.message()))?;
    if m.description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AdminError::InvalidMeeting(format!("A description is at most {MAX_DESCRIPTION_CHARS} characters.")));
    }
    if m.location.chars().count() > MAX_LOCATION_CHARS || m.location.chars().any(char::is_control) {
        return Err(AdminError::InvalidMeeting(format!(
            "A location is one line of at most {MAX_LOCATION_CHARS} characters: a city or region such as \"Chicago, IL, USA\"."
        )));
    }
    let lang = &m.language;
    if lang.len() > 35 || !lang.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(AdminError::InvalidMeeting("language is a language tag such as en or es-MX.".into()));
    }
    if let Some(schedule) = &m.schedule {
        schedule.compile()?;
    }
    Ok(())
}

async fn create_meeting(State(state): State<AdminState>, headers: HeaderMap, json: Result<Json<MeetingInput>, JsonRejection>) -> Reply {
    let store = state.signed_in(&headers).await?;
    let input = body(json)?;
    let slug = match input.slug {
        Some(slug) if is_valid_slug(&slug) => slug,
        Some(_) => return Err(AdminError::InvalidSlug),
        None => slug_from_title(&input.title),
    };
    let new = NewMeeting {
        slug: slug.clone(),
        title: input.title,
        description: input.description,
        language: input.language,
        types: meeting_types(&input.types)?,
        location: input.location.trim().to_string(),
        guidelines: input.guidelines,
        readings: input.readings,
        settings: input.settings,
        schedule: input.schedule,
        listed: input.listed,
    };
    let as_record = MeetingRecord {
        slug: new.slug.clone(),
        title: new.title.clone(),
        description: new.description.clone(),
        language: new.language.clone(),
        types: new.types.clone(),
        location: new.location.clone(),
        guidelines: new.guidelines.clone(),
        readings: new.readings.clone(),
        settings: new.settings.clone(),
        schedule: new.schedule.clone(),
        listed: new.listed,
        archived: false,
        e2ee_key_id: None,
        created_at: 0,
        updated_at: 0,
    };
    check_meeting(&state.config, &as_record)?;
    // A `[[room]]` of the config file, or a live ad-hoc meeting, has the id already.
    let id = slug.clone();
    let in_use = state.config.declared_rooms.iter().any(|r| r.id == slug)
        || matches!(state.hub.ask(|reply| HubCommand::RoomInfo { id, reply }).await, Some(Some(_)));
    if in_use {
        return Err(AdminError::SlugTaken);
    }
    let now = unix_now();
    let m = store.run(move |db| db.create_meeting(&new, now)).await?;
    state.publish(store, &m.slug).await?;
    tracing::info!(meeting = %m.slug, "standing meeting created");
    Ok((StatusCode::CREATED, Json(meeting_json(&state, &headers, &m, 0))).into_response())
}

async fn edit_meeting(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    json: Result<Json<MeetingPatch>, JsonRejection>,
) -> Reply {
    let store = state.signed_in(&headers).await?;
    let patch = body(json)?;
    let edit = MeetingEdit {
        title: patch.title,
        description: patch.description,
        language: patch.language,
        types: patch.types.as_deref().map(meeting_types).transpose()?,
        location: patch.location.map(|l| l.trim().to_string()),
        guidelines: patch.guidelines,
        readings: patch.readings,
        settings: patch.settings,
        schedule: patch.schedule,
        listed: patch.listed,
        archived: None,
    };
    apply_edit(&state, store, &headers, slug, edit).await
}

async fn apply_edit(state: &AdminState, store: &Store, headers: &HeaderMap, slug: String, edit: MeetingEdit) -> Reply {
    // Checked as it would be after the change, before anything is written.
    let owned = slug.clone();
    let mut after = store.run(move |db| db.meeting(&owned)).await?;
    macro_rules! set {
        ($($f:ident),*) => { $( if let Some(v) = &edit.$f { after.$f = v.clone(); } )* };
    }
    set!(title, description, language, location, guidelines, readings, schedule);
    if let Some(s) = &edit.settings {
        after.settings.merge(s);
    }
    check_meeting(&state.config, &after)?;
    let now = unix_now();
    let m = store.run(move |db| db.edit_meeting(&slug, &edit, now)).await?;
    state.publish(store, &m.slug).await?;
    let people = state.live_counts().await.into_iter().find(|(s, _)| *s == m.slug).map_or(0, |(_, n)| n);
    Ok(Json(meeting_json(state, headers, &m, people)).into_response())
}

async fn archive(State(state): State<AdminState>, headers: HeaderMap, Path(slug): Path<String>) -> Reply {
    let store = state.signed_in(&headers).await?;
    apply_edit(&state, store, &headers, slug, MeetingEdit { archived: Some(true), ..Default::default() }).await
}

async fn unarchive(State(state): State<AdminState>, headers: HeaderMap, Path(slug): Path<String>) -> Reply {
    let store = state.signed_in(&headers).await?;
    apply_edit(&state, store, &headers, slug, MeetingEdit { archived: Some(false), ..Default::default() }).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyIdInput {
    /// The key id of the links just made (`null`: forget it, every link joins).
    key_id: serde_json::Value,
}

/// The admin page made new encrypted links: their key id (never the key) is kept, and the
/// meeting, live or not, refuses pages whose key has another from now on (docs/e2ee.md).
async fn set_e2ee_key_id(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    json: Result<Json<KeyIdInput>, JsonRejection>,
) -> Reply {
    let store = state.signed_in(&headers).await?;
    let given = body(json)?.key_id;
    let key_id = match given {
        serde_json::Value::Null => None,
        other => Some(crate::protocol::key_id_from_json(&other).ok_or(AdminError::InvalidKeyId)?),
    };
    let owned = slug.clone();
    let m = store.run(move |db| db.meeting(&owned)).await?;
    if key_id.is_some() && !m.settings.is_e2ee() {
        return Err(AdminError::InvalidKeyId);
    }
    let now = unix_now();
    let m = store.run(move |db| db.set_e2ee_key_id(&slug, key_id, now)).await?;
    state.publish(store, &m.slug).await?;
    let people = state.live_counts().await.into_iter().find(|(s, _)| *s == m.slug).map_or(0, |(_, n)| n);
    Ok(Json(meeting_json(&state, &headers, &m, people)).into_response())
}

async fn list_keys(State(state): State<AdminState>, headers: HeaderMap, Path(slug): Path<String>) -> Reply {
    let store = state.signed_in(&headers).await?;
    Ok(Json(store.run(move |db| db.keys(&slug)).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyInput {
    label: String,
}

/// A new facilitator secret: the link carrying it is in this one answer, only its hash kept.
fn new_secret() -> (String, [u8; 32]) {
    let secret = crate::ids::random_token(24);
    let hash = Sha256::digest(secret.as_bytes()).into();
    (secret, hash)
}

fn issued(state: &AdminState, headers: &HeaderMap, slug: &str, key: crate::store::KeyRecord, secret: &str) -> Response {
    let base = crate::origin::base_url(&state.config, headers);
    let mut json = serde_json::to_value(&key).expect("records serialize");
    json["facilitator_url"] = format!("{base}/m/{slug}#key={secret}").into();
    // It carries the secret: no cache may keep it.
    (StatusCode::CREATED, [(header::CACHE_CONTROL, "no-store")], Json(json)).into_response()
}

async fn issue_key(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    json: Result<Json<KeyInput>, JsonRejection>,
) -> Reply {
    let store = state.signed_in(&headers).await?;
    let label = body(json)?.label.trim().to_string();
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
        return Err(AdminError::InvalidLabel);
    }
    let (secret, hash) = new_secret();
    let (owned, now) = (slug.clone(), unix_now());
    let key = store.run(move |db| db.add_key(&owned, &label, &hash, now)).await?;
    state.publish(store, &slug).await?;
    Ok(issued(&state, &headers, &slug, key, &secret))
}

fn key_id(id: &str) -> Result<i64, AdminError> {
    id.parse().map_err(|_| AdminError::UnknownKey)
}

async fn rotate_key(State(state): State<AdminState>, headers: HeaderMap, Path((slug, id)): Path<(String, String)>) -> Reply {
    let store = state.signed_in(&headers).await?;
    let id = key_id(&id)?;
    let (secret, hash) = new_secret();
    let (owned, now) = (slug.clone(), unix_now());
    let key = store.run(move |db| db.rotate_key(&owned, id, &hash, now)).await?;
    state.publish(store, &slug).await?;
    Ok(issued(&state, &headers, &slug, key, &secret))
}

async fn revoke_key(State(state): State<AdminState>, headers: HeaderMap, Path((slug, id)): Path<(String, String)>) -> Reply {
    let store = state.signed_in(&headers).await?;
    let id = key_id(&id)?;
    let (owned, now) = (slug.clone(), unix_now());
    let key = store.run(move |db| db.revoke_key(&owned, id, now)).await?;
    state.publish(store, &slug).await?;
    Ok(Json(key).into_response())
}

/// `haven admin create`: adds an admin to the store of `config` (blocking). Refuses a name
/// taken and a password shorter than [`MIN_PASSWORD_CHARS`].
pub fn create_admin(config: &Config, name: &str, password: &str) -> Result<(), CreateAdminError> {
    if !config.store.enabled() {
        return Err(CreateAdminError::NoStore);
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(CreateAdminError::BadName);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(CreateAdminError::ShortPassword);
    }
    let store = Store::open(std::path::Path::new(&config.store.data_dir))?;
    let phc = hash_password(password);
    store.run_blocking(|db| db.create_admin(name, &phc, unix_now()))?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum CreateAdminError {
    #[error("store.data_dir is not set (HAVEN_DATA_DIR or [store] in the config file): there is nowhere to keep admins")]
    NoStore,
    #[error("an admin name is 1 to 64 characters")]
    BadName,
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    ShortPassword,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_words_with_inner_dashes() {
        for good in ["tuesday-night", "abc", "step-3-women", &"a".repeat(64)] {
            assert!(is_valid_slug(good), "{good}");
        }
        for bad in ["ab", "Tuesday", "-tuesday", "tuesday-", "tues day", "tuesday_night", "über", &"a".repeat(65)] {
            assert!(!is_valid_slug(bad), "{bad}");
        }
    }

    #[test]
    fn a_slug_made_from_a_title_is_valid_and_unguessable() {
        let a = slug_from_title("Tuesday Night (Step 3)!");
        assert!(a.starts_with("tuesday-night-step-3-"), "{a}");
        assert!(is_valid_slug(&a), "{a}");
        assert_ne!(a, slug_from_title("Tuesday Night (Step 3)!"));
        assert!(is_valid_slug(&slug_from_title("¿¿??")));
    }
}

//! The public directory: `/meetings` (the listed meetings, shown in the visitor's time zone
//! by the browser) and `/meetings/{slug}` (one listed meeting's page; an unlisted or
//! archived one is a 404, while its `.ics` goes to `feeds`), and their JSON,
//! `/api/directory` and `/api/directory/{slug}`: each listed meeting's next times as
//! instants and whether anyone is in it now ("live now"), never how many. The entry builder
//! is pure (time passed in). Imports feeds, store (records), schedule, hub (`LiveCounts`),
//! origin, web_assets.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

use crate::feeds::{self, FeedsState};
use crate::hub::{HubCommand, HubHandle};
use crate::store::MeetingRecord;
use crate::web_assets::WebAssets;

/// The list shows a week and a day ahead (a day filter needs every day of the week, in any
/// visitor's time zone); a meeting's page a few weeks.
const LIST_DAYS: i64 = 8;
const LIST_LIMIT: usize = 64;
const PAGE_DAYS: i64 = 35;
const PAGE_LIMIT: usize = 8;

#[derive(Clone)]
pub struct DirectoryState {
    pub feeds: FeedsState,
    pub hub: HubHandle,
    pub web: WebAssets,
}

pub fn router(state: DirectoryState) -> Router {
    Router::new()
        .route("/meetings", get(directory_page))
        .route("/meetings/{file}", get(meeting_file))
        .route("/api/directory", get(list))
        .route("/api/directory/{slug}", get(one))
        .with_state(state)
}

fn is_public(m: &MeetingRecord) -> bool {
    m.listed && !m.archived
}

/// A listed meeting as the directory shows it: its occurrences not over at `now` that start
/// within `days` (at most `limit`), or else its next one; `live` when anyone is in it.
pub fn entry(m: &MeetingRecord, base_url: &str, live: bool, now: Timestamp, days: i64, limit: usize) -> Value {
    let compiled = m.schedule.as_ref().and_then(|s| s.compile().ok());
    let next = compiled.map_or_else(Vec::new, |c| {
        let within = c.occurrences_until(now, now + SignedDuration::from_hours(24 * days), limit);
        if within.is_empty() { c.occurrences_after(now, 1) } else { within }
    });
    let next: Vec<Value> =
        next.iter().map(|o| json!({ "start": o.start.as_second(), "end": o.end.as_second() })).collect();
    let schedule = m.schedule.as_ref();
    json!({
        "slug": m.slug,
        "title": m.title,
        "description": m.description,
        "language": m.language,
        "types": m.types.iter().map(|code| json!({
            "code": code,
            "name": crate::meeting_types::name(code).unwrap_or(code),
        })).collect::<Vec<_>>(),
        // `null` for an encrypted meeting: the link that works carries a key the server never has.
        "join_url": (!m.settings.is_e2ee()).then(|| format!("{base_url}/m/{}", m.slug)),
        "e2ee": m.settings.is_e2ee(),
        "time_zone": schedule.map(|s| s.time_zone.as_str()),
        "duration_minutes": schedule.map(|s| s.duration_minutes),
        // Without a schedule, or with no window: members may come in any time.
        "opens_minutes_before": schedule.and_then(|s| s.opens_minutes_before),
        "live": live,
        "next": next,
    })
}

impl DirectoryState {
    /// The listed meetings, or `Err` with the answer to give.
    async fn public_meetings(&self) -> Result<Vec<MeetingRecord>, Response> {
        let Some(store) = &self.feeds.store else { return Ok(Vec::new()) };
        match store.run(|db| db.meetings()).await {
            Ok(all) => Ok(all.into_iter().filter(is_public).collect()),
            Err(_) => Err(feeds::store_failed()),
        }
    }

    /// The slugs of the stored meetings with anyone in them (waiting room included).
    async fn live(&self) -> Vec<String> {
        let counts = self.hub.ask(|reply| HubCommand::LiveCounts { reply }).await.unwrap_or_default();
        counts.into_iter().filter(|(_, people)| *people > 0).map(|(slug, _)| slug).collect()
    }
}

/// The last segment of the path: mounted with `route_service`, the outer router has taken
/// the parameter already.
fn last_segment(uri: &Uri) -> &str {
    uri.path().rsplit('/').next().unwrap_or_default()
}

async fn directory_page(State(state): State<DirectoryState>) -> Response {
    state.web.page("meetings.html", StatusCode::OK).await
}

/// `/meetings/{slug}`: the listed meeting's page; `/meetings/{slug}.ics`: its calendar.
async fn meeting_file(State(state): State<DirectoryState>, headers: HeaderMap, uri: Uri) -> Response {
    let file = last_segment(&uri);
    if let Some(slug) = file.strip_suffix(".ics") {
        return feeds::calendar(&state.feeds, &headers, slug).await;
    }
    match state.public_meetings().await {
        Ok(listed) if listed.iter().any(|m| m.slug == file) => state.web.page("meetings.html", StatusCode::OK).await,
        // An unlisted meeting's slug is its member link's secret: not even "it exists".
        Ok(_) => state.web.page("not-found.html", StatusCode::NOT_FOUND).await,
        Err(refusal) => refusal,
    }
}

async fn list(State(state): State<DirectoryState>, headers: HeaderMap) -> Response {
    let meetings = match state.public_meetings().await {
        Ok(m) => m,
        Err(refusal) => return refusal,
    };
    let (live, now) = (state.live().await, Timestamp::now());
    let base = crate::origin::base_url(&state.feeds.config, &headers);
    let mut entries: Vec<Value> = meetings
        .iter()
        .map(|m| entry(m, &base, live.contains(&m.slug), now, LIST_DAYS, LIST_LIMIT))
        .collect();
    // Soonest first; meetings with no coming time last.
    entries.sort_by_key(|e| e["next"][0]["start"].as_i64().unwrap_or(i64::MAX));
    Json(entries).into_response()
}

async fn one(State(state): State<DirectoryState>, headers: HeaderMap, uri: Uri) -> Response {
    let slug = last_segment(&uri);
    let meetings = match state.public_meetings().await {
        Ok(m) => m,
        Err(refusal) => return refusal,
    };
    let Some(m) = meetings.iter().find(|m| m.slug == slug) else { return feeds::not_found() };
    let live = state.live().await.contains(&m.slug);
    let base = crate::origin::base_url(&state.feeds.config, &headers);
    Json(entry(m, &base, live, Timestamp::now(), PAGE_DAYS, PAGE_LIMIT)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{Day, Rule, Schedule};

    fn meeting(schedule: Option<Schedule>) -> MeetingRecord {
        MeetingRecord {
            slug: "tuesday-night".into(),
            title: "Tuesday night".into(),
            description: "Open meeting".into(),
            language: "en".into(),
            types: vec!["O".into(), "BE".into()],
            location: String::new(),
            guidelines: String::new(),
            readings: Vec::new(),
            settings: Default::default(),
            schedule,
            listed: true,
            archived: false,
            e2ee_key_id: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn tuesdays_at(time: &str) -> Schedule {
        Schedule {
            time_zone: "America/New_York".into(),
            rules: vec![Rule::Weekly { days: vec![Day::Tue], time: time.into() }],
            duration_minutes: 60,
            opens_minutes_before: Some(15),
        }
    }

    #[test]
    fn an_encrypted_meeting_has_no_join_link_in_the_directory() {
        let now: Timestamp = "2026-12-01T23:30:00Z".parse().unwrap();
        let mut m = meeting(Some(tuesdays_at("19:00")));
        assert_eq!(entry(&m, "https://meet.example.org", false, now, 8, 64)["e2ee"], false);
        m.settings.e2ee = Some(true);
        let e = entry(&m, "https://meet.example.org", false, now, 8, 64);
        assert_eq!(e["join_url"], Value::Null);
        assert_eq!(e["e2ee"], true);
    }

    #[test]
    fn an_entry_has_the_next_times_as_instants_and_a_live_flag_never_a_count() {
        let now: Timestamp = "2026-12-01T23:30:00Z".parse().unwrap(); // Tuesday 18:30 in New York
        let e = entry(&meeting(Some(tuesdays_at("19:00"))), "https://meet.example.org", true, now, 8, 64);
        assert_eq!(e["join_url"], "https://meet.example.org/m/tuesday-night");
        assert_eq!(e["live"], true);
        assert_eq!(e["time_zone"], "America/New_York");
        assert_eq!(e["opens_minutes_before"], 15);
        assert_eq!(e["types"], json!([{"code": "O", "name": "Open"}, {"code": "BE", "name": "Newcomer"}]));
        let starts: Vec<i64> = e["next"].as_array().unwrap().iter().map(|o| o["start"].as_i64().unwrap()).collect();
        let first: Timestamp = "2026-12-02T00:00:00Z".parse().unwrap();
        assert_eq!(starts, [first.as_second(), first.as_second() + 7 * 86400]);
        assert_eq!(e["next"][0]["end"].as_i64(), Some(first.as_second() + 3600));
        let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
        assert!(!keys.iter().any(|k| k.contains("people") || k.contains("count")), "{keys:?}");
    }

    #[test]
    fn a_meeting_in_progress_comes_first_and_one_beyond_the_window_still_shows_its_next_time() {
        let now: Timestamp = "2026-12-02T00:30:00Z".parse().unwrap(); // half way through
        let e = entry(&meeting(Some(tuesdays_at("19:00"))), "", false, now, 1, 64);
        assert_eq!(e["next"].as_array().unwrap().len(), 1);
        assert_eq!(e["next"][0]["start"].as_i64(), Some(now.as_second() - 1800));
        let later = entry(&meeting(Some(tuesdays_at("19:00"))), "", false, now + SignedDuration::from_hours(1), 1, 64);
        assert_eq!(later["next"][0]["start"].as_i64(), Some(now.as_second() - 1800 + 7 * 86400));
        let unscheduled = entry(&meeting(None), "", false, now, 8, 64);
        assert_eq!(unscheduled["next"], json!([]));
        assert_eq!(unscheduled["time_zone"], Value::Null);
    }

    #[test]
    fn only_listed_live_meetings_are_public() {
        let mut m = meeting(None);
        assert!(is_public(&m));
        m.archived = true;
        assert!(!is_public(&m));
        m.archived = false;
        m.listed = false;
        assert!(!is_public(&m));
    }
}

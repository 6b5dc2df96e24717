//! Public feeds of the listed stored meetings: `/meetings.json` in the Meeting Guide format
//! (code4recovery's spec: weekly meetings as `day` 0–6 from Sunday, `time` and `end_time` as
//! `HH:MM`, `timezone`, `conference_url` to the member link) and `/meetings/{slug}.ics`
//! (RFC 5545: one `VEVENT` per rule with its `RRULE`, the zone's `VTIMEZONE`). The feed
//! and calendar builders are pure (time passed in); the routes read the store off the
//! runtime. Imports store (records), schedule, origin, config.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use jiff::civil::DateTime;
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

use crate::config::Config;
use crate::schedule::{Day, Rule, Schedule};
use crate::store::{MeetingRecord, Store};

/// Meeting Guide's type for an online meeting, from the 12 Step Meeting List plugin. The
/// current spec tells an online meeting by its `conference_url` (always set here); `ONL`
/// is kept for the readers that still look for it, and no other type uses the code.
pub const ONLINE_TYPE: &str = "ONL";

/// Said in place of a join link for an end-to-end encrypted meeting (its link's key is
/// not the server's to publish).
pub const E2EE_NOTE: &str = "End-to-end encrypted: ask the group for the link.";

/// Meeting Guide's language types for a meeting's BCP 47 language (its primary subtag).
fn language_type(language: &str) -> Option<&'static str> {
    let primary = language.split('-').next()?.to_ascii_lowercase();
    Some(match primary.as_str() {
        "en" => "EN",
        "es" => "S",
        "fr" => "FR",
        "de" => "DE",
        "it" => "ITA",
        "pt" => "POR",
        "pl" => "POL",
        "ru" => "RUS",
        "uk" => "UK",
        "ja" => "JA",
        "ko" => "KOR",
        "nl" => "NL",
        "sv" => "SV",
        "no" | "nb" | "nn" => "NO",
        "da" => "DA",
        "he" => "HE",
        "hi" => "HI",
        "fa" => "FA",
        "el" => "EL",
        "hu" => "HU",
        "hr" => "HR",
        "lt" => "LT",
        "sk" => "SK",
        "th" => "TH",
        "tl" => "TL",
        _ => return None,
    })
}

/// `"7:05"` → `"07:05"`; the spec wants five characters.
fn hh_mm(time: &str) -> String {
    match time.split_once(':') {
        Some((h, m)) => format!("{:0>2}:{m}", h),
        None => time.to_string(),
    }
}

fn end_time(time: &str, minutes: u32) -> String {
    let (h, m) = time.split_once(':').unwrap_or(("0", "0"));
    let start = h.parse::<u32>().unwrap_or(0) * 60 + m.parse::<u32>().unwrap_or(0);
    let end = (start + minutes) % (24 * 60);
    format!("{:02}:{:02}", end / 60, end % 60)
}

/// The Meeting Guide feed: one entry per listed, live meeting and weekly start time
/// (meetings at two times of the week get `slug`, `slug-2`, …); a meeting with no weekly
/// rule is listed without `day` and `time` ("by appointment"), as the spec allows. Monthly
/// and one-off dates are not in this format (the spec is for weekly meetings): they are in
/// each meeting's calendar.
pub fn meeting_guide(meetings: &[MeetingRecord], base_url: &str) -> Value {
    let mut out = Vec::new();
    for m in meetings.iter().filter(|m| m.listed && !m.archived) {
        let mut types = vec![ONLINE_TYPE];
        types.extend(language_type(&m.language));
        // The organisation's own types; never a duplicate of the two above.
        types.extend(m.types.iter().map(String::as_str).filter(|t| *t != ONLINE_TYPE && Some(*t) != language_type(&m.language)));
        let updated = Timestamp::from_second(m.updated_at).unwrap_or(Timestamp::UNIX_EPOCH);
        let mut base = json!({
            "name": m.title.chars().take(255).collect::<String>(),
            "slug": m.slug,
            "conference_url": format!("{base_url}/m/{}", m.slug),
            "types": types,
            "updated": updated.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        });
        // The member link without its key opens nothing: the spec's notes say where to get it.
        if m.settings.is_e2ee() {
            base.as_object_mut().expect("an object").remove("conference_url");
            base["conference_url_notes"] = E2EE_NOTE.into();
        }
        if !m.description.is_empty() {
            base["notes"] = m.description.clone().into();
        }
        // The Meeting Guide app lists a meeting only with a place: for an online one an
        // approximate one, its point of origin (the spec's "formatted_address").
        if !m.location.is_empty() {
            base["formatted_address"] = m.location.clone().into();
            base["approximate"] = "yes".into();
        }
        let weekly: Vec<(String, Vec<Day>)> = m.schedule.as_ref().map_or_else(Vec::new, |s| {
            let mut by_time: Vec<(String, Vec<Day>)> = Vec::new();
            for rule in &s.rules {
                if let Rule::Weekly { days, time } = rule {
                    let time = hh_mm(time);
                    match by_time.iter_mut().find(|(t, _)| *t == time) {
                        Some((_, all)) => all.extend(days.iter().filter(|d| !all.contains(d)).collect::<Vec<_>>()),
                        None => by_time.push((time, days.clone())),
                    }
                }
            }
            by_time
        });
        if let Some(schedule) = &m.schedule {
            base["timezone"] = schedule.time_zone.clone().into();
        }
        if weekly.is_empty() {
            out.push(base);
            continue;
        }
        let minutes = m.schedule.as_ref().map_or(60, |s| s.duration_minutes);
        for (i, (time, days)) in weekly.into_iter().enumerate() {
            let mut entry = base.clone();
            if i > 0 {
                // Unique within the feed, as the spec asks; still under 64 characters.
                entry["slug"] = format!("{}-{}", m.slug.chars().take(60).collect::<String>(), i + 1).into();
            }
            let mut days: Vec<u8> = days.iter().map(|d| d.sunday_zero()).collect();
            days.sort_unstable();
            entry["day"] = if days.len() == 1 { json!(days[0]) } else { json!(days) };
            entry["end_time"] = end_time(&time, minutes).into();
            entry["time"] = time.into();
            out.push(entry);
        }
    }
    Value::Array(out)
}

/// RFC 5545 text: backslash, semicolon, comma and newlines escaped.
fn ical_text(text: &str) -> String {
    text.replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,").replace("\r\n", "\\n").replace('\n', "\\n")
}

/// Content lines longer than 75 octets are folded (a CRLF and a space), never inside a
/// UTF-8 character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

fn ical_local(dt: DateTime) -> String {
    dt.strftime("%Y%m%dT%H%M%S").to_string()
}

fn ical_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("{sign}{:02}{:02}", s / 3600, s % 3600 / 60)
}

fn rrule(rule: &Rule) -> Option<String> {
    Some(match rule {
        Rule::Weekly { days, .. } => {
            let days: Vec<&str> = days.iter().map(|d| d.ical()).collect();
            format!("FREQ=WEEKLY;BYDAY={}", days.join(","))
        }
        Rule::MonthlyWeekday { nth, day, .. } => format!("FREQ=MONTHLY;BYDAY={nth}{}", day.ical()),
        // RFC 5545 skips a month without that day, as the schedule does.
        Rule::MonthlyDay { day_of_month, .. } => format!("FREQ=MONTHLY;BYMONTHDAY={day_of_month}"),
        Rule::Once { .. } => return None,
    })
}

/// The `VTIMEZONE` of `schedule`'s zone: every transition from a year before `from` for
/// twenty years, each as its own observance (no rules to get wrong), or one fixed offset.
fn vtimezone(schedule: &Schedule, from: Timestamp, lines: &mut Vec<String>) -> Option<()> {
    let tz = jiff::tz::TimeZone::get(&schedule.time_zone).ok()?;
    lines.push("BEGIN:VTIMEZONE".into());
    lines.push(format!("TZID:{}", schedule.time_zone));
    let start = from - SignedDuration::from_hours(24 * 366);
    let end = from + SignedDuration::from_hours(24 * 366 * 20);
    let mut before = tz.to_offset(start);
    let mut any = false;
    for t in tz.following(start).take_while(|t| t.timestamp() < end) {
        let after = t.offset();
        let kind = if t.dst().is_dst() { "DAYLIGHT" } else { "STANDARD" };
        // The observance starts at the local time before the change.
        let local = t.timestamp().to_zoned_datetime(jiff::tz::TimeZone::fixed(before)).datetime();
        lines.push(format!("BEGIN:{kind}"));
        lines.push(format!("DTSTART:{}", ical_local(local)));
        lines.push(format!("TZOFFSETFROM:{}", ical_offset(before.seconds())));
        lines.push(format!("TZOFFSETTO:{}", ical_offset(after.seconds())));
        lines.push(format!("TZNAME:{}", t.abbreviation()));
        lines.push(format!("END:{kind}"));
        before = after;
        any = true;
    }
    if !any {
        let offset = ical_offset(before.seconds());
        lines.extend(
            ["BEGIN:STANDARD", "DTSTART:19700101T000000"].map(String::from).into_iter().chain([
                format!("TZOFFSETFROM:{offset}"),
                format!("TZOFFSETTO:{offset}"),
                "END:STANDARD".to_string(),
            ]),
        );
    }
    lines.push("END:VTIMEZONE".into());
    Some(())
}

/// The words before the member link in a calendar's description, in the meeting's own
/// language (its primary subtag; English where there are none): a calendar app fetches with
/// no useful language of its own, and whoever adds a meeting to their calendar goes to a
/// meeting held in that language. A new language adds its line here too (docs/i18n.md).
fn join_words(language: &str) -> &'static str {
    match language.split('-').next().unwrap_or_default().to_ascii_lowercase().as_str() {
        "es" => "Enlace para entrar",
        _ => "Join",
    }
}

/// A meeting's calendar, or `None` without a (valid) schedule. `now` stamps it; each rule's
/// series starts at its first meeting after the meeting was made.
pub fn ical(m: &MeetingRecord, join_url: &str, host: &str, now: Timestamp) -> Option<String> {
    let schedule = m.schedule.as_ref()?;
    schedule.compile().ok()?;
    let made = Timestamp::from_second(m.created_at).ok()?;
    let mut lines: Vec<String> = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Haven//Standing meetings//EN", "CALSCALE:GREGORIAN"]
        .map(String::from)
        .into();
    lines.push(format!("X-WR-CALNAME:{}", ical_text(&m.title)));
    vtimezone(schedule, made, &mut lines)?;
    let mut description = m.description.clone();
    if !description.is_empty() {
        description.push_str("\n\n");
    }
    if m.settings.is_e2ee() {
        description.push_str(E2EE_NOTE);
    } else {
        description.push_str(&format!("{}: {join_url}", join_words(&m.language)));
    }
    for (i, rule) in schedule.rules.iter().enumerate() {
        let alone = Schedule { rules: vec![rule.clone()], ..schedule.clone() }.compile().ok()?;
        // A one-off date may lie before the meeting was made: it is still its date.
        let first = match rule {
            Rule::Once { date, .. } => {
                let day_before = date.parse::<jiff::civil::Date>().ok()?.yesterday().ok()?;
                alone.occurrences_after(alone.resolve(day_before.to_datetime(jiff::civil::Time::midnight())), 1)
            }
            _ => alone.occurrences_after(made - SignedDuration::from_secs(1), 1),
        };
        let Some(first) = first.first() else { continue };
        let date = first.start.to_zoned_datetime(alone.time_zone().clone()).date();
        let time = match rule {
            Rule::Weekly { time, .. } | Rule::MonthlyWeekday { time, .. } | Rule::MonthlyDay { time, .. } | Rule::Once { time, .. } => time,
        };
        let (h, min) = time.split_once(':')?;
        let local = date.at(h.parse().ok()?, min.parse().ok()?, 0, 0);
        lines.push("BEGIN:VEVENT".into());
        lines.push(format!("UID:{}-{}@{}", m.slug, i + 1, host));
        lines.push(format!("DTSTAMP:{}", now.strftime("%Y%m%dT%H%M%SZ")));
        lines.push(format!("DTSTART;TZID={}:{}", schedule.time_zone, ical_local(local)));
        lines.push(format!("DURATION:PT{}M", schedule.duration_minutes));
        if let Some(rrule) = rrule(rule) {
            lines.push(format!("RRULE:{rrule}"));
        }
        lines.push(format!("SUMMARY:{}", ical_text(&m.title)));
        lines.push(format!("DESCRIPTION:{}", ical_text(&description)));
        if !m.settings.is_e2ee() {
            lines.push(format!("URL:{join_url}"));
        }
        lines.push("END:VEVENT".into());
    }
    lines.push("END:VCALENDAR".into());
    let mut out = String::new();
    for line in lines {
        fold(&line, &mut out);
    }
    Some(out)
}

#[derive(Clone)]
pub struct FeedsState {
    pub config: Arc<Config>,
    pub store: Option<Store>,
}

/// `/meetings.json`; `/meetings/{slug}.ics` comes through the directory ([`calendar`]).
pub fn router(state: FeedsState) -> Router {
    Router::new().route("/meetings.json", get(feed)).with_state(state)
}

pub(crate) fn not_found() -> Response {
    let body = json!({"code": "unknown_meeting", "message": "There is no meeting with that id."});
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

pub(crate) fn store_failed() -> Response {
    let body = json!({"code": "store_failed", "message": "The server could not read its data. Please try again."});
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}

async fn feed(State(state): State<FeedsState>, headers: HeaderMap) -> Response {
    let meetings = match &state.store {
        Some(store) => match store.run(|db| db.meetings()).await {
            Ok(m) => m,
            Err(_) => return store_failed(),
        },
        // No store: nothing is listed.
        None => Vec::new(),
    };
    let base = crate::origin::base_url(&state.config, &headers);
    // Feed readers fetch from other sites' pages; the list is public by design.
    ([(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")], Json(meeting_guide(&meetings, &base))).into_response()
}

/// `/meetings/{slug}.ics`, for listed and unlisted meetings alike (the slug is the member
/// link's capability); archived ones are gone.
pub async fn calendar(state: &FeedsState, headers: &HeaderMap, slug: &str) -> Response {
    if !crate::admin::is_valid_slug(slug) {
        return not_found();
    }
    let slug = slug.to_string();
    let Some(store) = &state.store else { return not_found() };
    let meeting = match store.run(move |db| db.meeting(&slug)).await {
        Ok(m) if !m.archived => m,
        Ok(_) | Err(crate::store::StoreError::UnknownMeeting) => return not_found(),
        Err(_) => return store_failed(),
    };
    let base = crate::origin::base_url(&state.config, headers);
    let join_url = format!("{base}/m/{}", meeting.slug);
    let host = base.split_once("://").map_or(base.as_str(), |(_, h)| h).to_string();
    match ical(&meeting, &join_url, &host, Timestamp::now()) {
        Some(text) => ([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], text).into_response(),
        None => not_found(),
    }
}

#[cfg(test)]
mod tests;

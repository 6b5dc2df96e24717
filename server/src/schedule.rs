//! PURE: when a standing meeting happens. Weekly, monthly (nth weekday or day of month) and
//! one-off rules in the meeting's IANA time zone, a duration, and "opens N minutes before"
//! or always open. No I/O and no clock: every question takes `now`. Imports nothing from the
//! crate (jiff, serde).
//!
//! Local times are resolved the way RFC 5545 and Temporal's "compatible" do it: a time that
//! does not exist that day (in the spring-forward gap, 2:30 in New York) moves forward by the
//! gap's length (3:30 daylight time); a time that happens twice (in the autumn fold, 1:30)
//! is the first of the two (daylight time). A 7 pm meeting stays 7 pm local on both sides of
//! a change. The time zone database is jiff's bundled copy (`tzdb-bundle-always`), so
//! results do not depend on the host's `/usr/share/zoneinfo`.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The longest meeting and the longest "opens before": a day.
pub const MAX_MINUTES: u32 = 24 * 60;
/// Rules per meeting: a form, not a calendar.
pub const MAX_RULES: usize = 16;
/// How far ahead an occurrence is looked for (monthly day 31 skips months; a one-off date
/// may be a year away). Past this, a schedule has no next occurrence.
const HORIZON_DAYS: i64 = 800;

/// A meeting's schedule as stored and as the admin API takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// IANA name, `America/New_York`.
    pub time_zone: String,
    pub rules: Vec<Rule>,
    pub duration_minutes: u32,
    /// Members may enter this long before the start; `None`: the room is always open.
    #[serde(default)]
    pub opens_minutes_before: Option<u32>,
}

/// One recurrence, at a local wall-clock time `"19:00"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// Every week on these days.
    Weekly { days: Vec<Day>, time: String },
    /// The nth weekday of every month: 1–5, or -1 for the last (a month without a 5th skips).
    MonthlyWeekday { nth: i8, day: Day, time: String },
    /// A day of every month, 1–31 (months without it skip).
    MonthlyDay { day_of_month: i8, time: String },
    /// Once, on a date `"2026-12-24"`.
    Once { date: String, time: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    pub const ALL: [Day; 7] = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri, Day::Sat, Day::Sun];

    pub fn weekday(self) -> Weekday {
        Weekday::from_monday_zero_offset(self as i8).expect("0..7")
    }

    /// RFC 5545's two letters (`BYDAY=TU`).
    pub fn ical(self) -> &'static str {
        ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][self as usize]
    }

    /// The Meeting Guide spec's day number: 0 = Sunday … 6 = Saturday.
    pub fn sunday_zero(self) -> u8 {
        (self as u8 + 1) % 7
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("unknown time zone {0:?} (use an IANA name such as Europe/London)")]
    UnknownTimeZone(String),
    #[error("{0}")]
    Invalid(String),
}

impl ScheduleError {
    pub fn code(&self) -> &'static str {
        match self {
            ScheduleError::UnknownTimeZone(_) => "invalid_time_zone",
            ScheduleError::Invalid(_) => "invalid_schedule",
        }
    }
}

/// One meeting: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Whether members may enter now, and until or from when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Openness {
    AlwaysOpen,
    /// Open for this occurrence (from `opens_minutes_before` its start to its end).
    Open(Occurrence),
    /// Closed; opens at `opens_at` for `next`, or never again.
    Closed { next: Option<(Timestamp, Occurrence)> },
}

/// A schedule checked once: its zone found, its times parsed.
#[derive(Debug, Clone)]
pub struct Compiled {
    tz: TimeZone,
    rules: Vec<CompiledRule>,
    duration: SignedDuration,
    opens_before: Option<SignedDuration>,
}

#[derive(Debug, Clone)]
enum CompiledRule {
    Weekly { days: Vec<Weekday>, time: Time },
    MonthlyWeekday { nth: i8, day: Weekday, time: Time },
    MonthlyDay { day: i8, time: Time },
    Once { date: Date, time: Time },
}

impl CompiledRule {
    fn time(&self) -> Time {
        match self {
            CompiledRule::Weekly { time, .. }
            | CompiledRule::MonthlyWeekday { time, .. }
            | CompiledRule::MonthlyDay { time, .. }
            | CompiledRule::Once { time, .. } => *time,
        }
    }

    fn falls_on(&self, date: Date) -> bool {
        match self {
            CompiledRule::Weekly { days, .. } => days.contains(&date.weekday()),
            CompiledRule::MonthlyWeekday { nth, day, .. } => {
                date.nth_weekday_of_month(*nth, *day).is_ok_and(|d| d == date)
            }
            CompiledRule::MonthlyDay { day, .. } => date.day() == *day,
            CompiledRule::Once { date: once, .. } => *once == date,
        }
    }
}

/// `"19:00"` or `"7:05"`: hours and minutes, 24-hour clock.
fn parse_time(text: &str) -> Result<Time, ScheduleError> {
    let bad = || ScheduleError::Invalid(format!("time {text:?}: use HH:MM on a 24-hour clock"));
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let ok = |s: &str, max: i8| s.len() <= 2 && !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<i8>().is_ok_and(|v| v <= max);
    if !ok(h, 23) || !ok(m, 59) || m.len() != 2 {
        return Err(bad());
    }
    Time::new(h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, 0, 0).map_err(|_| bad())
}

fn parse_date(text: &str) -> Result<Date, ScheduleError> {
    text.parse::<Date>()
        .ok()
        .filter(|_| text.len() == 10)
        .ok_or_else(|| ScheduleError::Invalid(format!("date {text:?}: use YYYY-MM-DD")))
}

impl Schedule {
    /// Checks every field and finds the time zone.
    pub fn compile(&self) -> Result<Compiled, ScheduleError> {
        let invalid = |m: &str| Err(ScheduleError::Invalid(m.to_string()));
        let tz = TimeZone::get(&self.time_zone).map_err(|_| ScheduleError::UnknownTimeZone(self.time_zone.clone()))?;
        if self.rules.is_empty() || self.rules.len() > MAX_RULES {
            return invalid("a schedule has 1 to 16 rules");
        }
        if !(1..=MAX_MINUTES).contains(&self.duration_minutes) {
            return invalid("duration_minutes must be between 1 and 1440");
        }
        if self.opens_minutes_before.is_some_and(|m| m > MAX_MINUTES) {
            return invalid("opens_minutes_before must be at most 1440");
        }
        let mut rules = Vec::with_capacity(self.rules.len());
        for rule in &self.rules {
            rules.push(match rule {
                Rule::Weekly { days, time } => {
                    if days.is_empty() {
                        return invalid("a weekly rule needs at least one day");
                    }
                    CompiledRule::Weekly { days: days.iter().map(|d| d.weekday()).collect(), time: parse_time(time)? }
                }
                Rule::MonthlyWeekday { nth, day, time } => {
                    if !matches!(nth, 1..=5 | -1) {
                        return invalid("nth must be 1 to 5, or -1 for the last");
                    }
                    CompiledRule::MonthlyWeekday { nth: *nth, day: day.weekday(), time: parse_time(time)? }
                }
                Rule::MonthlyDay { day_of_month, time } => {
                    if !(1..=31).contains(day_of_month) {
                        return invalid("day_of_month must be between 1 and 31");
                    }
                    CompiledRule::MonthlyDay { day: *day_of_month, time: parse_time(time)? }
                }
                Rule::Once { date, time } => CompiledRule::Once { date: parse_date(date)?, time: parse_time(time)? },
            });
        }
        let minutes = |m: u32| SignedDuration::from_mins(i64::from(m));
        Ok(Compiled {
            tz,
            rules,
            duration: minutes(self.duration_minutes),
            opens_before: self.opens_minutes_before.map(minutes),
        })
    }
}

impl Compiled {
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// A local date and time as an instant: a time in a gap moves forward by the gap, a
    /// time in a fold is the earlier instant (RFC 5545, Temporal's "compatible").
    pub fn resolve(&self, local: DateTime) -> Timestamp {
        self.tz
            .to_ambiguous_timestamp(local)
            .compatible()
            .expect("local times within the horizon are in range")
    }

    /// Up to `limit` occurrences starting after `after`, in order, none twice.
    pub fn occurrences_after(&self, after: Timestamp, limit: usize) -> Vec<Occurrence> {
        self.occurrences_from(after, limit, HORIZON_DAYS, |o| o.start > after)
    }

    /// Up to `limit` occurrences not over at `now` (one in progress first) that start before
    /// `until`, in order: what a directory shows.
    pub fn occurrences_until(&self, now: Timestamp, until: Timestamp, limit: usize) -> Vec<Occurrence> {
        // Days to look through: the span, the day before `now` and a day for the zone's offset.
        let days = (until - now).as_hours().max(0) / 24 + 3;
        self.occurrences_from(now, limit, days.min(HORIZON_DAYS), |o| o.end > now && o.start < until)
    }

    /// Up to `limit` occurrences that `keep` accepts, in order, looking from the day before
    /// `after`'s local date through `days` days.
    fn occurrences_from(&self, after: Timestamp, limit: usize, days: i64, keep: impl Fn(&Occurrence) -> bool) -> Vec<Occurrence> {
        let mut out: Vec<Occurrence> = Vec::new();
        // A day back, so an occurrence that began yesterday evening and runs on is seen.
        let mut date = after.to_zoned_datetime(self.tz.clone()).date().yesterday().unwrap_or(Date::MIN);
        for _ in 0..days {
            if out.len() >= limit {
                break;
            }
            let mut today: Vec<Occurrence> = self
                .rules
                .iter()
                .filter(|r| r.falls_on(date))
                .map(|r| {
                    let start = self.resolve(date.to_datetime(r.time()));
                    Occurrence { start, end: start + self.duration }
                })
                .filter(&keep)
                .collect();
            today.sort_by_key(|o| o.start);
            for o in today {
                // Two rules at one instant (or a gap time landing on another rule's time)
                // are one meeting.
                if out.last().is_none_or(|last| o.start > last.start) && out.len() < limit {
                    out.push(o);
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        out
    }

    /// May members enter at `now`?
    pub fn openness(&self, now: Timestamp) -> Openness {
        let Some(before) = self.opens_before else { return Openness::AlwaysOpen };
        // The first occurrence not over: windows open in the order meetings start.
        match self.occurrences_from(now, 1, HORIZON_DAYS, |o| o.end > now).first() {
            Some(&o) if o.start - before <= now => Openness::Open(o),
            Some(&o) => Openness::Closed { next: Some((o.start - before, o)) },
            None => Openness::Closed { next: None },
        }
    }

    pub fn is_open(&self, now: Timestamp) -> bool {
        !matches!(self.openness(now), Openness::Closed { .. })
    }

    /// When members may next enter: `now` when open, `None` when it never opens again.
    pub fn opens_at(&self, now: Timestamp) -> Option<Timestamp> {
        match self.openness(now) {
            Openness::AlwaysOpen | Openness::Open(_) => Some(now),
            Openness::Closed { next } => next.map(|(at, _)| at),
        }
    }
}

#[cfg(test)]
mod tests;

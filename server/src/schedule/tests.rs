//! Schedules with a fixed clock: both sides of the 2026 daylight-saving changes in
//! America/New_York (8 March, 1 November) and Europe/London (29 March, 25 October), and
//! property tests over random rules, zones and instants.

use proptest::prelude::*;

use super::*;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn weekly(tz: &str, days: &[Day], time: &str, minutes: u32, before: Option<u32>) -> Compiled {
    Schedule {
        time_zone: tz.into(),
        rules: vec![Rule::Weekly { days: days.to_vec(), time: time.into() }],
        duration_minutes: minutes,
        opens_minutes_before: before,
    }
    .compile()
    .unwrap()
}

fn local(c: &Compiled, t: Timestamp) -> String {
    t.to_zoned_datetime(c.time_zone().clone()).datetime().to_string()
}

#[test]
fn a_7pm_weekly_meeting_stays_7pm_in_new_york_across_spring_forward() {
    let c = weekly("America/New_York", &[Day::Tue], "19:00", 90, None);
    let next = c.occurrences_after(at("2026-03-01T00:00:00Z"), 2);
    // EST (UTC-5) before 8 March, EDT (UTC-4) after: the instant moves, the wall clock not.
    assert_eq!(next[0].start, at("2026-03-04T00:00:00Z"));
    assert_eq!(next[1].start, at("2026-03-10T23:00:00Z"));
    assert_eq!(local(&c, next[0].start), "2026-03-03T19:00:00");
    assert_eq!(local(&c, next[1].start), "2026-03-10T19:00:00");
    assert_eq!(next[1].end, at("2026-03-11T00:30:00Z"));
}

#[test]
fn a_7pm_weekly_meeting_stays_7pm_in_new_york_across_fall_back() {
    let c = weekly("America/New_York", &[Day::Sat, Day::Sun], "19:00", 60, None);
    let next = c.occurrences_after(at("2026-10-31T12:00:00Z"), 3);
    let locals: Vec<_> = next.iter().map(|o| local(&c, o.start)).collect();
    assert_eq!(locals, ["2026-10-31T19:00:00", "2026-11-01T19:00:00", "2026-11-07T19:00:00"]);
    assert_eq!(next[0].start, at("2026-10-31T23:00:00Z"), "EDT, UTC-4");
    assert_eq!(next[1].start, at("2026-11-02T00:00:00Z"), "EST, UTC-5, the same day as the change");
}

#[test]
fn a_7pm_weekly_meeting_stays_7pm_in_london_across_both_changes() {
    let c = weekly("Europe/London", &[Day::Sun], "19:00", 60, None);
    let spring = c.occurrences_after(at("2026-03-20T00:00:00Z"), 2);
    assert_eq!(spring[0].start, at("2026-03-22T19:00:00Z"), "GMT");
    assert_eq!(spring[1].start, at("2026-03-29T18:00:00Z"), "BST from that morning");
    let autumn = c.occurrences_after(at("2026-10-20T00:00:00Z"), 2);
    assert_eq!(autumn[0].start, at("2026-10-25T19:00:00Z"), "GMT again");
    assert_eq!(autumn[1].start, at("2026-11-01T19:00:00Z"));
}

#[test]
fn a_time_in_the_spring_gap_moves_forward_by_the_gap() {
    // 2:30 on 8 March 2026 does not exist in New York: clocks go from 2:00 EST to 3:00 EDT.
    let c = weekly("America/New_York", &[Day::Sun], "02:30", 60, None);
    let next = c.occurrences_after(at("2026-03-07T00:00:00Z"), 2);
    assert_eq!(next[0].start, at("2026-03-08T07:30:00Z"));
    assert_eq!(local(&c, next[0].start), "2026-03-08T03:30:00");
    assert_eq!(local(&c, next[1].start), "2026-03-15T02:30:00", "the week after, as asked");
    // London's gap is 1:00–2:00 GMT on 29 March.
    let c = weekly("Europe/London", &[Day::Sun], "01:30", 60, None);
    let next = c.occurrences_after(at("2026-03-28T00:00:00Z"), 1);
    assert_eq!(local(&c, next[0].start), "2026-03-29T02:30:00");
    assert_eq!(next[0].start, at("2026-03-29T01:30:00Z"));
}

#[test]
fn a_time_in_the_autumn_fold_is_the_first_of_the_two() {
    // 1:30 on 1 November 2026 happens twice in New York: EDT first, then EST.
    let c = weekly("America/New_York", &[Day::Sun], "01:30", 30, None);
    let next = c.occurrences_after(at("2026-10-31T00:00:00Z"), 2);
    assert_eq!(next[0].start, at("2026-11-01T05:30:00Z"), "1:30 EDT, not 1:30 EST (06:30Z)");
    assert_eq!(next[1].start, at("2026-11-08T06:30:00Z"));
    let c = weekly("Europe/London", &[Day::Sun], "01:30", 30, None);
    let next = c.occurrences_after(at("2026-10-24T00:00:00Z"), 1);
    assert_eq!(next[0].start, at("2026-10-25T00:30:00Z"), "1:30 BST");
}

#[test]
fn the_room_opens_minutes_before_and_closes_at_the_end_on_both_sides_of_a_change() {
    let c = weekly("America/New_York", &[Day::Tue], "19:00", 90, Some(15));
    // Tuesday 3 March, EST: opens 18:45 local = 23:45Z.
    let opens = at("2026-03-03T23:45:00Z");
    assert!(!c.is_open(opens - SignedDuration::from_secs(1)));
    assert_eq!(c.opens_at(at("2026-03-03T20:00:00Z")), Some(opens));
    assert!(c.is_open(opens));
    assert!(c.is_open(at("2026-03-04T01:29:59Z")), "until 20:30 local");
    assert!(!c.is_open(at("2026-03-04T01:30:00Z")));
    // A week later, EDT: 18:45 local is an hour earlier in UTC.
    assert_eq!(c.opens_at(at("2026-03-04T01:30:00Z")), Some(at("2026-03-10T22:45:00Z")));
    assert!(c.is_open(at("2026-03-10T22:45:00Z")));
    assert!(!c.is_open(at("2026-03-10T22:44:59Z")));
    match c.openness(at("2026-03-10T23:30:00Z")) {
        Openness::Open(o) => assert_eq!(o.start, at("2026-03-10T23:00:00Z")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_meeting_that_runs_past_midnight_is_open_after_midnight() {
    let c = weekly("Europe/London", &[Day::Fri], "23:30", 90, Some(0));
    assert!(c.is_open(at("2026-12-05T00:30:00Z")), "Saturday 00:30 is Friday's meeting");
    assert!(!c.is_open(at("2026-12-05T01:00:00Z")));
}

#[test]
fn a_directory_week_holds_the_meeting_in_progress_and_the_coming_ones_only() {
    let c = weekly("Europe/London", &[Day::Tue, Day::Fri], "23:30", 90, None);
    // Saturday 00:30: Friday's meeting runs on; then Tuesday and Friday of the next week.
    let now = at("2026-12-05T00:30:00Z");
    let week = c.occurrences_until(now, now + SignedDuration::from_hours(7 * 24), 10);
    let starts: Vec<String> = week.iter().map(|o| local(&c, o.start)).collect();
    assert_eq!(starts, ["2026-12-04T23:30:00", "2026-12-08T23:30:00", "2026-12-11T23:30:00"]);
    assert_eq!(c.occurrences_until(now, now + SignedDuration::from_hours(7 * 24), 2).len(), 2);
    assert!(c.occurrences_until(at("2026-12-05T01:00:00Z"), at("2026-12-08T00:00:00Z"), 10).is_empty());
}

#[test]
fn always_open_needs_no_occurrence() {
    let c = weekly("Europe/London", &[Day::Fri], "19:00", 60, None);
    assert_eq!(c.openness(at("2026-12-01T03:00:00Z")), Openness::AlwaysOpen);
}

#[test]
fn monthly_rules_pick_the_nth_or_last_weekday_and_skip_missing_days() {
    let s = Schedule {
        time_zone: "America/New_York".into(),
        rules: vec![
            Rule::MonthlyWeekday { nth: 2, day: Day::Tue, time: "19:00".into() },
            Rule::MonthlyWeekday { nth: -1, day: Day::Fri, time: "12:00".into() },
            Rule::MonthlyDay { day_of_month: 31, time: "08:00".into() },
        ],
        duration_minutes: 60,
        opens_minutes_before: None,
    };
    let c = s.compile().unwrap();
    let dates: Vec<_> = c.occurrences_after(at("2026-01-01T12:00:00Z"), 7).iter().map(|o| local(&c, o.start)).collect();
    assert_eq!(
        dates,
        [
            "2026-01-13T19:00:00", // 2nd Tuesday
            "2026-01-30T12:00:00", // last Friday
            "2026-01-31T08:00:00",
            "2026-02-10T19:00:00",
            "2026-02-27T12:00:00", // February has no 31st
            "2026-03-10T19:00:00", // after the change: still 19:00
            "2026-03-27T12:00:00",
        ]
    );
}

#[test]
fn a_one_off_date_happens_once_and_then_never() {
    let s = Schedule {
        time_zone: "Europe/London".into(),
        rules: vec![Rule::Once { date: "2026-12-24".into(), time: "18:00".into() }],
        duration_minutes: 120,
        opens_minutes_before: Some(10),
    };
    let c = s.compile().unwrap();
    assert_eq!(c.occurrences_after(at("2026-12-05T00:00:00Z"), 5).len(), 1);
    assert_eq!(c.opens_at(at("2026-12-05T00:00:00Z")), Some(at("2026-12-24T17:50:00Z")));
    assert_eq!(c.openness(at("2026-12-25T00:00:00Z")), Openness::Closed { next: None });
    assert!(c.occurrences_after(at("2026-12-25T00:00:00Z"), 5).is_empty());
}

#[test]
fn bad_schedules_are_refused_with_their_codes() {
    let good = Schedule {
        time_zone: "Europe/London".into(),
        rules: vec![Rule::Weekly { days: vec![Day::Mon], time: "19:00".into() }],
        duration_minutes: 60,
        opens_minutes_before: Some(15),
    };
    good.compile().unwrap();
    let code = |f: &dyn Fn(&mut Schedule)| {
        let mut s = good.clone();
        f(&mut s);
        s.compile().unwrap_err().code()
    };
    assert_eq!(code(&|s| s.time_zone = "Mars/Olympus_Mons".into()), "invalid_time_zone");
    assert_eq!(code(&|s| s.time_zone = "".into()), "invalid_time_zone");
    assert_eq!(code(&|s| s.rules.clear()), "invalid_schedule");
    assert_eq!(code(&|s| s.duration_minutes = 0), "invalid_schedule");
    assert_eq!(code(&|s| s.opens_minutes_before = Some(2000)), "invalid_schedule");
    for time in ["24:00", "7pm", "19:0", "19:60", "", "1900", "-1:00"] {
        assert_eq!(code(&|s| s.rules = vec![Rule::Weekly { days: vec![Day::Mon], time: time.into() }]), "invalid_schedule", "{time}");
    }
    assert_eq!(code(&|s| s.rules = vec![Rule::Weekly { days: vec![], time: "19:00".into() }]), "invalid_schedule");
    assert_eq!(code(&|s| s.rules = vec![Rule::MonthlyWeekday { nth: 6, day: Day::Mon, time: "19:00".into() }]), "invalid_schedule");
    assert_eq!(code(&|s| s.rules = vec![Rule::MonthlyDay { day_of_month: 32, time: "19:00".into() }]), "invalid_schedule");
    assert_eq!(code(&|s| s.rules = vec![Rule::Once { date: "2026-02-30".into(), time: "19:00".into() }]), "invalid_schedule");
}

#[test]
fn the_stored_json_is_fixed() {
    let s = Schedule {
        time_zone: "America/New_York".into(),
        rules: vec![
            Rule::Weekly { days: vec![Day::Tue, Day::Thu], time: "19:00".into() },
            Rule::MonthlyWeekday { nth: 2, day: Day::Sat, time: "10:00".into() },
        ],
        duration_minutes: 90,
        opens_minutes_before: Some(15),
    };
    let json = r#"{"time_zone":"America/New_York","rules":[{"kind":"weekly","days":["tue","thu"],"time":"19:00"},{"kind":"monthly_weekday","nth":2,"day":"sat","time":"10:00"}],"duration_minutes":90,"opens_minutes_before":15}"#;
    assert_eq!(serde_json::to_string(&s).unwrap(), json);
    assert_eq!(serde_json::from_str::<Schedule>(json).unwrap(), s);
}

const ZONES: [&str; 6] =
    ["America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Sao_Paulo", "Asia/Kolkata", "UTC"];

fn day() -> impl Strategy<Value = Day> {
    (0usize..7).prop_map(|i| Day::ALL[i])
}

fn rule() -> impl Strategy<Value = Rule> {
    let time = (0u8..24, 0u8..60).prop_map(|(h, m)| format!("{h:02}:{m:02}"));
    prop_oneof![
        (proptest::collection::vec(day(), 1..4), time.clone()).prop_map(|(days, time)| Rule::Weekly { days, time }),
        (prop_oneof![1i8..=5, Just(-1i8)], day(), time.clone()).prop_map(|(nth, day, time)| Rule::MonthlyWeekday { nth, day, time }),
        (1i8..=31, time).prop_map(|(day_of_month, time)| Rule::MonthlyDay { day_of_month, time }),
    ]
}

/// Does this rule put a meeting on `date` at local `time` (as resolved)?
fn rule_matches(c: &Compiled, rule: &Rule, start: Timestamp) -> bool {
    let zoned = start.to_zoned_datetime(c.time_zone().clone());
    let compiled = Schedule { time_zone: "UTC".into(), rules: vec![rule.clone()], duration_minutes: 1, opens_minutes_before: None }
        .compile()
        .unwrap();
    let rule = &compiled.rules[0];
    // The local date the rule asked for is the occurrence's, or (for a gap time pushed past
    // midnight, which real zones never do) the day before.
    [Some(zoned.date()), zoned.date().yesterday().ok()].into_iter().flatten().any(|date| {
        rule.falls_on(date) && {
            let asked = date.to_datetime(rule.time());
            let exact = zoned.datetime() == asked;
            // A time in a gap does not exist that day: it resolves to a later wall clock.
            let in_gap = c.time_zone().to_ambiguous_timestamp(asked).is_ambiguous() && c.resolve(asked) == start;
            exact || in_gap
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn occurrences_increase_and_each_is_at_its_rules_local_day_and_time(
        zone in 0usize..ZONES.len(),
        rules in proptest::collection::vec(rule(), 1..4),
        after in 1_577_836_800i64..2_082_758_400, // 2020 to 2036
        duration in 1u32..=240,
    ) {
        let s = Schedule { time_zone: ZONES[zone].into(), rules: rules.clone(), duration_minutes: duration, opens_minutes_before: None };
        let c = s.compile().unwrap();
        let after = Timestamp::from_second(after).unwrap();
        let next = c.occurrences_after(after, 20);
        prop_assert!(!next.is_empty(), "every recurring rule happens within the horizon");
        let mut last = after;
        for o in &next {
            prop_assert!(o.start > last, "strictly increasing and after `after`");
            prop_assert_eq!(o.end, o.start + SignedDuration::from_mins(i64::from(duration)));
            prop_assert!(rules.iter().any(|r| rule_matches(&c, r, o.start)), "{} matches no rule", o.start);
            last = o.start;
        }
    }

    #[test]
    fn the_open_window_contains_every_start_and_opens_at_the_promised_time(
        zone in 0usize..ZONES.len(),
        day in day(),
        hour in 0u8..24,
        minute in 0u8..60,
        after in 1_577_836_800i64..2_082_758_400,
        duration in 1u32..=180,
        before in 0u32..=60,
    ) {
        let c = weekly(ZONES[zone], &[day], &format!("{hour:02}:{minute:02}"), duration, Some(before));
        let after = Timestamp::from_second(after).unwrap();
        for o in c.occurrences_after(after, 4) {
            prop_assert!(c.is_open(o.start));
            prop_assert!(c.is_open(o.end - SignedDuration::from_secs(1)));
            let opens = o.start - SignedDuration::from_mins(i64::from(before));
            prop_assert!(c.is_open(opens));
            // A week apart (give or take a change of offset), windows never touch.
            prop_assert!(!c.is_open(opens - SignedDuration::from_secs(1)));
            prop_assert_eq!(c.opens_at(opens - SignedDuration::from_secs(1)), Some(opens));
            prop_assert!(!c.is_open(o.end));
        }
    }
}

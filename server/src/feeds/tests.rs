use super::*;
use crate::store::MeetingSettings;

fn meeting(slug: &str, schedule: Option<Schedule>) -> MeetingRecord {
    MeetingRecord {
        slug: slug.into(),
        title: "Tuesday, night; \"step\" group".into(),
        description: "Open discussion.\nNewcomers welcome.".into(),
        language: "es-MX".into(),
        // `S` again (the language's type) is not repeated in the feed.
        types: vec!["O".into(), "D".into(), "S".into()],
        location: "Chicago, IL, USA".into(),
        guidelines: String::new(),
        readings: Vec::new(),
        settings: MeetingSettings::default(),
        schedule,
        listed: true,
        archived: false,
        e2ee_key_id: None,
        // 2026-12-01 12:00:00 UTC
        created_at: 1_796_126_400,
        updated_at: 1_796_126_400,
    }
}

fn weekly_and_monthly() -> Schedule {
    Schedule {
        time_zone: "America/New_York".into(),
        rules: vec![
            Rule::Weekly { days: vec![Day::Tue, Day::Thu], time: "19:00".into() },
            Rule::Weekly { days: vec![Day::Sun], time: "7:30".into() },
            Rule::MonthlyWeekday { nth: -1, day: Day::Fri, time: "12:00".into() },
        ],
        duration_minutes: 300,
        opens_minutes_before: Some(15),
    }
}

/// The spec's schema (code4recovery/spec, meeting.schema.json) for the fields we emit.
fn check_entry(e: &Value) {
    let time = |v: &Value| {
        let s = v.as_str().unwrap();
        let (h, m) = s.split_once(':').unwrap();
        assert!(s.len() == 5 && h.parse::<u8>().unwrap() < 24 && m.parse::<u8>().unwrap() < 60, "{s}");
    };
    assert!(e["name"].as_str().is_some_and(|n| !n.is_empty() && n.chars().count() <= 255), "{e}");
    assert!(e["slug"].as_str().is_some_and(|s| s.len() <= 64 && crate::admin::is_valid_slug(s)), "{e}");
    match &e["day"] {
        Value::Null => assert!(e.get("time").is_none(), "no day, no time: {e}"),
        Value::Number(n) => assert!(n.as_u64().unwrap() <= 6),
        Value::Array(days) => assert!(days.iter().all(|d| d.as_u64().is_some_and(|d| d <= 6))),
        other => panic!("day {other}"),
    }
    if e.get("time").is_some() {
        time(&e["time"]);
        time(&e["end_time"]);
    }
    assert!(e["conference_url"].as_str().unwrap().starts_with("https://"), "{e}");
    assert!(e["types"].as_array().unwrap().iter().all(Value::is_string));
    let updated = e["updated"].as_str().unwrap();
    assert_eq!(updated.len(), 19, "YYYY-MM-DD HH:MM:SS: {updated}");
    assert_eq!(&updated[10..11], " ");
    // Geographic information, which the Meeting Guide app needs to list a meeting: for an
    // online meeting an approximate place.
    if let Some(place) = e.get("formatted_address") {
        assert!(place.as_str().is_some_and(|p| !p.is_empty()), "{e}");
        assert_eq!(e["approximate"], "yes", "{e}");
    }
}

#[test]
fn the_meeting_guide_feed_lists_each_weekly_time_with_sunday_zero_days() {
    let mut unlisted = meeting("unlisted", Some(weekly_and_monthly()));
    unlisted.listed = false;
    let mut archived = meeting("archived", Some(weekly_and_monthly()));
    archived.archived = true;
    let meetings =
        [meeting("tuesday-night", Some(weekly_and_monthly())), meeting("anytime", None), unlisted, archived];
    let feed = meeting_guide(&meetings, "https://meet.example.org");
    let entries = feed.as_array().unwrap();
    assert_eq!(entries.len(), 3, "{feed}");
    entries.iter().for_each(check_entry);
    let first = &entries[0];
    assert_eq!(first["slug"], "tuesday-night");
    assert_eq!(first["day"], json!([2, 4]), "Tuesday and Thursday, from Sunday = 0");
    assert_eq!(first["time"], "19:00");
    assert_eq!(first["end_time"], "00:00", "five hours later, past midnight");
    assert_eq!(first["timezone"], "America/New_York");
    assert_eq!(first["conference_url"], "https://meet.example.org/m/tuesday-night");
    assert_eq!(first["types"], json!(["ONL", "S", "O", "D"]), "online, the language, then the meeting's own");
    assert_eq!(first["updated"], "2026-12-01 12:00:00");
    assert_eq!(first["notes"], "Open discussion.\nNewcomers welcome.");
    assert_eq!((first["formatted_address"].as_str(), first["approximate"].as_str()), (Some("Chicago, IL, USA"), Some("yes")));
    let second = &entries[1];
    assert_eq!((second["slug"].as_str(), second["day"].as_u64(), second["time"].as_str()), (Some("tuesday-night-2"), Some(0), Some("07:30")));
    let anytime = &entries[2];
    assert_eq!(anytime["slug"], "anytime");
    assert!(anytime.get("day").is_none() && anytime.get("timezone").is_none(), "{anytime}");
    // Without a place the entry has no geographic field at all (never an empty one).
    let mut nowhere = meeting("nowhere", None);
    nowhere.location.clear();
    let feed = meeting_guide(&[nowhere], "https://meet.example.org");
    assert!(feed[0].get("formatted_address").is_none() && feed[0].get("approximate").is_none(), "{feed}");
}

fn unfolded(text: &str) -> Vec<String> {
    assert!(text.ends_with("\r\n"));
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split("\r\n").filter(|l| !l.is_empty()) {
        assert!(raw.len() <= 75, "folded at 75 octets: {raw:?}");
        match raw.strip_prefix(' ') {
            Some(rest) => lines.last_mut().unwrap().push_str(rest),
            None => lines.push(raw.to_string()),
        }
    }
    lines
}

#[test]
fn the_calendar_has_a_vtimezone_and_one_rrule_per_rule() {
    let m = meeting("tuesday-night", Some(weekly_and_monthly()));
    let now = "2026-12-05T16:00:00Z".parse().unwrap();
    let text = ical(&m, "https://meet.example.org/m/tuesday-night", "meet.example.org", now).unwrap();
    let lines = unfolded(&text);
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
    let has = |l: &str| lines.iter().any(|x| x == l);
    for line in [
        "VERSION:2.0",
        "BEGIN:VTIMEZONE",
        "TZID:America/New_York",
        // The spring change of 2027: 2:00 EST becomes 3:00 EDT.
        "DTSTART:20270314T020000",
        "TZOFFSETFROM:-0500",
        "TZOFFSETTO:-0400",
        "TZNAME:EDT",
        // Autumn 2027: 2:00 EDT becomes 1:00 EST.
        "DTSTART:20271107T020000",
        "RRULE:FREQ=WEEKLY;BYDAY=TU,TH",
        "RRULE:FREQ=WEEKLY;BYDAY=SU",
        "RRULE:FREQ=MONTHLY;BYDAY=-1FR",
        // First meetings after 1 December 2026 (a Tuesday: its 19:00 is still ahead).
        "DTSTART;TZID=America/New_York:20261201T190000",
        "DTSTART;TZID=America/New_York:20261206T073000",
        "DTSTART;TZID=America/New_York:20261225T120000",
        "DURATION:PT300M",
        "SUMMARY:Tuesday\\, night\\; \"step\" group",
        "UID:tuesday-night-1@meet.example.org",
        "DTSTAMP:20261205T160000Z",
        "URL:https://meet.example.org/m/tuesday-night",
    ] {
        assert!(has(line), "{line} missing from:\n{text}");
    }
    assert_eq!(lines.iter().filter(|l| *l == "BEGIN:VEVENT").count(), 3);
    // The link's words in the meeting's own language (es-MX), whatever the calendar app asks.
    let described = "DESCRIPTION:Open discussion.\\nNewcomers welcome.\\n\\nEnlace para entrar: https://meet.example.org/m/tuesday-night";
    assert!(has(described), "{described} missing from:\n{text}");
    assert!(text.contains("\r\n "), "the long description is folded");
}

#[test]
fn a_zone_without_changes_gets_one_fixed_observance_and_a_one_off_no_rrule() {
    let schedule = Schedule {
        time_zone: "Asia/Kolkata".into(),
        rules: vec![Rule::Once { date: "2026-11-20".into(), time: "18:00".into() }],
        duration_minutes: 60,
        opens_minutes_before: None,
    };
    let text = ical(&meeting("diwali", Some(schedule)), "https://x/m/diwali", "x", Timestamp::UNIX_EPOCH).unwrap();
    let lines = unfolded(&text);
    assert!(lines.iter().any(|l| l == "TZOFFSETTO:+0530"), "{text}");
    assert!(lines.iter().any(|l| l == "DTSTART;TZID=Asia/Kolkata:20261120T180000"), "a date before the meeting was made: {text}");
    assert!(!lines.iter().any(|l| l.starts_with("RRULE")), "{text}");
    assert_eq!(ical(&meeting("none", None), "u", "x", Timestamp::UNIX_EPOCH), None);
}

#[test]
fn folding_never_splits_a_character() {
    let mut out = String::new();
    fold(&format!("SUMMARY:{}", "é".repeat(60)), &mut out);
    for line in out.split("\r\n").filter(|l| !l.is_empty()) {
        assert!(line.len() <= 75);
    }
    assert_eq!(out.replace("\r\n ", ""), format!("SUMMARY:{}\r\n", "é".repeat(60)));
}

#[test]
fn the_calendar_says_join_in_the_meetings_language_and_english_otherwise() {
    let description = |language: &str, text: &str| {
        let mut m = meeting("tuesday-night", Some(weekly_and_monthly()));
        m.language = language.into();
        m.description = text.into();
        let lines = unfolded(&ical(&m, "https://x/m/tuesday-night", "x", Timestamp::UNIX_EPOCH).unwrap());
        lines.into_iter().find(|l| l.starts_with("DESCRIPTION:")).unwrap()
    };
    assert_eq!(description("es", ""), "DESCRIPTION:Enlace para entrar: https://x/m/tuesday-night");
    assert_eq!(description("ES-419", "Hola"), "DESCRIPTION:Hola\\n\\nEnlace para entrar: https://x/m/tuesday-night");
    assert_eq!(description("en-GB", ""), "DESCRIPTION:Join: https://x/m/tuesday-night");
    // No words for it yet, or no language given: English.
    assert_eq!(description("fr", ""), "DESCRIPTION:Join: https://x/m/tuesday-night");
    assert_eq!(description("", ""), "DESCRIPTION:Join: https://x/m/tuesday-night");
}

#[test]
fn an_encrypted_meeting_is_listed_with_ask_the_group_in_place_of_a_link() {
    let mut m = meeting("tuesday-night", Some(weekly_and_monthly()));
    m.settings.e2ee = Some(true);
    let feed = meeting_guide(&[m.clone()], "https://meet.example.org");
    let entries = feed.as_array().unwrap();
    assert!(!entries.is_empty());
    for e in entries {
        assert!(e.get("conference_url").is_none(), "{e}");
        assert_eq!(e["conference_url_notes"], "End-to-end encrypted: ask the group for the link.");
        assert!(!e.to_string().contains("/m/tuesday-night"), "{e}");
    }
    let now = "2026-12-05T16:00:00Z".parse().unwrap();
    let text = ical(&m, "https://meet.example.org/m/tuesday-night", "meet.example.org", now).unwrap();
    let lines = unfolded(&text);
    assert!(lines.iter().all(|l| !l.starts_with("URL:") && !l.contains("/m/tuesday-night")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("DESCRIPTION:") && l.contains("ask the group for the link")), "{lines:?}");
}

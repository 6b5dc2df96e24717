//! Readings: the list, showing one to everyone, the highlight, caps and limits.
//! Imports no tokio, no media, no network.

use super::*;

const PREAMBLE: &str = "We are glad you are here.\n\nWhat is said here stays here.\n\nWe share for about three minutes.";

fn with_readings() -> Meeting {
    Meeting::started_with(RoomSettings {
        guidelines: "Be kind.".into(),
        readings: vec![ReadingText { title: "Preamble".into(), text: PREAMBLE.into() }],
        ..RoomSettings::default()
    })
}

fn readings(m: &Meeting, who: ParticipantId) -> Vec<(String, String)> {
    let snapshot = m.room.state_for(m.now, who).expect("admitted");
    snapshot.readings.into_iter().map(|r| (r.title, r.text)).collect()
}

fn id_of(m: &Meeting, title: &str) -> ReadingId {
    let snapshot = m.room.state_for(m.now, F).expect("admitted");
    snapshot.readings.into_iter().find(|r| r.title == title).expect("a reading").id
}

fn show(id: ReadingId, paragraph: usize, reader: Option<&str>) -> RoomCommand {
    RoomCommand::ShowReading { id, paragraph, reader: reader.map(Into::into) }
}

fn add(title: &str, text: &str) -> RoomCommand {
    RoomCommand::AddReading { reading: ReadingText { title: title.into(), text: text.into() } }
}

fn shown(m: &Meeting, who: ParticipantId) -> Option<ShownReading> {
    m.room.state_for(m.now, who).expect("admitted").shown_reading
}

#[test]
fn a_meeting_starts_with_its_guidelines_then_its_configured_readings() {
    let m = with_readings();
    let expected = vec![
        (GUIDELINES_TITLE.to_string(), "Be kind.".to_string()),
        ("Preamble".to_string(), PREAMBLE.to_string()),
    ];
    assert_eq!(readings(&m, A), expected);
    // the live list is the room's; its settings keep none
    assert!(m.room.settings().readings.is_empty());
}

#[test]
fn paragraphs_are_runs_of_lines_between_blank_lines() {
    assert_eq!(paragraph_count(PREAMBLE), 3);
    assert_eq!(paragraph_count("one\r\nline two\r\n \r\n\r\nthree\n"), 2);
    assert_eq!(paragraph_count("  \n\n"), 0);
}

#[test]
fn staff_show_a_reading_to_everyone_and_move_the_highlight() {
    let mut m = with_readings();
    let id = id_of(&m, "Preamble");
    let e = m.ok(F, show(id, 0, Some("Sam")));
    let expected = ShownReading { id, paragraph: 0, reader: Some("Sam".into()) };
    assert_eq!(broadcasts(&e), vec![RoomEvent::ReadingShown(expected)]);
    let e = m.ok(F, show(id, 2, Some("  Sam  ")));
    let expected = ShownReading { id, paragraph: 2, reader: Some("Sam".into()) };
    assert_eq!(broadcasts(&e), vec![RoomEvent::ReadingShown(expected.clone())]);
    assert_eq!(shown(&m, B), Some(expected));
    // the same state again tells no one anything
    let e = m.ok(F, show(id, 2, Some("Sam")));
    assert!(broadcasts(&e).is_empty());
}

#[test]
fn stop_showing_tells_everyone_and_twice_is_harmless() {
    let mut m = with_readings();
    let id = id_of(&m, "Preamble");
    m.ok(F, show(id, 0, None));
    let e = m.ok(F, RoomCommand::StopReading);
    assert_eq!(broadcasts(&e), vec![RoomEvent::ReadingStopped]);
    assert_eq!(shown(&m, A), None);
    assert!(broadcasts(&m.ok(F, RoomCommand::StopReading)).is_empty());
}

#[test]
fn a_late_joiner_gets_the_readings_and_what_is_shown_in_their_snapshot() {
    let mut m = with_readings();
    let id = id_of(&m, "Preamble");
    m.ok(F, show(id, 1, Some("Ana")));
    let e = m.join(C, Role::Member).unwrap();
    let Some(RoomEvent::Snapshot(snapshot)) = sent_to(&e, C).into_iter().next() else {
        panic!("no snapshot");
    };
    assert_eq!(snapshot.readings.len(), 2);
    assert_eq!(snapshot.shown_reading, Some(ShownReading { id, paragraph: 1, reader: Some("Ana".into()) }));
}

#[test]
fn a_member_cannot_show_stop_add_edit_or_remove_a_reading() {
    let mut m = with_readings();
    let id = id_of(&m, "Preamble");
    m.ok(F, show(id, 0, None));
    for cmd in [
        show(id, 1, None),
        RoomCommand::StopReading,
        add("Mine", "text"),
        RoomCommand::EditReading { id, reading: ReadingText { title: "x".into(), text: "y".into() } },
        RoomCommand::RemoveReading { id },
    ] {
        assert_eq!(m.refused(A, cmd), "not_permitted");
    }
}

#[test]
fn a_co_facilitator_may_run_the_readings() {
    let mut m = with_readings();
    m.ok(F, RoomCommand::Promote { who: A });
    let e = m.ok(A, add("Closing", "Keep coming back."));
    let id = id_of(&m, "Closing");
    let view = ReadingView { id, title: "Closing".into(), text: "Keep coming back.".into() };
    assert_eq!(broadcasts(&e), vec![RoomEvent::ReadingSaved(view)]);
    m.ok(A, show(id, 0, None));
    assert_eq!(shown(&m, B).map(|s| s.id), Some(id));
}

#[test]
fn showing_an_unknown_reading_or_paragraph_is_refused() {
    let mut m = with_readings();
    let id = id_of(&m, "Preamble");
    assert_eq!(m.refused(F, show(ReadingId(99), 0, None)), "unknown_reading");
    assert_eq!(m.refused(F, show(id, 3, None)), "unknown_paragraph");
    let long = "x".repeat(MAX_READER_CHARS + 1);
    assert_eq!(m.refused(F, show(id, 0, Some(&long))), "reading_too_long");
}

#[test]
fn readings_over_the_caps_are_refused() {
    let mut m = with_readings();
    let title = "t".repeat(MAX_READING_TITLE_CHARS + 1);
    assert_eq!(m.refused(F, add(&title, "text")), "reading_too_long");
    let text = "x".repeat(MAX_READING_CHARS + 1);
    assert_eq!(m.refused(F, add("Long", &text)), "reading_too_long");
    assert_eq!(m.refused(F, add("  ", "text")), "empty_reading");
    assert_eq!(m.refused(F, add("Title", "\n\n")), "empty_reading");
    // exactly at the caps is fine
    m.ok(F, add(&"t".repeat(MAX_READING_TITLE_CHARS), &"x".repeat(MAX_READING_CHARS)));
}

#[test]
fn a_meeting_holds_at_most_max_readings() {
    let mut m = with_readings();
    for i in 2..MAX_READINGS {
        m.advance(5);
        m.ok(F, add(&format!("R{i}"), "text"));
    }
    m.advance(5);
    assert_eq!(m.refused(F, add("One more", "text")), "too_many_readings");
}

#[test]
fn staff_edits_are_rate_limited_and_refill_with_time() {
    let mut m = with_readings();
    let mut accepted = 0;
    while m.cmd(F, add(&format!("R{accepted}"), "text")).is_ok() {
        accepted += 1;
        assert!(accepted < 10, "no limit");
    }
    assert_eq!(accepted, 6);
    assert_eq!(m.refused(F, add("Later", "text")), "rate_limited");
    m.advance(5);
    m.ok(F, add("Later", "text"));
}

#[test]
fn editing_the_shown_reading_keeps_the_highlight_on_a_paragraph_it_has() {
    let mut m = with_readings();
    let id = id_of(&m, "Preamble");
    m.ok(F, show(id, 2, None));
    let reading = ReadingText { title: "Preamble".into(), text: "Just one paragraph now.".into() };
    let e = m.ok(F, RoomCommand::EditReading { id, reading });
    let saved = ReadingView { id, title: "Preamble".into(), text: "Just one paragraph now.".into() };
    assert_eq!(
        broadcasts(&e),
        vec![
            RoomEvent::ReadingSaved(saved),
            RoomEvent::ReadingShown(ShownReading { id, paragraph: 0, reader: None }),
        ]
    );
}

#[test]
fn removing_the_shown_reading_stops_showing_it() {
    let mut m = with_readings();
    let id = id_of(&m, "Preamble");
    m.ok(F, show(id, 0, None));
    let e = m.ok(F, RoomCommand::RemoveReading { id });
    assert_eq!(broadcasts(&e), vec![RoomEvent::ReadingRemoved { id }, RoomEvent::ReadingStopped]);
    assert_eq!(readings(&m, A).len(), 1);
    assert_eq!(m.refused(F, RoomCommand::RemoveReading { id }), "unknown_reading");
}

#[test]
fn suspend_closes_the_shown_reading() {
    let mut m = with_readings();
    let id = id_of(&m, "Preamble");
    m.ok(F, show(id, 1, None));
    let e = m.ok(F, RoomCommand::Suspend);
    assert!(broadcasts(&e).contains(&RoomEvent::ReadingStopped));
    assert_eq!(shown(&m, A), None);
    // restore opens nothing again; the readings themselves stay
    m.ok(F, RoomCommand::Restore);
    assert_eq!(shown(&m, A), None);
    assert_eq!(readings(&m, A).len(), 2);
}

#[test]
fn configured_readings_over_the_caps_fail_validation() {
    let too_many = RoomSettings {
        guidelines: "Be kind.".into(),
        readings: vec![ReadingText { title: "t".into(), text: "x".into() }; MAX_READINGS],
        ..RoomSettings::default()
    };
    assert_eq!(too_many.validate(), Err(RoomError::TooManyReadings));
    let too_long = RoomSettings {
        readings: vec![ReadingText { title: "t".into(), text: "x".repeat(MAX_READING_CHARS + 1) }],
        ..RoomSettings::default()
    };
    assert_eq!(too_long.validate(), Err(RoomError::ReadingTooLong("text")));
}

fn guidelines(text: &str) -> RoomCommand {
    RoomCommand::UpdateSettings(SettingsPatch { guidelines: Some(text.into()), ..Default::default() })
}

fn reading_events(e: &[Effect]) -> Vec<RoomEvent> {
    let events = broadcasts(e).into_iter();
    events.filter(|b| matches!(b, RoomEvent::ReadingSaved(_) | RoomEvent::ReadingRemoved { .. })).collect()
}

#[test]
fn the_guidelines_reading_follows_the_guidelines_set_live() {
    let mut m = with_readings();
    let id = id_of(&m, GUIDELINES_TITLE);
    m.ok(F, show(id, 0, None));
    // New words: the same reading, its new text, told to everyone; the highlight stays within.
    let e = m.ok(F, guidelines("Be kind.\n\nNo advice unless asked."));
    let saved = ReadingView { id, title: GUIDELINES_TITLE.into(), text: "Be kind.\n\nNo advice unless asked.".into() };
    assert_eq!(reading_events(&e), vec![RoomEvent::ReadingSaved(saved)]);
    assert_eq!(readings(&m, B)[0].1, "Be kind.\n\nNo advice unless asked.");
    assert_eq!(m.room.audience(&e[0]), vec![F, A, B]);
    // Cleared: the reading goes, and stops being shown.
    let e = m.ok(F, guidelines(""));
    assert_eq!(reading_events(&e), vec![RoomEvent::ReadingRemoved { id }]);
    assert_eq!(shown(&m, A), None);
    assert_eq!(readings(&m, A), vec![("Preamble".to_string(), PREAMBLE.to_string())]);
    // Set again: a new reading at the end of the list.
    let e = m.ok(F, guidelines("Be kind."));
    assert!(matches!(&reading_events(&e)[..], [RoomEvent::ReadingSaved(r)] if r.title == GUIDELINES_TITLE && r.id != id));
    assert_eq!(readings(&m, A).len(), 2);
    // A change of something else tells nothing about readings.
    let patch = SettingsPatch { share_seconds: Some(200), ..Default::default() };
    assert!(reading_events(&m.ok(F, RoomCommand::UpdateSettings(patch))).is_empty());
    // Saved as the meeting's settings, the guidelines bring it back: it is not kept twice.
    match &m.ok(F, RoomCommand::SaveSettings)[..] {
        [Effect::SaveSettings { settings, .. }] => assert_eq!(settings.readings.len(), 1),
        other => panic!("expected one SaveSettings effect, got {other:?}"),
    }
}

#[test]
fn a_guidelines_reading_staff_removed_stays_removed_and_a_full_list_refuses_new_guidelines() {
    let mut m = with_readings();
    let id = id_of(&m, GUIDELINES_TITLE);
    m.ok(F, RoomCommand::RemoveReading { id });
    assert!(reading_events(&m.ok(F, guidelines("Be kinder."))).is_empty());
    assert_eq!(readings(&m, A).len(), 1);

    let mut m = Meeting::started();
    for n in 0..MAX_READINGS {
        m.now += Duration::from_secs(10);
        m.ok(F, add(&format!("Reading {n}"), "Text."));
    }
    assert_eq!(m.refused(F, guidelines("Be kind.")), "too_many_readings");
    assert_eq!(m.room.settings().guidelines, "", "a refused change changes nothing");
}

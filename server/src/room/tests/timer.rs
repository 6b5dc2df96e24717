//! Share timer with injected time. Imports no tokio, no media, no network.

use super::*;

fn timed(share_seconds: u32, auto_mute: bool) -> Meeting {
    let settings = RoomSettings {
        share_seconds,
        auto_mute_on_expiry: auto_mute,
        members_may_unmute: false,
        ..Default::default()
    };
    let mut m = Meeting::started_with(settings);
    m.ok(F, RoomCommand::Call { who: A });
    m.unmute(A).unwrap();
    m
}

#[test]
fn timer_warns_at_one_minute_left_then_expires() {
    let mut m = timed(180, false);
    assert_eq!(
        m.room.next_deadline(),
        Some(m.t0 + Duration::from_secs(120))
    );
    m.advance(119);
    assert!(m.tick().is_empty(), "nothing is due before the warning");
    m.advance(1);
    let e = m.tick();
    let warning = RoomEvent::TimerWarning {
        holder: public(A),
        seconds_left: 60,
    };
    assert_eq!(broadcasts(&e), vec![warning]);
    assert!(m.tick().is_empty(), "a repeated call fires nothing twice");
    assert_eq!(
        m.room.next_deadline(),
        Some(m.t0 + Duration::from_secs(180))
    );
    m.advance(60);
    let e = m.tick();
    assert_eq!(
        broadcasts(&e),
        vec![RoomEvent::TimerExpired { holder: public(A) }]
    );
    assert_eq!(m.room.next_deadline(), None);
}

#[test]
fn floor_given_tells_everyone_the_share_length() {
    let settings = RoomSettings {
        share_seconds: 300,
        ..Default::default()
    };
    let mut m = Meeting::started_with(settings);
    let e = m.ok(F, RoomCommand::Call { who: B });
    assert!(broadcasts(&e).iter().any(|ev| matches!(ev,
        RoomEvent::FloorGiven { floor } if floor.seconds_left == Some(300))));
    m.advance(100);
    let snap = m.room.state_for(m.now, A).unwrap();
    assert_eq!(snap.floor.unwrap().seconds_left, Some(200));
}

#[test]
fn expiry_with_auto_mute_takes_the_floor_and_mutes() {
    let mut m = timed(180, true);
    m.advance(180);
    let e = m.tick();
    assert_eq!(
        e[0],
        Effect::SetForwarding {
            who: A,
            audio: false,
            video: false,
            screen: false
        }
    );
    let b = broadcasts(&e);
    assert!(b.contains(&RoomEvent::TimerExpired { holder: public(A) }));
    assert!(b.contains(&RoomEvent::FloorTaken {
        holder: public(A),
        reason: FloorEnd::TimeUp
    }));
    assert_eq!(m.unmute(A).unwrap_err().code(), "cannot_unmute");
}

#[test]
fn a_share_ended_by_the_timer_tells_the_holder_they_were_muted() {
    let mut m = timed(180, true);
    m.advance(180);
    let e = m.tick();
    let told: Vec<_> = sent_to(&e, A)
        .into_iter()
        .filter_map(|ev| match ev {
            RoomEvent::YouWereMuted { by, reason } => Some((by, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(
        told,
        vec![(
            "the share timer".to_string(),
            "Your time to share is up, so your mic was turned off. You can unmute when a facilitator calls on you. Raise your hand to share.".to_string()
        )]
    );
    assert!(sent_to(&e, B).is_empty(), "only the holder is told");
}

#[test]
fn a_holder_whose_mic_was_off_when_time_ran_out_is_not_told_of_a_mute() {
    let mut m = timed(180, true);
    m.ok(
        A,
        RoomCommand::SetMediaState {
            audio: Some(false),
            video: None,
        },
    );
    m.advance(180);
    let e = m.tick();
    assert!(sent_to(&e, A)
        .iter()
        .all(|ev| !matches!(ev, RoomEvent::YouWereMuted { .. })));
}

#[test]
fn a_share_stopped_by_a_facilitator_sends_no_muted_message() {
    let mut m = timed(180, true);
    let e = m.ok(F, RoomCommand::StopShare);
    assert!(sent_to(&e, A)
        .iter()
        .all(|ev| !matches!(ev, RoomEvent::YouWereMuted { .. })));
}

#[test]
fn expiry_without_auto_mute_leaves_the_share_to_the_chair() {
    let mut m = timed(120, false);
    m.advance(500);
    let e = m.tick();
    assert_eq!(forwarding(&e, A), None);
    assert!(m.view(A).has_floor && m.view(A).mic_on);
}

#[test]
fn a_late_timeout_call_skips_the_warning_and_expires() {
    let mut m = timed(180, false);
    m.advance(400);
    let e = m.tick();
    assert_eq!(
        broadcasts(&e),
        vec![RoomEvent::TimerExpired { holder: public(A) }]
    );
}

#[test]
fn adding_time_moves_the_deadline_and_rearms_the_warning() {
    let mut m = timed(180, false);
    m.advance(130);
    m.tick(); // warned
    let e = m.ok(F, RoomCommand::AddTime { seconds: 120 });
    assert!(broadcasts(&e).iter().any(|ev| matches!(ev,
        RoomEvent::TimerExtended { floor } if floor.seconds_left == Some(170))));
    assert_eq!(
        m.room.next_deadline(),
        Some(m.t0 + Duration::from_secs(240))
    );
    m.advance(110);
    assert!(matches!(
        &broadcasts(&m.tick())[..],
        [RoomEvent::TimerWarning {
            seconds_left: 60,
            ..
        }]
    ));
}

#[test]
fn adding_time_after_expiry_counts_from_now() {
    let mut m = timed(120, false);
    m.advance(200);
    m.tick();
    m.ok(F, RoomCommand::AddTime { seconds: 30 });
    assert_eq!(
        m.room.next_deadline(),
        Some(m.now + Duration::from_secs(30))
    );
}

#[test]
fn untimed_share_has_no_deadline_until_time_is_added() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Call { who: A });
    assert_eq!(m.room.next_deadline(), None);
    m.ok(F, RoomCommand::AddTime { seconds: 90 });
    assert_eq!(
        m.room.next_deadline(),
        Some(m.now + Duration::from_secs(30))
    );
}

#[test]
fn add_time_needs_a_floor_and_a_sane_amount() {
    let mut m = Meeting::started();
    assert_eq!(
        m.refused(F, RoomCommand::AddTime { seconds: 60 }),
        "no_floor"
    );
    m.ok(F, RoomCommand::Call { who: A });
    assert_eq!(
        m.refused(F, RoomCommand::AddTime { seconds: 0 }),
        "invalid_setting"
    );
}

#[test]
fn ending_a_share_clears_the_deadline() {
    let mut m = timed(180, false);
    m.ok(A, RoomCommand::Done);
    assert_eq!(m.room.next_deadline(), None);
}

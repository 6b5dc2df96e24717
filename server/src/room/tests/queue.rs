//! Speaking queue and floor. Imports no tokio, no media, no network.

use super::*;

fn queue_event(e: &[Effect]) -> Option<Vec<PublicId>> {
    broadcasts(e).into_iter().find_map(|ev| match ev {
        RoomEvent::QueueChanged { queue } => Some(queue.into_iter().map(|q| q.id).collect()),
        _ => None,
    })
}

fn no_self_unmute() -> Meeting {
    let settings = RoomSettings {
        members_may_unmute: false,
        ..Default::default()
    };
    let mut m = Meeting::started_with(settings);
    m.join(C, Role::Member).unwrap();
    m
}

#[test]
fn queue_is_first_come_first_served_and_visible_with_positions() {
    let mut m = Meeting::started();
    m.join(C, Role::Member).unwrap();
    m.ok(B, RoomCommand::RaiseHand);
    m.ok(C, RoomCommand::RaiseHand);
    let e = m.ok(A, RoomCommand::RaiseHand);
    assert_eq!(queue_event(&e), Some(vec![public(B), public(C), public(A)]));
    let snap = m.room.state_for(m.now, A).unwrap();
    let positions: Vec<_> = snap.queue.iter().map(|q| q.position).collect();
    assert_eq!(positions, vec![1, 2, 3]);
    assert!(m.view(A).hand_raised);
}

#[test]
fn raising_a_raised_hand_is_refused() {
    let mut m = Meeting::started();
    m.ok(A, RoomCommand::RaiseHand);
    assert_eq!(m.refused(A, RoomCommand::RaiseHand), "already_in_queue");
}

#[test]
fn lowering_a_hand_removes_you_and_keeps_the_others_order() {
    let mut m = Meeting::started();
    m.join(C, Role::Member).unwrap();
    for who in [A, B, C] {
        m.ok(who, RoomCommand::RaiseHand);
    }
    m.ok(B, RoomCommand::LowerHand);
    assert_eq!(m.queue(), vec![A, C]);
    assert_eq!(m.refused(B, RoomCommand::LowerHand), "not_in_queue");
}

#[test]
fn facilitator_moves_an_entry() {
    let mut m = Meeting::started();
    m.join(C, Role::Member).unwrap();
    for who in [A, B, C] {
        m.ok(who, RoomCommand::RaiseHand);
    }
    m.ok(
        F,
        RoomCommand::MoveInQueue {
            who: C,
            position: 0,
        },
    );
    assert_eq!(m.queue(), vec![C, A, B]);
    m.ok(
        F,
        RoomCommand::MoveInQueue {
            who: C,
            position: 99,
        },
    );
    assert_eq!(m.queue(), vec![A, B, C]);
    assert_eq!(
        m.refused(
            F,
            RoomCommand::MoveInQueue {
                who: F,
                position: 0
            }
        ),
        "not_in_queue"
    );
}

#[test]
fn facilitator_removes_an_entry_and_clears_the_queue() {
    let mut m = Meeting::started();
    m.join(C, Role::Member).unwrap();
    for who in [A, B, C] {
        m.ok(who, RoomCommand::RaiseHand);
    }
    m.ok(F, RoomCommand::RemoveFromQueue { who: B });
    assert_eq!(m.queue(), vec![A, C]);
    let e = m.ok(F, RoomCommand::ClearQueue);
    assert_eq!(queue_event(&e), Some(vec![]));
    assert!(!m.view(A).hand_raised);
}

#[test]
fn member_cannot_call_next() {
    let mut m = Meeting::started();
    m.ok(B, RoomCommand::RaiseHand);
    assert_eq!(m.refused(A, RoomCommand::CallNext), "not_permitted");
}

#[test]
fn call_next_gives_the_floor_to_the_first_hand() {
    let mut m = Meeting::started();
    m.ok(B, RoomCommand::RaiseHand);
    m.ok(A, RoomCommand::RaiseHand);
    let e = m.ok(F, RoomCommand::CallNext);
    assert!(broadcasts(&e).iter().any(|ev| matches!(ev,
        RoomEvent::FloorGiven { floor } if floor.holder == public(B) && floor.seconds_left.is_none())));
    assert_eq!(queue_event(&e), Some(vec![public(A)]));
    assert!(m.view(B).has_floor);
    // the caller is not unmuted for them: they choose when to speak
    assert_eq!(forwarding(&e, B), None);
}

#[test]
fn floor_holder_may_unmute_when_self_unmute_is_disallowed() {
    let mut m = no_self_unmute();
    m.ok(A, RoomCommand::RaiseHand);
    assert_eq!(m.unmute(A).unwrap_err().code(), "cannot_unmute");
    let e = m.ok(F, RoomCommand::CallNext);
    assert!(broadcasts(&e).iter().any(|ev| matches!(ev,
        RoomEvent::ParticipantUpdated(v) if v.id == public(A) && v.may_unmute && v.has_floor)));
    assert_eq!(forwarding(&m.unmute(A).unwrap(), A), Some((true, false)));
}

#[test]
fn floor_beats_a_personal_unmute_denial() {
    let mut m = no_self_unmute();
    let deny = UnmutePermission::Denied;
    m.ok(
        F,
        RoomCommand::SetUnmutePermission {
            who: A,
            permission: deny,
        },
    );
    m.ok(F, RoomCommand::Call { who: A });
    m.unmute(A).unwrap();
}

#[test]
fn done_takes_the_floor_back_and_mutes() {
    let mut m = no_self_unmute();
    m.ok(F, RoomCommand::Call { who: A });
    m.unmute(A).unwrap();
    let e = m.ok(A, RoomCommand::Done);
    assert_eq!(
        e[0],
        Effect::SetForwarding {
            who: A,
            audio: false,
            video: false,
            screen: false
        }
    );
    let taken = RoomEvent::FloorTaken {
        holder: public(A),
        reason: FloorEnd::Done,
    };
    assert!(broadcasts(&e).contains(&taken));
    assert_eq!(m.unmute(A).unwrap_err().code(), "cannot_unmute");
    assert_eq!(m.refused(A, RoomCommand::Done), "not_floor_holder");
}

#[test]
fn next_ends_the_current_share_mutes_and_calls_the_next() {
    let mut m = no_self_unmute();
    m.ok(A, RoomCommand::RaiseHand);
    m.ok(B, RoomCommand::RaiseHand);
    m.ok(F, RoomCommand::CallNext);
    m.unmute(A).unwrap();
    let e = m.ok(F, RoomCommand::CallNext);
    assert_eq!(forwarding(&e, A), Some((false, false)));
    let taken = RoomEvent::FloorTaken {
        holder: public(A),
        reason: FloorEnd::Next,
    };
    assert!(broadcasts(&e).contains(&taken));
    assert!(m.view(B).has_floor && !m.view(A).has_floor);
}

#[test]
fn stop_share_takes_the_floor_and_mutes() {
    let mut m = no_self_unmute();
    m.ok(F, RoomCommand::Call { who: B });
    m.unmute(B).unwrap();
    let e = m.ok(F, RoomCommand::StopShare);
    assert_eq!(forwarding(&e, B), Some((false, false)));
    assert_eq!(m.refused(F, RoomCommand::StopShare), "no_floor");
}

#[test]
fn facilitator_calls_a_specific_person_out_of_order() {
    let mut m = Meeting::started();
    m.join(C, Role::Member).unwrap();
    for who in [A, B, C] {
        m.ok(who, RoomCommand::RaiseHand);
    }
    m.ok(F, RoomCommand::Call { who: C });
    assert!(m.view(C).has_floor);
    assert_eq!(m.queue(), vec![A, B]);
}

#[test]
fn leaving_floor_holder_releases_the_floor_and_their_hand() {
    let mut m = Meeting::started();
    m.ok(A, RoomCommand::RaiseHand);
    m.ok(F, RoomCommand::Call { who: B });
    m.ok(B, RoomCommand::RaiseHand);
    let e = m.ok(B, RoomCommand::Leave);
    let taken = RoomEvent::FloorTaken {
        holder: public(B),
        reason: FloorEnd::Left,
    };
    assert!(broadcasts(&e).contains(&taken));
    assert_eq!(m.queue(), vec![A]);
    assert!(m.room.floor.is_none());
}

#[test]
fn call_next_with_nothing_to_do_says_queue_empty() {
    let mut m = Meeting::started();
    assert_eq!(m.refused(F, RoomCommand::CallNext), "queue_empty");
    m.ok(F, RoomCommand::Call { who: A });
    // with an empty queue, "next" still ends the current share
    m.ok(F, RoomCommand::CallNext);
    assert!(m.room.floor.is_none());
}

#[test]
fn a_raise_and_lower_loop_is_slowed_but_a_hand_is_never_stuck_raised() {
    let mut m = Meeting::started();
    for _ in 0..3 {
        m.ok(A, RoomCommand::RaiseHand);
        m.ok(A, RoomCommand::LowerHand);
    }
    assert_eq!(m.refused(A, RoomCommand::RaiseHand), "rate_limited");
    // Others' hands are not affected, and time gives the hand back.
    m.ok(B, RoomCommand::RaiseHand);
    m.advance(5);
    let e = m.ok(A, RoomCommand::RaiseHand);
    assert_eq!(queue_event(&e), Some(vec![public(B), public(A)]));
    m.ok(A, RoomCommand::LowerHand);
}

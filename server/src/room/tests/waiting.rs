//! Joining, lock, waiting room, capacity and guidelines. Imports no tokio, no media, no network.

use super::*;

#[test]
fn locked_room_refuses_new_member_with_room_locked() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Lock);
    assert_eq!(m.join(C, Role::Member).unwrap_err().code(), "room_locked");
    assert!(!m.room.is_admitted(C) && !m.room.is_waiting(C));
}

#[test]
fn locked_room_with_waiting_room_sends_arrivals_to_wait() {
    let mut m = Meeting::started().with_waiting_room();
    m.ok(F, RoomCommand::Lock);
    let e = m.join(C, Role::Member).unwrap();
    assert!(matches!(&sent_to(&e, C)[..], [RoomEvent::Waiting { .. }]));
    assert!(m.room.is_waiting(C));
    let waiting = vec![WaiterView {
        id: public(C),
        name: "Name4".into(),
        same_network_as_banned: false,
    }];
    assert_eq!(
        to_facilitators(&e),
        vec![RoomEvent::WaitingListChanged { waiting }]
    );
}

#[test]
fn facilitator_can_join_a_locked_room() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Lock);
    m.join(C, Role::Facilitator).unwrap();
    assert!(m.room.is_admitted(C));
}

#[test]
fn waiting_room_never_auto_admits_when_facilitator_arrives() {
    let mut m = Meeting::new(RoomSettings {
        waiting_room: true,
        ..Default::default()
    });
    m.join(A, Role::Member).unwrap();
    m.join(B, Role::Member).unwrap();
    let e = m.join(F, Role::Facilitator).unwrap();
    assert!(
        m.room.is_admitted(F),
        "the secret holder skips the waiting room"
    );
    assert!(m.room.is_waiting(A) && m.room.is_waiting(B));
    assert!(!e
        .iter()
        .any(|e| matches!(e, Effect::Admitted { who } if *who != F)));
    let snap = m.room.state_for(m.now, F).unwrap();
    assert_eq!(snap.waiting.len(), 2);
}

#[test]
fn turning_waiting_room_off_or_unlocking_admits_no_one() {
    let mut m = Meeting::started().with_waiting_room();
    m.ok(F, RoomCommand::Lock);
    m.join(C, Role::Member).unwrap();
    m.ok(F, RoomCommand::Unlock);
    let patch = SettingsPatch {
        waiting_room: Some(false),
        ..Default::default()
    };
    m.ok(F, RoomCommand::UpdateSettings(patch));
    assert!(m.room.is_waiting(C));
}

#[test]
fn admitted_person_gets_media_then_a_snapshot_and_the_room_hears_of_them() {
    let mut m = Meeting::started().with_waiting_room();
    m.join(C, Role::Member).unwrap();
    let e = m.ok(F, RoomCommand::Admit { who: C });
    assert_eq!(e[0], Effect::Admitted { who: C });
    assert_eq!(
        e[1],
        Effect::SetForwarding {
            who: C,
            audio: false,
            video: false,
            screen: false
        }
    );
    let told = sent_to(&e, C);
    assert!(
        matches!(&told[0], RoomEvent::Snapshot(s) if s.you == public(C) && s.participants.len() == 4)
    );
    let joined = e.iter().find_map(|e| match e {
        Effect::Broadcast {
            event: RoomEvent::ParticipantJoined(v),
            except,
        } => Some((v.id.clone(), *except)),
        _ => None,
    });
    assert_eq!(joined, Some((public(C), Some(C))));
    assert_eq!(
        to_facilitators(&e),
        vec![RoomEvent::WaitingListChanged { waiting: vec![] }]
    );
}

#[test]
fn waiting_person_receives_no_broadcasts_and_no_forwarding() {
    let mut m = Meeting::started().with_waiting_room();
    let e = m.join(C, Role::Member).unwrap();
    assert_eq!(forwarding(&e, C), None);
    assert_eq!(m.room.forwarding(C), None);
    let e = m.ok(A, RoomCommand::Chat { text: "hi".into() });
    assert!(!m.room.audience(&e[0]).contains(&C));
}

#[test]
fn deny_disconnects_the_waiting_person() {
    let mut m = Meeting::started().with_waiting_room();
    m.join(C, Role::Member).unwrap();
    let e = m.ok(F, RoomCommand::Deny { who: C, ban: false });
    assert_eq!(disconnected(&e, C), Some(CloseReason::Denied));
    assert!(!m.room.is_waiting(C));
    m.join(ParticipantId(10), Role::Member).unwrap();
}

#[test]
fn deny_with_ban_keeps_a_raider_out() {
    let mut m = Meeting::started().with_waiting_room();
    m.join(C, Role::Member).unwrap();
    let e = m.ok(F, RoomCommand::Deny { who: C, ban: true });
    assert_eq!(
        disconnected(&e, C),
        Some(CloseReason::DeniedAndBanned),
        "never admitted, so not told they were removed"
    );
    let err = m
        .join_as(ParticipantId(10), Role::Member, "tok4", "x")
        .unwrap_err();
    assert_eq!(err.code(), "banned");
}

#[test]
fn admit_all_admits_in_arrival_order_until_full() {
    let mut m = Meeting::started().with_waiting_room();
    let patch = SettingsPatch {
        max_participants: Some(5),
        ..Default::default()
    };
    m.ok(F, RoomCommand::UpdateSettings(patch));
    for id in [12, 10, 11] {
        m.join(ParticipantId(id), Role::Member).unwrap();
    }
    let e = m.ok(F, RoomCommand::AdmitAll);
    let admitted: Vec<_> = e
        .iter()
        .filter_map(|e| match e {
            Effect::Admitted { who } => Some(*who),
            _ => None,
        })
        .collect();
    assert_eq!(admitted, vec![ParticipantId(12), ParticipantId(10)]);
    assert!(m.room.is_waiting(ParticipantId(11)));
    assert_eq!(m.refused(F, RoomCommand::AdmitAll), "room_full");
}

#[test]
fn full_room_refuses_members_but_not_facilitators() {
    let mut m = Meeting::new(RoomSettings {
        max_participants: 2,
        ..Default::default()
    });
    m.join(A, Role::Member).unwrap();
    m.join(B, Role::Member).unwrap();
    assert_eq!(m.join(C, Role::Member).unwrap_err().code(), "room_full");
    m.join(F, Role::Facilitator).unwrap();
}

#[test]
fn guidelines_must_be_accepted_to_join() {
    let mut m = Meeting::new(RoomSettings {
        guidelines: "What is said here stays here.".into(),
        ..Default::default()
    });
    let join = |accepted| RoomCommand::Join {
        public_id: public(A),
        name: "Sam".into(),
        name_key: "Sam".to_lowercase(),
        role: Role::Member,
        token: None,
        ban_key: None,
        accepted_guidelines: accepted,
    };
    assert_eq!(m.refused(A, join(false)), "guidelines_not_accepted");
    m.ok(A, join(true));
}

#[test]
fn the_same_connection_or_public_id_cannot_join_twice() {
    let mut m = Meeting::started();
    assert_eq!(
        m.join(A, Role::Member).unwrap_err().code(),
        "already_joined"
    );
    let again = RoomCommand::Join {
        public_id: public(A),
        name: "Copy".into(),
        name_key: "Copy".to_lowercase(),
        role: Role::Member,
        token: None,
        ban_key: None,
        accepted_guidelines: true,
    };
    assert_eq!(m.refused(C, again), "already_joined");
}

#[test]
fn leaving_is_broadcast_and_waiting_leaver_updates_facilitators() {
    let mut m = Meeting::started().with_waiting_room();
    m.join(C, Role::Member).unwrap();
    let e = m.ok(C, RoomCommand::Leave);
    assert_eq!(
        to_facilitators(&e),
        vec![RoomEvent::WaitingListChanged { waiting: vec![] }]
    );
    let e = m.ok(A, RoomCommand::Leave);
    let left = RoomEvent::ParticipantLeft {
        id: public(A),
        reason: LeaveReason::Left,
    };
    assert_eq!(broadcasts(&e), vec![left]);
    assert_eq!(m.refused(A, RoomCommand::Leave), "unknown_participant");
}

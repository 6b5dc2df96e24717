//! A raid on the waiting room: deny all, places per address, arrivals per minute. Imports
//! no tokio, no media, no network.

use super::*;

/// Joins `id` from address `key` with a browser of its own.
fn arrive(m: &mut Meeting, id: u64, key: &str) -> Result<Vec<Effect>, RoomError> {
    m.join_as(ParticipantId(id), Role::Member, &format!("tok{id}"), key)
}

#[test]
fn deny_all_turns_everyone_waiting_away() {
    let mut m = Meeting::started().with_waiting_room();
    for id in 10..15 {
        arrive(&mut m, id, &format!("addr{id}")).unwrap();
    }
    let e = m.ok(F, RoomCommand::DenyAll);
    for id in 10..15 {
        assert_eq!(
            disconnected(&e, ParticipantId(id)),
            Some(CloseReason::Denied)
        );
        assert!(!m.room.is_waiting(ParticipantId(id)));
    }
    assert_eq!(
        to_facilitators(&e),
        vec![RoomEvent::WaitingListChanged { waiting: vec![] }]
    );
    assert!(m.room.is_admitted(A), "no one inside is touched");
}

#[test]
fn member_cannot_deny_all() {
    let mut m = Meeting::started().with_waiting_room();
    arrive(&mut m, 10, "addr").unwrap();
    assert_eq!(m.refused(A, RoomCommand::DenyAll), "not_permitted");
}

#[test]
fn one_address_holds_at_most_three_waiting_places() {
    let mut m = Meeting::started().with_waiting_room();
    for id in 10..13 {
        arrive(&mut m, id, "raider").unwrap();
    }
    let err = arrive(&mut m, 13, "raider").unwrap_err();
    assert_eq!(err.code(), "too_many_waiting");
    assert!(!err.message().is_empty());
    arrive(&mut m, 14, "someone-else").expect("other addresses still wait");
    m.ok(F, RoomCommand::Admit { who: ParticipantId(10) });
    arrive(&mut m, 15, "raider").expect("a place of that address was freed");
}

#[test]
fn arrivals_beyond_thirty_a_minute_get_room_busy_until_the_minute_passes() {
    let mut m = Meeting::started().with_waiting_room();
    for id in 0..WAITING_ARRIVALS_PER_MINUTE as u64 {
        arrive(&mut m, 100 + id, &format!("a{id}")).unwrap();
        m.ok(F, RoomCommand::Deny { who: ParticipantId(100 + id), ban: false });
    }
    let err = arrive(&mut m, 200, "late").unwrap_err();
    assert_eq!(err.code(), "room_busy");
    m.advance(59);
    assert_eq!(arrive(&mut m, 201, "late").unwrap_err().code(), "room_busy");
    m.advance(1);
    arrive(&mut m, 202, "late").expect("a minute later there is room again");
}

#[test]
fn the_facilitator_is_never_refused_for_a_busy_waiting_room() {
    let mut m = Meeting::new(RoomSettings {
        waiting_room: true,
        ..Default::default()
    });
    for id in 0..WAITING_ARRIVALS_PER_MINUTE as u64 {
        arrive(&mut m, 100 + id, &format!("a{id}")).unwrap();
    }
    assert_eq!(arrive(&mut m, 200, "x").unwrap_err().code(), "room_busy");
    m.join(F, Role::Facilitator)
        .expect("the key holder always gets in");
    assert!(m.room.is_admitted(F));
}

#[test]
fn a_refused_arrival_takes_no_share_of_the_minute() {
    let mut m = Meeting::started().with_waiting_room();
    for id in 10..13 {
        arrive(&mut m, id, "raider").unwrap();
    }
    for id in 13..60 {
        assert_eq!(
            arrive(&mut m, id, "raider").unwrap_err().code(),
            "too_many_waiting"
        );
    }
    arrive(&mut m, 60, "member")
        .expect("refusals did not use up the room's arrivals");
}

#[test]
fn members_joining_without_a_waiting_room_are_not_counted_as_waiting_arrivals() {
    let mut m = Meeting::new(RoomSettings {
        max_participants: 100,
        ..Default::default()
    });
    for id in 0..(WAITING_ARRIVALS_PER_MINUTE as u64 + 5) {
        arrive(&mut m, 100 + id, &format!("a{id}")).unwrap();
    }
}

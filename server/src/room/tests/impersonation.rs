//! A name that passes for a staff member's, and the roles chat carries. Imports no tokio,
//! no media, no network.

use super::*;

/// F is facilitator "Ana" (browser "tokF"), A a member "Sam".
fn with_ana() -> Meeting {
    let mut m = Meeting::new(RoomSettings::default());
    m.join_named(F, Role::Facilitator, "Ana", "tokF").unwrap();
    m.join_named(A, Role::Member, "Sam", "tokA").unwrap();
    m
}

#[test]
fn a_member_cannot_join_under_a_look_alike_of_a_facilitators_name() {
    let mut m = with_ana();
    let err = m.join_named(C, Role::Member, "ANA", "tokC").unwrap_err();
    assert_eq!(err.code(), "name_taken_by_staff");
    assert_eq!(
        err.message(),
        "That name is too close to a facilitator's. Please choose another."
    );
    assert!(!m.room.is_admitted(C) && !m.room.is_waiting(C));
}

#[test]
fn a_look_alike_cannot_wait_either() {
    let mut m = with_ana().with_waiting_room();
    let err = m.join_named(C, Role::Member, "ana", "tokC").unwrap_err();
    assert_eq!(err.code(), "name_taken_by_staff");
}

#[test]
fn a_co_facilitators_name_is_protected_too() {
    let mut m = with_ana();
    m.ok(F, RoomCommand::Promote { who: A });
    let err = m.join_named(C, Role::Member, "sam", "tokC").unwrap_err();
    assert_eq!(err.code(), "name_taken_by_staff");
}

#[test]
fn the_facilitators_own_browser_may_use_the_name_in_another_tab() {
    let mut m = with_ana();
    m.join_named(C, Role::Member, "Ana", "tokF")
        .expect("the same person");
}

#[test]
fn two_members_may_share_a_name() {
    let mut m = with_ana();
    m.join_named(C, Role::Member, "sam", "tokC")
        .expect("only staff names are protected");
}

#[test]
fn a_second_facilitator_cannot_take_a_look_alike_of_a_staff_name() {
    let mut m = with_ana();
    let err = m
        .join_named(C, Role::Facilitator, "ana", "tokC")
        .unwrap_err();
    assert_eq!(err.code(), "name_taken_by_staff");
}

#[test]
fn chat_and_private_messages_carry_the_authors_role() {
    let mut m = with_ana();
    let e = m.ok(F, RoomCommand::Chat { text: "welcome".into() });
    assert!(matches!(&broadcasts(&e)[..], [RoomEvent::ChatMessage(c)] if c.role == Role::Facilitator));
    let e = m.ok(A, RoomCommand::Chat { text: "hi".into() });
    assert!(matches!(&broadcasts(&e)[..], [RoomEvent::ChatMessage(c)] if c.role == Role::Member));
    let e = m.ok(F, RoomCommand::PrivateMessage { to: A, text: "ok?".into() });
    let told = sent_to(&e, A);
    assert!(matches!(&told[..], [RoomEvent::PrivateMessage(p)] if p.from_role == Role::Facilitator));
}

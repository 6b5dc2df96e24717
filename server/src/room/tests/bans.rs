//! Bans by browser and by address, and the staff's list of them. Imports no tokio, no media,
//! no network.

use super::*;

fn bans_told(effects: &[Effect]) -> Option<Vec<BanView>> {
    to_facilitators(effects).into_iter().find_map(|e| match e {
        RoomEvent::BansChanged { bans } => Some(bans),
        _ => None,
    })
}

fn waiting_told(effects: &[Effect]) -> Option<Vec<WaiterView>> {
    to_facilitators(effects).into_iter().find_map(|e| match e {
        RoomEvent::WaitingListChanged { waiting } => Some(waiting),
        _ => None,
    })
}

#[test]
fn a_new_browser_from_a_banned_address_waits_flagged_for_staff_even_without_a_waiting_room() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Remove { who: A, ban: true });
    let e = m
        .join_as(C, Role::Member, "housemate", "key2")
        .expect("an address match is not a refusal");
    assert!(m.room.is_waiting(C) && !m.room.is_admitted(C));
    assert!(matches!(&sent_to(&e, C)[..], [RoomEvent::Waiting { .. }]));
    let waiting = waiting_told(&e).expect("staff are told");
    assert_eq!(waiting.len(), 1);
    assert!(waiting[0].same_network_as_banned, "flagged for staff");
}

#[test]
fn someone_only_removed_comes_back_through_the_waiting_room_when_a_housemate_was_banned() {
    let mut m = Meeting::started();
    // A and C share a household's address; A is banned, C only removed.
    m.join_as(C, Role::Member, "tokC", "key2").unwrap();
    m.ok(F, RoomCommand::Remove { who: A, ban: true });
    let e = m.ok(F, RoomCommand::Remove { who: C, ban: false });
    assert_eq!(disconnected(&e, C), Some(CloseReason::Removed));
    let back = ParticipantId(20);
    m.join_as(back, Role::Member, "tokC", "key2")
        .expect("C's own browser was never banned");
    assert!(m.room.is_waiting(back));
    m.ok(F, RoomCommand::Admit { who: back });
    assert!(m.room.is_admitted(back));
}

#[test]
fn a_banned_browser_is_refused_from_any_address() {
    let mut m = Meeting::started().with_waiting_room();
    m.ok(F, RoomCommand::Remove { who: A, ban: true });
    assert_eq!(
        m.join_as(C, Role::Member, "tok2", "elsewhere")
            .unwrap_err()
            .code(),
        "banned"
    );
}

#[test]
fn staff_may_deny_a_flagged_arrival_with_a_ban() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Remove { who: A, ban: true });
    m.join_as(C, Role::Member, "raider-again", "key2").unwrap();
    let e = m.ok(F, RoomCommand::Deny { who: C, ban: true });
    assert_eq!(disconnected(&e, C), Some(CloseReason::DeniedAndBanned));
    let err = m
        .join_as(ParticipantId(20), Role::Member, "raider-again", "x")
        .unwrap_err();
    assert_eq!(err.code(), "banned");
}

#[test]
fn admit_all_leaves_arrivals_from_a_banned_address_waiting() {
    let mut m = Meeting::started().with_waiting_room();
    m.ok(F, RoomCommand::Remove { who: A, ban: true });
    m.join_as(C, Role::Member, "tokC", "key2").unwrap();
    m.join(ParticipantId(20), Role::Member).unwrap();
    m.ok(F, RoomCommand::AdmitAll);
    assert!(m.room.is_admitted(ParticipantId(20)));
    assert!(m.room.is_waiting(C), "a flagged arrival needs its own admit");
    m.ok(F, RoomCommand::Admit { who: C });
    assert!(m.room.is_admitted(C));
}

#[test]
fn staff_see_this_meetings_bans_by_name_and_time() {
    let mut m = Meeting::started();
    m.advance(60);
    let e = m.ok(F, RoomCommand::Remove { who: A, ban: true });
    let bans = bans_told(&e).expect("staff are told of the ban");
    assert_eq!(bans.len(), 1);
    assert_eq!(bans[0].name.as_deref(), Some("Name2"));
    assert_eq!(bans[0].at, m.now);
    let snapshot = m.room.state_for(m.now, F).unwrap();
    assert_eq!(snapshot.bans, bans, "and find them in a fresh snapshot");
    let member = m.room.state_for(m.now, B).unwrap();
    assert!(member.bans.is_empty(), "members see no bans");
    assert!(
        !m.room.audience(&Effect::ToFacilitators { event: RoomEvent::BansChanged { bans } })
            .contains(&B)
    );
}

#[test]
fn a_lifted_ban_lets_the_browser_and_its_address_back_as_anyone_else() {
    let mut m = Meeting::started();
    let e = m.ok(F, RoomCommand::Remove { who: A, ban: true });
    let ban = bans_told(&e).unwrap()[0].id;
    let e = m.ok(F, RoomCommand::LiftBan { ban });
    assert_eq!(bans_told(&e), Some(vec![]));
    m.join_as(ParticipantId(20), Role::Member, "tok2", "key2")
        .unwrap();
    assert!(m.room.is_admitted(ParticipantId(20)), "no flag, no wait");
    assert!(!m.room.has_bans());
}

#[test]
fn a_member_cannot_lift_a_ban() {
    let mut m = Meeting::started();
    let e = m.ok(F, RoomCommand::Remove { who: A, ban: true });
    let ban = bans_told(&e).unwrap()[0].id;
    assert_eq!(m.refused(B, RoomCommand::LiftBan { ban }), "not_permitted");
    assert!(m.room.has_bans());
}

#[test]
fn lifting_a_ban_already_lifted_is_refused_with_unknown_ban() {
    let mut m = Meeting::started();
    assert_eq!(
        m.refused(F, RoomCommand::LiftBan { ban: BanId(7) }),
        "unknown_ban"
    );
}

#[test]
fn a_new_co_facilitator_is_sent_the_bans() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Remove { who: A, ban: true });
    let e = m.ok(F, RoomCommand::Promote { who: B });
    let told = sent_to(&e, B);
    assert!(told
        .iter()
        .any(|ev| matches!(ev, RoomEvent::BansChanged { bans } if bans.len() == 1)));
}

#[test]
fn a_restarted_meeting_lists_the_bans_it_kept_without_their_names() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Remove { who: A, ban: true });
    m.ok(F, RoomCommand::EndMeeting);
    m.advance(3600);
    m.room = m.room.restarted(m.now, RoomSettings::default());
    m.join(F, Role::Facilitator).unwrap();
    let bans = m.room.state_for(m.now, F).unwrap().bans;
    assert_eq!(bans.len(), 1);
    assert_eq!(bans[0].name, None, "names lived for that meeting only");
}

//! Screen share: who may share, one screen at a time, and every way a share ends. Imports no
//! tokio, no media, no network.

use super::*;

fn started(who: ParticipantId) -> RoomEvent {
    RoomEvent::ScreenShareStarted { sharer: public(who) }
}

fn ended(who: ParticipantId, reason: ScreenEnd) -> RoomEvent {
    RoomEvent::ScreenShareEnded { sharer: public(who), reason }
}

/// F, A, B in; staff let A share and A starts.
fn a_sharing() -> Meeting {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::AllowScreenShare { who: A });
    m.ok(A, RoomCommand::StartScreenShare);
    m
}

#[test]
fn facilitator_shares_by_default_and_everyone_is_told() {
    let mut m = Meeting::started();
    let e = m.ok(F, RoomCommand::StartScreenShare);
    assert_eq!(e[0], Effect::SetForwarding { who: F, audio: false, video: false, screen: true }, "the gate opens first");
    assert_eq!(broadcasts(&e), vec![started(F)]);
    assert_eq!(m.room.screen_sharer(), Some(F));
    assert_eq!(m.room.forwarding(F), Some((false, false)));
    assert!(m.view(F).may_share_screen);
}

#[test]
fn co_facilitator_shares_by_default() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Promote { who: A });
    m.ok(A, RoomCommand::StartScreenShare);
    assert_eq!(m.room.screen_sharer(), Some(A));
}

#[test]
fn member_not_allowed_cannot_share_and_no_screen_is_forwarded() {
    let mut m = Meeting::started();
    assert!(!m.view(A).may_share_screen);
    assert_eq!(m.refused(A, RoomCommand::StartScreenShare), "screen_share_not_allowed");
    assert_eq!(m.room.screen_sharer(), None);
}

#[test]
fn staff_let_a_member_share_who_is_told_and_may_then_share() {
    let mut m = Meeting::started();
    let e = m.ok(F, RoomCommand::AllowScreenShare { who: A });
    assert!(matches!(
        sent_to(&e, A).as_slice(),
        [RoomEvent::ScreenSharePermission { allowed: true, by, message }] if by == "Name1" && !message.is_empty()
    ));
    assert!(m.view(A).may_share_screen, "everyone sees it (staff's toggle)");
    let e = m.ok(A, RoomCommand::StartScreenShare);
    assert_eq!(screen_forwarding(&e, A), Some(true));
    assert_eq!(broadcasts(&e), vec![started(A)]);
    assert_eq!(m.room.state_for(m.now, B).unwrap().screen_share, Some(public(A)));
}

#[test]
fn member_cannot_let_anyone_share() {
    let mut m = Meeting::started();
    assert_eq!(m.refused(A, RoomCommand::AllowScreenShare { who: B }), "not_permitted");
    assert_eq!(m.refused(A, RoomCommand::AllowScreenShare { who: A }), "not_permitted");
    assert_eq!(m.refused(A, RoomCommand::EndScreenShare { who: F }), "not_permitted");
}

#[test]
fn taking_the_permission_back_ends_the_members_share() {
    let mut m = a_sharing();
    let e = m.ok(F, RoomCommand::RevokeScreenShare { who: A });
    assert_eq!(e[0], Effect::SetForwarding { who: A, audio: false, video: false, screen: false });
    assert!(broadcasts(&e).contains(&ended(A, ScreenEnd::Revoked)));
    assert!(matches!(sent_to(&e, A).as_slice(), [RoomEvent::ScreenSharePermission { allowed: false, .. }]));
    assert_eq!(m.room.screen_sharer(), None);
    assert_eq!(m.refused(A, RoomCommand::StartScreenShare), "screen_share_not_allowed");
}

#[test]
fn allowing_twice_or_revoking_no_permission_changes_nothing() {
    let mut m = Meeting::started();
    assert!(m.ok(F, RoomCommand::RevokeScreenShare { who: A }).is_empty());
    m.ok(F, RoomCommand::AllowScreenShare { who: A });
    assert!(m.ok(F, RoomCommand::AllowScreenShare { who: A }).is_empty());
}

#[test]
fn one_screen_at_a_time_even_for_a_facilitator() {
    let mut m = a_sharing();
    m.ok(F, RoomCommand::AllowScreenShare { who: B });
    assert_eq!(m.refused(B, RoomCommand::StartScreenShare), "screen_share_busy");
    assert_eq!(m.refused(F, RoomCommand::StartScreenShare), "screen_share_busy");
    // starting again while sharing is no change
    assert!(m.ok(A, RoomCommand::StartScreenShare).is_empty());
}

#[test]
fn staff_end_a_share_by_naming_the_sharer() {
    let mut m = a_sharing();
    assert_eq!(m.refused(F, RoomCommand::EndScreenShare { who: B }), "not_sharing_screen");
    let e = m.ok(F, RoomCommand::EndScreenShare { who: A });
    assert_eq!(screen_forwarding(&e, A), Some(false));
    assert_eq!(broadcasts(&e), vec![ended(A, ScreenEnd::EndedByStaff)]);
    // the permission stays: A may share again
    m.ok(A, RoomCommand::StartScreenShare);
}

#[test]
fn co_facilitator_cannot_end_a_facilitators_share() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Promote { who: A });
    m.ok(F, RoomCommand::StartScreenShare);
    assert_eq!(m.refused(A, RoomCommand::EndScreenShare { who: F }), "not_permitted");
}

#[test]
fn the_sharer_stops_their_own_share_and_no_one_else_can_stop_it_that_way() {
    let mut m = a_sharing();
    assert_eq!(m.refused(B, RoomCommand::StopScreenShare), "not_sharing_screen");
    let e = m.ok(A, RoomCommand::StopScreenShare);
    assert_eq!(screen_forwarding(&e, A), Some(false));
    assert_eq!(broadcasts(&e), vec![ended(A, ScreenEnd::Stopped)]);
    assert_eq!(m.refused(A, RoomCommand::StopScreenShare), "not_sharing_screen");
}

#[test]
fn leaving_ends_the_share() {
    let mut m = a_sharing();
    let e = m.ok(A, RoomCommand::Leave);
    assert!(broadcasts(&e).contains(&ended(A, ScreenEnd::Left)));
    assert_eq!(m.room.screen_sharer(), None);
    m.ok(F, RoomCommand::StartScreenShare);
}

#[test]
fn removal_and_ban_end_the_share_at_once() {
    for ban in [false, true] {
        let mut m = a_sharing();
        let e = m.ok(F, RoomCommand::Remove { who: A, ban });
        let b = broadcasts(&e);
        assert!(b.contains(&ended(A, ScreenEnd::Removed)), "{b:?}");
        assert_eq!(m.room.screen_sharer(), None);
        assert_eq!(m.room.state_for(m.now, B).unwrap().screen_share, None);
    }
}

#[test]
fn a_dropped_connection_ends_the_share_but_keeps_the_place_and_permission() {
    let mut m = a_sharing();
    let e = m.room.connection_dropped(m.now, A);
    assert_eq!(e[0], Effect::SetForwarding { who: A, audio: false, video: false, screen: false });
    assert_eq!(broadcasts(&e), vec![ended(A, ScreenEnd::Dropped)]);
    assert!(m.room.is_admitted(A));
    assert!(m.room.connection_dropped(m.now, A).is_empty(), "nothing more to end");
    assert!(m.room.connection_dropped(m.now, B).is_empty(), "B was not sharing");
    m.ok(A, RoomCommand::StartScreenShare);
}

#[test]
fn suspend_ends_any_share_and_restore_brings_none_back() {
    let mut m = a_sharing();
    let e = m.ok(F, RoomCommand::Suspend);
    assert_eq!(screen_forwarding(&e, A), Some(false));
    assert!(broadcasts(&e).contains(&ended(A, ScreenEnd::Suspended)));
    assert_eq!(m.refused(A, RoomCommand::StartScreenShare), "room_suspended");
    let e = m.ok(F, RoomCommand::Restore);
    assert_eq!(screen_forwarding(&e, A), None);
    assert_eq!(m.room.screen_sharer(), None);
    m.ok(A, RoomCommand::StartScreenShare);
}

#[test]
fn suspend_ends_a_facilitators_share_too_who_may_share_again_while_suspended() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::StartScreenShare);
    let e = m.ok(F, RoomCommand::Suspend);
    assert!(broadcasts(&e).contains(&ended(F, ScreenEnd::Suspended)));
    m.ok(F, RoomCommand::StartScreenShare);
}

#[test]
fn a_demoted_co_facilitator_without_permission_stops_sharing() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Promote { who: A });
    m.ok(A, RoomCommand::StartScreenShare);
    let e = m.ok(F, RoomCommand::Demote { who: A });
    assert_eq!(screen_forwarding(&e, A), Some(false));
    assert!(broadcasts(&e).contains(&ended(A, ScreenEnd::Revoked)));
}

#[test]
fn a_demoted_co_facilitator_whom_staff_let_share_keeps_sharing() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Promote { who: A });
    m.ok(F, RoomCommand::AllowScreenShare { who: A });
    m.ok(A, RoomCommand::StartScreenShare);
    m.ok(F, RoomCommand::Demote { who: A });
    assert_eq!(m.room.screen_sharer(), Some(A));
}

/// Found by the room's property test (3 000 cases): a co-facilitator shared during a
/// suspension, staff let them share, then demoted them: a member shared in a suspended room.
#[test]
fn a_co_facilitator_demoted_while_suspended_stops_sharing_and_is_silenced_even_with_permission() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Promote { who: A });
    m.ok(A, RoomCommand::SetMediaState { audio: Some(true), video: Some(true) });
    m.ok(F, RoomCommand::Suspend);
    m.ok(A, RoomCommand::StartScreenShare);
    m.ok(F, RoomCommand::AllowScreenShare { who: A });
    let e = m.ok(F, RoomCommand::Demote { who: A });
    assert_eq!(screen_forwarding(&e, A), Some(false));
    assert!(broadcasts(&e).contains(&ended(A, ScreenEnd::Suspended)), "the permission holds: the suspension is why");
    assert_eq!(m.room.forwarding(A), Some((false, false)), "a member of a suspended room");
    assert_eq!(m.refused(A, RoomCommand::StartScreenShare), "room_suspended");
    // Restored: the permission staff gave holds again.
    m.ok(F, RoomCommand::Restore);
    m.ok(A, RoomCommand::StartScreenShare);
}

#[test]
fn ending_the_meeting_ends_the_share() {
    let mut m = a_sharing();
    m.ok(F, RoomCommand::EndMeeting);
    assert_eq!(m.room.screen_sharer(), None);
    assert!(m.room.connection_dropped(m.now, A).is_empty());
}

#[test]
fn a_newcomer_learns_whose_screen_is_on_and_gets_no_screen_gate() {
    let mut m = a_sharing();
    let e = m.join(C, Role::Member).unwrap();
    assert_eq!(screen_forwarding(&e, C), Some(false));
    let snapshot = sent_to(&e, C).into_iter().find_map(|ev| match ev {
        RoomEvent::Snapshot(s) => Some(s),
        _ => None,
    });
    assert_eq!(snapshot.unwrap().screen_share, Some(public(A)));
}

#[test]
fn starting_over_and_over_is_rate_limited() {
    let mut m = Meeting::started();
    for _ in 0..4 {
        m.ok(F, RoomCommand::StartScreenShare);
        m.ok(F, RoomCommand::StopScreenShare);
    }
    assert_eq!(m.refused(F, RoomCommand::StartScreenShare), "rate_limited");
    m.advance(5);
    m.ok(F, RoomCommand::StartScreenShare);
}

#[test]
fn a_refused_start_costs_no_token() {
    let mut m = a_sharing();
    m.ok(F, RoomCommand::AllowScreenShare { who: B });
    for _ in 0..10 {
        assert_eq!(m.refused(B, RoomCommand::StartScreenShare), "screen_share_busy");
    }
    m.ok(A, RoomCommand::StopScreenShare);
    m.ok(B, RoomCommand::StartScreenShare);
}

#[test]
fn the_permission_is_for_this_place_only_not_a_rejoin() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::AllowScreenShare { who: A });
    m.ok(A, RoomCommand::Leave);
    m.join_as(C, Role::Member, "tok2", "key2").unwrap();
    assert_eq!(m.refused(C, RoomCommand::StartScreenShare), "screen_share_not_allowed");
}

//! Roles, permissions, mute, camera, remove and ban. Imports no tokio, no media, no network.

use super::*;

/// Every staff-only command, aimed at a plausible target.
fn staff_commands() -> Vec<RoomCommand> {
    use RoomCommand as C;
    vec![
        C::UpdateSettings(SettingsPatch {
            chat_enabled: Some(false),
            ..Default::default()
        }),
        C::Lock,
        C::Unlock,
        C::Promote { who: B },
        C::Demote { who: B },
        C::Mute { who: B },
        C::MuteAll,
        C::SetUnmutePermission {
            who: B,
            permission: UnmutePermission::Denied,
        },
        C::StopCamera { who: B },
        C::AllowCamera { who: B },
        C::Remove { who: B, ban: false },
        C::Remove { who: B, ban: true },
        C::Admit { who: C },
        C::AdmitAll,
        C::Deny { who: C, ban: false },
        C::DenyAll,
        C::LiftBan { ban: BanId(1) },
        C::CallNext,
        C::Call { who: B },
        C::MoveInQueue {
            who: B,
            position: 0,
        },
        C::RemoveFromQueue { who: B },
        C::ClearQueue,
        C::StopShare,
        C::AddTime { seconds: 60 },
        C::Suspend,
        C::Restore,
        C::EndMeeting,
    ]
}

#[test]
fn member_cannot_use_any_facilitator_command() {
    let mut m = Meeting::started().with_waiting_room();
    m.join(C, Role::Member).unwrap();
    m.ok(B, RoomCommand::RaiseHand);
    m.ok(
        B,
        RoomCommand::SetMediaState {
            audio: Some(true),
            video: Some(true),
        },
    );
    for cmd in staff_commands() {
        assert_eq!(m.refused(A, cmd.clone()), "not_permitted", "{cmd:?}");
    }
}

#[test]
fn member_cannot_lock_room() {
    let mut m = Meeting::started();
    assert_eq!(m.refused(A, RoomCommand::Lock), "not_permitted");
    assert!(!m.room.locked);
}

#[test]
fn member_cannot_mute_another_member() {
    let mut m = Meeting::started();
    m.unmute(B).unwrap();
    assert_eq!(m.refused(A, RoomCommand::Mute { who: B }), "not_permitted");
    assert_eq!(m.room.forwarding(B), Some((true, false)));
}

#[test]
fn member_cannot_remove_anyone() {
    let mut m = Meeting::started();
    assert_eq!(
        m.refused(A, RoomCommand::Remove { who: B, ban: true }),
        "not_permitted"
    );
    assert!(m.room.is_admitted(B));
}

#[test]
fn join_claiming_co_facilitator_is_treated_as_member() {
    let mut m = Meeting::started();
    m.join(C, Role::CoFacilitator).unwrap();
    assert_eq!(m.room.role_of(C), Some(Role::Member));
}

#[test]
fn promoted_co_facilitator_can_mute_and_receives_waiting_list() {
    let mut m = Meeting::started().with_waiting_room();
    m.join(C, Role::Member).unwrap();
    let e = m.ok(F, RoomCommand::Promote { who: A });
    let waiting = vec![WaiterView {
        id: public(C),
        name: "Name4".into(),
        same_network_as_banned: false,
    }];
    assert!(sent_to(&e, A).contains(&RoomEvent::WaitingListChanged { waiting }));
    assert!(broadcasts(&e).iter().any(|ev| matches!(ev,
        RoomEvent::ParticipantUpdated(v) if v.id == public(A) && v.role == Role::CoFacilitator)));
    m.unmute(B).unwrap();
    m.ok(A, RoomCommand::Mute { who: B });
    m.ok(A, RoomCommand::Admit { who: C });
}

#[test]
fn co_facilitator_cannot_demote_facilitator() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Promote { who: A });
    assert_eq!(
        m.refused(A, RoomCommand::Demote { who: F }),
        "not_permitted"
    );
    assert_eq!(m.room.role_of(F), Some(Role::Facilitator));
}

#[test]
fn co_facilitator_cannot_mute_remove_or_stop_camera_of_facilitator() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Promote { who: A });
    m.unmute(F).unwrap();
    assert_eq!(m.refused(A, RoomCommand::Mute { who: F }), "not_permitted");
    assert_eq!(
        m.refused(A, RoomCommand::Remove { who: F, ban: true }),
        "not_permitted"
    );
    assert_eq!(
        m.refused(A, RoomCommand::StopCamera { who: F }),
        "not_permitted"
    );
}

#[test]
fn demoted_co_facilitator_loses_facilitator_powers() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Promote { who: A });
    m.ok(A, RoomCommand::Lock);
    m.ok(F, RoomCommand::Demote { who: A });
    assert_eq!(m.refused(A, RoomCommand::Unlock), "not_permitted");
}

#[test]
fn muted_member_audio_is_not_forwarded() {
    let mut m = Meeting::started();
    let e = m.unmute(A).unwrap();
    assert_eq!(forwarding(&e, A), Some((true, false)));
    let e = m.ok(F, RoomCommand::Mute { who: A });
    // enforcement comes before anyone is told
    assert_eq!(
        e[0],
        Effect::SetForwarding {
            who: A,
            audio: false,
            video: false,
            screen: false
        }
    );
    let told = sent_to(&e, A);
    assert!(matches!(&told[..], [RoomEvent::YouWereMuted { by, reason }]
        if by == "Name1" && reason.starts_with("A facilitator muted you.")));
    assert_eq!(m.room.forwarding(A), Some((false, false)));
}

#[test]
fn mute_all_mutes_members_but_not_facilitators() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Promote { who: B });
    for who in [F, A, B] {
        m.unmute(who).unwrap();
    }
    let e = m.ok(F, RoomCommand::MuteAll);
    assert_eq!(forwarding(&e, A), Some((false, false)));
    assert_eq!(forwarding(&e, B), None);
    assert_eq!(forwarding(&e, F), None);
}

#[test]
fn member_cannot_unmute_when_self_unmute_is_disallowed() {
    let mut m = Meeting::started();
    let patch = SettingsPatch {
        members_may_unmute: Some(false),
        ..Default::default()
    };
    m.ok(F, RoomCommand::UpdateSettings(patch));
    let unmute = RoomCommand::SetMediaState {
        audio: Some(true),
        video: None,
    };
    assert_eq!(m.refused(A, unmute.clone()), "cannot_unmute");
    assert!(!m.view(A).may_unmute);
    // facilitators always may
    m.ok(F, unmute);
}

#[test]
fn personal_permission_overrides_the_room_rule_both_ways() {
    let mut m = Meeting::started();
    let patch = SettingsPatch {
        members_may_unmute: Some(false),
        ..Default::default()
    };
    m.ok(F, RoomCommand::UpdateSettings(patch));
    let allow = UnmutePermission::Allowed;
    let e = m.ok(
        F,
        RoomCommand::SetUnmutePermission {
            who: A,
            permission: allow,
        },
    );
    assert!(broadcasts(&e).iter().any(|ev| matches!(ev,
        RoomEvent::ParticipantUpdated(v) if v.id == public(A) && v.may_unmute)));
    m.unmute(A).unwrap();
    let deny = UnmutePermission::Denied;
    let patch = SettingsPatch {
        members_may_unmute: Some(true),
        ..Default::default()
    };
    m.ok(F, RoomCommand::UpdateSettings(patch));
    m.ok(
        F,
        RoomCommand::SetUnmutePermission {
            who: B,
            permission: deny,
        },
    );
    assert_eq!(m.unmute(B).unwrap_err().code(), "cannot_unmute");
}

#[test]
fn turning_media_off_is_always_allowed() {
    let mut m = Meeting::started();
    m.ok(
        A,
        RoomCommand::SetMediaState {
            audio: Some(true),
            video: Some(true),
        },
    );
    m.ok(F, RoomCommand::Suspend);
    m.ok(F, RoomCommand::StopCamera { who: B });
    m.ok(
        A,
        RoomCommand::SetMediaState {
            audio: Some(false),
            video: Some(false),
        },
    );
    m.ok(
        B,
        RoomCommand::SetMediaState {
            audio: Some(false),
            video: Some(false),
        },
    );
}

#[test]
fn stopped_camera_is_not_forwarded_and_stays_off_until_allowed() {
    let mut m = Meeting::started();
    let cam_on = RoomCommand::SetMediaState {
        audio: None,
        video: Some(true),
    };
    assert_eq!(forwarding(&m.ok(A, cam_on.clone()), A), Some((false, true)));
    let e = m.ok(F, RoomCommand::StopCamera { who: A });
    assert_eq!(
        e[0],
        Effect::SetForwarding {
            who: A,
            audio: false,
            video: false,
            screen: false
        }
    );
    assert!(matches!(
        &sent_to(&e, A)[..],
        [RoomEvent::YourCameraWasStopped { .. }]
    ));
    assert_eq!(m.refused(A, cam_on.clone()), "camera_stopped");
    m.ok(F, RoomCommand::AllowCamera { who: A });
    assert_eq!(forwarding(&m.ok(A, cam_on), A), Some((false, true)));
}

#[test]
fn entry_defaults_keep_mic_and_camera_off() {
    let mut m = Meeting::started();
    let e = m.join(C, Role::Member).unwrap();
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
}

#[test]
fn entry_with_defaults_off_forwards_media_from_the_start() {
    let settings = RoomSettings {
        mute_on_entry: false,
        camera_off_on_entry: false,
        ..Default::default()
    };
    let mut m = Meeting::new(settings);
    let e = m.join(A, Role::Member).unwrap();
    assert_eq!(forwarding(&e, A), Some((true, true)));
}

#[test]
fn removed_member_is_disconnected_and_may_rejoin() {
    let mut m = Meeting::started();
    m.ok(A, RoomCommand::RaiseHand);
    let e = m.ok(F, RoomCommand::Remove { who: A, ban: false });
    assert_eq!(disconnected(&e, A), Some(CloseReason::Removed));
    let left = RoomEvent::ParticipantLeft {
        id: public(A),
        reason: LeaveReason::Removed,
    };
    assert!(broadcasts(&e).contains(&left));
    assert!(m.queue().is_empty());
    m.join(A, Role::Member).unwrap();
}

#[test]
fn banned_token_cannot_rejoin() {
    let mut m = Meeting::started();
    let e = m.ok(F, RoomCommand::Remove { who: A, ban: true });
    assert_eq!(disconnected(&e, A), Some(CloseReason::Banned));
    let err = m
        .join_as(ParticipantId(20), Role::Member, "tok2", "fresh-address")
        .unwrap_err();
    assert_eq!(err.code(), "banned");
}

#[test]
fn ban_closes_other_connections_of_the_same_browser() {
    let mut m = Meeting::started();
    m.join_as(C, Role::Member, "tok2", "other").unwrap();
    let e = m.ok(F, RoomCommand::Remove { who: A, ban: true });
    assert_eq!(disconnected(&e, C), Some(CloseReason::Banned));
    assert!(!m.room.is_admitted(C));
}

#[test]
fn facilitator_holding_the_secret_is_not_stopped_by_an_address_ban() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Remove { who: A, ban: true });
    m.join_as(C, Role::Facilitator, "tok9", "key2").unwrap();
}

#[test]
fn the_secret_outranks_a_token_ban_and_the_lock() {
    // Whoever holds the key is the facilitator: a banned browser that has it gets in, as the
    // secret's holder must always be able to (the key is rotated if it leaked).
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Remove { who: A, ban: true });
    m.ok(F, RoomCommand::Lock);
    m.join_as(C, Role::Facilitator, "tok2", "key2").unwrap();
    assert!(m.room.is_admitted(C));
}

#[test]
fn a_ban_tells_the_same_browsers_waiting_tab_it_was_not_let_in() {
    let mut m = Meeting::started().with_waiting_room();
    m.join_as(C, Role::Member, "tok2", "key2").unwrap();
    assert!(m.room.is_waiting(C));
    let e = m.ok(F, RoomCommand::Remove { who: A, ban: true });
    assert_eq!(disconnected(&e, A), Some(CloseReason::Banned));
    assert_eq!(disconnected(&e, C), Some(CloseReason::DeniedAndBanned));
}

#[test]
fn ended_meeting_keeps_refusing_joins_a_banned_raider_included() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Remove { who: A, ban: true });
    m.ok(F, RoomCommand::EndMeeting);
    m.advance(3600);
    for (id, token, key) in [
        (20, "tok2", "fresh"),
        (21, "new", "key9"),
        (22, "tok1", "key1"),
    ] {
        let err = m
            .join_as(ParticipantId(id), Role::Member, token, key)
            .unwrap_err();
        assert_eq!(err.code(), "meeting_ended");
    }
    let err = m.join(ParticipantId(23), Role::Facilitator).unwrap_err();
    assert_eq!(err.code(), "meeting_ended");
    assert!(m.room.has_bans(), "the ended meeting still holds its bans");
}

#[test]
fn restarted_meeting_keeps_a_ban_made_within_the_day() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Remove { who: A, ban: true });
    m.ok(F, RoomCommand::EndMeeting);
    m.advance(23 * 3600);
    m.room = m.room.restarted(m.now, RoomSettings::default());
    m.join(F, Role::Facilitator).unwrap();
    let err = m
        .join_as(ParticipantId(20), Role::Member, "tok2", "fresh-address")
        .unwrap_err();
    assert_eq!(err.code(), "banned");
    m.join_as(ParticipantId(21), Role::Member, "new-token", "key2")
        .unwrap();
    assert!(m.room.is_waiting(ParticipantId(21)), "the address still flags");
    m.join(B, Role::Member).unwrap();
}

#[test]
fn restarted_meeting_forgets_bans_over_a_day_old() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Remove { who: A, ban: true });
    m.advance(10);
    m.ok(F, RoomCommand::Remove { who: B, ban: true });
    m.advance(24 * 3600 - 5);
    m.room = m.room.restarted(m.now, RoomSettings::default());
    m.join_as(ParticipantId(20), Role::Member, "tok2", "key2")
        .unwrap();
    let err = m
        .join_as(ParticipantId(21), Role::Member, "tok3", "key3")
        .unwrap_err();
    assert_eq!(err.code(), "banned", "B's ban is not a day old yet");
    m.advance(5);
    m.room = m.room.restarted(m.now, RoomSettings::default());
    assert!(!m.room.has_bans());
}

#[test]
fn a_ban_never_lapses_within_one_meeting() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Remove { who: A, ban: true });
    m.advance(3 * 24 * 3600);
    let err = m
        .join_as(ParticipantId(20), Role::Member, "tok2", "other")
        .unwrap_err();
    assert_eq!(err.code(), "banned");
}

#[test]
fn restarted_meeting_forgets_names_chat_lock_and_live_settings() {
    let mut m = Meeting::started();
    m.ok(
        A,
        RoomCommand::Chat {
            text: "hello".into(),
        },
    );
    m.ok(F, RoomCommand::Lock);
    let patch = SettingsPatch {
        chat_enabled: Some(false),
        ..Default::default()
    };
    m.ok(F, RoomCommand::UpdateSettings(patch));
    m.ok(F, RoomCommand::EndMeeting);
    m.room = m.room.restarted(m.now, RoomSettings::default());
    assert!(!m.room.is_ended());
    m.join(C, Role::Member).unwrap();
    let seen = m.room.state_for(m.now, C).unwrap();
    assert!(seen.chat.is_empty() && seen.participants.len() == 1);
    assert_eq!(
        seen.status,
        RoomStatus {
            settings: RoomSettings::default(),
            locked: false,
            suspended: false
        }
    );
}

fn allow_unmute(m: &mut Meeting, who: ParticipantId) -> Vec<Effect> {
    let permission = UnmutePermission::FollowRoom;
    m.ok(F, RoomCommand::SetUnmutePermission { who, permission })
}

#[test]
fn facilitator_mute_holds_until_a_facilitator_allows_unmute() {
    let mut m = Meeting::started();
    m.unmute(A).unwrap();
    let e = m.ok(F, RoomCommand::Mute { who: A });
    assert!(broadcasts(&e).iter().any(|ev| matches!(ev,
        RoomEvent::ParticipantUpdated(v) if v.id == public(A) && v.muted_by_facilitator && !v.may_unmute)));
    let unmute = RoomCommand::SetMediaState {
        audio: Some(true),
        video: None,
    };
    assert_eq!(m.refused(A, unmute), "muted_by_facilitator");
    assert_eq!(
        m.room.forwarding(A),
        Some((false, false)),
        "the SFU keeps dropping A's audio"
    );
    let e = allow_unmute(&mut m, A);
    assert!(broadcasts(&e).iter().any(|ev| matches!(ev,
        RoomEvent::ParticipantUpdated(v) if v.id == public(A) && !v.muted_by_facilitator && v.may_unmute)));
    assert_eq!(forwarding(&m.unmute(A).unwrap(), A), Some((true, false)));
}

#[test]
fn held_member_is_told_who_can_let_them_speak() {
    let mut m = Meeting::started();
    m.unmute(A).unwrap();
    let e = m.ok(F, RoomCommand::Mute { who: A });
    assert!(
        matches!(&sent_to(&e, A)[..], [RoomEvent::YouWereMuted { reason, .. }]
        if reason == "A facilitator muted you. You can unmute when a facilitator lets you speak again or calls on you. Raise your hand to share.")
    );
    assert_eq!(
        RoomError::MutedByFacilitator.message(),
        "A facilitator muted you. You can unmute when a facilitator lets you speak again or calls on you to share."
    );
}

#[test]
fn facilitator_can_hold_a_member_whose_mic_is_already_off() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Mute { who: A });
    assert!(m.view(A).muted_by_facilitator);
    assert_eq!(m.unmute(A).unwrap_err().code(), "muted_by_facilitator");
}

#[test]
fn calling_a_held_member_to_the_floor_lets_them_speak_again() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Mute { who: A });
    m.ok(F, RoomCommand::Call { who: A });
    assert_eq!(forwarding(&m.unmute(A).unwrap(), A), Some((true, false)));
    m.ok(A, RoomCommand::Done);
    assert_eq!(m.room.forwarding(A), Some((false, false)));
    // the share is over and the facilitator's mute with it: the room's rule applies again
    assert!(!m.view(A).muted_by_facilitator);
    m.unmute(A).unwrap();
}

#[test]
fn floor_holder_muted_by_a_facilitator_is_held_once_the_share_ends() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Call { who: A });
    m.unmute(A).unwrap();
    m.ok(F, RoomCommand::Mute { who: A });
    // the floor still lets them finish
    m.unmute(A).unwrap();
    m.ok(F, RoomCommand::StopShare);
    assert_eq!(m.unmute(A).unwrap_err().code(), "muted_by_facilitator");
}

#[test]
fn leaving_and_coming_back_does_not_lift_a_facilitator_mute() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Mute { who: A });
    m.ok(A, RoomCommand::Leave);
    m.join_as(C, Role::Member, "tok2", "key2").unwrap();
    assert!(m.view(C).muted_by_facilitator);
    assert_eq!(m.unmute(C).unwrap_err().code(), "muted_by_facilitator");
}

#[test]
fn a_second_tab_of_a_held_member_is_held_and_muted_too() {
    let mut m = Meeting::started();
    m.join_as(C, Role::Member, "tok2", "elsewhere").unwrap();
    m.unmute(C).unwrap();
    let e = m.ok(F, RoomCommand::Mute { who: A });
    assert_eq!(forwarding(&e, C), Some((false, false)));
    assert_eq!(m.unmute(C).unwrap_err().code(), "muted_by_facilitator");
}

#[test]
fn mute_all_holds_those_it_silenced_but_not_those_already_silent() {
    let mut m = Meeting::started();
    m.unmute(A).unwrap();
    m.ok(F, RoomCommand::MuteAll);
    assert_eq!(m.unmute(A).unwrap_err().code(), "muted_by_facilitator");
    assert!(!m.view(B).muted_by_facilitator);
    m.unmute(B).unwrap();
}

#[test]
fn denying_unmute_keeps_the_hold_and_promotion_lifts_it() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Mute { who: A });
    let deny = UnmutePermission::Denied;
    m.ok(
        F,
        RoomCommand::SetUnmutePermission {
            who: A,
            permission: deny,
        },
    );
    assert!(m.view(A).muted_by_facilitator);
    m.ok(F, RoomCommand::Promote { who: A });
    assert!(!m.view(A).muted_by_facilitator);
    m.ok(F, RoomCommand::Demote { who: A });
    assert!(
        !m.view(A).muted_by_facilitator,
        "the hold does not come back with the demotion"
    );
}

#[test]
fn while_suspended_a_held_member_is_told_the_room_is_paused() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Mute { who: A });
    m.ok(F, RoomCommand::Suspend);
    assert_eq!(m.unmute(A).unwrap_err().code(), "room_suspended");
    m.ok(F, RoomCommand::Restore);
    assert_eq!(m.unmute(A).unwrap_err().code(), "muted_by_facilitator");
}

#[test]
fn muting_a_co_facilitator_mutes_them_without_holding_them() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Promote { who: A });
    m.unmute(A).unwrap();
    let e = m.ok(F, RoomCommand::Mute { who: A });
    assert_eq!(forwarding(&e, A), Some((false, false)));
    m.ok(F, RoomCommand::Demote { who: A });
    assert!(!m.view(A).muted_by_facilitator);
    m.unmute(A).unwrap();
}

#[test]
fn demoting_a_co_facilitator_whose_other_tab_is_held_mutes_and_holds_them() {
    let mut m = Meeting::started();
    m.join_as(C, Role::Member, "tok2", "elsewhere").unwrap();
    m.ok(F, RoomCommand::Promote { who: C });
    m.unmute(C).unwrap();
    m.ok(F, RoomCommand::Mute { who: A });
    let e = m.ok(F, RoomCommand::Demote { who: C });
    assert_eq!(forwarding(&e, C), Some((false, false)));
    assert_eq!(m.unmute(C).unwrap_err().code(), "muted_by_facilitator");
}

//! Chat, private messages, check-in and reactions. Imports no tokio, no media, no network.

use super::*;

fn say(text: &str) -> RoomCommand {
    RoomCommand::Chat { text: text.into() }
}

fn chat_id(e: &[Effect]) -> MessageId {
    broadcasts(e)
        .into_iter()
        .find_map(|ev| match ev {
            RoomEvent::ChatMessage(c) => Some(c.id),
            _ => None,
        })
        .expect("a chat message")
}

#[test]
fn chat_is_broadcast_with_an_id_and_kept_for_those_already_here() {
    let mut m = Meeting::started();
    let e = m.ok(A, say("welcome"));
    let msg = ChatView {
        id: MessageId(1),
        from: public(A),
        name: "Name2".into(),
        role: Role::Member,
        text: "welcome".into(),
    };
    assert_eq!(broadcasts(&e), vec![RoomEvent::ChatMessage(msg.clone())]);
    // a reconnecting phone's snapshot keeps the thread
    assert_eq!(m.room.state_for(m.now, B).unwrap().chat, vec![msg]);
}

fn chat_texts(m: &Meeting, who: ParticipantId) -> Vec<String> {
    let snapshot = m.room.state_for(m.now, who).expect("admitted");
    snapshot.chat.into_iter().map(|c| c.text).collect()
}

fn share_earlier_chat(m: &mut Meeting, on: bool) {
    let patch = SettingsPatch {
        share_earlier_chat: Some(on),
        ..Default::default()
    };
    m.ok(F, RoomCommand::UpdateSettings(patch));
}

#[test]
fn late_joiner_sees_only_what_is_said_after_they_arrive() {
    let mut m = Meeting::started();
    m.ok(A, say("something personal"));
    let e = m.join(C, Role::Member).unwrap();
    let snapshot = sent_to(&e, C).into_iter().find_map(|ev| match ev {
        RoomEvent::Snapshot(s) => Some(s),
        _ => None,
    });
    assert!(snapshot.expect("a snapshot on admission").chat.is_empty());
    m.ok(B, say("welcome, newcomer"));
    assert_eq!(chat_texts(&m, C), vec!["welcome, newcomer"]);
    assert_eq!(
        chat_texts(&m, A),
        vec!["something personal", "welcome, newcomer"]
    );
}

#[test]
fn admission_from_the_waiting_room_is_the_arrival() {
    let mut m = Meeting::started().with_waiting_room();
    m.join(C, Role::Member).unwrap();
    m.ok(A, say("said while C waited"));
    m.ok(F, RoomCommand::Admit { who: C });
    m.ok(B, say("said after C came in"));
    assert_eq!(chat_texts(&m, C), vec!["said after C came in"]);
}

#[test]
fn with_earlier_chat_shared_a_newcomer_gets_the_recent_history_but_not_deleted_messages() {
    let mut m = Meeting::started();
    let first = chat_id(&m.ok(A, say("hello all")));
    m.ok(B, say("hi"));
    m.ok(F, RoomCommand::DeleteChat { id: first });
    share_earlier_chat(&mut m, true);
    assert!(m.room.status().settings.share_earlier_chat);
    m.join(C, Role::Member).unwrap();
    assert_eq!(chat_texts(&m, C), vec!["hi"]);
}

#[test]
fn earlier_chat_is_not_shared_by_default_and_turning_it_off_stops_sharing() {
    assert!(!RoomSettings::default().share_earlier_chat);
    let mut m = Meeting::started();
    share_earlier_chat(&mut m, true);
    m.ok(A, say("before"));
    share_earlier_chat(&mut m, false);
    m.join(C, Role::Member).unwrap();
    assert!(chat_texts(&m, C).is_empty());
}

#[test]
fn facilitator_arriving_late_sees_the_recent_history_to_moderate_it() {
    let mut m = Meeting::new(RoomSettings::default());
    m.join(A, Role::Member).unwrap();
    m.ok(A, say("spam from a raider"));
    m.join(F, Role::Facilitator).unwrap();
    assert_eq!(chat_texts(&m, F), vec!["spam from a raider"]);
}

#[test]
fn chat_off_refuses_members_but_not_facilitators() {
    let mut m = Meeting::started();
    let patch = SettingsPatch {
        chat_enabled: Some(false),
        ..Default::default()
    };
    m.ok(F, RoomCommand::UpdateSettings(patch));
    assert_eq!(m.refused(A, say("hi")), "chat_disabled");
    m.ok(F, say("we will be back in a moment"));
}

#[test]
fn chat_longer_than_1000_characters_is_refused() {
    let mut m = Meeting::started();
    m.ok(A, say(&"é".repeat(1000)));
    assert_eq!(m.refused(A, say(&"a".repeat(1001))), "message_too_long");
    assert_eq!(m.refused(A, say("   ")), "empty_message");
}

#[test]
fn encrypted_meeting_takes_only_base64url_ciphertext_within_the_sealed_bound() {
    let mut m = Meeting::started_with(RoomSettings {
        e2ee: true,
        ..RoomSettings::default()
    });
    // 1000 four-byte characters sealed: 15 + 4032 + 16 bytes, 5418 characters of base64url.
    assert_eq!(MAX_SEALED_MESSAGE_CHARS, 5418);
    m.ok(A, say(&"A-_z09".repeat(903)));
    assert_eq!(m.refused(A, say(&"a".repeat(5419))), "message_too_long");
    assert_eq!(m.refused(B, say("hello in clear")), "message_not_encrypted");
    assert_eq!(m.refused(B, say("padded==")), "message_not_encrypted");
    let to_staff = RoomCommand::MessageFacilitators {
        text: "help me".into(),
    };
    assert_eq!(m.refused(B, to_staff), "message_not_encrypted");
    m.ok(
        B,
        RoomCommand::MessageFacilitators {
            text: "c2VhbGVk".into(),
        },
    );
}

#[test]
fn encryption_cannot_be_changed_by_a_settings_patch() {
    let mut m = Meeting::started_with(RoomSettings {
        e2ee: true,
        ..RoomSettings::default()
    });
    m.ok(
        F,
        RoomCommand::UpdateSettings(SettingsPatch {
            chat_enabled: Some(true),
            ..Default::default()
        }),
    );
    assert_eq!(
        m.refused(A, say("still refused in clear")),
        "message_not_encrypted"
    );
}

#[test]
fn chat_is_rate_limited_and_recovers_with_time() {
    let mut m = Meeting::started();
    for _ in 0..5 {
        m.ok(A, say("spam"));
    }
    assert_eq!(m.refused(A, say("spam")), "rate_limited");
    // others are unaffected
    m.ok(B, say("hello"));
    m.advance(3);
    m.ok(A, say("sorry"));
}

#[test]
fn facilitator_deletes_any_message() {
    let mut m = Meeting::started();
    let id = chat_id(&m.ok(A, say("something hurtful")));
    let e = m.ok(F, RoomCommand::DeleteChat { id });
    assert_eq!(broadcasts(&e), vec![RoomEvent::ChatDeleted { id }]);
    assert!(m.room.state_for(m.now, B).unwrap().chat.is_empty());
    assert_eq!(
        m.refused(F, RoomCommand::DeleteChat { id }),
        "unknown_message"
    );
}

#[test]
fn member_cannot_delete_someone_elses_chat() {
    let mut m = Meeting::started();
    let id = chat_id(&m.ok(A, say("mine")));
    assert_eq!(
        m.refused(B, RoomCommand::DeleteChat { id }),
        "not_permitted"
    );
    m.ok(A, RoomCommand::DeleteChat { id });
}

#[test]
fn member_to_member_private_message_is_refused_by_default() {
    let mut m = Meeting::started();
    let pm = RoomCommand::PrivateMessage {
        to: B,
        text: "hey".into(),
    };
    assert_eq!(m.refused(A, pm), "private_messages_disabled");
}

#[test]
fn member_to_member_private_message_works_when_the_room_allows_it() {
    let mut m = Meeting::started();
    let patch = SettingsPatch {
        member_private_messages: Some(true),
        ..Default::default()
    };
    m.ok(F, RoomCommand::UpdateSettings(patch));
    let e = m.ok(
        A,
        RoomCommand::PrivateMessage {
            to: B,
            text: "hey".into(),
        },
    );
    assert_eq!(sent_to(&e, B).len(), 1);
    assert_eq!(sent_to(&e, A).len(), 1, "echo to the sender");
    assert!(broadcasts(&e).is_empty());
}

#[test]
fn member_can_message_the_facilitators_even_with_chat_off() {
    let mut m = Meeting::started();
    m.ok(F, RoomCommand::Promote { who: B });
    let patch = SettingsPatch {
        chat_enabled: Some(false),
        ..Default::default()
    };
    m.ok(F, RoomCommand::UpdateSettings(patch));
    let e = m.ok(
        A,
        RoomCommand::MessageFacilitators {
            text: "I need a minute".into(),
        },
    );
    let to_staff = e
        .iter()
        .find(|e| matches!(e, Effect::ToFacilitators { .. }))
        .unwrap();
    assert_eq!(m.room.audience(to_staff), vec![F, B]);
    assert!(matches!(&sent_to(&e, A)[..], [RoomEvent::PrivateMessage(p)] if p.to.is_none()));
}

#[test]
fn check_in_request_reaches_only_the_facilitators() {
    let mut m = Meeting::started();
    let e = m.ok(A, RoomCommand::RequestCheckIn);
    let asked = RoomEvent::CheckInRequested {
        from: public(A),
        name: "Name2".into(),
    };
    assert_eq!(e, vec![Effect::ToFacilitators { event: asked }]);
    assert_eq!(m.room.audience(&e[0]), vec![F]);
}

#[test]
fn facilitator_replies_privately() {
    let mut m = Meeting::started();
    let e = m.ok(
        F,
        RoomCommand::PrivateMessage {
            to: A,
            text: "I'll call after".into(),
        },
    );
    let reply = &sent_to(&e, A)[0];
    assert!(
        matches!(reply, RoomEvent::PrivateMessage(p) if p.from == public(F) && p.to == Some(public(A)))
    );
}

#[test]
fn reactions_are_broadcast_and_rate_limited() {
    let mut m = Meeting::started();
    let e = m.ok(
        A,
        RoomCommand::React {
            reaction: Reaction::MeToo,
        },
    );
    let ev = RoomEvent::Reaction {
        from: public(A),
        reaction: Reaction::MeToo,
    };
    assert_eq!(broadcasts(&e), vec![ev]);
    for _ in 0..4 {
        m.ok(
            A,
            RoomCommand::React {
                reaction: Reaction::Heart,
            },
        );
    }
    assert_eq!(
        m.refused(
            A,
            RoomCommand::React {
                reaction: Reaction::Clap
            }
        ),
        "rate_limited"
    );
    m.advance(2);
    m.ok(
        A,
        RoomCommand::React {
            reaction: Reaction::Wave,
        },
    );
}

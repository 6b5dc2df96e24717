//! Room rules, one scenario per test, time injected. Imports no tokio, no media, no network.

mod bans;
mod chat;
mod impersonation;
mod moderation;
mod raids;
mod queue;
mod readings;
mod screen;
mod timer;
mod waiting;

use std::time::{Duration, Instant};

use super::*;

pub(super) const F: ParticipantId = ParticipantId(1);
pub(super) const A: ParticipantId = ParticipantId(2);
pub(super) const B: ParticipantId = ParticipantId(3);
pub(super) const C: ParticipantId = ParticipantId(4);

/// A room plus a clock the test moves by hand.
pub(super) struct Meeting {
    pub room: Room,
    pub t0: Instant,
    pub now: Instant,
}

impl Meeting {
    pub fn new(settings: RoomSettings) -> Meeting {
        let t0 = Instant::now();
        Meeting {
            room: Room::new(settings),
            t0,
            now: t0,
        }
    }

    /// Default settings, facilitator F and members A, B admitted.
    pub fn started() -> Meeting {
        Self::started_with(RoomSettings::default())
    }

    pub fn started_with(settings: RoomSettings) -> Meeting {
        let mut m = Meeting::new(settings);
        m.join(F, Role::Facilitator).unwrap();
        m.join(A, Role::Member).unwrap();
        m.join(B, Role::Member).unwrap();
        m
    }

    /// Turns the waiting room on after F, A and B are in.
    pub fn with_waiting_room(mut self) -> Meeting {
        let patch = SettingsPatch {
            waiting_room: Some(true),
            ..Default::default()
        };
        self.ok(F, RoomCommand::UpdateSettings(patch));
        self
    }

    pub fn advance(&mut self, secs: u64) {
        self.now += Duration::from_secs(secs);
    }

    pub fn join(&mut self, id: ParticipantId, role: Role) -> Result<Vec<Effect>, RoomError> {
        self.join_as(id, role, &format!("tok{}", id.0), &format!("key{}", id.0))
    }

    pub fn join_as(
        &mut self,
        id: ParticipantId,
        role: Role,
        token: &str,
        key: &str,
    ) -> Result<Vec<Effect>, RoomError> {
        self.cmd(
            id,
            RoomCommand::Join {
                public_id: public(id),
                name: format!("Name{}", id.0),
                name_key: format!("name{}", id.0),
                role,
                token: Some(token.into()),
                ban_key: Some(key.into()),
                accepted_guidelines: true,
            },
        )
    }

    /// Joins as a member named `name`, with `names::look_alike_key`'s stand-in: lower case.
    pub fn join_named(
        &mut self,
        id: ParticipantId,
        role: Role,
        name: &str,
        token: &str,
    ) -> Result<Vec<Effect>, RoomError> {
        self.cmd(
            id,
            RoomCommand::Join {
                public_id: public(id),
                name: name.into(),
                name_key: name.to_lowercase(),
                role,
                token: Some(token.into()),
                ban_key: Some(format!("key{}", id.0)),
                accepted_guidelines: true,
            },
        )
    }

    pub fn cmd(&mut self, from: ParticipantId, cmd: RoomCommand) -> Result<Vec<Effect>, RoomError> {
        self.room.handle(self.now, from, cmd)
    }

    #[track_caller]
    pub fn ok(&mut self, from: ParticipantId, cmd: RoomCommand) -> Vec<Effect> {
        match self.cmd(from, cmd.clone()) {
            Ok(e) => e,
            Err(e) => panic!("{cmd:?} from {from} refused: {}", e.code()),
        }
    }

    /// Asserts the refusal and that it changed nothing anyone can see.
    #[track_caller]
    pub fn refused(&mut self, from: ParticipantId, cmd: RoomCommand) -> &'static str {
        let before = snapshot_all(&self.room, self.now);
        match self.cmd(from, cmd.clone()) {
            Ok(e) => panic!("{cmd:?} from {from} was accepted: {e:?}"),
            Err(e) => {
                assert_eq!(
                    snapshot_all(&self.room, self.now),
                    before,
                    "refused {cmd:?} changed state"
                );
                e.code()
            }
        }
    }

    pub fn tick(&mut self) -> Vec<Effect> {
        self.room.handle_timeout(self.now)
    }

    pub fn view(&self, id: ParticipantId) -> ParticipantView {
        let p = self.room.get(id).expect("admitted");
        self.room.view_of(p)
    }

    pub fn queue(&self) -> Vec<ParticipantId> {
        self.room.queue.clone()
    }

    pub fn unmute(&mut self, id: ParticipantId) -> Result<Vec<Effect>, RoomError> {
        self.cmd(
            id,
            RoomCommand::SetMediaState {
                audio: Some(true),
                video: None,
            },
        )
    }
}

pub(super) fn public(id: ParticipantId) -> PublicId {
    PublicId(format!("pub{}", id.0))
}

/// Everything observable, to check that refused commands change nothing.
pub(super) fn snapshot_all(room: &Room, now: Instant) -> String {
    let views: Vec<_> = room
        .participants
        .iter()
        .map(|p| room.state_for(now, p.id))
        .collect();
    format!(
        "{views:?} {:?} {:?} {:?} {:?} {:?}",
        room.waiting.iter().map(|p| p.id).collect::<Vec<_>>(),
        room.floor,
        room.suspended,
        room.ended,
        room.screen
    )
}

/// The last forwarding decision for `who` in a batch.
pub(super) fn forwarding(effects: &[Effect], who: ParticipantId) -> Option<(bool, bool)> {
    effects.iter().rev().find_map(|e| match e {
        Effect::SetForwarding {
            who: w,
            audio,
            video,
            ..
        } if *w == who => Some((*audio, *video)),
        _ => None,
    })
}

/// The last screen flag for `who` in a batch.
pub(super) fn screen_forwarding(effects: &[Effect], who: ParticipantId) -> Option<bool> {
    effects.iter().rev().find_map(|e| match e {
        Effect::SetForwarding { who: w, screen, .. } if *w == who => Some(*screen),
        _ => None,
    })
}

pub(super) fn sent_to(effects: &[Effect], who: ParticipantId) -> Vec<RoomEvent> {
    let mut v = Vec::new();
    for e in effects {
        if let Effect::Send { to, event } = e {
            if *to == who {
                v.push(event.clone());
            }
        }
    }
    v
}

pub(super) fn broadcasts(effects: &[Effect]) -> Vec<RoomEvent> {
    let mut v = Vec::new();
    for e in effects {
        if let Effect::Broadcast { event, .. } = e {
            v.push(event.clone());
        }
    }
    v
}

pub(super) fn to_facilitators(effects: &[Effect]) -> Vec<RoomEvent> {
    let mut v = Vec::new();
    for e in effects {
        if let Effect::ToFacilitators { event } = e {
            v.push(event.clone());
        }
    }
    v
}

pub(super) fn disconnected(effects: &[Effect], who: ParticipantId) -> Option<CloseReason> {
    effects.iter().find_map(|e| match e {
        Effect::Disconnect { who: w, reason } if *w == who => Some(*reason),
        _ => None,
    })
}

#[test]
fn error_codes_are_snake_case_and_messages_are_sentences() {
    let all = [
        RoomError::NotPermitted,
        RoomError::RoomLocked,
        RoomError::Banned,
        RoomError::RoomFull,
        RoomError::UnknownParticipant,
        RoomError::NotAdmitted,
        RoomError::AlreadyJoined,
        RoomError::ChatDisabled,
        RoomError::RateLimited,
        RoomError::MessageTooLong,
        RoomError::EmptyMessage,
        RoomError::MessageNotEncrypted,
        RoomError::PrivateMessagesDisabled,
        RoomError::GuidelinesNotAccepted,
        RoomError::NotInQueue,
        RoomError::AlreadyInQueue,
        RoomError::QueueEmpty,
        RoomError::NotFloorHolder,
        RoomError::NoFloor,
        RoomError::CannotUnmute,
        RoomError::MutedByFacilitator,
        RoomError::CameraStopped,
        RoomError::RoomSuspended,
        RoomError::AlreadySuspended,
        RoomError::NotSuspended,
        RoomError::UnknownMessage,
        RoomError::InvalidSetting("title"),
        RoomError::MeetingEnded,
        RoomError::UnknownReading,
        RoomError::UnknownParagraph,
        RoomError::ReadingTooLong("reader"),
        RoomError::EmptyReading,
        RoomError::TooManyReadings,
        RoomError::ScreenShareNotAllowed,
        RoomError::ScreenShareBusy,
        RoomError::NotSharingScreen,
    ];
    let mut codes = std::collections::HashSet::new();
    for e in &all {
        let code = e.code();
        assert!(
            code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{code}"
        );
        assert!(codes.insert(code), "duplicate code {code}");
        let m = e.message();
        assert!(
            m.ends_with('.') && m.starts_with(|c: char| c.is_uppercase()),
            "{m}"
        );
    }
    assert_eq!(
        RoomError::MessageTooLong.message(),
        "Messages can be at most 1000 characters."
    );
}

#[test]
fn only_a_facilitator_may_keep_the_live_settings_and_they_are_handed_over_whole() {
    let mut m = Meeting::started();
    let patch = SettingsPatch {
        share_seconds: Some(240),
        guidelines: Some("Be kind.".into()),
        ..Default::default()
    };
    m.ok(F, RoomCommand::UpdateSettings(patch));
    let reading = crate::room::ReadingText { title: "Preamble".into(), text: "We are glad you are here.".into() };
    m.ok(F, RoomCommand::AddReading { reading: reading.clone() });
    assert_eq!(m.refused(A, RoomCommand::SaveSettings), "not_permitted");
    // A co-facilitator runs the meeting but does not change what the organisation set up.
    m.ok(F, RoomCommand::Promote { who: A });
    assert_eq!(m.refused(A, RoomCommand::SaveSettings), "not_permitted");
    let e = m.ok(F, RoomCommand::SaveSettings);
    match &e[..] {
        [Effect::SaveSettings { who, settings }] => {
            assert_eq!(*who, F);
            assert_eq!((settings.share_seconds, settings.guidelines.as_str()), (240, "Be kind."));
            // The readings without the one the guidelines became (they bring it back).
            assert_eq!(settings.readings, vec![reading]);
        }
        other => panic!("expected one SaveSettings effect, got {other:?}"),
    }
    // Nobody is told anything by the room: the hub answers once the store has it.
    assert!(m.room.audience(&e[0]).is_empty());
}

#[test]
fn settings_change_is_broadcast_to_everyone() {
    let mut m = Meeting::started();
    let patch = SettingsPatch {
        share_seconds: Some(180),
        ..Default::default()
    };
    let e = m.ok(F, RoomCommand::UpdateSettings(patch));
    let b = broadcasts(&e);
    assert!(matches!(&b[..], [RoomEvent::SettingsChanged(s)] if s.settings.share_seconds == 180));
    assert_eq!(m.room.audience(&e[0]), vec![F, A, B]);
}

#[test]
fn invalid_setting_is_refused_with_its_field() {
    let mut m = Meeting::started();
    let patch = SettingsPatch {
        share_seconds: Some(MAX_SHARE_SECONDS + 1),
        ..Default::default()
    };
    assert_eq!(
        m.refused(F, RoomCommand::UpdateSettings(patch)),
        "invalid_setting"
    );
    let patch = SettingsPatch {
        title: Some("x".repeat(201)),
        ..Default::default()
    };
    assert_eq!(
        m.refused(F, RoomCommand::UpdateSettings(patch)),
        "invalid_setting"
    );
}

#[test]
fn a_meeting_without_a_title_carries_none() {
    // Each client names an untitled meeting in its person's language.
    assert_eq!(RoomSettings::default().title, None);
    assert_eq!(RoomSettings::default().validate(), Ok(()));
    let blank = RoomSettings { title: Some("  ".into()), ..Default::default() };
    assert_eq!(blank.validate(), Err(RoomError::InvalidSetting("title")));
}

#[test]
fn a_blank_title_makes_the_meeting_untitled() {
    let mut m = Meeting::started_with(RoomSettings { title: Some("Tuesday".into()), ..Default::default() });
    let patch = SettingsPatch { title: Some("  ".into()), ..Default::default() };
    m.ok(F, RoomCommand::UpdateSettings(patch));
    assert_eq!(m.room.settings().title, None);
    let patch = SettingsPatch { title: Some("Wednesday".into()), ..Default::default() };
    m.ok(F, RoomCommand::UpdateSettings(patch));
    assert_eq!(m.room.settings().title.as_deref(), Some("Wednesday"));
}

#[test]
fn staff_cannot_raise_max_participants_above_the_servers_cap() {
    // The hub creates every meeting with the server's `rooms.max_participants`.
    let mut m = Meeting::started_with(RoomSettings {
        max_participants: 50,
        ..Default::default()
    });
    let cap = |n| {
        RoomCommand::UpdateSettings(SettingsPatch {
            max_participants: Some(n),
            ..Default::default()
        })
    };
    assert_eq!(m.refused(F, cap(51)), "invalid_setting");
    assert_eq!(
        m.cmd(F, cap(51)).unwrap_err().message(),
        "This server allows at most 50 people in a meeting."
    );
    m.ok(F, cap(10));
    m.ok(F, cap(50));
    assert_eq!(m.room.settings().max_participants, 50);
    assert_eq!(m.refused(F, cap(1000)), "invalid_setting");
}

#[test]
fn a_restarted_meeting_keeps_the_servers_cap() {
    let mut m = Meeting::new(RoomSettings {
        max_participants: 50,
        ..Default::default()
    });
    m.room = m.room.restarted(m.now, m.room.settings().clone());
    m.join(F, Role::Facilitator).unwrap();
    let raise = RoomCommand::UpdateSettings(SettingsPatch {
        max_participants: Some(51),
        ..Default::default()
    });
    assert_eq!(m.refused(F, raise), "invalid_setting");
}

#[test]
fn restore_turns_no_mic_or_camera_back_on() {
    let mut m = Meeting::started();
    let on = RoomCommand::SetMediaState {
        audio: Some(true),
        video: Some(true),
    };
    m.ok(A, on.clone());
    m.ok(F, RoomCommand::Suspend);
    let e = m.ok(F, RoomCommand::Restore);
    assert_eq!(
        forwarding(&e, A),
        None,
        "nothing is switched on for the member"
    );
    let a = m.view(A);
    assert!(!a.mic_on && !a.camera_on && a.may_unmute);
    assert_eq!(forwarding(&m.ok(A, on), A), Some((true, true)));
}

#[test]
fn suspend_then_restore_puts_back_exact_settings() {
    for (locked, chat) in [(false, true), (true, false), (true, true), (false, false)] {
        let mut m = Meeting::started();
        if locked {
            m.ok(F, RoomCommand::Lock);
        }
        let patch = SettingsPatch {
            chat_enabled: Some(chat),
            ..Default::default()
        };
        m.ok(F, RoomCommand::UpdateSettings(patch));
        let before = m.room.status();
        m.ok(F, RoomCommand::Suspend);
        let during = m.room.status();
        assert!(during.locked && during.suspended && !during.settings.chat_enabled);
        m.ok(F, RoomCommand::Restore);
        assert_eq!(m.room.status(), before);
    }
}

#[test]
fn suspend_mutes_members_stops_cameras_and_blocks_unmute_until_restore() {
    let mut m = Meeting::started();
    m.ok(
        A,
        RoomCommand::SetMediaState {
            audio: Some(true),
            video: Some(true),
        },
    );
    m.ok(
        F,
        RoomCommand::SetMediaState {
            audio: Some(true),
            video: Some(true),
        },
    );
    let e = m.ok(F, RoomCommand::Suspend);
    assert_eq!(forwarding(&e, A), Some((false, false)));
    assert_eq!(
        forwarding(&e, F),
        None,
        "facilitator keeps talking to the room"
    );
    assert_eq!(m.unmute(A).unwrap_err().code(), "room_suspended");
    let cam = RoomCommand::SetMediaState {
        audio: None,
        video: Some(true),
    };
    assert_eq!(m.refused(A, cam.clone()), "room_suspended");
    assert_eq!(
        m.refused(A, RoomCommand::Chat { text: "hi".into() }),
        "chat_disabled"
    );
    assert_eq!(
        m.refused(
            A,
            RoomCommand::React {
                reaction: Reaction::Heart
            }
        ),
        "room_suspended"
    );
    // a member in distress can still reach the facilitators
    m.ok(
        A,
        RoomCommand::MessageFacilitators {
            text: "are we ok?".into(),
        },
    );
    assert_eq!(m.join(C, Role::Member).unwrap_err().code(), "room_locked");
    m.ok(F, RoomCommand::Restore);
    assert_eq!(forwarding(&m.ok(A, cam), A), Some((false, true)));
}

#[test]
fn suspend_twice_and_restore_without_suspend_are_refused() {
    let mut m = Meeting::started();
    assert_eq!(m.refused(F, RoomCommand::Restore), "not_suspended");
    m.ok(F, RoomCommand::Suspend);
    assert_eq!(m.refused(F, RoomCommand::Suspend), "already_suspended");
}

#[test]
fn end_meeting_disconnects_everyone_and_refuses_everything_after() {
    let mut m = Meeting::started().with_waiting_room();
    m.join(C, Role::Member).unwrap();
    m.ok(
        A,
        RoomCommand::Chat {
            text: "hello".into(),
        },
    );
    let e = m.ok(F, RoomCommand::EndMeeting);
    for who in [F, A, B, C] {
        assert_eq!(disconnected(&e, who), Some(CloseReason::MeetingEnded));
        assert_eq!(sent_to(&e, who), vec![RoomEvent::MeetingEnded]);
    }
    assert!(m.room.chat.is_empty() && m.room.participants.is_empty());
    assert_eq!(
        m.join(ParticipantId(9), Role::Facilitator)
            .unwrap_err()
            .code(),
        "meeting_ended"
    );
    assert_eq!(m.room.next_deadline(), None);
}

#[test]
fn waiting_person_cannot_act_in_the_room() {
    let mut m = Meeting::started().with_waiting_room();
    m.join(C, Role::Member).unwrap();
    assert_eq!(m.refused(C, RoomCommand::RaiseHand), "not_admitted");
    assert_eq!(
        m.refused(C, RoomCommand::Chat { text: "x".into() }),
        "not_admitted"
    );
    assert_eq!(
        m.refused(ParticipantId(77), RoomCommand::RaiseHand),
        "unknown_participant"
    );
}

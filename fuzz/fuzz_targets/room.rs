//! Any sequence of commands from any of six people, with time passing: the room never
//! panics, its queue and floor only ever name people who are in it, a locked room
//! without a waiting room admits no one, a waiting list never holds more than its cap, and
//! a screen is shared only by someone in the room, the one the SFU's screen flag is on for.
#![no_main]

use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use haven::room::{
    BanId, MessageId, ParticipantId, PublicId, Reaction, ReadingId, ReadingText, Role, Room, RoomCommand, RoomSettings, SettingsPatch,
    UnmutePermission,
};
use libfuzzer_sys::fuzz_target;

const PEOPLE: u8 = 6;

#[derive(Debug, Arbitrary)]
enum Step {
    Cmd { from: u8, op: Op },
    Tick { seconds: u8 },
}

#[derive(Debug, Arbitrary)]
enum Op {
    Join { facilitator: bool, token: u8, key: Option<u8>, agreed: bool },
    Leave,
    Media { audio: Option<bool>, video: Option<bool> },
    Settings { waiting_room: Option<bool>, may_unmute: Option<bool>, chat: Option<bool>, share: Option<u16>, auto_mute: Option<bool>, max: Option<u8> },
    Lock,
    Unlock,
    Promote(u8),
    Demote(u8),
    Mute(u8),
    MuteAll,
    Permission(u8, u8),
    StopCamera(u8),
    AllowCamera(u8),
    Remove(u8, bool),
    Admit(u8),
    AdmitAll,
    Deny(u8, bool),
    DenyAll,
    LiftBan(u8),
    RaiseHand,
    LowerHand,
    CallNext,
    Call(u8),
    Move(u8, u8),
    RemoveFromQueue(u8),
    ClearQueue,
    Done,
    StopShare,
    AddTime(u16),
    Suspend,
    Restore,
    End,
    React,
    Chat(String),
    DeleteChat(u8),
    ToFacilitators(String),
    CheckIn,
    Private(u8, String),
    AddReading(String, String),
    EditReading(u8, String, String),
    RemoveReading(u8),
    ShowReading(u8, u8, Option<String>),
    StopReading,
    StartScreenShare,
    StopScreenShare,
    AllowScreenShare(u8),
    RevokeScreenShare(u8),
    EndScreenShare(u8),
}

fn who(n: u8) -> ParticipantId {
    ParticipantId(u64::from(n % PEOPLE) + 1)
}

fn command(from: ParticipantId, op: Op) -> RoomCommand {
    use RoomCommand as C;
    match op {
        Op::Join { facilitator, token, key, agreed } => C::Join {
            public_id: PublicId(format!("p{}", from.0)),
            name: format!("Person {}", from.0),
            name_key: format!("person {}", from.0 % 3),
            role: if facilitator { Role::Facilitator } else { Role::Member },
            token: Some(format!("t{}", token % 4)),
            ban_key: key.map(|k| format!("k{}", k % 4)),
            accepted_guidelines: agreed,
        },
        Op::Leave => C::Leave,
        Op::Media { audio, video } => C::SetMediaState { audio, video },
        Op::Settings { waiting_room, may_unmute, chat, share, auto_mute, max } => C::UpdateSettings(SettingsPatch {
            waiting_room,
            members_may_unmute: may_unmute,
            chat_enabled: chat,
            share_seconds: share.map(u32::from),
            auto_mute_on_expiry: auto_mute,
            max_participants: max.map(usize::from),
            ..Default::default()
        }),
        Op::Lock => C::Lock,
        Op::Unlock => C::Unlock,
        Op::Promote(n) => C::Promote { who: who(n) },
        Op::Demote(n) => C::Demote { who: who(n) },
        Op::Mute(n) => C::Mute { who: who(n) },
        Op::MuteAll => C::MuteAll,
        Op::Permission(n, p) => C::SetUnmutePermission {
            who: who(n),
            permission: [UnmutePermission::FollowRoom, UnmutePermission::Allowed, UnmutePermission::Denied][usize::from(p % 3)],
        },
        Op::StopCamera(n) => C::StopCamera { who: who(n) },
        Op::AllowCamera(n) => C::AllowCamera { who: who(n) },
        Op::Remove(n, ban) => C::Remove { who: who(n), ban },
        Op::Admit(n) => C::Admit { who: who(n) },
        Op::AdmitAll => C::AdmitAll,
        Op::Deny(n, ban) => C::Deny { who: who(n), ban },
        Op::DenyAll => C::DenyAll,
        Op::LiftBan(n) => C::LiftBan { ban: BanId(u64::from(n % 8)) },
        Op::RaiseHand => C::RaiseHand,
        Op::LowerHand => C::LowerHand,
        Op::CallNext => C::CallNext,
        Op::Call(n) => C::Call { who: who(n) },
        Op::Move(n, p) => C::MoveInQueue { who: who(n), position: usize::from(p % 8) },
        Op::RemoveFromQueue(n) => C::RemoveFromQueue { who: who(n) },
        Op::ClearQueue => C::ClearQueue,
        Op::Done => C::Done,
        Op::StopShare => C::StopShare,
        Op::AddTime(s) => C::AddTime { seconds: u32::from(s) },
        Op::Suspend => C::Suspend,
        Op::Restore => C::Restore,
        Op::End => C::EndMeeting,
        Op::React => C::React { reaction: Reaction::Heart },
        Op::Chat(text) => C::Chat { text },
        Op::DeleteChat(n) => C::DeleteChat { id: MessageId(u64::from(n % 8)) },
        Op::ToFacilitators(text) => C::MessageFacilitators { text },
        Op::CheckIn => C::RequestCheckIn,
        Op::Private(n, text) => C::PrivateMessage { to: who(n), text },
        Op::AddReading(title, text) => C::AddReading { reading: ReadingText { title, text } },
        Op::EditReading(n, title, text) => C::EditReading { id: ReadingId(u64::from(n % 8)), reading: ReadingText { title, text } },
        Op::RemoveReading(n) => C::RemoveReading { id: ReadingId(u64::from(n % 8)) },
        Op::ShowReading(n, paragraph, reader) => C::ShowReading { id: ReadingId(u64::from(n % 8)), paragraph: usize::from(paragraph % 8), reader },
        Op::StopReading => C::StopReading,
        Op::StartScreenShare => C::StartScreenShare,
        Op::StopScreenShare => C::StopScreenShare,
        Op::AllowScreenShare(n) => C::AllowScreenShare { who: who(n) },
        Op::RevokeScreenShare(n) => C::RevokeScreenShare { who: who(n) },
        Op::EndScreenShare(n) => C::EndScreenShare { who: who(n) },
    }
}

fuzz_target!(|steps: Vec<Step>| {
    let mut now = Instant::now();
    let mut room = Room::new(RoomSettings::default());
    for step in steps.into_iter().take(200) {
        match step {
            Step::Tick { seconds } => {
                now += Duration::from_secs(u64::from(seconds));
                let _ = room.handle_timeout(now);
            }
            Step::Cmd { from, op } => {
                let from = who(from);
                let joining = matches!(op, Op::Join { facilitator: false, .. });
                let closed = room.status().locked && !room.settings().waiting_room;
                let before = room.admitted_count();
                let _ = room.handle(now, from, command(from, op));
                if joining && closed {
                    assert!(room.admitted_count() <= before, "a locked room admitted someone");
                }
            }
        }
        // The SFU's screen flag is on for the one sharer only, who must be admitted.
        if let Some(sharer) = room.screen_sharer() {
            assert!(room.forwarding(sharer).is_some(), "the screen flag is on for someone not admitted");
        }
        for id in 1..=u64::from(PEOPLE) {
            if let Some(view) = room.state_for(now, ParticipantId(id)) {
                assert!(view.waiting.len() <= haven::room::MAX_WAITING, "the waiting room grew past its cap");
            }
            let Some(view) = room.state_for(now, ParticipantId(id)) else { continue };
            let present: Vec<&PublicId> = view.participants.iter().map(|p| &p.id).collect();
            assert!(view.queue.iter().all(|q| present.contains(&&q.id)), "the queue names someone absent");
            if let Some(floor) = &view.floor {
                assert!(present.contains(&&floor.holder), "the floor is held by someone absent");
            }
            if let Some(sharer) = &view.screen_share {
                assert!(present.contains(&sharer), "the screen is shared by someone absent");
            }
            assert!(view.readings.len() <= haven::room::MAX_READINGS, "more readings than the cap");
            if let Some(shown) = &view.shown_reading {
                let reading = view.readings.iter().find(|r| r.id == shown.id).expect("the shown reading is in the list");
                assert!(shown.paragraph < haven::room::paragraph_count(&reading.text), "the highlight is past the text");
            }
        }
    }
});

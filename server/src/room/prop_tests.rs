//! Property test: random command sequences from random people in random roles never
//! panic and keep the room's invariants. Imports no tokio, no media, no network.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::tests::snapshot_all;
use super::*;

/// One random step: a command from someone, time passing and a timer tick, the hub
/// starting a new meeting in the room (as it does for a standing meeting once one ends or
/// empties), or the hub losing someone's connection (their place kept).
#[derive(Debug, Clone)]
enum Step {
    Cmd(ParticipantId, RoomCommand),
    Tick(u64),
    Restart,
    Drop(ParticipantId),
}

const PEOPLE: u64 = 6;

fn pid() -> impl Strategy<Value = ParticipantId> {
    (1..=PEOPLE).prop_map(ParticipantId)
}

/// Person 1 always holds the secret; lean on them so facilitator commands run often.
fn sender() -> impl Strategy<Value = ParticipantId> {
    prop_oneof![1 => Just(ParticipantId(1)), 2 => pid()]
}

/// Few tokens and keys, so bans and rejoins collide often. The public id is set from the
/// sender in `run`, so most joins are not refused as duplicates.
fn join() -> impl Strategy<Value = RoomCommand> {
    (
        prop::bool::weighted(0.2),
        0..4u8,
        proptest::option::of(0..4u8),
        prop::bool::weighted(0.9),
        0..4u8,
    )
        .prop_map(|(facilitator, token, key, accepted, name)| RoomCommand::Join {
            public_id: PublicId(String::new()),
            name: format!("Sam{name}"),
            name_key: format!("sam{name}"),
            role: if facilitator {
                Role::Facilitator
            } else {
                Role::Member
            },
            token: Some(format!("t{token}")),
            ban_key: key.map(|k| format!("k{k}")),
            accepted_guidelines: accepted,
        })
}

fn command() -> impl Strategy<Value = RoomCommand> {
    use RoomCommand as C;
    let opt = || proptest::option::of(any::<bool>());
    let patch = (
        opt(),
        opt(),
        opt(),
        proptest::option::of(0..400u32),
        opt(),
        opt(),
        proptest::option::of(0..6usize),
        opt(),
    )
        .prop_map(
            |(
                waiting_room,
                members_may_unmute,
                chat_enabled,
                share_seconds,
                auto_mute_on_expiry,
                member_private_messages,
                max_participants,
                share_earlier_chat,
            )| {
                C::UpdateSettings(SettingsPatch {
                    waiting_room,
                    members_may_unmute,
                    share_earlier_chat,
                    chat_enabled,
                    share_seconds,
                    auto_mute_on_expiry,
                    member_private_messages,
                    max_participants,
                    ..Default::default()
                })
            },
        );
    let permission = prop_oneof![
        Just(UnmutePermission::FollowRoom),
        Just(UnmutePermission::Allowed),
        Just(UnmutePermission::Denied)
    ];
    prop_oneof![
        1 => join(),
        1 => Just(C::Leave),
        3 => (opt(), opt()).prop_map(|(audio, video)| C::SetMediaState { audio, video }),
        1 => patch,
        1 => Just(C::Lock),
        1 => Just(C::Unlock),
        1 => pid().prop_map(|who| C::Promote { who }),
        1 => pid().prop_map(|who| C::Demote { who }),
        1 => pid().prop_map(|who| C::Mute { who }),
        1 => Just(C::MuteAll),
        1 => (pid(), permission).prop_map(|(who, permission)| C::SetUnmutePermission { who, permission }),
        1 => pid().prop_map(|who| C::StopCamera { who }),
        1 => pid().prop_map(|who| C::AllowCamera { who }),
        1 => (pid(), any::<bool>()).prop_map(|(who, ban)| C::Remove { who, ban }),
        2 => pid().prop_map(|who| C::Admit { who }),
        1 => Just(C::AdmitAll),
        1 => (pid(), any::<bool>()).prop_map(|(who, ban)| C::Deny { who, ban }),
        1 => Just(C::DenyAll),
        1 => (1..5u64).prop_map(|id| C::LiftBan { ban: BanId(id) }),
        3 => Just(C::RaiseHand),
        1 => Just(C::LowerHand),
        2 => Just(C::CallNext),
        1 => pid().prop_map(|who| C::Call { who }),
        1 => (pid(), 0..5usize).prop_map(|(who, position)| C::MoveInQueue { who, position }),
        1 => pid().prop_map(|who| C::RemoveFromQueue { who }),
        1 => Just(C::ClearQueue),
        1 => Just(C::Done),
        1 => Just(C::StopShare),
        1 => (0..200u32).prop_map(|seconds| C::AddTime { seconds }),
        1 => Just(C::Suspend),
        1 => Just(C::Restore),
        1 => Just(C::React { reaction: Reaction::Heart }),
        1 => (0..1003usize).prop_map(|n| C::Chat { text: "x".repeat(n) }),
        1 => (0..4u64).prop_map(|id| C::DeleteChat { id: MessageId(id) }),
        1 => Just(C::MessageFacilitators { text: "help".into() }),
        1 => Just(C::RequestCheckIn),
        1 => pid().prop_map(|to| C::PrivateMessage { to, text: "hi".into() }),
        1 => (0..5usize).prop_map(|n| C::AddReading { reading: reading(n) }),
        1 => (1..5u64, 0..5usize).prop_map(|(id, n)| C::EditReading { id: ReadingId(id), reading: reading(n) }),
        1 => (1..5u64).prop_map(|id| C::RemoveReading { id: ReadingId(id) }),
        2 => (1..5u64, 0..4usize, proptest::option::of("[ a-z]{0,3}"))
            .prop_map(|(id, paragraph, reader)| C::ShowReading { id: ReadingId(id), paragraph, reader }),
        1 => Just(C::StopReading),
        6 => Just(C::StartScreenShare),
        1 => Just(C::StopScreenShare),
        4 => pid().prop_map(|who| C::AllowScreenShare { who }),
        1 => pid().prop_map(|who| C::RevokeScreenShare { who }),
        1 => pid().prop_map(|who| C::EndScreenShare { who }),
    ]
}

/// A reading of `n` paragraphs (none: refused as empty).
fn reading(n: usize) -> ReadingText {
    ReadingText { title: "Steps".into(), text: "A step.\n\n".repeat(n) }
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        300 => (sender(), command()).prop_map(|(from, cmd)| Step::Cmd(from, cmd)),
        30 => (0..200u64).prop_map(Step::Tick),
        // rare: it ends the run's interesting part
        1 => pid().prop_map(|from| Step::Cmd(from, RoomCommand::EndMeeting)),
        2 => Just(Step::Restart),
        3 => pid().prop_map(Step::Drop),
    ]
}

/// What the hub would believe after applying every effect so far.
#[derive(Default)]
struct Model {
    forwarding: HashMap<ParticipantId, (bool, bool)>,
    /// The SFU's screen flag per participant, as the effects left it.
    screen: HashMap<ParticipantId, bool>,
    /// Whose screen clients were last told is on (`screen_share_started` / `_ended`).
    announced_screen: Option<PublicId>,
    banned_tokens: HashSet<String>,
    /// The next chat message id when each person was admitted: what they said before is
    /// not theirs to read unless the room shares earlier chat.
    arrived_at: HashMap<ParticipantId, u64>,
}

fn check_invariants(room: &Room, model: &Model) -> Result<(), TestCaseError> {
    let admitted: HashSet<ParticipantId> = room.participants.iter().map(|p| p.id).collect();
    let mut seen = HashSet::new();
    for id in &room.queue {
        prop_assert!(
            admitted.contains(id),
            "queue holds {id} who is not in the room"
        );
        prop_assert!(seen.insert(*id), "{id} twice in the queue");
    }
    if let Some(f) = &room.floor {
        prop_assert!(
            admitted.contains(&f.holder),
            "floor held by someone not in the room"
        );
    }
    let holders = room
        .participants
        .iter()
        .filter(|p| room.view_of(p).has_floor)
        .count();
    prop_assert!(holders <= 1);
    // one address cannot fill the waiting room
    for w in &room.waiting {
        let same = room.waiting.iter().filter(|o| w.ban_key.is_some() && o.ban_key == w.ban_key);
        prop_assert!(same.count() <= MAX_WAITING_PER_ADDRESS, "one address holds too many waiting places");
    }
    for p in &room.participants {
        // a late joiner reads only what was said after they arrived
        let shared = room.settings.share_earlier_chat || p.role == Role::Facilitator;
        if let (false, Some(from)) = (shared, model.arrived_at.get(&p.id)) {
            let chat = room
                .state_for(Instant::now(), p.id)
                .map(|s| s.chat)
                .unwrap_or_default();
            prop_assert!(
                chat.iter().all(|m| m.id.0 >= *from),
                "{} reads chat from before they arrived",
                p.id
            );
        }
        // a facilitator's mute holds: no audio until a facilitator lets them speak again
        if room.is_held(p) && !room.holds_floor(p.id) {
            prop_assert!(
                !p.mic_on,
                "{} unmuted while held by a facilitator's mute",
                p.id
            );
        }
        // a member of a suspended room is silent and unseen (a co-facilitator demoted during
        // the suspension too)
        if room.suspended.is_some() && !p.role.is_staff() {
            prop_assert!(!p.mic_on && !p.camera_on, "{} has mic or camera on while suspended", p.id);
        }
        // the SFU's flags equal the room's state: a muted person's audio is not forwarded
        prop_assert_eq!(model.forwarding.get(&p.id), Some(&(p.mic_on, p.camera_on)));
        prop_assert_eq!(model.screen.get(&p.id), Some(&(room.screen == Some(p.id))));
        prop_assert!(!room.waiting.iter().any(|w| w.id == p.id));
    }
    // at most one screen is forwarded, and only that of someone allowed to share (a member
    // only while staff let them, and never while the room is suspended); whoever is out of
    // the room has no media connection left (the hub closes it on leave and removal)
    let flagged: Vec<_> = room.participants.iter().filter(|p| model.screen.get(&p.id) == Some(&true)).collect();
    prop_assert!(flagged.len() <= 1, "screens forwarded for {:?}", flagged.iter().map(|p| p.id).collect::<Vec<_>>());
    for p in flagged {
        let id = p.id;
        prop_assert!(room.may_share_screen(p), "{id} shares without being allowed");
        prop_assert!(p.role.is_staff() || room.suspended.is_none(), "{id} shares while suspended");
    }
    // everyone was told whose screen is on
    let sharer = room.screen.and_then(|s| room.get(s)).map(|p| p.public_id.clone());
    prop_assert_eq!(&model.announced_screen, &sharer);
    // a shown reading exists and its highlight is on a paragraph it has
    let list = room.readings.list();
    prop_assert!(list.len() <= MAX_READINGS);
    if let Some(shown) = &room.readings.shown {
        let reading = list.iter().find(|r| r.id == shown.id);
        prop_assert!(reading.is_some_and(|r| shown.paragraph < paragraph_count(&r.text)), "{shown:?} in {list:?}");
    }
    Ok(())
}

fn run(prelude: Vec<Step>, steps: Vec<Step>, settings: RoomSettings) -> Result<(), TestCaseError> {
    let mut room = Room::new(settings.clone());
    let mut model = Model::default();
    let mut now = Instant::now();
    for step in prelude.into_iter().chain(steps) {
        let (from, cmd) = match step {
            Step::Tick(secs) => {
                now += Duration::from_secs(secs);
                let effects = room.handle_timeout(now);
                apply(&room, &mut model, &effects)?;
                check_invariants(&room, &model)?;
                continue;
            }
            // Within the run's few hours, every ban made so far must still hold after it.
            Step::Restart => {
                room = room.restarted(now, settings.clone());
                model.forwarding.clear();
                model.screen.clear();
                model.announced_screen = None;
                model.arrived_at.clear();
                check_invariants(&room, &model)?;
                continue;
            }
            Step::Drop(who) => {
                let sharing = room.screen == Some(who);
                let effects = room.connection_dropped(now, who);
                prop_assert_eq!(effects.is_empty(), !sharing, "a drop changes only a share");
                prop_assert!(room.screen.is_none() || !sharing, "a share outlived its connection");
                apply(&room, &mut model, &effects)?;
                check_invariants(&room, &model)?;
                continue;
            }
            Step::Cmd(from, mut cmd) => {
                if let RoomCommand::Join { public_id, .. } = &mut cmd {
                    *public_id = PublicId(format!("pub{}", from.0));
                }
                (from, cmd)
            }
        };
        let before = snapshot_all(&room, now);
        let admitted_before: HashSet<ParticipantId> =
            room.participants.iter().map(|p| p.id).collect();
        let members_before = room
            .participants
            .iter()
            .filter(|p| !p.role.is_staff())
            .count();
        let locked = room.locked;
        let waiting_target = match &cmd {
            RoomCommand::Remove { who, ban: true } => room.get(*who).and_then(|p| p.token.clone()),
            RoomCommand::Deny { who, ban: true } => room
                .waiting
                .iter()
                .find(|p| p.id == *who)
                .and_then(|p| p.token.clone()),
            _ => None,
        };
        let ended = room.is_ended();
        // Does this join's name pass for a staff member present, from another browser?
        let impersonates = match &cmd {
            RoomCommand::Join { name_key, token, .. } => room.participants.iter().any(|s| {
                s.role.is_staff() && &s.name_key == name_key && s.token != *token
            }),
            _ => false,
        };
        match room.handle(now, from, cmd.clone()) {
            Err(e) => {
                prop_assert!(!e.code().is_empty());
                prop_assert_eq!(
                    snapshot_all(&room, now),
                    before,
                    "refused {:?} changed state",
                    cmd
                );
            }
            Ok(effects) => {
                prop_assert!(!ended, "an ended meeting accepted {:?}", cmd);
                apply(&room, &mut model, &effects)?;
                // an ended meeting closes every connection: no share is left to announce
                if room.is_ended() {
                    model.announced_screen = None;
                }
                prop_assert!(!impersonates, "a look-alike of a staff name got in: {:?}", cmd);
                if let Some(token) = waiting_target {
                    model.banned_tokens.insert(token);
                }
                if let RoomCommand::LiftBan { .. } = cmd {
                    model
                        .banned_tokens
                        .retain(|t| room.bans.check(Some(t), None) == bans::BanMatch::Token);
                }
                if let RoomCommand::Join {
                    token: Some(token),
                    role: Role::Member,
                    ..
                } = &cmd
                {
                    prop_assert!(
                        !model.banned_tokens.contains(token),
                        "banned token rejoined"
                    );
                }
                let members_after = room
                    .participants
                    .iter()
                    .filter(|p| !p.role.is_staff())
                    .count();
                if locked && matches!(cmd, RoomCommand::Join { .. }) {
                    prop_assert!(
                        members_after <= members_before,
                        "a locked room gained a member"
                    );
                }
                // nobody leaves the waiting room for the meeting but by a facilitator's admit
                if !matches!(cmd, RoomCommand::Admit { .. } | RoomCommand::AdmitAll) {
                    for p in &room.participants {
                        let new = !admitted_before.contains(&p.id);
                        prop_assert!(!new || p.id == from, "{} admitted by {:?}", p.id, cmd);
                    }
                }
            }
        }
        check_invariants(&room, &model)?;
    }
    Ok(())
}

/// Applies effects as the hub would and checks each against the state it describes.
fn apply(room: &Room, model: &mut Model, effects: &[Effect]) -> Result<(), TestCaseError> {
    for e in effects {
        match e {
            Effect::SetForwarding { who, audio, video, screen } => {
                model.forwarding.insert(*who, (*audio, *video));
                model.screen.insert(*who, *screen);
            }
            Effect::Disconnect { who, .. } => {
                model.forwarding.remove(who);
                model.screen.remove(who);
                model.arrived_at.remove(who);
            }
            Effect::Admitted { who } => {
                model.arrived_at.insert(*who, room.next_message_id);
            }
            Effect::Broadcast { event, .. } | Effect::ToFacilitators { event } => {
                for id in room.audience(e) {
                    prop_assert!(room.is_admitted(id), "a message reached the waiting room");
                }
                match event {
                    RoomEvent::ScreenShareStarted { sharer } => {
                        prop_assert_eq!(&model.announced_screen, &None, "a second screen announced");
                        model.announced_screen = Some(sharer.clone());
                    }
                    RoomEvent::ScreenShareEnded { sharer, .. } => {
                        prop_assert_eq!(model.announced_screen.as_ref(), Some(sharer), "the end of a share never started");
                        model.announced_screen = None;
                    }
                    _ => {}
                }
            }
            Effect::Send { .. } | Effect::SaveSettings { .. } => {}
        }
    }
    Ok(())
}

fn settings() -> impl Strategy<Value = RoomSettings> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0..200u32,
        any::<bool>(),
        2..8usize,
    )
        .prop_map(
            |(
                waiting_room,
                mute_on_entry,
                guidelines,
                share_seconds,
                auto_mute_on_expiry,
                max_participants,
            )| {
                RoomSettings {
                    waiting_room,
                    mute_on_entry,
                    camera_off_on_entry: !mute_on_entry,
                    guidelines: if guidelines {
                        "Be kind.".into()
                    } else {
                        String::new()
                    },
                    share_seconds,
                    auto_mute_on_expiry,
                    max_participants,
                    ..Default::default()
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_commands_never_panic_and_keep_invariants(
        settings in settings(),
        // everyone tries to join first, so the random part has a room to work on
        prelude in (1..=PEOPLE).map(|id| join().prop_map(move |mut j| {
            // someone holds the secret, so facilitator commands get exercised
            if let (1, RoomCommand::Join { role, .. }) = (id, &mut j) {
                *role = Role::Facilitator;
            }
            Step::Cmd(ParticipantId(id), j)
        })).collect::<Vec<_>>(),
        steps in proptest::collection::vec(step(), 1..150),
    ) {
        run(prelude, steps, settings)?;
    }
}

//! The room: a pure state machine deciding every facilitator control, the speaking queue,
//! the share timer, the waiting room, bans and chat. Imports no tokio, no media, no
//! network, and nothing else from the crate.
//!
//! Sans-IO like str0m and quinn-proto: the caller passes time in and applies the returned
//! [`Effect`]s.
//!
//! ```text
//! hub ──Room::handle(now, from, cmd)──▶ Room ──Vec<Effect>──▶ hub ──▶ sockets / SFU flags
//! hub ──Room::handle_timeout(now)─────▶ Room     (when Room::next_deadline() passes)
//! ```
//!
//! Rules kept here, so a modified client cannot bypass them:
//! - the permission check comes first and a refused command changes nothing;
//! - a participant's SFU forwarding always equals their mic/camera state and whether their
//!   screen is the one shared: every change is emitted as [`Effect::SetForwarding`], first
//!   in its batch;
//! - one screen at a time, and only a facilitator's, a co-facilitator's or that of a member
//!   staff let share (`screen.rs`);
//! - the waiting room is never emptied automatically; only facilitators (who hold the
//!   secret) skip it;
//! - bans (token and hashed address) live in this value, in memory only; a banned token is
//!   refused, a banned address only waits (flagged for staff: it may be a shared network);
//!   an ended meeting refuses every join, and a room started again ([`Room::restarted`])
//!   keeps the bans made within [`BAN_LIFETIME`] (without the names);
//! - the waiting room cannot be flooded: a few places per address, a few arrivals per
//!   minute per room ([`MAX_WAITING_PER_ADDRESS`], [`WAITING_ARRIVALS_PER_MINUTE`]);
//! - no member arrives under a name that looks like a staff member's.
//!
//! Participant-visible changes are found by diffing before/after views of the room
//! (`view.rs`), so no handler can forget to tell clients or the SFU about a change.
//!
//! # Driving it (for the hub)
//! - Map a client's public id to a [`ParticipantId`] with [`Room::id_of`]; pass the role
//!   `Facilitator` in `Join` only after checking the secret.
//! - Apply a batch's effects in order; resolve `Broadcast` / `ToFacilitators` recipients
//!   with [`Room::audience`] right after `handle` returns. Media for a connection starts
//!   with forwarding off until an `Effect::SetForwarding` turns it on.
//! - After every `handle` / `handle_timeout`, re-arm one timer at [`Room::next_deadline`]
//!   and call [`Room::handle_timeout`] when it fires (early or repeated calls are no-ops).
//!
//! # Decisions worth knowing
//! - Facilitators (secret holders) skip bans, guidelines, lock, waiting room and the
//!   participant cap: they must always get back in, and an address hash may be a shared NAT.
//! - Staff (facilitator or co-facilitator) may act on anyone but a facilitator.
//! - "A locked room gains no members" applies to arrivals; a facilitator's explicit admit
//!   from the waiting room still works while locked.
//! - Suspend saves and restores exactly `locked` and `chat_enabled`; while suspended no
//!   member may unmute, start a camera or react, whatever the other settings say. Restore
//!   turns no one's mic or camera back on: each member does that themselves.
//! - Staff may lower `max_participants` and raise it again, never above what the room was
//!   created with (the server's cap).
//! - A facilitator's mute holds: the person may not unmute (`muted_by_facilitator`) until
//!   staff allow it (`SetUnmutePermission` to allowed or follow-room), give them the floor,
//!   or promote them. It is remembered by browser token, so leaving and coming back or a
//!   second tab does not lift it. Mute-all holds only those whose mic it turned off: the
//!   others had not spoken, and holding a whole room would need an "allow" for each member
//!   after the readings.

mod bans;
mod chat;
mod command;
mod effect;
mod error;
mod moderation;
mod participant;
mod queue;
mod rate;
mod readings;
mod screen;
mod settings;
mod timer;
mod view;
mod waiting;

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;

use std::collections::{HashSet, VecDeque};
use std::time::Instant;

pub use chat::{MAX_MESSAGE_CHARS, MAX_SEALED_MESSAGE_CHARS};
pub use command::RoomCommand;
pub use effect::{
    ChatView, CloseReason, Effect, FloorEnd, FloorView, LeaveReason, ParticipantView, PrivateView,
    QueueEntry, RoomEvent, RoomSnapshot, RoomStatus, ScreenEnd, WaiterView,
};
pub use error::RoomError;
pub use rate::RateLimiter;
pub use readings::{
    paragraph_count, ReadingId, ReadingText, ReadingView, ShownReading, GUIDELINES_TITLE,
    MAX_READER_CHARS, MAX_READINGS, MAX_READING_CHARS, MAX_READING_TITLE_CHARS,
};
pub use participant::{MessageId, ParticipantId, PublicId, Reaction, Role, UnmutePermission};
pub use settings::{RoomSettings, SettingsPatch, MAX_SHARE_SECONDS};
pub use bans::{BanId, BanView, BAN_LIFETIME};
pub use timer::SHARE_WARNING;
pub use waiting::{MAX_WAITING, MAX_WAITING_PER_ADDRESS, WAITING_ARRIVALS_PER_MINUTE};

use participant::Participant;

/// One meeting's state. Dropping it forgets names, chat and bans, as the product requires.
#[derive(Debug)]
pub struct Room {
    settings: RoomSettings,
    locked: bool,
    suspended: Option<settings::Suspended>,
    ended: bool,
    /// Admitted people in join order. A Vec, not a map: groups are small and the order is
    /// what clients show.
    participants: Vec<Participant>,
    /// Arrival order, which is the order facilitators see and "admit all" uses.
    waiting: Vec<Participant>,
    /// Raised hands, first come first served.
    queue: Vec<ParticipantId>,
    floor: Option<timer::Floor>,
    chat: VecDeque<ChatView>,
    next_message_id: u64,
    bans: bans::Bans,
    /// Whom a facilitator muted and has not yet let speak again (see `moderation.rs`).
    held: HashSet<moderation::HoldKey>,
    /// When the last arrivals to the waiting room came, for its per-minute limit.
    arrivals: VecDeque<Instant>,
    /// The most `max_participants` staff may set: what the room was created with, which the
    /// hub takes from the server's `rooms.max_participants` (the media limits are sized for it).
    participant_cap: usize,
    /// The texts the group reads together and the one on show (`readings.rs`).
    readings: readings::Readings,
    /// Whose screen is shared now (`screen.rs`): the only screen the SFU forwards.
    screen: Option<ParticipantId>,
}

impl Room {
    /// A new, empty meeting. Settings should have passed [`RoomSettings::validate`]; their
    /// `max_participants` is the cap no live change may raise it above.
    pub fn new(mut settings: RoomSettings) -> Room {
        // The live list lives in `readings`; the settings keep none, so that every command's
        // before/after status stays small to clone and compare.
        let configured = std::mem::take(&mut settings.readings);
        Room {
            readings: readings::Readings::new(&settings.guidelines, configured),
            participant_cap: settings.max_participants,
            settings,
            locked: false,
            suspended: None,
            ended: false,
            participants: Vec::new(),
            waiting: Vec::new(),
            queue: Vec::new(),
            floor: None,
            chat: VecDeque::new(),
            next_message_id: 1,
            bans: bans::Bans::default(),
            held: HashSet::new(),
            arrivals: VecDeque::new(),
            screen: None,
        }
    }

    /// A new meeting in the same room (a standing meeting starting again): nothing of this
    /// one but the bans made within [`BAN_LIFETIME`] of `now`, so a raider banned at the end
    /// of the last meeting is still out.
    pub fn restarted(&self, now: Instant, settings: RoomSettings) -> Room {
        Room {
            bans: self.bans.recent(now),
            ..Room::new(settings)
        }
    }

    /// Whether any ban is held (the hub keeps the address salt while one is).
    pub fn has_bans(&self) -> bool {
        !self.bans.is_empty()
    }

    /// Applies one command from `from` (for `Join`, the id the caller gave the new
    /// connection). On error nothing changed and the hub only tells `from`.
    pub fn handle(
        &mut self,
        now: Instant,
        from: ParticipantId,
        cmd: RoomCommand,
    ) -> Result<Vec<Effect>, RoomError> {
        if self.ended {
            return Err(RoomError::MeetingEnded);
        }
        let before = self.observe();
        let mut out = Vec::new();
        self.dispatch(now, from, cmd, &mut out)?;
        Ok(self.finish(now, &before, out))
    }

    fn dispatch(
        &mut self,
        now: Instant,
        from: ParticipantId,
        cmd: RoomCommand,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        use RoomCommand as C;
        match cmd {
            C::Join {
                public_id,
                name,
                role,
                token,
                ban_key,
                name_key,
                accepted_guidelines,
            } => {
                let arrival = waiting::Arrival {
                    public_id,
                    name,
                    role,
                    token,
                    ban_key,
                    name_key,
                };
                return self.join(now, from, arrival, accepted_guidelines, out);
            }
            C::Leave => return self.leave(from, out),
            _ => {}
        }
        let actor = match self.get(from) {
            Some(p) => p,
            None if self.waiting_index(from).is_some() => return Err(RoomError::NotAdmitted),
            None => return Err(RoomError::UnknownParticipant),
        };
        // One permission test before anything else, as Galène does.
        if needs_staff(&cmd) && !actor.role.is_staff() {
            return Err(RoomError::NotPermitted);
        }
        // What the organisation set up is changed only by those it gave a facilitator link.
        if cmd == C::SaveSettings && actor.role != Role::Facilitator {
            return Err(RoomError::NotPermitted);
        }
        match cmd {
            C::Join { .. } | C::Leave => unreachable!("handled above"),
            C::SetMediaState { audio, video } => self.set_media_state(from, audio, video),
            C::UpdateSettings(patch) => self.update_settings(&patch, out),
            C::SaveSettings => {
                let mut settings = self.settings.clone();
                settings.readings = self.readings.kept();
                out.push(Effect::SaveSettings { who: from, settings });
                Ok(())
            }
            C::Lock => {
                self.set_locked(true);
                Ok(())
            }
            C::Unlock => {
                self.set_locked(false);
                Ok(())
            }
            C::Promote { who } => self.promote(who),
            C::Demote { who } => {
                self.demote(who)?;
                self.end_screen_if_not_allowed(out);
                Ok(())
            }
            C::Mute { who } => self.mute(from, who, out),
            C::MuteAll => {
                self.mute_all(from, out);
                Ok(())
            }
            C::SetUnmutePermission { who, permission } => {
                self.set_unmute_permission(who, permission)
            }
            C::StopCamera { who } => self.stop_camera(from, who, out),
            C::AllowCamera { who } => self.allow_camera(who),
            C::Remove { who, ban } => self.remove(now, who, ban, out),
            C::Admit { who } => self.admit(who),
            C::AdmitAll => self.admit_all(),
            C::Deny { who, ban } => self.deny(now, who, ban, out),
            C::DenyAll => {
                self.deny_all(out);
                Ok(())
            }
            C::LiftBan { ban } => self.lift_ban(ban),
            C::RaiseHand => self.raise_hand(now, from),
            C::LowerHand => self.lower_hand(from),
            C::CallNext => self.call_next(now, out),
            C::Call { who } => self.call(now, who, out),
            C::MoveInQueue { who, position } => self.move_in_queue(who, position),
            C::RemoveFromQueue { who } => self.lower_hand(who),
            C::ClearQueue => {
                self.queue.clear();
                Ok(())
            }
            C::Done => self.done(from, out),
            C::StopShare => self.stop_share(out),
            C::AddTime { seconds } => self.add_time(now, seconds, out),
            C::Suspend => self.suspend(out),
            C::Restore => self.restore(),
            C::EndMeeting => {
                self.end_meeting(out);
                Ok(())
            }
            C::React { reaction } => self.react(now, from, reaction, out),
            C::Chat { text } => self.chat(now, from, text, out),
            C::DeleteChat { id } => self.delete_chat(from, id, out),
            C::MessageFacilitators { text } => self.message_facilitators(now, from, text, out),
            C::RequestCheckIn => self.request_check_in(now, from, out),
            C::PrivateMessage { to, text } => self.private_message(now, from, to, text, out),
            C::AddReading { reading } => self.add_reading(now, from, reading, out),
            C::EditReading { id, reading } => self.edit_reading(now, from, id, reading, out),
            C::RemoveReading { id } => self.remove_reading(now, from, id, out),
            C::ShowReading {
                id,
                paragraph,
                reader,
            } => self.show_reading(id, paragraph, reader),
            C::StopReading => {
                self.stop_reading();
                Ok(())
            }
            C::StartScreenShare => self.start_screen_share(now, from, out),
            C::StopScreenShare => self.stop_screen_share(from, out),
            C::AllowScreenShare { who } => self.set_screen_permission(from, who, true, out),
            C::RevokeScreenShare { who } => self.set_screen_permission(from, who, false, out),
            C::EndScreenShare { who } => self.end_screen_share(who, out),
        }
    }

    /// Maps a public id from a client message to the internal id (admitted or waiting).
    pub fn id_of(&self, public_id: &PublicId) -> Option<ParticipantId> {
        self.participants
            .iter()
            .chain(&self.waiting)
            .find(|p| &p.public_id == public_id)
            .map(|p| p.id)
    }

    pub fn is_admitted(&self, id: ParticipantId) -> bool {
        self.get(id).is_some()
    }

    pub fn is_waiting(&self, id: ParticipantId) -> bool {
        self.waiting_index(id).is_some()
    }

    pub fn role_of(&self, id: ParticipantId) -> Option<Role> {
        self.get(id).map(|p| p.role)
    }

    /// `(audio, video)` the SFU should forward for `id`; the same values the last
    /// `SetForwarding` for `id` carried (its `screen` is `screen_sharer() == Some(id)`).
    /// `None` if not admitted (forward nothing).
    pub fn forwarding(&self, id: ParticipantId) -> Option<(bool, bool)> {
        self.get(id).map(|p| (p.mic_on, p.camera_on))
    }

    pub fn admitted_count(&self) -> usize {
        self.participants.len()
    }

    pub fn settings(&self) -> &RoomSettings {
        &self.settings
    }

    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Who holds the floor (shares now), if anyone.
    pub fn floor_holder(&self) -> Option<ParticipantId> {
        self.floor.as_ref().map(|f| f.holder)
    }

    /// The anonymous id of an admitted participant.
    pub fn public_id_of(&self, id: ParticipantId) -> Option<PublicId> {
        self.get(id).map(|p| p.public_id.clone())
    }

    fn get(&self, id: ParticipantId) -> Option<&Participant> {
        self.participants.iter().find(|p| p.id == id)
    }

    fn get_mut(&mut self, id: ParticipantId) -> Option<&mut Participant> {
        self.participants.iter_mut().find(|p| p.id == id)
    }

    fn waiting_index(&self, id: ParticipantId) -> Option<usize> {
        self.waiting.iter().position(|p| p.id == id)
    }

    /// An admitted participant that staff may act on: anyone but a facilitator, who holds
    /// the secret and so outranks every action (including a co-facilitator's demote).
    fn target(&self, who: ParticipantId) -> Result<&Participant, RoomError> {
        let p = self.get(who).ok_or(RoomError::UnknownParticipant)?;
        if p.role == Role::Facilitator {
            return Err(RoomError::NotPermitted);
        }
        Ok(p)
    }
}

/// Commands only facilitators and co-facilitators may give.
fn needs_staff(cmd: &RoomCommand) -> bool {
    use RoomCommand as C;
    match cmd {
        C::Join { .. }
        | C::Leave
        | C::SetMediaState { .. }
        | C::RaiseHand
        | C::LowerHand
        | C::Done
        | C::React { .. }
        | C::Chat { .. }
        // a member may delete their own message; the handler checks authorship
        | C::DeleteChat { .. }
        | C::MessageFacilitators { .. }
        | C::RequestCheckIn
        | C::PrivateMessage { .. }
        // who may share is checked by the handler: staff, or a member staff let
        | C::StartScreenShare
        | C::StopScreenShare => false,
        C::UpdateSettings(_)
        | C::SaveSettings
        | C::Lock
        | C::Unlock
        | C::Promote { .. }
        | C::Demote { .. }
        | C::Mute { .. }
        | C::MuteAll
        | C::SetUnmutePermission { .. }
        | C::StopCamera { .. }
        | C::AllowCamera { .. }
        | C::Remove { .. }
        | C::Admit { .. }
        | C::AdmitAll
        | C::Deny { .. }
        | C::DenyAll
        | C::LiftBan { .. }
        | C::CallNext
        | C::Call { .. }
        | C::MoveInQueue { .. }
        | C::RemoveFromQueue { .. }
        | C::ClearQueue
        | C::StopShare
        | C::AddTime { .. }
        | C::Suspend
        | C::Restore
        | C::EndMeeting
        | C::AddReading { .. }
        | C::EditReading { .. }
        | C::RemoveReading { .. }
        | C::ShowReading { .. }
        | C::StopReading
        | C::AllowScreenShare { .. }
        | C::RevokeScreenShare { .. }
        | C::EndScreenShare { .. } => true,
    }
}

//! Arriving, waiting, being admitted or denied, and leaving. Imports no tokio, no media,
//! no network.
//!
//! The rule that matters: nobody leaves the waiting room except by a facilitator's
//! explicit admit (or by leaving). Not a facilitator arriving, not the waiting room being
//! turned off, not the room being unlocked.

use std::time::{Duration, Instant};

use super::bans::BanMatch;
use super::participant::Participant;
use super::{
    CloseReason, Effect, FloorEnd, LeaveReason, MessageId, ParticipantId, PublicId, Role, Room,
    RoomError, RoomEvent, ScreenEnd,
};

/// More arrivals than this in the waiting room are refused, so a raid cannot grow the
/// room's memory without bound.
pub const MAX_WAITING: usize = 200;
/// Waiting places one address (hashed; an IPv6 /64) may hold at once: a household arrives
/// together, a raider's script would take them all.
pub const MAX_WAITING_PER_ADDRESS: usize = 3;
/// New arrivals the waiting room takes in any minute; beyond it, `room_busy`. A real group
/// trickles in; a raid from many addresses does not. The facilitator is never counted.
pub const WAITING_ARRIVALS_PER_MINUTE: usize = 30;
const MINUTE: Duration = Duration::from_secs(60);

/// A `Join` command's identity fields.
pub(super) struct Arrival {
    pub public_id: PublicId,
    pub name: String,
    pub role: Role,
    pub token: Option<String>,
    pub ban_key: Option<String>,
    pub name_key: String,
}

impl Room {
    /// What a participant in the waiting room is told (on arrival, and again on resume).
    pub fn waiting_event(&self) -> RoomEvent {
        RoomEvent::Waiting {
            title: self.settings.title.clone(),
            message: "Welcome. A facilitator will let you in shortly.".into(),
        }
    }

    pub(super) fn join(
        &mut self,
        now: Instant,
        from: ParticipantId,
        a: Arrival,
        accepted_guidelines: bool,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        let taken = self.id_of(&a.public_id).is_some();
        if taken || self.is_admitted(from) || self.is_waiting(from) {
            return Err(RoomError::AlreadyJoined);
        }
        // Co-facilitators exist only by promotion inside this meeting.
        let role = if a.role == Role::Facilitator {
            Role::Facilitator
        } else {
            Role::Member
        };
        // Secret holders skip bans, lock, waiting room and the cap: a facilitator must
        // always be able to get back in, and a hashed address may be a shared NAT.
        let mut flagged = false;
        if role != Role::Facilitator {
            match self.bans.check(a.token.as_deref(), a.ban_key.as_deref()) {
                BanMatch::Token => return Err(RoomError::Banned),
                // Maybe a household member, maybe the raider in a new browser: staff decide.
                BanMatch::Address => flagged = true,
                BanMatch::None => {}
            }
            if !self.settings.guidelines.is_empty() && !accepted_guidelines {
                return Err(RoomError::GuidelinesNotAccepted);
            }
        }
        if self.impersonates_staff(&a.name_key, a.token.as_deref()) {
            return Err(RoomError::NameTakenByStaff);
        }
        let mut p = Participant::new(
            now, from, a.public_id, a.name, role, a.token, a.ban_key, a.name_key,
        );
        p.same_network_as_banned = flagged;
        if role == Role::Facilitator {
            self.enter(p);
            return Ok(());
        }
        if self.settings.waiting_room || flagged {
            // Locked or not, the waiting room takes arrivals; only a facilitator lets
            // them in.
            self.check_waiting_place(now, &p)?;
            self.arrivals.push_back(now);
            out.push(Effect::Send { to: from, event: self.waiting_event() });
            self.waiting.push(p);
            return Ok(());
        }
        if self.locked {
            return Err(RoomError::RoomLocked);
        }
        if self.is_full() {
            return Err(RoomError::RoomFull);
        }
        self.enter(p);
        Ok(())
    }

    /// Is there a waiting place for `p`: within the room's cap, their address's share of
    /// it, and the room's arrivals per minute?
    fn check_waiting_place(&mut self, now: Instant, p: &Participant) -> Result<(), RoomError> {
        if self.waiting.len() >= MAX_WAITING {
            return Err(RoomError::RoomFull);
        }
        if let Some(key) = &p.ban_key {
            let same = self.waiting.iter().filter(|w| w.ban_key.as_ref() == Some(key));
            if same.count() >= MAX_WAITING_PER_ADDRESS {
                return Err(RoomError::TooManyWaiting);
            }
        }
        // Forgetting arrivals over a minute old changes nothing anyone sees.
        while self
            .arrivals
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= MINUTE)
        {
            self.arrivals.pop_front();
        }
        if self.arrivals.len() >= WAITING_ARRIVALS_PER_MINUTE {
            return Err(RoomError::RoomBusy);
        }
        Ok(())
    }

    /// Would a name with this look-alike key pass for a staff member present, coming from
    /// someone who is not them (another browser)?
    pub(super) fn impersonates_staff(&self, name_key: &str, token: Option<&str>) -> bool {
        self.participants.iter().any(|s| {
            let same_person = token.is_some() && s.token.as_deref() == token;
            s.role.is_staff() && s.name_key == name_key && !same_person
        })
    }

    pub(super) fn leave(
        &mut self,
        from: ParticipantId,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        if let Some(i) = self.waiting_index(from) {
            self.waiting.remove(i);
            return Ok(());
        }
        if !self.is_admitted(from) {
            return Err(RoomError::UnknownParticipant);
        }
        self.take_out(from, LeaveReason::Left, out);
        Ok(())
    }

    pub(super) fn admit(&mut self, who: ParticipantId) -> Result<(), RoomError> {
        let i = self
            .waiting_index(who)
            .ok_or(RoomError::UnknownParticipant)?;
        if self.is_full() {
            return Err(RoomError::RoomFull);
        }
        let p = self.waiting.remove(i);
        self.enter(p);
        Ok(())
    }

    /// Admits in arrival order until the room is full; the rest keep waiting. Those from a
    /// banned address are left waiting: each needs a look and its own admit.
    pub(super) fn admit_all(&mut self) -> Result<(), RoomError> {
        let unflagged = |w: &Participant| !w.same_network_as_banned;
        if self.waiting.iter().any(unflagged) && self.is_full() {
            return Err(RoomError::RoomFull);
        }
        while !self.is_full() {
            let Some(i) = self.waiting.iter().position(unflagged) else {
                break;
            };
            let p = self.waiting.remove(i);
            self.enter(p);
        }
        Ok(())
    }

    /// Everyone waiting is turned away (a raid filling the waiting room), without a ban.
    pub(super) fn deny_all(&mut self, out: &mut Vec<Effect>) {
        for p in self.waiting.drain(..) {
            out.push(Effect::Disconnect {
                who: p.id,
                reason: CloseReason::Denied,
            });
        }
    }

    pub(super) fn deny(
        &mut self,
        now: Instant,
        who: ParticipantId,
        ban: bool,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        let i = self
            .waiting_index(who)
            .ok_or(RoomError::UnknownParticipant)?;
        let p = self.waiting.remove(i);
        let reason = if ban {
            CloseReason::DeniedAndBanned
        } else {
            CloseReason::Denied
        };
        out.push(Effect::Disconnect { who, reason });
        if ban {
            self.ban(now, &p, out);
        }
        Ok(())
    }

    fn is_full(&self) -> bool {
        self.participants.len() >= self.settings.max_participants
    }

    /// Into the meeting, with the entry defaults. `view.rs` sees the new participant and
    /// emits `Admitted`, forwarding, the snapshot and the join broadcast.
    fn enter(&mut self, mut p: Participant) {
        p.chat_from = MessageId(self.next_message_id);
        let may_media = p.role.is_staff() || self.suspended.is_none();
        p.mic_on = !self.settings.mute_on_entry && may_media && self.may_unmute(&p);
        p.camera_on = !self.settings.camera_off_on_entry && may_media;
        self.participants.push(p);
    }

    /// Out of the meeting: their hand, their floor, then them. Returns what was removed so
    /// a ban can record its token and key.
    pub(super) fn take_out(
        &mut self,
        who: ParticipantId,
        reason: LeaveReason,
        out: &mut Vec<Effect>,
    ) -> Option<Participant> {
        self.queue.retain(|&q| q != who);
        if self.holds_floor(who) {
            self.end_floor(FloorEnd::Left, out);
        }
        if self.screen == Some(who) {
            let end = match reason {
                LeaveReason::Left => ScreenEnd::Left,
                LeaveReason::Removed => ScreenEnd::Removed,
            };
            self.end_screen(end, out);
        }
        let i = self.participants.iter().position(|p| p.id == who)?;
        let p = self.participants.remove(i);
        out.push(Effect::Broadcast {
            event: RoomEvent::ParticipantLeft {
                id: p.public_id.clone(),
                reason,
            },
            except: None,
        });
        Some(p)
    }
}

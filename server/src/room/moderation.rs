//! Mute, camera stop, roles, remove and ban, end meeting; and the one rule deciding who
//! may unmute. Imports no tokio, no media, no network.
//!
//! Every decision here ends as mic/camera state on a participant; `view.rs` turns each
//! change into `Effect::SetForwarding`, which the SFU enforces.

use std::time::Instant;

use super::participant::Participant;
use super::{
    CloseReason, Effect, LeaveReason, ParticipantId, PublicId, Role, Room, RoomError, RoomEvent,
    UnmutePermission,
};

/// What a facilitator's mute is remembered by: the browser's token, so that leaving and
/// coming back, or a second tab, does not lift it; the public id for a join without one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum HoldKey {
    Token(String),
    Id(PublicId),
}

impl HoldKey {
    fn of(p: &Participant) -> HoldKey {
        match &p.token {
            Some(t) => HoldKey::Token(t.clone()),
            None => HoldKey::Id(p.public_id.clone()),
        }
    }
}

impl Room {
    /// Is `p` held muted by a facilitator? Never staff.
    pub(super) fn is_held(&self, p: &Participant) -> bool {
        !p.role.is_staff() && self.held.contains(&HoldKey::of(p))
    }

    fn hold(&mut self, who: ParticipantId) {
        if let Some(p) = self.get(who) {
            self.held.insert(HoldKey::of(p));
        }
    }

    /// A facilitator lets `who` speak again (allow, floor, promotion).
    pub(super) fn release(&mut self, who: ParticipantId) {
        if let Some(p) = self.get(who) {
            let key = HoldKey::of(p);
            self.held.remove(&key);
        }
    }

    /// May `p` turn their mic on now? The floor beats the room rule, a facilitator's mute
    /// and a personal "no", because a facilitator called them; suspend beats everything but
    /// staff.
    pub(super) fn may_unmute(&self, p: &Participant) -> bool {
        if p.role.is_staff() {
            return true;
        }
        if self.suspended.is_some() {
            return false;
        }
        if self.holds_floor(p.id) {
            return true;
        }
        if self.is_held(p) {
            return false;
        }
        match p.unmute {
            UnmutePermission::Allowed => true,
            UnmutePermission::Denied => false,
            UnmutePermission::FollowRoom => self.settings.members_may_unmute,
        }
    }

    pub(super) fn set_media_state(
        &mut self,
        from: ParticipantId,
        audio: Option<bool>,
        video: Option<bool>,
    ) -> Result<(), RoomError> {
        let p = self.get(from).ok_or(RoomError::UnknownParticipant)?;
        let suspended = self.suspended.is_some() && !p.role.is_staff();
        if audio == Some(true) && !p.mic_on {
            if suspended {
                return Err(RoomError::RoomSuspended);
            }
            if !self.may_unmute(p) {
                return Err(if self.is_held(p) {
                    RoomError::MutedByFacilitator
                } else {
                    RoomError::CannotUnmute
                });
            }
        }
        if video == Some(true) && !p.camera_on {
            if suspended {
                return Err(RoomError::RoomSuspended);
            }
            if p.camera_stopped {
                return Err(RoomError::CameraStopped);
            }
        }
        let Some(p) = self.get_mut(from) else {
            return Ok(());
        };
        p.mic_on = audio.unwrap_or(p.mic_on);
        p.camera_on = video.unwrap_or(p.camera_on);
        Ok(())
    }

    pub(super) fn mute(
        &mut self,
        by: ParticipantId,
        who: ParticipantId,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        let target = self.target(who)?;
        let key = HoldKey::of(target);
        if target.role.is_staff() {
            // A co-facilitator is muted once; staff may always unmute, so nothing is held.
            self.mute_one(by, who, "A facilitator muted you.", out);
            return Ok(());
        }
        // Held even if their mic was already off: a facilitator may silence someone before
        // they start. The same browser's other tabs (members) are the same person.
        self.hold(who);
        let same: Vec<ParticipantId> = self
            .participants
            .iter()
            .filter(|p| HoldKey::of(p) == key && !p.role.is_staff())
            .map(|p| p.id)
            .collect();
        for id in same {
            self.mute_one(by, id, "A facilitator muted you.", out);
        }
        Ok(())
    }

    /// Everyone but facilitators and co-facilitators, the floor holder included (who may
    /// unmute again, holding the floor). Those whose mic it turns off are held like after
    /// a personal mute; those already silent keep their freedom to unmute.
    pub(super) fn mute_all(&mut self, by: ParticipantId, out: &mut Vec<Effect>) {
        let members: Vec<ParticipantId> = self
            .participants
            .iter()
            .filter(|p| !p.role.is_staff() && p.mic_on)
            .map(|p| p.id)
            .collect();
        for who in members {
            self.hold(who);
            self.mute_one(by, who, "A facilitator muted everyone.", out);
        }
    }

    fn mute_one(
        &mut self,
        by: ParticipantId,
        who: ParticipantId,
        why: &str,
        out: &mut Vec<Effect>,
    ) {
        let by_name = self.get(by).map(|p| p.name.clone()).unwrap_or_default();
        let Some(p) = self.get(who) else { return };
        if !p.mic_on {
            return;
        }
        let reason = format!("{why} {}", self.unmute_hint(p));
        if let Some(p) = self.get_mut(who) {
            p.mic_on = false;
        }
        out.push(Effect::Send {
            to: who,
            event: RoomEvent::YouWereMuted {
                by: by_name,
                reason,
            },
        });
    }

    /// When `p` may turn their mic on again, in words for the `muted` message.
    pub(super) fn unmute_hint(&self, p: &Participant) -> &'static str {
        if self.may_unmute(p) {
            "You can unmute when you are ready to speak."
        } else if self.is_held(p) {
            "You can unmute when a facilitator lets you speak again or calls on you. Raise your hand to share."
        } else {
            "You can unmute when a facilitator calls on you. Raise your hand to share."
        }
    }

    /// Does not mute by itself: "disallow" is about the next unmute. Facilitators mute
    /// separately if they want both. Allowing (or following the room's rule again) lifts a
    /// facilitator's mute: this is the "allow to unmute" action.
    pub(super) fn set_unmute_permission(
        &mut self,
        who: ParticipantId,
        permission: UnmutePermission,
    ) -> Result<(), RoomError> {
        self.target(who)?;
        if permission != UnmutePermission::Denied {
            self.release(who);
        }
        if let Some(p) = self.get_mut(who) {
            p.unmute = permission;
        }
        Ok(())
    }

    pub(super) fn stop_camera(
        &mut self,
        by: ParticipantId,
        who: ParticipantId,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        let by_name = self.get(by).map(|p| p.name.clone()).unwrap_or_default();
        if self.target(who)?.camera_stopped {
            return Ok(());
        }
        if let Some(p) = self.get_mut(who) {
            p.camera_on = false;
            p.camera_stopped = true;
        }
        let reason =
            "A facilitator turned off your camera. You can turn it on again when they allow it.";
        let event = RoomEvent::YourCameraWasStopped {
            by: by_name,
            reason: reason.into(),
        };
        out.push(Effect::Send { to: who, event });
        Ok(())
    }

    pub(super) fn allow_camera(&mut self, who: ParticipantId) -> Result<(), RoomError> {
        self.target(who)?;
        if let Some(p) = self.get_mut(who) {
            p.camera_stopped = false;
        }
        Ok(())
    }

    pub(super) fn promote(&mut self, who: ParticipantId) -> Result<(), RoomError> {
        self.release(who);
        let p = self.get_mut(who).ok_or(RoomError::UnknownParticipant)?;
        if p.role == Role::Member {
            p.role = Role::CoFacilitator;
        }
        Ok(())
    }

    /// A facilitator holds the secret and cannot be demoted, by anyone.
    /// A demoted co-facilitator whose browser is held (another tab of theirs was muted by a
    /// facilitator) is a held member from now on, and their mic goes off with the hold.
    /// Demoted while the room is suspended, they are a member of a suspended room: mic and
    /// camera off, as every member's went at suspend (and their screen ends, as a member may
    /// not share while suspended: `end_screen_if_not_allowed`).
    pub(super) fn demote(&mut self, who: ParticipantId) -> Result<(), RoomError> {
        self.target(who)?;
        let suspended = self.suspended.is_some();
        if let Some(p) = self.get_mut(who) {
            p.role = Role::Member;
            if suspended {
                p.mic_on = false;
                p.camera_on = false;
            }
        }
        let held = self.get(who).is_some_and(|p| self.is_held(p));
        if let (true, Some(p)) = (held, self.get_mut(who)) {
            p.mic_on = false;
        }
        Ok(())
    }

    pub(super) fn remove(
        &mut self,
        now: Instant,
        who: ParticipantId,
        ban: bool,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        self.target(who)?;
        let reason = if ban {
            CloseReason::Banned
        } else {
            CloseReason::Removed
        };
        out.push(Effect::Disconnect { who, reason });
        if let Some(p) = self.take_out(who, LeaveReason::Removed, out) {
            if ban {
                self.ban(now, &p, out);
            }
        }
        Ok(())
    }

    /// Records the ban and closes the same browser's other connections (another tab,
    /// a second try in the waiting room). The address is not acted on here: people already
    /// inside may share it innocently, and a new arrival from it waits, flagged.
    pub(super) fn ban(&mut self, now: Instant, p: &Participant, out: &mut Vec<Effect>) {
        self.bans.add(now, p);
        let Some(token) = p.token.as_deref() else {
            return;
        };
        let same =
            |q: &Participant| q.token.as_deref() == Some(token) && q.role != Role::Facilitator;
        let waiting: Vec<ParticipantId> = self
            .waiting
            .iter()
            .filter(|q| same(q))
            .map(|q| q.id)
            .collect();
        // A waiting connection was never in the meeting: it is told it was not let in.
        for id in waiting {
            self.waiting.retain(|q| q.id != id);
            out.push(Effect::Disconnect {
                who: id,
                reason: CloseReason::DeniedAndBanned,
            });
        }
        let inside: Vec<ParticipantId> = self
            .participants
            .iter()
            .filter(|q| same(q))
            .map(|q| q.id)
            .collect();
        for id in inside {
            out.push(Effect::Disconnect {
                who: id,
                reason: CloseReason::Banned,
            });
            self.take_out(id, LeaveReason::Removed, out);
        }
    }

    /// Tells everyone (waiting room too), closes every connection and forgets the chat and
    /// names. Every later command, a join included, gets `meeting_ended`: the bans stay in
    /// this value, for [`Room::restarted`] (a standing meeting) or until the hub forgets the
    /// room (an ad-hoc one, which stays ended).
    pub(super) fn end_meeting(&mut self, out: &mut Vec<Effect>) {
        for p in self.participants.iter().chain(&self.waiting) {
            out.push(Effect::Send {
                to: p.id,
                event: RoomEvent::MeetingEnded,
            });
            out.push(Effect::Disconnect {
                who: p.id,
                reason: CloseReason::MeetingEnded,
            });
        }
        self.ended = true;
        self.participants.clear();
        self.waiting.clear();
        self.queue.clear();
        self.floor = None;
        // Everyone's connection closes: no `screen_share_ended` is needed.
        self.screen = None;
        self.chat.clear();
        self.suspended = None;
    }
}

//! Screen share: who may show their screen, the one screen on at a time, and when it ends.
//! Imports no tokio, no media, no network.
//!
//! Named `screen`, not `share`: in this room a "share" is a member's turn to speak
//! (`queue.rs`, `timer.rs`), and the two must not be confused on the wire either.
//!
//! The rule that matters: the SFU forwards a screen track only for the participant in
//! `Room::screen`, through the `screen` flag of [`Effect::SetForwarding`], which `view.rs`
//! derives by diffing like mic and camera. Whatever a client sends, no one else's screen
//! reaches anyone.
//!
//! Decisions:
//! - Facilitators and co-facilitators may share; a member only while staff let them ("Let
//!   Sam share their screen"). The permission belongs to this place in the meeting: a
//!   `resume` keeps it, leaving and joining again does not (the safe default comes back).
//! - One screen at a time: a start while another screen is on is refused with
//!   `screen_share_busy`, staff's too. Staff end the other share first (`EndScreenShare`):
//!   a click never cuts someone off mid-sentence by accident.
//! - A share does not outlive its connection: a drop ends it at once (the grace period keeps
//!   the place, not the screen; the browser's capture does not survive a new peer
//!   connection anyway), as do leaving, removal, a ban, suspend (restore brings none back),
//!   losing the permission (revoke, or a demoted co-facilitator without one) and the
//!   meeting's end.
//! - Starting is rate-limited per person ([`RateLimiter::screen_shares`]): each start is
//!   announced to everyone and, with the media part, renegotiates every connection.

use std::time::Instant;

use super::participant::Participant;
use super::{Effect, ParticipantId, Room, RoomError, RoomEvent, ScreenEnd};

#[cfg(doc)]
use super::RateLimiter;

impl Room {
    /// May `p` share their screen (suspend aside)? Staff always; a member when let.
    pub(super) fn may_share_screen(&self, p: &Participant) -> bool {
        p.role.is_staff() || p.screen_allowed
    }

    /// Whose screen is on, if anyone's: the only participant whose screen the SFU forwards.
    pub fn screen_sharer(&self) -> Option<ParticipantId> {
        self.screen
    }

    pub(super) fn start_screen_share(
        &mut self,
        now: Instant,
        from: ParticipantId,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        let p = self.get(from).ok_or(RoomError::UnknownParticipant)?;
        if self.screen == Some(from) {
            return Ok(());
        }
        if !self.may_share_screen(p) {
            return Err(RoomError::ScreenShareNotAllowed);
        }
        if self.suspended.is_some() && !p.role.is_staff() {
            return Err(RoomError::RoomSuspended);
        }
        if self.screen.is_some() {
            return Err(RoomError::ScreenShareBusy);
        }
        let p = self.get_mut(from).ok_or(RoomError::UnknownParticipant)?;
        if !p.screen_shares.try_take(now) {
            return Err(RoomError::RateLimited);
        }
        let sharer = p.public_id.clone();
        self.screen = Some(from);
        out.push(Effect::Broadcast { event: RoomEvent::ScreenShareStarted { sharer }, except: None });
        Ok(())
    }

    /// The sharer stops their own share.
    pub(super) fn stop_screen_share(&mut self, from: ParticipantId, out: &mut Vec<Effect>) -> Result<(), RoomError> {
        if self.screen != Some(from) {
            return Err(RoomError::NotSharingScreen);
        }
        self.end_screen(ScreenEnd::Stopped, out);
        Ok(())
    }

    /// (staff) End `who`'s share. Naming the sharer, rather than "whatever is on", means a
    /// late click cannot end the next person's share.
    pub(super) fn end_screen_share(&mut self, who: ParticipantId, out: &mut Vec<Effect>) -> Result<(), RoomError> {
        self.target(who)?;
        if self.screen != Some(who) {
            return Err(RoomError::NotSharingScreen);
        }
        self.end_screen(ScreenEnd::EndedByStaff, out);
        Ok(())
    }

    /// (staff) Let `who` share their screen, or take it back (ending their share, unless
    /// they are staff and so may share anyway). `who` is told in plain words.
    pub(super) fn set_screen_permission(
        &mut self,
        by: ParticipantId,
        who: ParticipantId,
        allowed: bool,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        if self.target(who)?.screen_allowed == allowed {
            return Ok(());
        }
        let by_name = self.get(by).map(|p| p.name.clone()).unwrap_or_default();
        if let Some(p) = self.get_mut(who) {
            p.screen_allowed = allowed;
        }
        self.end_screen_if_not_allowed(out);
        let message = if allowed {
            "A facilitator let you share your screen. You can start when you are ready."
        } else {
            "A facilitator took back your permission to share your screen."
        };
        let event = RoomEvent::ScreenSharePermission { allowed, by: by_name, message: message.into() };
        out.push(Effect::Send { to: who, event });
        Ok(())
    }

    /// After a change of role or permission: a sharer who may no longer share stops (a
    /// member may not share while the room is suspended, even with staff's permission).
    pub(super) fn end_screen_if_not_allowed(&mut self, out: &mut Vec<Effect>) {
        let Some(sharer) = self.screen else { return };
        let Some(p) = self.get(sharer) else { return };
        if !self.may_share_screen(p) {
            self.end_screen(ScreenEnd::Revoked, out);
        } else if !p.role.is_staff() && self.suspended.is_some() {
            // Their permission holds (back with restore); the suspension is why.
            self.end_screen(ScreenEnd::Suspended, out);
        }
    }

    /// Ends the share on, if any, and tells everyone why. The SFU's flag follows from the
    /// view diff, ahead of this announcement in the batch.
    pub(super) fn end_screen(&mut self, reason: ScreenEnd, out: &mut Vec<Effect>) {
        let Some(sharer) = self.screen.take() else { return };
        // A sharer taken out of the room is still found: `take_out` ends the share first.
        let Some(p) = self.get(sharer) else { return };
        let event = RoomEvent::ScreenShareEnded { sharer: p.public_id.clone(), reason };
        out.push(Effect::Broadcast { event, except: None });
    }

    /// The hub lost `who`'s connection (socket, media, a session too slow, or replaced by a
    /// resume). Their place waits for the grace period; their screen share, if on, ends now.
    /// Nothing else changes, so this is empty unless they were sharing.
    pub fn connection_dropped(&mut self, now: Instant, who: ParticipantId) -> Vec<Effect> {
        if self.ended || self.screen != Some(who) {
            return Vec::new();
        }
        let before = self.observe();
        let mut out = Vec::new();
        self.end_screen(ScreenEnd::Dropped, &mut out);
        self.finish(now, &before, out)
    }
}

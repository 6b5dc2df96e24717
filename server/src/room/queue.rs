//! The speaking queue and the floor: raise and lower hands in strict arrival order; the
//! facilitator calls next or a specific person, reorders, removes, clears. Imports no
//! tokio, no media, no network.
//!
//! Holding the floor is what lets a member unmute when the room disallows it (see
//! `Room::may_unmute`); when a share ends the floor is taken back and they are muted.

use std::time::Instant;

use super::timer::Floor;
use super::{Effect, FloorEnd, ParticipantId, Room, RoomError, RoomEvent};

/// Who a timed share's end was "muted by", in the `muted` message.
const TIMER_NAME: &str = "the share timer";

impl Room {
    pub(super) fn raise_hand(&mut self, now: Instant, from: ParticipantId) -> Result<(), RoomError> {
        if self.queue.contains(&from) {
            return Err(RoomError::AlreadyInQueue);
        }
        let p = self.get_mut(from).ok_or(RoomError::UnknownParticipant)?;
        if !p.hands.try_take(now) {
            return Err(RoomError::RateLimited);
        }
        self.queue.push(from);
        Ok(())
    }

    /// Also "remove entry" for facilitators: the same act on someone else's hand.
    pub(super) fn lower_hand(&mut self, who: ParticipantId) -> Result<(), RoomError> {
        if !self.is_admitted(who) {
            return Err(RoomError::UnknownParticipant);
        }
        let i = self.queue_index(who).ok_or(RoomError::NotInQueue)?;
        self.queue.remove(i);
        Ok(())
    }

    pub(super) fn move_in_queue(
        &mut self,
        who: ParticipantId,
        position: usize,
    ) -> Result<(), RoomError> {
        if !self.is_admitted(who) {
            return Err(RoomError::UnknownParticipant);
        }
        let i = self.queue_index(who).ok_or(RoomError::NotInQueue)?;
        self.queue.remove(i);
        let at = position.min(self.queue.len());
        self.queue.insert(at, who);
        Ok(())
    }

    /// With an empty queue "next" still ends the current share; with nothing to do at all
    /// it says so.
    pub(super) fn call_next(
        &mut self,
        now: Instant,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        if self.queue.is_empty() && self.floor.is_none() {
            return Err(RoomError::QueueEmpty);
        }
        self.end_floor(FloorEnd::Next, out);
        if !self.queue.is_empty() {
            let next = self.queue.remove(0);
            self.give_floor(now, next, out);
        }
        Ok(())
    }

    /// Calls someone directly, hand raised or not; their hand is lowered.
    pub(super) fn call(
        &mut self,
        now: Instant,
        who: ParticipantId,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        if !self.is_admitted(who) {
            return Err(RoomError::UnknownParticipant);
        }
        if self.holds_floor(who) {
            return Ok(());
        }
        self.end_floor(FloorEnd::Next, out);
        self.queue.retain(|&q| q != who);
        self.give_floor(now, who, out);
        Ok(())
    }

    pub(super) fn done(
        &mut self,
        from: ParticipantId,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        if !self.holds_floor(from) {
            return Err(RoomError::NotFloorHolder);
        }
        self.end_floor(FloorEnd::Done, out);
        Ok(())
    }

    pub(super) fn stop_share(&mut self, out: &mut Vec<Effect>) -> Result<(), RoomError> {
        if self.floor.is_none() {
            return Err(RoomError::NoFloor);
        }
        self.end_floor(FloorEnd::Stopped, out);
        Ok(())
    }

    /// The timer starts now. The holder is not unmuted for them: they choose when to
    /// speak (and may decide not to).
    /// Calling someone is letting them speak again: a facilitator's mute on them is lifted.
    fn give_floor(&mut self, now: Instant, who: ParticipantId, out: &mut Vec<Effect>) {
        self.release(who);
        self.floor = Some(Floor::new(now, who, self.settings.share_seconds));
        if let Some(floor) = self.floor_view(now) {
            out.push(Effect::Broadcast {
                event: RoomEvent::FloorGiven { floor },
                except: None,
            });
        }
    }

    /// Takes the floor back and mutes the holder; no-op without a floor. Staff keep their
    /// mic: the room never mutes a facilitator on its own.
    /// When the timer ends a share, no one pressed a button the holder could see: they are
    /// told in their own words, as a facilitator's mute tells them (`YouWereMuted`).
    pub(super) fn end_floor(&mut self, reason: FloorEnd, out: &mut Vec<Effect>) {
        let Some(floor) = self.floor.take() else {
            return;
        };
        let Some(p) = self.get_mut(floor.holder) else {
            return;
        };
        let silenced = !p.role.is_staff() && p.mic_on;
        if !p.role.is_staff() {
            p.mic_on = false;
        }
        let holder = p.public_id.clone();
        out.push(Effect::Broadcast {
            event: RoomEvent::FloorTaken { holder, reason },
            except: None,
        });
        if silenced && reason == FloorEnd::TimeUp {
            let Some(p) = self.get(floor.holder) else {
                return;
            };
            let reason = format!(
                "Your time to share is up, so your mic was turned off. {}",
                self.unmute_hint(p)
            );
            out.push(Effect::Send {
                to: floor.holder,
                event: RoomEvent::YouWereMuted {
                    by: TIMER_NAME.into(),
                    reason,
                },
            });
        }
    }

    pub(super) fn holds_floor(&self, who: ParticipantId) -> bool {
        self.floor.as_ref().is_some_and(|f| f.holder == who)
    }

    fn queue_index(&self, who: ParticipantId) -> Option<usize> {
        self.queue.iter().position(|&q| q == who)
    }
}

//! The share timer, driven by injected time: the caller asks `next_deadline()` when to
//! wake up and then calls `handle_timeout(now)`. Imports no tokio, no media, no network.
//!
//! Like quinn-proto's `poll_timeout` / `handle_timeout`: the room owns no clock, so tests
//! move time by passing a later `Instant`.

use std::time::{Duration, Instant};

use super::{
    Effect, FloorEnd, FloorView, ParticipantId, Room, RoomError, RoomEvent, MAX_SHARE_SECONDS,
};

/// The warning comes this long before a timed share ends.
pub const SHARE_WARNING: Duration = Duration::from_secs(60);

/// Who holds the floor and, if the share is timed, when it ends.
#[derive(Debug, Clone)]
pub(super) struct Floor {
    pub holder: ParticipantId,
    deadline: Option<Instant>,
    warned: bool,
    expired: bool,
}

impl Floor {
    pub fn new(now: Instant, holder: ParticipantId, share_seconds: u32) -> Floor {
        let length = Duration::from_secs(u64::from(share_seconds));
        let deadline = if share_seconds == 0 {
            None
        } else {
            now.checked_add(length)
        };
        // A share of a minute or less would be warned at its very start: skip that.
        let warned = length <= SHARE_WARNING;
        Floor {
            holder,
            deadline,
            warned,
            expired: false,
        }
    }

    fn warn_at(&self, deadline: Instant) -> Instant {
        deadline.checked_sub(SHARE_WARNING).unwrap_or(deadline)
    }

    fn next_deadline(&self) -> Option<Instant> {
        let deadline = self.deadline?;
        if !self.warned {
            Some(self.warn_at(deadline))
        } else if !self.expired {
            Some(deadline)
        } else {
            None
        }
    }

    /// Whole seconds left, rounded up so the warning reads "60", not "59".
    fn seconds_left(&self, now: Instant) -> Option<u32> {
        let left = self.deadline?.saturating_duration_since(now);
        let secs = left.as_millis().div_ceil(1000);
        Some(u32::try_from(secs).unwrap_or(u32::MAX))
    }

    /// Time is added to whatever is left, or from now if the time is already up.
    fn extend(&mut self, now: Instant, seconds: u32) {
        let base = self.deadline.map_or(now, |d| d.max(now));
        let Some(deadline) = base.checked_add(Duration::from_secs(u64::from(seconds))) else {
            return;
        };
        self.deadline = Some(deadline);
        self.expired = false;
        // Warn again only if the new end is more than a minute away.
        self.warned = deadline.saturating_duration_since(now) <= SHARE_WARNING;
    }
}

impl Room {
    /// When the caller should next call [`Room::handle_timeout`]; `None`: no timer running.
    /// Changes after any command, so ask again after each `handle`.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.ended {
            return None;
        }
        self.floor.as_ref().and_then(Floor::next_deadline)
    }

    /// Fires whatever is due at `now`: the one-minute warning, then expiry (with auto-mute
    /// on, expiry also takes the floor back and mutes). Calling early or twice is harmless.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Effect> {
        if self.ended {
            return Vec::new();
        }
        let before = self.observe();
        let mut out = Vec::new();
        self.fire_timers(now, &mut out);
        self.finish(now, &before, out)
    }

    fn fire_timers(&mut self, now: Instant, out: &mut Vec<Effect>) {
        let Some(floor) = self.floor.as_mut() else {
            return;
        };
        let Some(deadline) = floor.deadline else {
            return;
        };
        let Some(holder) = self.participants.iter().find(|p| p.id == floor.holder) else {
            return;
        };
        let holder = holder.public_id.clone();
        if !floor.warned && now >= floor.warn_at(deadline) {
            floor.warned = true;
            // A caller that woke up late skips straight to expiry.
            if now < deadline {
                let seconds_left = floor.seconds_left(now).unwrap_or(0);
                let event = RoomEvent::TimerWarning {
                    holder: holder.clone(),
                    seconds_left,
                };
                out.push(Effect::Broadcast {
                    event,
                    except: None,
                });
            }
        }
        if !floor.expired && now >= deadline {
            floor.expired = true;
            let event = RoomEvent::TimerExpired { holder };
            out.push(Effect::Broadcast {
                event,
                except: None,
            });
            if self.settings.auto_mute_on_expiry {
                self.end_floor(FloorEnd::TimeUp, out);
            }
        }
    }

    pub(super) fn add_time(
        &mut self,
        now: Instant,
        seconds: u32,
        out: &mut Vec<Effect>,
    ) -> Result<(), RoomError> {
        if seconds == 0 || seconds > MAX_SHARE_SECONDS {
            return Err(RoomError::InvalidSetting("seconds"));
        }
        let floor = self.floor.as_mut().ok_or(RoomError::NoFloor)?;
        floor.extend(now, seconds);
        if let Some(floor) = self.floor_view(now) {
            out.push(Effect::Broadcast {
                event: RoomEvent::TimerExtended { floor },
                except: None,
            });
        }
        Ok(())
    }

    pub(super) fn floor_view(&self, now: Instant) -> Option<FloorView> {
        let floor = self.floor.as_ref()?;
        let p = self.get(floor.holder)?;
        Some(FloorView {
            holder: p.public_id.clone(),
            name: p.name.clone(),
            seconds_left: floor.seconds_left(now),
            expired: floor.expired,
        })
    }
}

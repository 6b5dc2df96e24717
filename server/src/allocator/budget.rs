//! The budget a plan is made for, with the hysteresis: it falls at once when the usable
//! estimate drops below it (to what [`KEEP`] tolerates of the estimate, at least to the
//! usable estimate), and rises only to what the usable estimate held
//! without a dip for [`HOLD`], less the [`UP_MARGIN`].
//!
//! "Held without a dip for HOLD" is the minimum of the estimate over the last HOLD, kept as
//! a monotonic queue (the classic sliding-window minimum): an estimate is a step function,
//! each sample valid from its time until the next sample's.

use std::collections::VecDeque;
use std::time::Instant;

use super::{Bps, HEADROOM, HOLD, KEEP, UP_MARGIN};

#[derive(Debug, Default)]
pub(super) struct Budget {
    /// Usable estimates that may still be the window's minimum: increasing from the front.
    window: VecDeque<Sample>,
    /// The budget plans are made for; `None` without an estimate.
    current: Option<Bps>,
}

#[derive(Debug)]
struct Sample {
    usable: Bps,
    /// When the next sample replaced it; `None` for the latest.
    until: Option<Instant>,
}

impl Budget {
    /// Records the estimate at `now` and returns the budget (audio included) to plan for.
    pub(super) fn observe(&mut self, now: Instant, estimate: Option<Bps>) -> Option<Bps> {
        let Some(estimate) = estimate.filter(|e| e.0 > 0) else {
            // A lost estimate starts again from nothing: what we knew may no longer hold.
            self.window.clear();
            self.current = None;
            return None;
        };
        let usable = estimate.times(HEADROOM);
        if let Some(last) = self.window.back_mut() {
            last.until.get_or_insert(now);
        }
        // An older sample at or above this one can never be the minimum again: it leaves the
        // window before this one does.
        while self.window.back().is_some_and(|s| s.usable >= usable) {
            self.window.pop_back();
        }
        self.window.push_back(Sample {
            usable,
            until: None,
        });
        self.expire(now);
        let held = self.window.front().map_or(usable, |s| s.usable);
        let budget = match self.current {
            // A back-off of the estimate keeps what it was planned for; a real drop does not.
            Some(b) if usable < b => b.min(estimate.times(KEEP)).max(usable),
            Some(b) => b.max(held.over(UP_MARGIN)),
            None => held.over(UP_MARGIN),
        };
        self.current = Some(budget);
        Some(budget)
    }

    fn expire(&mut self, now: Instant) {
        let expired = |s: &Sample| {
            s.until
                .is_some_and(|u| now.saturating_duration_since(u) >= HOLD)
        };
        while self.window.front().is_some_and(expired) {
            self.window.pop_front();
        }
    }

    /// The first moment the held minimum rises enough to raise the budget.
    pub(super) fn next_rise(&self) -> Option<Instant> {
        let current = self.current?;
        let mut samples = self.window.iter();
        let mut before = samples.next()?;
        for s in samples {
            if s.usable.over(UP_MARGIN) > current {
                return before.until.map(|u| u + HOLD);
            }
            before = s;
        }
        None
    }
}

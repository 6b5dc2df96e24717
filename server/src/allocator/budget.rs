//! The budget a plan is made for, with the hysteresis: it falls at once when the usable
//! estimate drops below it (to what [`KEEP`] tolerates of the estimate, at least to the
//! usable estimate), and rises only to what the usable estimate held
//! without a dip for [`HOLD`], less the [`UP_MARGIN`], and then in steps: at most to
//! [`RISE_STEP`] × what the last plan allocated (or to what its next step up needed, when
//! that is more), one step per [`STEP_EVERY`].
//!
//! What flows is kept up to the usable estimate even above the budget ([`Limits::keep`]):
//! the budget's hysteresis is for taking more, never a reason to pause what the link carries.
//! While a queue shows, nothing resumes or rises above the usable estimate held for [`HOLD`]
//! ([`Limits::grow`]), and a link that
//! overflows (the member's link losing packets at a standing queue) has its budget fall to the usable
//! estimate at once, without [`KEEP`]'s tolerance.
//!
//! Two guards against the estimator's back-off cascades (GCC lowers its estimate several
//! times within a second while a queue drains): the floor holder's or speaker's lowest
//! layer is kept while it fits [`KEEP`] × the highest estimate of the last
//! [`PRIORITY_CONFIRM`] ([`Limits::priority`]), so one cascade does not freeze the picture
//! the room is looking at; and for [`STEP_EVERY`] after the budget fell nothing resumes or
//! rises ([`Limits::settling`]).
//!
//! A third guard is for the falls the allocator causes itself ([`PROBE_GUARD`]): while a
//! step up is unmet, str0m probes and pads towards it, and on a link already at its
//! capacity that probe fills the queue and GCC answers with a cascade that outlasts
//! [`PRIORITY_CONFIRM`] (400 kbit/s: 270 → 195 kbit/s within 40 ms, held for 4 s, the floor
//! holder's video frozen for 8 s). A fall that begins within [`super::PROBE_BLAME`] of a
//! probe the allocator asked for, or of a step up it took (a resume or a higher layer: its
//! keyframes and rate probe the link as much), keeps the priority video's lowest layer within [`KEEP`] × the
//! lowest estimate of the [`CALM`] before it, for [`PROBE_GUARD`] (up to
//! [`PROBE_GUARD_CLEAR`] while round trips show no queue on the way) or until the estimate is
//! back: what the link carried without trouble before the probe, it carries after it.
//!
//! "Held without a dip for HOLD" is the minimum of the estimate over the last HOLD, kept as
//! a monotonic queue (the classic sliding-window minimum): an estimate is a step function,
//! each sample valid from its time until the next sample's.

use std::collections::VecDeque;
use std::time::Instant;

use super::{Bps, CALM, HEADROOM, HOLD, KEEP, PRIORITY_CONFIRM, PROBE_GUARD, PROBE_GUARD_CLEAR, RISE_STEP, STEP_EVERY, UP_MARGIN};

#[derive(Debug, Default)]
pub(super) struct Budget {
    /// Usable estimates of the last [`HOLD`] that may still be its minimum.
    window: SlidingMin,
    /// The budget plans are made for; `None` without an estimate.
    current: Option<Bps>,
    /// Before this the budget does not rise again (set whenever a rise is due).
    next_step: Option<Instant>,
    /// Until this, after a fall, nothing resumes or rises (see [`Limits::settling`]).
    settle_until: Option<Instant>,
    /// For [`PRIORITY_CONFIRM`]: the latest estimate (and when it was observed), and the
    /// earlier ones of the last PRIORITY_CONFIRM with when each was replaced (oldest first).
    latest: Option<Bps>,
    latest_at: Option<Instant>,
    recent: VecDeque<(Bps, Instant)>,
    /// For [`PROBE_GUARD`]: the estimates of the last [`CALM`] that may be its minimum.
    calm: SlidingMin,
    /// A self-caused fall's guard: the calm estimate before it (at least what flowed when it
    /// began, over [`KEEP`]), and since when it holds.
    guard: Option<(Bps, Instant)>,
    /// The estimate has fallen at every sample since a fall that began while probing.
    cascade: bool,
}

/// What the round trips and the link's loss say of the path to the member (see
/// [`super::Inputs::path_clear`] and [`super::Inputs::overflowing`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Path {
    pub(super) clear: bool,
    pub(super) overflowing: bool,
}

/// What a plan may use: `grow` to resume or raise a video, `keep` to keep what it has,
/// `priority` to keep the floor holder's or speaker's video at its lowest layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Limits {
    pub(super) grow: Bps,
    pub(super) keep: Bps,
    pub(super) priority: Bps,
    /// The budget fell less than [`STEP_EVERY`] ago: videos only keep or lower what they
    /// have. (A fall that pauses one video freed room that raised another: the layers
    /// flapped within 30 ms, each switch a keyframe that fed the estimator's next back-off.)
    pub(super) settling: bool,
}

#[derive(Debug)]
struct Sample {
    value: Bps,
    /// When the next sample replaced it; `None` for the latest.
    until: Option<Instant>,
}

/// The minimum of a step function over the last `span`: the samples that may still be it,
/// increasing from the front (the classic monotonic queue).
#[derive(Debug, Default)]
struct SlidingMin {
    samples: VecDeque<Sample>,
}

impl SlidingMin {
    /// Adds `value`, valid from `now`, and forgets what ended `span` or more ago.
    fn push(&mut self, now: Instant, value: Bps, span: std::time::Duration) {
        if let Some(last) = self.samples.back_mut() {
            last.until.get_or_insert(now);
        }
        // An older sample at or above this one can never be the minimum again: it leaves the
        // window before this one does.
        while self.samples.back().is_some_and(|s| s.value >= value) {
            self.samples.pop_back();
        }
        self.samples.push_back(Sample { value, until: None });
        self.expire(now, span);
    }

    fn expire(&mut self, now: Instant, span: std::time::Duration) {
        let expired = |s: &Sample| s.until.is_some_and(|u| now.saturating_duration_since(u) >= span);
        while self.samples.front().is_some_and(expired) {
            self.samples.pop_front();
        }
    }

    fn min(&self) -> Option<Bps> {
        self.samples.front().map(|s| s.value)
    }

    fn clear(&mut self) {
        self.samples.clear();
    }
}

impl Budget {
    /// Records the estimate at `now` and returns the limits (audio included) to plan for;
    /// `last` is what the last plan allocated and the budget its next step needed (`None`:
    /// it wanted nothing more).
    /// `probing`: a fall now may be str0m's answer to a probe the allocator asked for;
    /// `path`: no queue shows on the way ([`PROBE_GUARD_CLEAR`]); the link overflows (the
    /// budget falls to the usable estimate, without [`KEEP`]'s tolerance).
    pub(super) fn observe(&mut self, now: Instant, estimate: Option<Bps>, last: (Bps, Option<Bps>), probing: bool, path: Path) -> Option<Limits> {
        let Some(estimate) = estimate.filter(|e| e.0 > 0) else {
            // A lost estimate starts again from nothing: what we knew may no longer hold.
            self.window.clear();
            self.current = None;
            self.next_step = None;
            self.settle_until = None;
            self.recent.clear();
            self.latest = None;
            self.latest_at = None;
            self.calm.clear();
            self.guard = None;
            self.cascade = false;
            return None;
        };
        let usable = estimate.times(HEADROOM);
        self.window.push(now, usable, HOLD);
        let held = self.window.min().unwrap_or(usable);
        let target = held.over(UP_MARGIN);
        // The highest estimate of the last PRIORITY_CONFIRM, this one included.
        let previous = self.latest.replace(estimate);
        self.latest_at = Some(now);
        if let Some(before) = previous.filter(|&b| b != estimate) {
            self.recent.push_back((before, now));
        }
        while self.recent.front().is_some_and(|&(_, until)| now.saturating_duration_since(until) >= PRIORITY_CONFIRM) {
            self.recent.pop_front();
        }
        let lately = self.recent.iter().map(|&(e, _)| e).fold(estimate, Bps::max);
        // A fall that may be a probe's own: guarded by the calm estimate before it, or by what
        // flowed when it began (a calm window may hold the trough of an earlier cascade).
        self.calm.expire(now, CALM);
        let calm = self.calm.min().map(|c| c.max(last.0.over(KEEP)));
        // A cascade that began within PROBE_BLAME of a probe is the probe's to its end.
        self.cascade = previous.is_some_and(|b| estimate < b) && (probing || self.cascade);
        if self.cascade && self.guard.is_none() {
            self.guard = calm.filter(|&c| estimate < c).map(|c| (c, now));
        }
        self.calm.push(now, estimate, CALM);
        let holds = |since: Instant| {
            let held = now.saturating_duration_since(since);
            held < PROBE_GUARD || (path.clear && held < PROBE_GUARD_CLEAR)
        };
        self.guard = self.guard.filter(|&(c, since)| holds(since) && estimate < c);
        let guarded = self.guard.map_or(Bps(0), |(c, _)| c);
        let priority = lately.max(guarded).times(KEEP);
        let budget = match self.current {
            // A link that drops what it is sent carries less than flows: no tolerance.
            Some(b) if usable < b && path.overflowing => usable,
            // A back-off of the estimate keeps what it was planned for; a real drop does not.
            Some(b) if usable < b => b.min(estimate.times(KEEP)).max(usable),
            // One step up at a time: a probe can report far more than the link carries
            // (862 kbit/s on a 400 kbit/s link, held for seconds because nothing contradicted
            // it), and resuming every video on its word overloaded the link at once.
            // (When the last plan wanted nothing more, a rise adds no traffic: no steps.)
            // Nothing more while the link drops what it is sent.
            Some(b) if target > b && !path.overflowing => {
                let (allocated, wanted) = last;
                match wanted {
                    None => target,
                    Some(_) if self.next_step.is_some_and(|t| now < t) => b,
                    Some(wanted) => {
                        self.next_step = Some(now + STEP_EVERY);
                        target.min(b.max(allocated.times(RISE_STEP)).max(wanted))
                    }
                }
            }
            Some(b) => b,
            None => target,
        };
        if self.settle_until.is_some_and(|t| now >= t) {
            self.settle_until = None;
        }
        if self.current.is_some_and(|b| budget < b) {
            self.settle_until = Some(now + STEP_EVERY);
            self.next_step = self.next_step.max(self.settle_until);
        }
        self.current = Some(budget);
        let keep = budget.max(usable);
        Some(Limits {
            // While a queue shows, KEEP's tolerance keeps what flows and is no room for more:
            // after a drop a video lowered or paused came back into it while the estimate
            // stayed down (the floor holder's raised to 285 kbit/s on an estimate of 257), and
            // the link lost the sound again; nor is one higher sample (a probe's optimism):
            // only what the usable estimate held for HOLD. With the path clear the link
            // carries what flows with room to spare, and the tolerance is room: a join's own
            // cascade (800 → 323 kbit/s on a 500 kbit/s link) otherwise kept a second camera
            // paused for 7 s (screen-share's weak viewer, CI rehearsal of 2026-12-08).
            grow: if path.clear { budget } else { budget.min(held) },
            keep,
            priority: priority.max(keep),
            settling: self.settle_until.is_some_and(|t| now < t),
        })
    }

    /// When the priority video's limit would fall: the next moment an earlier, higher
    /// estimate leaves the [`PRIORITY_CONFIRM`] window.
    pub(super) fn next_fall(&self) -> Option<Instant> {
        let confirm = self.recent.front().map(|&(_, until)| until + PRIORITY_CONFIRM);
        // A guard past PROBE_GUARD (extended: the path was clear) is looked at again every
        // second: the path may no longer be clear.
        let guard = self.guard.map(|(_, since)| match self.latest_at {
            Some(at) if at.saturating_duration_since(since) >= PROBE_GUARD => at + STEP_EVERY,
            _ => since + PROBE_GUARD,
        });
        confirm.into_iter().chain(guard).min()
    }

    /// When the settling after a fall ends, if it has not.
    pub(super) fn settled_at(&self) -> Option<Instant> {
        self.settle_until
    }

    /// The first moment the held minimum rises enough to raise the budget, or (after a
    /// back-off, when it holds the grow limit below the budget) at all.
    pub(super) fn next_rise(&self) -> Option<Instant> {
        let current = self.current?;
        let front = self.window.samples.front()?;
        let grow = front.until.filter(|_| front.value < current).map(|u| u + HOLD);
        grow.into_iter().chain(self.next_budget_rise(current)).min()
    }

    fn next_budget_rise(&self, current: Bps) -> Option<Instant> {
        let mut samples = self.window.samples.iter();
        let mut before = samples.next()?;
        // Held already: the next step.
        if before.value.over(UP_MARGIN) > current {
            return self.next_step;
        }
        for s in samples {
            if s.value.over(UP_MARGIN) > current {
                return before.until.map(|u| u + HOLD);
            }
            before = s;
        }
        None
    }
}

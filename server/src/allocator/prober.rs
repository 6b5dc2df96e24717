//! When to ask str0m's estimator for a probe: the `desired` each plan reports.
//!
//! str0m (like libwebrtc's `ProbeController`) probes when `desired` rises above the estimate
//! (its allocation probe), in the application-limited region every 5 s, and when the
//! estimate has not moved for 15 s. An SFU that holds videos back for a weak member is in
//! none of these once the member's link recovers: `desired` stays put (the next step up
//! wanted all along), what flows (the sound and the floor holder's video) is more than the
//! 65 % of the estimate that counts as application-limited, the estimate wobbles, and the
//! estimator's own increase is capped at 1.5 × what is acknowledged. So a recovered link was
//! measured again only by chance: the top layers came back after 12.5 s, or not within 15 s
//! (`tests/browser/tests/weak-link.test.js`, CI of 2026-12-06).
//!
//! While a step up is wanted and the estimate does not carry it, [`Prober`] lowers `desired`
//! to what is allocated for [`PROBE_DIP`] every [`PROBE_AGAIN`] since `desired` last rose;
//! the rise that follows is an allocation change to str0m, which probes at 1× and 2× of it
//! (capped at 2× the estimate, and never while the estimator sees congestion).
//!
//! Probes alone do not always do it. After loss (a drop to 400 kbit/s), str0m's loss-based
//! estimator (libwebrtc's `LossBasedBweV2`) stays in its loss-limited state until its
//! estimate reaches the delay-based one, and while it recovers it may rise to at most 1.5 ×
//! the acknowledged rate (`bandwidth_rampup_upper_bound_factor`). A probe raises only the
//! delay-based estimate; what the member is sent (their sound and one small video) is all
//! that is acknowledged, so the estimate crept from 288 to 431 kbit/s in 75 s on a link back
//! at 3 Mbit/s and the paused videos never came back (CI of 2026-12-07, weak-link recovery
//! 2). libwebrtc's answer is padding while the loss-based estimate is increasing
//! (`LossBasedState::kIncreaseUsingPadding`); Haven cannot see that state, so it reads the
//! mark it leaves: a step up unmet for [`PAD_AFTER`] while the estimate has not fallen
//! (a link at its capacity backs off every few seconds; a held-back estimator only creeps
//! up). Then `desired` is also the padding `minimum` for [`PAD_FOR`] in every
//! [`PAD_CYCLE`]: what is acknowledged rises to the estimate, and the estimate may rise
//! by half each time.

use std::time::{Duration, Instant};

use super::{Bps, Probe};

/// How long `desired` may stay above the estimate before it dips and rises again.
pub const PROBE_AGAIN: Duration = Duration::from_secs(3);
/// How long the dip lasts: str0m reads `desired` at its estimator's timeouts (every 25 ms
/// or so), so a dip shorter than a few of them may go unseen.
pub const PROBE_DIP: Duration = Duration::from_millis(200);
/// A step up unmet this long, with no fall of the estimate meanwhile, gets padding.
pub const PAD_AFTER: Duration = Duration::from_secs(6);
/// Padding lasts this long in every [`PAD_CYCLE`] while the step stays unmet.
pub const PAD_FOR: Duration = Duration::from_secs(2);
/// See [`PAD_FOR`].
pub const PAD_CYCLE: Duration = Duration::from_secs(6);
/// A fall of the estimate this soon after str0m was asked to probe above it (or while
/// padding) is taken as the probe's own ([`super::PROBE_GUARD`]): a probe's packets are
/// acknowledged a round trip later, and GCC's overuse detector answers within a few
/// feedbacks (the cascade at 400 kbit/s began 250 ms after the probe was asked for).
pub const PROBE_BLAME: Duration = Duration::from_secs(1);
/// An estimate below this fraction of the highest since a step began to wait is a fall: the
/// link's own back-off (in one step or in several).
const FALL: f64 = 0.9;

#[derive(Debug, Default)]
pub(super) struct Prober {
    /// The `desired` last reported and since when it has not risen.
    told: Option<(Bps, Instant)>,
    /// A dip lasts until then.
    dip_until: Option<Instant>,
    /// The last report wanted more than the estimate carries.
    unmet: bool,
    /// Since when a step has been unmet with no fall of the estimate, and the highest estimate
    /// since then.
    creeping: Option<Instant>,
    peak: Option<Bps>,
    /// The last report's time.
    at: Option<Instant>,
    /// When a report last made str0m probe above the estimate (`desired` rose above it, or
    /// padding was on), or the plan last stepped up.
    pub(super) probed: Option<Instant>,
}

impl Prober {
    /// What to report for a plan's `probe` at `now`; `short`: a step up is wanted.
    pub(super) fn report(&mut self, now: Instant, estimate: Option<Bps>, probe: Probe, short: bool) -> Probe {
        let unmet = short && estimate.is_some_and(|e| e.0 > 0 && e < probe.desired);
        self.unmet = unmet;
        // A fall from the highest estimate since the wait began, in one step or in several.
        let fell = match (self.peak, estimate) {
            (Some(peak), Some(e)) => (e.0 as f64) < peak.0 as f64 * FALL,
            _ => false,
        };
        self.peak = if unmet && !fell { estimate.max(self.peak) } else { estimate };
        self.at = Some(now);
        self.creeping = if unmet && !fell { Some(self.creeping.unwrap_or(now)) } else { None };
        let probe = Probe { pad: self.pads(now), ..probe };
        if probe.pad {
            self.probed = Some(now);
        }
        if !unmet {
            self.dip_until = None;
            self.told = Some((probe.desired, now));
            return probe;
        }
        if let Some(until) = self.dip_until {
            if now < until {
                return Probe { desired: probe.allocated, ..probe };
            }
            // The dip is over: the rise asks for a probe.
            self.dip_until = None;
            self.told = Some((probe.desired, now));
            self.probed = Some(now);
            return probe;
        }
        match self.told {
            Some((before, since)) if probe.desired <= before => {
                if now.saturating_duration_since(since) >= PROBE_AGAIN {
                    self.dip_until = Some(now + PROBE_DIP);
                    return Probe { desired: probe.allocated, ..probe };
                }
                // Remember the lower value: a rise from it is a new allocation to str0m.
                self.told = Some((probe.desired, since));
            }
            // A rise: str0m probes for it by itself.
            _ => {
                self.told = Some((probe.desired, now));
                self.probed = Some(now);
            }
        }
        probe
    }

    /// The plan took a step up at `now` (a video resumed or rose a layer): its keyframes and
    /// its rate probe the link as a probe does ([`PROBE_BLAME`]).
    pub(super) fn stepped_up(&mut self, now: Instant) {
        self.probed = Some(now);
    }

    /// Whether a fall of the estimate at `now` may be a probe's own: str0m was asked to probe
    /// above the estimate less than [`PROBE_BLAME`] ago, or padding is on.
    pub(super) fn probing(&self, now: Instant) -> bool {
        self.probed.is_some_and(|t| now.saturating_duration_since(t) < PROBE_BLAME)
    }

    /// Whether to pad at `now` (see [`PAD_AFTER`]).
    fn pads(&self, now: Instant) -> bool {
        self.creeping.is_some_and(|since| {
            let waited = now.saturating_duration_since(since);
            waited >= PAD_AFTER && (waited - PAD_AFTER).as_millis() % PAD_CYCLE.as_millis() < PAD_FOR.as_millis()
        })
    }

    /// When padding starts or stops next, while a step is unmet and the estimate creeps.
    fn next_pad_change(&self) -> Option<Instant> {
        let (since, now) = (self.creeping?, self.at?);
        let waited = now.saturating_duration_since(since);
        if waited < PAD_AFTER {
            return Some(since + PAD_AFTER);
        }
        let into = (waited - PAD_AFTER).as_millis() % PAD_CYCLE.as_millis();
        let cycle_start = now - Duration::from_millis(into as u64);
        Some(if into < PAD_FOR.as_millis() { cycle_start + PAD_FOR } else { cycle_start + PAD_CYCLE })
    }

    /// When the next report may differ: the dip's end, the next dip, or padding starting or
    /// stopping.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let probe = match (self.dip_until, self.told) {
            (Some(until), _) => Some(until),
            (None, Some((_, since))) if self.unmet => Some(since + PROBE_AGAIN),
            _ => None,
        };
        probe.into_iter().chain(self.next_pad_change()).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(allocated: u64, desired: u64) -> Probe {
        Probe { allocated: Bps::kbps(allocated), desired: Bps::kbps(desired), pad: false }
    }

    #[test]
    fn a_step_out_of_reach_dips_desired_every_probe_again_and_rises_after_the_dip() {
        let t0 = Instant::now();
        let mut p = Prober::default();
        let est = Some(Bps::kbps(300));
        let want = probe(250, 450);
        assert_eq!(p.report(t0, est, want, true), want);
        assert_eq!(p.next_deadline(), Some(t0 + PROBE_AGAIN));
        // Before PROBE_AGAIN nothing changes.
        assert_eq!(p.report(t0 + Duration::from_secs(1), est, want, true), want);
        // Then the dip, to what is allocated, until PROBE_DIP has passed.
        let dip_at = t0 + PROBE_AGAIN;
        assert_eq!(p.report(dip_at, est, want, true).desired, Bps::kbps(250));
        assert_eq!(p.next_deadline(), Some(dip_at + PROBE_DIP));
        assert_eq!(p.report(dip_at + PROBE_DIP / 2, est, want, true).desired, Bps::kbps(250));
        // The rise, and the next dip PROBE_AGAIN after it.
        let rise_at = dip_at + PROBE_DIP;
        assert_eq!(p.report(rise_at, est, want, true), want);
        // (Padding starts PAD_AFTER after the step was first unmet: sooner.)
        assert_eq!(p.next_deadline(), Some((rise_at + PROBE_AGAIN).min(t0 + PAD_AFTER)));
    }

    #[test]
    fn a_rise_of_desired_restarts_the_wait_since_str0m_probes_for_it() {
        let t0 = Instant::now();
        let mut p = Prober::default();
        let est = Some(Bps::kbps(300));
        p.report(t0, est, probe(250, 450), true);
        let later = t0 + Duration::from_secs(2);
        assert_eq!(p.report(later, est, probe(250, 600), true).desired, Bps::kbps(600));
        assert_eq!(p.next_deadline(), Some(later + PROBE_AGAIN));
        // A fall keeps the wait; a rise back from it counts as a rise.
        p.report(later + Duration::from_secs(1), est, probe(250, 400), true);
        assert_eq!(p.next_deadline(), Some(later + PROBE_AGAIN));
        let back = later + Duration::from_secs(2);
        p.report(back, est, probe(250, 450), true);
        assert_eq!(p.next_deadline(), Some((back + PROBE_AGAIN).min(t0 + PAD_AFTER)));
    }

    #[test]
    fn nothing_dips_when_nothing_more_is_wanted_or_the_estimate_carries_it() {
        let t0 = Instant::now();
        let mut p = Prober::default();
        let later = t0 + PROBE_AGAIN * 3;
        for (estimate, short) in [(Some(Bps::kbps(300)), false), (Some(Bps::kbps(500)), true), (None, true)] {
            assert_eq!(p.report(t0, estimate, probe(250, 450), short), probe(250, 450));
            assert_eq!(p.report(later, estimate, probe(250, 450), short), probe(250, 450));
            assert_eq!(p.next_deadline(), None);
        }
    }

    #[test]
    fn a_step_unmet_while_the_estimate_creeps_gets_padding_for_pad_for_in_every_cycle() {
        let t0 = Instant::now();
        let mut p = Prober::default();
        let want = probe(250, 900);
        // The estimate creeps up (a held-back estimator) and never carries the step.
        let report = |p: &mut Prober, secs: f64| {
            let at = t0 + Duration::from_secs_f64(secs);
            p.report(at, Some(Bps::kbps(300 + (secs * 2.0) as u64)), want, true)
        };
        let mut padded = Vec::new();
        for i in 0..=40 {
            let secs = i as f64 * 0.5;
            if report(&mut p, secs).pad {
                padded.push(secs);
            }
        }
        let after = PAD_AFTER.as_secs_f64();
        let expect: Vec<f64> = (0..=40)
            .map(|i| i as f64 * 0.5)
            .filter(|s| *s >= after && (s - after) % PAD_CYCLE.as_secs_f64() < PAD_FOR.as_secs_f64())
            .collect();
        assert_eq!(padded, expect);
        assert!(!padded.is_empty() && padded[0] == after);
        // The deadline wakes the allocator when padding starts and stops.
        let mut q = Prober::default();
        q.report(t0, Some(Bps::kbps(300)), want, true);
        assert_eq!(q.next_pad_change(), Some(t0 + PAD_AFTER));
        q.report(t0 + PAD_AFTER, Some(Bps::kbps(300)), want, true);
        assert_eq!(q.next_pad_change(), Some(t0 + PAD_AFTER + PAD_FOR));
        q.report(t0 + PAD_AFTER + PAD_FOR, Some(Bps::kbps(300)), want, true);
        assert_eq!(q.next_pad_change(), Some(t0 + PAD_AFTER + PAD_CYCLE));
    }

    #[test]
    fn no_padding_while_the_estimate_falls_or_nothing_more_is_wanted() {
        let t0 = Instant::now();
        let mut p = Prober::default();
        let want = probe(250, 900);
        // A link at its capacity: the estimate backs off every 4 s; the wait starts again.
        for i in 0..=60 {
            let secs = i as f64 * 0.5;
            let kbps = if i % 8 == 0 { 250 } else { 300 + i as u64 };
            let out = p.report(t0 + Duration::from_secs_f64(secs), Some(Bps::kbps(kbps)), want, true);
            assert!(!out.pad, "padded at {secs} s on a link that backs off");
        }
        // A slow slide is a fall too: 5 % a second from 400 kbit/s.
        let mut r = Prober::default();
        for i in 0..=16 {
            let kbps = (400.0 * 0.95f64.powi(i)) as u64;
            assert!(!r.report(t0 + Duration::from_secs(i as u64), Some(Bps::kbps(kbps)), want, true).pad);
        }
                // Padding, then the step is carried (or no longer wanted): it stops at once.
        let mut q = Prober::default();
        q.report(t0, Some(Bps::kbps(300)), want, true);
        assert!(q.report(t0 + PAD_AFTER, Some(Bps::kbps(320)), want, true).pad);
        assert!(!q.report(t0 + PAD_AFTER + PAD_FOR / 2, Some(Bps::kbps(950)), want, true).pad);
        assert!(!q.report(t0 + PAD_AFTER + PAD_FOR / 2, Some(Bps::kbps(320)), want, false).pad);
        assert_eq!(q.next_pad_change(), None);
    }
}

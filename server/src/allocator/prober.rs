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

use std::time::{Duration, Instant};

use super::{Bps, Probe};

/// How long `desired` may stay above the estimate before it dips and rises again.
pub const PROBE_AGAIN: Duration = Duration::from_secs(3);
/// How long the dip lasts: str0m reads `desired` at its estimator's timeouts (every 25 ms
/// or so), so a dip shorter than a few of them may go unseen.
pub const PROBE_DIP: Duration = Duration::from_millis(200);

#[derive(Debug, Default)]
pub(super) struct Prober {
    /// The `desired` last reported and since when it has not risen.
    told: Option<(Bps, Instant)>,
    /// A dip lasts until then.
    dip_until: Option<Instant>,
    /// The last report wanted more than the estimate carries.
    unmet: bool,
}

impl Prober {
    /// What to report for a plan's `probe` at `now`; `short`: a step up is wanted.
    pub(super) fn report(&mut self, now: Instant, estimate: Option<Bps>, probe: Probe, short: bool) -> Probe {
        let unmet = short && estimate.is_some_and(|e| e.0 > 0 && e < probe.desired);
        self.unmet = unmet;
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
            _ => self.told = Some((probe.desired, now)),
        }
        probe
    }

    /// When the next report may differ: the dip's end, or the next dip.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        match (self.dip_until, self.told) {
            (Some(until), _) => Some(until),
            (None, Some((_, since))) if self.unmet => Some(since + PROBE_AGAIN),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(allocated: u64, desired: u64) -> Probe {
        Probe { allocated: Bps::kbps(allocated), desired: Bps::kbps(desired) }
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
        assert_eq!(p.next_deadline(), Some(rise_at + PROBE_AGAIN));
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
        assert_eq!(p.next_deadline(), Some(back + PROBE_AGAIN));
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
}

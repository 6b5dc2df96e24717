//! PURE: which of a publisher's camera layers are worth encoding. A simulcast camera sends
//! every layer it is asked for whether anyone receives it or not: in a gallery of small
//! tiles nobody gets the 640×360 layer, yet each publisher's browser encodes it and its
//! uplink carries it (~0.6–0.9 Mbit/s of ~1.3), and the SFU decrypts it only to drop it.
//! Like LiveKit's "dynacast" and Meet, Haven tells each publisher which layers somebody
//! receives (`camera_layers`), and the browser switches the others off
//! (`RTCRtpEncodingParameters.active`).
//!
//! Rules:
//! - The lowest layer is always on: it is what a weak link or a new viewer gets at once.
//! - Every layer up to the highest one somebody receives, or is being switched to, is on;
//!   a layer above it goes off only after nobody has wanted it for [`SUSPEND_AFTER`] (a
//!   tile that shrinks for a moment, a link that dips, costs nothing), and a layer comes on
//!   at once when wanted. Layers below the highest wanted stay on even if nobody takes them,
//!   so a falling link can step down without waiting for a layer to start.
//! - A layer that is off, or was switched on less than [`RESUME_GRACE`] ago and does not
//!   flow yet, is still offered to the allocators at its last measured rate
//!   ([`CameraLayers::quiet_but_offered`]): otherwise no one could ever ask for it again.
//! - Nothing is said while every layer is on (the browser's default): a publisher hears of
//!   this only when a layer goes off, and again when one comes back.
//!
//! A client that ignores the message only wastes its own uplink: the SFU forwards each
//! subscriber one layer whatever arrives.

use std::time::{Duration, Instant};

/// As many as the allocator plans for (q, h, f).
const LAYERS: usize = crate::allocator::MAX_LAYERS;

/// A layer nobody has wanted for this long is switched off at the publisher. Long enough
/// that a tile resized for a moment or a dip of the link does not switch it (each start
/// costs a keyframe on that layer), short enough that a gallery stops paying within seconds.
pub const SUSPEND_AFTER: Duration = Duration::from_secs(10);

/// A layer switched back on takes a keyframe's time to flow (the browser's encoder starts,
/// the first frame crosses the link); meanwhile it is still offered at its last rate, so
/// the allocator that asked for it keeps asking.
pub const RESUME_GRACE: Duration = Duration::from_secs(3);

/// One publisher's camera: what it was last told, and when each layer was last wanted.
#[derive(Debug, Clone, Default)]
pub struct CameraLayers {
    /// What the publisher was last told; `None`: nothing yet (every layer on).
    told: Option<[bool; LAYERS]>,
    /// When each layer was last wanted; a track starts as if each just was (the first
    /// viewers need time to say what they want).
    last_wanted: [Option<Instant>; LAYERS],
    /// When each layer was last switched on again.
    resumed: [Option<Instant>; LAYERS],
}

impl CameraLayers {
    /// `wanted[i]`: some subscriber receives layer `i` now or is being switched to it.
    /// Returns which layers the publisher should send when that differs from what it was
    /// last told.
    pub fn update(&mut self, now: Instant, wanted: [bool; LAYERS]) -> Option<[bool; LAYERS]> {
        for (i, want) in wanted.into_iter().enumerate() {
            if want {
                self.last_wanted[i] = Some(now);
            } else if self.last_wanted[i].is_none() {
                self.last_wanted[i] = Some(now);
            }
        }
        let kept = |i: usize| self.last_wanted[i].is_some_and(|t| now.saturating_duration_since(t) < SUSPEND_AFTER);
        let top = (0..LAYERS).rev().find(|&i| kept(i)).unwrap_or(0);
        let active: [bool; LAYERS] = std::array::from_fn(|i| i <= top);
        let told = self.told.unwrap_or([true; LAYERS]);
        if active == told {
            return None;
        }
        for i in 0..LAYERS {
            if active[i] && !told[i] {
                self.resumed[i] = Some(now);
            }
        }
        self.told = Some(active);
        Some(active)
    }

    /// Whether layer `i` is on at the publisher, as far as it was told.
    pub fn is_on(&self, i: usize) -> bool {
        self.told.map_or(true, |t| t[i])
    }

    /// Layer `i` does not flow, and should still be offered at its last rate: it is off, or
    /// was switched on too recently to have arrived.
    pub fn quiet_but_offered(&self, i: usize, now: Instant) -> bool {
        !self.is_on(i) || self.resumed[i].is_some_and(|t| now.saturating_duration_since(t) < RESUME_GRACE)
    }

    /// When the next layer may go off if nobody wants it meanwhile.
    pub fn next_deadline(&self) -> Option<Instant> {
        (1..LAYERS).filter(|&i| self.is_on(i)).filter_map(|i| self.last_wanted[i]).map(|t| t + SUSPEND_AFTER).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: [bool; LAYERS] = [false; LAYERS];

    fn wants(layer: usize) -> [bool; LAYERS] {
        std::array::from_fn(|i| i == layer)
    }

    #[test]
    fn every_layer_stays_on_while_somebody_gets_the_top() {
        let t0 = Instant::now();
        let mut layers = CameraLayers::default();
        for s in 0..30 {
            assert_eq!(layers.update(t0 + Duration::from_secs(s), wants(2)), None);
        }
        assert!((0..LAYERS).all(|i| layers.is_on(i)));
    }

    #[test]
    fn unwanted_top_layers_go_off_after_the_wait_and_the_lowest_never() {
        let t0 = Instant::now();
        let mut layers = CameraLayers::default();
        // Nobody receives anything: a new track gets the wait before anything goes off.
        assert_eq!(layers.update(t0, NONE), None);
        assert_eq!(layers.update(t0 + SUSPEND_AFTER - Duration::from_millis(1), NONE), None);
        assert_eq!(layers.next_deadline(), Some(t0 + SUSPEND_AFTER));
        assert_eq!(layers.update(t0 + SUSPEND_AFTER, NONE), Some([true, false, false]));
        assert!(layers.is_on(0) && !layers.is_on(1) && !layers.is_on(2));
        // Said once.
        assert_eq!(layers.update(t0 + SUSPEND_AFTER * 3, NONE), None);
        assert_eq!(layers.next_deadline(), None);
    }

    #[test]
    fn layers_below_the_highest_wanted_stay_on() {
        let t0 = Instant::now();
        let mut layers = CameraLayers::default();
        // Somebody gets the middle layer: only the top goes off.
        assert_eq!(layers.update(t0, wants(1)), None);
        assert_eq!(layers.update(t0 + SUSPEND_AFTER, wants(1)), Some([true, true, false]));
        // The lowest layer nobody takes stays on all along.
        assert!(layers.is_on(0));
    }

    #[test]
    fn a_wanted_layer_comes_back_at_once_with_those_below() {
        let t0 = Instant::now();
        let mut layers = CameraLayers::default();
        layers.update(t0, NONE);
        assert_eq!(layers.update(t0 + SUSPEND_AFTER, NONE), Some([true, false, false]));
        let back = t0 + SUSPEND_AFTER + Duration::from_secs(5);
        assert!(layers.quiet_but_offered(2, back), "an off layer is still offered");
        assert_eq!(layers.update(back, wants(2)), Some([true, true, true]));
        // Just switched on: offered until it can have arrived.
        assert!(layers.quiet_but_offered(2, back + RESUME_GRACE - Duration::from_millis(1)));
        assert!(!layers.quiet_but_offered(2, back + RESUME_GRACE));
        assert!(!layers.quiet_but_offered(0, back), "the lowest layer was never off");
    }

    #[test]
    fn a_short_dip_switches_nothing() {
        let t0 = Instant::now();
        let mut layers = CameraLayers::default();
        layers.update(t0, wants(2));
        // The link dips: the subscriber gets the lowest layer for 9 s, then the top again.
        for s in 1..10 {
            assert_eq!(layers.update(t0 + Duration::from_secs(s), wants(0)), None);
        }
        assert_eq!(layers.update(t0 + Duration::from_secs(10), wants(2)), None);
        assert!((0..LAYERS).all(|i| layers.is_on(i)));
    }

    #[test]
    fn the_top_goes_off_before_the_middle_when_wanted_less_recently() {
        let t0 = Instant::now();
        let mut layers = CameraLayers::default();
        layers.update(t0, wants(2));
        let t1 = t0 + Duration::from_secs(4);
        layers.update(t1, wants(1));
        let t2 = t0 + SUSPEND_AFTER;
        assert_eq!(layers.update(t2, wants(1)), Some([true, true, false]));
        assert_eq!(layers.update(t2 + SUSPEND_AFTER - Duration::from_secs(1), NONE), None, "the middle was wanted 9 s ago");
        assert_eq!(layers.update(t2 + SUSPEND_AFTER, NONE), Some([true, false, false]));
    }
}

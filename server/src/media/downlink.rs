//! What one member's link can receive: the per-subscriber state the run loop keeps around
//! the pure [`Allocator`] (its estimate, "sound only", the tiles the client reported, when
//! to plan again, what the member was last told), the rate meter of every published track
//! (the allocator's bitrates), and the active speaker of a group (its priority after the
//! floor holder). No I/O and no str0m calls: `run_loop::bandwidth` drives these.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::allocator::{Allocation, Allocator, Bps, PauseReason, View};

use super::PeerKey;

/// How often a member's allocation is planned again when nothing told us to (the measured
/// bitrates move; the allocator's own deadlines come on top).
pub const REPLAN_EVERY: Duration = Duration::from_millis(500);

/// One member's downlink.
#[derive(Debug, Default)]
pub struct Downlink {
    pub allocator: Allocator,
    /// str0m's last estimate of what this member's link carries; `None` until the first.
    pub estimate: Option<Bps>,
    pub sound_only: bool,
    /// How the member shows each publisher's video, as their client last said.
    pub tiles: HashMap<PeerKey, View>,
    /// When to plan again; `None` while nothing is due.
    pub due: Option<Instant>,
    /// What the member was last told: paused publishers (by label, sorted) and sound only.
    pub told: Option<(Vec<String>, bool)>,
    /// str0m estimates this link (`media.bandwidth_estimation`).
    pub estimating: bool,
    /// str0m was last told to pad up to `desired` (`allocator::Probe::pad`).
    pub padding: bool,
    /// A lower estimate was passed over while the member chose no video (see
    /// [`Downlink::take_estimate`]): str0m's estimator starts again from ours when video flows.
    held: bool,
    /// Until then, after a hold, a lower estimate is still passed over: one str0m made from
    /// the sound alone may come right after its reset (seen 2 ms after).
    held_until: Option<Instant>,
}

/// How long after a hold ends a lower estimate is still passed over: the estimator has seen
/// the videos by then.
pub const HOLD_GRACE: Duration = Duration::from_secs(2);

/// With `media.bandwidth_estimation` off, every link is taken to carry everything.
const UNLIMITED: Bps = Bps(u64::MAX / 4);

impl Downlink {
    /// `estimating`: str0m estimates this link; otherwise it is taken as unlimited.
    pub fn new(estimating: bool) -> Downlink {
        Downlink { estimate: (!estimating).then_some(UNLIMITED), estimating, ..Downlink::default() }
    }

    /// The path changed (an ICE restart after an outage or a network change): what was
    /// learnt of the old one says nothing of the new, and an outage's losses would hold every
    /// video paused for seconds after the sound is back. Starts again from `initial` (the
    /// plan's hysteresis too); whether str0m's estimator should start again from it as well.
    pub fn forget_estimate(&mut self, now: Instant, initial: Bps) -> bool {
        if !self.estimating {
            return false;
        }
        self.estimate = Some(initial);
        self.allocator = Allocator::new();
        self.replan(now);
        true
    }

    /// str0m's new estimate; true when it changed what the plan sees. While the member gets
    /// no video by their own choice (every video hidden from them, or "sound only"), only
    /// the sound flows: the estimator, app-limited, sinks toward it (a tab hidden for 4.7 s:
    /// 313 → 77 kbit/s on loopback), and shown again the videos would stay paused "to keep
    /// the sound clear" for seconds on a link that carried them a moment before. Meanwhile
    /// only a rise is taken; once video flows, every estimate counts again.
    pub fn take_estimate(&mut self, bps: Bps, now: Instant) -> bool {
        let lower = self.estimate.is_some_and(|e| bps < e);
        if lower && self.held_until.is_some_and(|t| now < t) {
            return false;
        }
        if lower && self.video_off_by_choice() {
            self.held = true;
            return false;
        }
        if self.estimate == Some(bps) {
            return false;
        }
        self.estimate = Some(bps);
        true
    }

    /// After a plan: `Some(estimate)` when video flows again after a hold, for str0m's
    /// estimator to start again from (its own sank with what it saw: the sound alone, and its
    /// next estimates would take the videos down again at once).
    pub fn end_hold(&mut self, now: Instant) -> Option<Bps> {
        if !self.held || self.video_off_by_choice() {
            return None;
        }
        self.held = false;
        self.held_until = Some(now + HOLD_GRACE);
        self.estimate
    }

    /// No video is written to the member, and that is their choice, not the link's.
    fn video_off_by_choice(&self) -> bool {
        if self.sound_only {
            return true;
        }
        let mut hidden = false;
        for (_, allocation) in self.allocator.allocations() {
            match allocation {
                Allocation::Layer(_) => return false,
                Allocation::Paused(PauseReason::NotVisible | PauseReason::SoundOnly) => hidden = true,
                _ => {}
            }
        }
        hidden
    }

    /// Plan at the next turn of the loop.
    pub fn replan(&mut self, now: Instant) {
        self.due = Some(self.due.map_or(now, |d| d.min(now)));
    }

    /// After a plan: the next one at the allocator's deadline, or after [`REPLAN_EVERY`].
    pub fn planned(&mut self, now: Instant) {
        let regular = now + REPLAN_EVERY;
        self.due = Some(self.allocator.next_deadline().map_or(regular, |d| d.min(regular)));
    }

    /// `Some` when what the member should be told differs from what they were told.
    pub fn news(&mut self, mut paused: Vec<String>) -> Option<(Vec<String>, bool)> {
        paused.sort();
        let now_told = (paused, self.sound_only);
        if self.told.as_ref() == Some(&now_told) {
            return None;
        }
        self.told = Some(now_told.clone());
        Some(now_told)
    }
}

/// Bytes an RTP packet costs on the wire beyond its payload: RTP header and extensions
/// (~12 + ~16), SRTP tag (10), UDP and IPv4 (28).
const PACKET_OVERHEAD: u64 = 66;
/// The meter's window: long enough to hold several frames of a 15 fps video.
const METER_WINDOW: Duration = Duration::from_millis(500);

/// A published track's wire rate, averaged over a window and smoothed across windows.
#[derive(Debug, Default, Clone)]
pub struct RateMeter {
    window_start: Option<Instant>,
    bytes: u64,
    rate: Option<Bps>,
}

impl RateMeter {
    pub fn add(&mut self, now: Instant, payload: usize) {
        let start = *self.window_start.get_or_insert(now);
        self.bytes += payload as u64 + PACKET_OVERHEAD;
        let elapsed = now.saturating_duration_since(start);
        if elapsed >= METER_WINDOW {
            let measured = self.bytes * 8 * 1_000_000 / elapsed.as_micros().max(1) as u64;
            // Half the new window, half the old: a keyframe's burst moves it, but not all the way.
            self.rate = Some(Bps(match self.rate {
                Some(old) => (old.0 + measured) / 2,
                None => measured,
            }));
            self.window_start = Some(now);
            self.bytes = 0;
        }
    }

    /// The last smoothed rate, however long ago: what a layer switched off at its publisher
    /// would cost again.
    pub fn last(&self) -> Option<Bps> {
        self.rate
    }

    /// The smoothed rate, `None` until a window has passed (or after it went quiet for two).
    pub fn rate(&self, now: Instant) -> Option<Bps> {
        let start = self.window_start?;
        if now.saturating_duration_since(start) > METER_WINDOW * 4 {
            return None; // Stale: the track has stopped.
        }
        self.rate
    }
}

/// The level at or above which a voice counts as speaking: RFC 6464 gives -dBov, 0 the
/// loudest, 127 silence; speech into a laptop microphone sits around 20–45.
const VOICE_LEVEL: u8 = 50;
/// Each packet (20 ms of Opus) moves a voice's score this far toward 1 (speaking) or 0:
/// a time constant of about half a second.
const SCORE_STEP: f32 = 0.04;
/// A voice must be the loudest, and past this score, for [`SPEAKER_HOLD`] to take over.
const SPEAKER_MIN_SCORE: f32 = 0.3;
const SPEAKER_HOLD: Duration = Duration::from_secs(1);

/// Who speaks now in a group, from the audio level every published packet carries:
/// debounced, so a cough does not move everyone's layers (each move costs keyframes).
#[derive(Debug, Default)]
pub struct SpeakerDetector {
    scores: HashMap<PeerKey, f32>,
    current: Option<PeerKey>,
    /// The loudest voice that is not `current`, and since when it has been.
    challenger: Option<(PeerKey, Instant)>,
}

impl SpeakerDetector {
    /// One audio packet of `publisher` with its level (`None`: the sender does not say).
    /// Returns the new speaker when it changed.
    pub fn observe(&mut self, publisher: PeerKey, level: Option<i8>, now: Instant) -> Option<Option<PeerKey>> {
        let speaking = level.is_some_and(|l| l.unsigned_abs() <= VOICE_LEVEL);
        let score = self.scores.entry(publisher).or_insert(0.0);
        *score += SCORE_STEP * (f32::from(u8::from(speaking)) - *score);
        self.decide(now)
    }

    /// A publisher whose voice went (muted, left).
    pub fn forget(&mut self, publisher: PeerKey, now: Instant) -> Option<Option<PeerKey>> {
        self.scores.remove(&publisher);
        if self.current == Some(publisher) {
            self.current = None;
            self.challenger = None;
            return Some(self.decide(now).unwrap_or(None));
        }
        self.decide(now)
    }

    pub fn current(&self) -> Option<PeerKey> {
        self.current
    }

    fn decide(&mut self, now: Instant) -> Option<Option<PeerKey>> {
        let loudest = self
            .scores
            .iter()
            .filter(|(_, s)| **s >= SPEAKER_MIN_SCORE)
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(k, _)| *k);
        let Some(loudest) = loudest.filter(|k| Some(*k) != self.current) else {
            self.challenger = None;
            return None;
        };
        let current_score = self.current.and_then(|c| self.scores.get(&c)).copied().unwrap_or(0.0);
        if current_score >= self.scores[&loudest] {
            self.challenger = None;
            return None;
        }
        match self.challenger {
            Some((who, since)) if who == loudest => {
                if now.saturating_duration_since(since) >= SPEAKER_HOLD {
                    self.current = Some(loudest);
                    self.challenger = None;
                    return Some(self.current);
                }
                None
            }
            _ => {
                self.challenger = Some((loudest, now));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: PeerKey = PeerKey(1);
    const B: PeerKey = PeerKey(2);

    /// `seconds` of 20 ms packets from `who` at `level`, from `*t` on; the last change.
    fn talk(d: &mut SpeakerDetector, t: &mut Instant, who: PeerKey, level: i8, seconds: f32) -> Option<Option<PeerKey>> {
        let mut changed = None;
        for _ in 0..(seconds * 50.0) as usize {
            *t += Duration::from_millis(20);
            if let Some(c) = d.observe(who, Some(level), *t) {
                changed = Some(c);
            }
        }
        changed
    }

    #[test]
    fn a_voice_becomes_the_speaker_after_a_second_of_speech_not_at_a_cough() {
        let mut d = SpeakerDetector::default();
        let mut t = Instant::now();
        assert_eq!(talk(&mut d, &mut t, A, -30, 0.2), None, "a cough");
        talk(&mut d, &mut t, A, -127, 2.0);
        assert_eq!(d.current(), None);
        assert_eq!(talk(&mut d, &mut t, A, -30, 2.5), Some(Some(A)));
        assert_eq!(d.current(), Some(A));
    }

    #[test]
    fn the_speaker_holds_while_another_says_a_word_and_yields_to_a_longer_turn() {
        let mut d = SpeakerDetector::default();
        let mut t = Instant::now();
        talk(&mut d, &mut t, A, -30, 3.0);
        assert_eq!(d.current(), Some(A));
        // B says "yes" while A goes on.
        for _ in 0..15 {
            t += Duration::from_millis(20);
            d.observe(A, Some(-30), t);
            d.observe(B, Some(-25), t);
        }
        assert_eq!(d.current(), Some(A));
        // A stops; B speaks on: B takes over about a second after passing A.
        let mut changed_at = None;
        for i in 0..200 {
            t += Duration::from_millis(20);
            let a = d.observe(A, Some(-127), t);
            if a.is_some() || d.observe(B, Some(-25), t).is_some() {
                changed_at = Some(i);
            }
        }
        assert_eq!(d.current(), Some(B));
        let i = changed_at.unwrap();
        assert!((50..150).contains(&i), "took over after {} ms", i * 20);
    }

    #[test]
    fn a_speaker_who_leaves_is_forgotten() {
        let mut d = SpeakerDetector::default();
        let mut t = Instant::now();
        talk(&mut d, &mut t, A, -30, 3.0);
        assert_eq!(d.forget(A, t), Some(None));
        assert_eq!(d.current(), None);
        assert_eq!(d.forget(B, t), None);
    }

    #[test]
    fn silence_and_missing_levels_never_make_a_speaker() {
        let mut d = SpeakerDetector::default();
        let mut t = Instant::now();
        for _ in 0..500 {
            t += Duration::from_millis(20);
            assert_eq!(d.observe(A, None, t), None);
            assert_eq!(d.observe(B, Some(-90), t), None);
        }
    }

    #[test]
    fn the_rate_meter_measures_wire_bits_per_second() {
        let mut m = RateMeter::default();
        let mut t = Instant::now();
        assert_eq!(m.rate(t), None);
        // 50 packets a second of 134 payload bytes: 200 bytes each on the wire = 80 kbit/s.
        for _ in 0..100 {
            t += Duration::from_millis(20);
            m.add(t, 134);
        }
        let r = m.rate(t).unwrap().0;
        assert!((76_000..=84_000).contains(&r), "{r}");
        assert_eq!(m.rate(t + Duration::from_secs(5)), None, "a stopped track has no rate");
    }

    #[test]
    fn the_member_is_told_only_what_changed() {
        let mut d = Downlink::default();
        assert_eq!(d.news(vec!["b".into(), "a".into()]), Some((vec!["a".into(), "b".into()], false)));
        assert_eq!(d.news(vec!["a".into(), "b".into()]), None);
        d.sound_only = true;
        assert_eq!(d.news(vec![]), Some((vec![], true)));
    }

    /// `d` planned with one video shown as `view`, at `d`'s estimate.
    fn plan_one_video(d: &mut Downlink, view: View, t: Instant) {
        use crate::allocator::{Inputs, Layer, Media, PublisherId, Track, TrackId};
        let video = Media::Video { layers: vec![Layer::nominal(0)], view, screen: false };
        let inputs = Inputs {
            estimate: d.estimate,
            sound_only: d.sound_only,
            floor: None,
            speaker: None,
            tracks: vec![Track { id: TrackId(3), publisher: PublisherId(1), media: video }],
            path_clear: false,
            overflowing: false,
        };
        d.allocator.update(t, &inputs);
    }

    #[test]
    fn a_hidden_members_estimate_does_not_sink_with_the_video_it_does_not_get() {
        let t = Instant::now();
        let mut d = Downlink::new(true);
        assert!(d.take_estimate(Bps::kbps(600), t));
        plan_one_video(&mut d, View::Hidden, t);
        assert!(!d.take_estimate(Bps::kbps(77), t), "only the sound flows: not a measure of the link");
        assert_eq!(d.estimate, Some(Bps::kbps(600)));
        assert!(d.take_estimate(Bps::kbps(900), t), "a rise is taken");
        assert_eq!(d.end_hold(t), None, "still hidden");
        // Shown again and flowing: str0m starts again from the held estimate, and every
        // estimate counts.
        plan_one_video(&mut d, View::Shown { width: 320, height: 180 }, t);
        assert_eq!(d.end_hold(t), Some(Bps::kbps(900)));
        assert_eq!(d.end_hold(t), None, "once");
        assert!(!d.take_estimate(Bps::kbps(84), t + HOLD_GRACE / 2), "the estimator has not seen the videos yet");
        assert!(d.take_estimate(Bps::kbps(300), t + HOLD_GRACE));
        assert_eq!(d.estimate, Some(Bps::kbps(300)));
        // Sound only by choice: held too.
        d.sound_only = true;
        assert!(!d.take_estimate(Bps::kbps(100), t + HOLD_GRACE));
    }

    #[test]
    fn replanning_is_due_at_once_and_then_regularly() {
        let mut d = Downlink::default();
        let t = Instant::now();
        d.planned(t);
        assert_eq!(d.due, Some(t + REPLAN_EVERY));
        d.replan(t);
        assert_eq!(d.due, Some(t));
    }
}

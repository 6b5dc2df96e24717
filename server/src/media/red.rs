//! RFC 2198 redundancy (RED) for the sound sent to a member whose link loses packets: each
//! Opus packet written to them also carries the one before it, so a packet lost on their
//! link is rebuilt by their browser from the next one. Only members whose browser answered
//! our `red` payload type get it (Chromium; Firefox ESR has none), and only while their
//! receiver reports show loss ([`RedSwitch`]): it doubles the sound sent to them.
//! PURE: packets and loss reports in, payloads and a switch out, time passed in. Imports
//! nothing but str0m's RED encoder and decoder.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::rtp::{RedDecoder, RedEncoder, RedundantBlock};

/// The last packet forwarded from a published audio track, in the publisher's numbering: the
/// redundant block of the next one.
#[derive(Clone)]
pub struct Previous {
    pub seq: u64,
    pub timestamp: u32,
    pub payload: Arc<[u8]>,
}

/// The RED payload for the Opus packet `seq` (timestamp `timestamp`): `previous` as one
/// redundant block (distance 1) when it is the packet right before this one, then the packet
/// itself. Without a usable previous packet (a gap, the first packet, a block too long or
/// too far back for RFC 2198's 10-bit length and 14-bit offset, as after a silence with DTX)
/// the payload carries the primary block alone: still RED, so the member's decoder is never
/// switched between payload types.
pub fn wrap(opus_pt: u8, seq: u64, timestamp: u32, primary: &[u8], previous: Option<&Previous>) -> Vec<u8> {
    let block = previous
        .filter(|p| p.seq.checked_add(1) == Some(seq))
        .map(|p| RedundantBlock {
            pt: opus_pt,
            timestamp_offset: timestamp.wrapping_sub(p.timestamp),
            payload: p.payload.to_vec(),
        })
        // A block at the same instant, or one "after" this (timestamps went back), is no copy
        // of an earlier packet; `RedEncoder` skips blocks that do not fit the fields itself.
        .filter(|b| b.timestamp_offset > 0);
    RedEncoder::encode(opus_pt, primary, block.as_slice())
}

/// The primary (newest) Opus block of a RED payload a publisher sent: it is forwarded as
/// plain Opus, so no member ever gets RED under the Opus payload type. `None` for a payload
/// that is malformed or whose primary is not Opus (dropped).
pub fn unwrap(opus_pt: u8, payload: &[u8]) -> Option<Arc<[u8]>> {
    let blocks = RedDecoder::decode(payload).ok()?;
    let primary = blocks.into_iter().find(|b| b.is_primary)?;
    (primary.pt == opus_pt).then(|| Arc::from(primary.payload))
}

/// A second of the member's link that lost this much or more of what the server sent them is
/// lossy; [`LOSSY_SECONDS`] of the last [`LOSS_SECONDS`] turn RED on. A burst is not enough:
/// a drop from 3 Mbit/s to 400 kbit/s lost 10–60 % for a second or two, and RED turned on
/// by it (from the sound's receiver reports, which told it up to 7 s late) doubled the
/// sound on the weak link and paused the floor holder's video for 34 s (weak-link,
/// 2026-12-08). A lasting loss (radio, a busy Wi-Fi) shows in most seconds.
pub const ON_LOSS: f32 = 0.02;
/// See [`ON_LOSS`].
pub const LOSSY_SECONDS: usize = 4;
/// See [`ON_LOSS`].
pub const LOSS_SECONDS: usize = 6;
/// Seconds under this count as clean.
pub const CLEAN_LOSS: f32 = 0.01;
/// RED goes off after this long with clean seconds only.
pub const OFF_AFTER: Duration = Duration::from_secs(30);

/// Whether a member gets RED, from the loss of their link: what the server sent them that
/// their transport-wide feedback (TWCC) says did not arrive, a second at a time (str0m's
/// `PeerStats::egress_loss_fraction`). Not the receiver reports on the sound: those count a
/// publisher's own loss too (its gaps pass the layer switch), which RED cannot mend, and a
/// silent voice (DTX, ~2.5 packets a second) makes one lost packet 8 %. On when
/// [`LOSSY_SECONDS`] of the last [`LOSS_SECONDS`] lost [`ON_LOSS`] or more; off only after
/// [`OFF_AFTER`] of seconds under [`CLEAN_LOSS`] (hysteresis: a lossy link is often lossy in
/// bursts, and a switch costs nothing on the wire but the bitrate).
///
/// Never while the member's link is congested ([`RedSwitch::set_congested`]: their
/// allocator has paused a video for room while the round trip shows a queue standing on the
/// way, [`RedSwitch::queueing`]), nor for [`AFTER_CONGESTION`] after: that loss is a full
/// queue, which a doubled sound only fills faster (on a 400 kbit/s link it paused the floor
/// holder's video). Redundancy is for a link that loses packets with room to spare (radio,
/// a busy Wi-Fi), not for one too slow for what it is sent. The wait after congestion keeps
/// a link at the edge from cycling: RED's doubled sound pausing a video, the pause turning
/// RED off, the video resuming into the loss.
///
/// A pause alone is not congestion: on a link that loses packets at random the estimator
/// (whose loss-based part reads any loss as a limit) swings around what it is sent, 600 to
/// 1 260 kbit/s on a 20 Mbit/s link losing 5 %, and each dip paused a video and held RED
/// off for 30 s, just where it helps (CI of 2026-12-07: 2.6 % concealed with RED, against
/// 0.1–0.4 % with RED held on). A full queue shows as delay; random loss does not.
#[derive(Debug, Default, Clone)]
pub struct RedSwitch {
    on: bool,
    clean_since: Option<Instant>,
    congested: bool,
    /// The last time the link was seen congested.
    congested_at: Option<Instant>,
    /// A video is paused for room (the allocator's word at the last plan).
    paused: bool,
    /// The shortest round trip seen on this path: the path without a queue.
    rtt_floor: Option<Duration>,
    /// The highest round trip of the last [`RTT_FRESH`] and when it came (the round trips of
    /// one stats turn differ by stream: a video's report may show the queue its sound's,
    /// sent earlier, did not).
    rtt_high: Option<(Duration, Instant)>,
    /// The last [`LOSS_SECONDS`] seconds' loss, and when each was told (oldest first).
    seconds: VecDeque<(Instant, f32)>,
}

/// A round trip this far above the path's shortest says a queue stands on the way (a
/// 400 kbit/s link's 30-packet queue holds up to 600 ms; a link losing packets at random
/// keeps its round trip).
pub const QUEUE_DELAY: Duration = Duration::from_millis(80);
/// A round trip older than this says nothing of the queue now (receiver reports come about
/// every second).
pub const RTT_FRESH: Duration = Duration::from_secs(4);

/// After congestion, loss does not turn RED on for this long.
pub const AFTER_CONGESTION: Duration = Duration::from_secs(30);

/// A second of the member's link that lost this much or more, with a queue on the way, says
/// the link overflows ([`RedSwitch::overflowing`]). A full queue drops 10–60 % at a drop from
/// 3 Mbit/s to 400 kbit/s; a keyframe's burst can cost a packet or two.
pub const OVERFLOW_LOSS: f32 = 0.05;
/// A lossy second counts for this long (the server reads the link's loss every second).
pub const LOSS_FRESH: Duration = Duration::from_secs(3);

impl RedSwitch {
    pub fn is_on(&self) -> bool {
        // Congestion clears `on` and keeps it clear (`set_congested`, `handle_loss`).
        self.on
    }

    /// Whether the member's allocator has a video paused for room now: with a queue standing
    /// on the way ([`RedSwitch::queueing`]) the link is congested. Congestion turns RED off
    /// at once, and it comes back only with a lossy report after the congestion is over.
    /// True when [`RedSwitch::is_on`] moved.
    pub fn set_congested(&mut self, now: Instant, paused_for_room: bool) -> bool {
        self.paused = paused_for_room;
        self.check_congestion(now)
    }

    /// Congested now: a pause and a queue. True when it turned RED off.
    ///
    /// Not before the path's first round trip: a member who has just joined has videos
    /// paused while the estimate is still the starting one, and no round trip to tell a
    /// queue by; counted, that held RED off for the first 30 s (AFTER_CONGESTION) of every
    /// join whose first plan paused a video (lossy-link.test.js, once the cameras' top layer
    /// grew to 960×540: 3.8–3.9 % concealed with RED where 0.5 % was measured).
    fn check_congestion(&mut self, now: Instant) -> bool {
        let before = self.is_on();
        self.congested = self.paused && self.rtt_floor.is_some() && self.queueing(now);
        if self.congested {
            self.on = false;
            self.clean_since = None;
            self.congested_at = Some(now);
        }
        before != self.is_on()
    }

    /// One round trip measured to the member (a receiver report on any stream we send);
    /// true when it showed a queue under a pause and so turned RED off.
    pub fn observe_rtt(&mut self, now: Instant, rtt: Duration) -> bool {
        self.rtt_floor = Some(self.rtt_floor.map_or(rtt, |f| f.min(rtt)));
        let stale = self.rtt_high.is_none_or(|(high, at)| rtt >= high || now.saturating_duration_since(at) >= RTT_FRESH);
        if stale {
            self.rtt_high = Some((rtt, now));
        }
        self.check_congestion(now)
    }

    /// The path changed (an ICE restart): its round trip and loss are learnt again.
    pub fn forget_path(&mut self) {
        self.rtt_floor = None;
        self.rtt_high = None;
        self.seconds.clear();
    }

    /// Whether the member's link lost [`ON_LOSS`] or more of what it was sent in any of the
    /// seconds told in the last [`LOSS_SECONDS`] (transport-wide feedback): a full queue
    /// drops packets, and the round trips, a few a second, can miss it.
    pub fn lossy_lately(&self, now: Instant) -> bool {
        self.lost_within(now, Duration::from_secs(LOSS_SECONDS as u64), ON_LOSS)
    }

    /// Whether a second told within `span` of `now` lost `loss` or more.
    fn lost_within(&self, now: Instant, span: Duration, loss: f32) -> bool {
        self.seconds.iter().any(|&(at, lost)| lost >= loss && now.saturating_duration_since(at) < span)
    }

    /// Whether fresh round trips say a queue stands (`Some(true)`), none does, or nothing
    /// fresh is known (`None`).
    fn queue_seen(&self, now: Instant) -> Option<bool> {
        match (self.rtt_floor, self.rtt_high) {
            (Some(floor), Some((high, at))) if now.saturating_duration_since(at) < RTT_FRESH => Some(high >= floor + QUEUE_DELAY),
            _ => None,
        }
    }

    /// Whether a queue stands between us and the member: a round trip of the last
    /// [`RTT_FRESH`] is [`QUEUE_DELAY`] or more above the shortest. Without a fresh round
    /// trip we cannot tell, and count it as a queue (RED stays off, as for any congestion).
    pub fn queueing(&self, now: Instant) -> bool {
        self.queue_seen(now).unwrap_or(true)
    }

    /// Whether the member's link drops what it is sent: a second of the last [`LOSS_FRESH`]
    /// lost [`OVERFLOW_LOSS`] or more while a queue stands on the way. A full
    /// queue keeps its delay but stops growing it, so the estimator's delay-based part stops
    /// backing off just when the link overflows; loss alone is a radio link's, which has room
    /// (the allocator's budget then falls to the usable estimate: `allocator::Inputs::overflowing`).
    /// A queue must be seen (a fresh high round trip), not merely unknown.
    pub fn overflowing(&self, now: Instant) -> bool {
        self.lost_within(now, LOSS_FRESH, OVERFLOW_LOSS) && self.queue_seen(now) == Some(true)
    }

    /// The share (0–1) of what the server sent the member over the last second that did not
    /// arrive; true when the switch moved.
    pub fn handle_loss(&mut self, now: Instant, loss: f32) -> bool {
        // The last LOSS_SECONDS, each told about a second apart (an older one, as after a
        // pause of the stats, no longer counts).
        let span = Duration::from_secs(LOSS_SECONDS as u64 + 1);
        self.seconds.retain(|&(at, _)| now.saturating_duration_since(at) < span);
        if self.seconds.len() == LOSS_SECONDS {
            self.seconds.pop_front();
        }
        self.seconds.push_back((now, loss));
        let lasting = self.seconds.iter().filter(|&&(_, lost)| lost >= ON_LOSS).count() >= LOSSY_SECONDS;
        if self.check_congestion(now) {
            return true;
        }
        let lately = self.congested_at.is_some_and(|at| now.saturating_duration_since(at) < AFTER_CONGESTION);
        if self.congested || lately {
            return false;
        }
        if loss >= ON_LOSS {
            self.clean_since = None;
            return lasting && !std::mem::replace(&mut self.on, true);
        }
        if !self.on {
            return false;
        }
        if loss >= CLEAN_LOSS {
            self.clean_since = None;
            return false;
        }
        let since = *self.clean_since.get_or_insert(now);
        if now.duration_since(since) >= OFF_AFTER {
            self.on = false;
            self.clean_since = None;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPUS: u8 = 111;

    /// One second of the link's loss, told at `t`.
    fn report(s: &mut RedSwitch, t: Instant, loss: f32) -> bool {
        s.handle_loss(t, loss)
    }

    /// LOSSY_SECONDS seconds with `loss`, all told at `t`: a lasting loss. Fewer never turn
    /// RED on.
    fn lasting(s: &mut RedSwitch, t: Instant, loss: f32) -> bool {
        for _ in 1..LOSSY_SECONDS {
            assert!(!report(s, t, loss) || !s.is_on(), "fewer lossy seconds turned RED on");
        }
        report(s, t, loss)
    }

    fn previous(seq: u64, timestamp: u32, payload: &[u8]) -> Previous {
        Previous { seq, timestamp, payload: Arc::from(payload) }
    }

    #[test]
    fn previous_packet_rides_as_one_redundant_block_laid_out_as_rfc_2198_says() {
        let prev = previous(9, 1000, &[0xaa, 0xbb, 0xcc]);
        let red = wrap(OPUS, 10, 1960, &[1, 2], Some(&prev));
        // Redundant header: F=1 | PT, 14-bit offset (960), 10-bit length (3).
        let offset = 960u32;
        let header = [0x80 | OPUS, (offset >> 6) as u8, (((offset & 0x3f) << 2) | (3 >> 8)) as u8, 3];
        let mut expected = header.to_vec();
        // Primary header: F=0 | PT; then the blocks, oldest first.
        expected.push(OPUS);
        expected.extend_from_slice(&[0xaa, 0xbb, 0xcc, 1, 2]);
        assert_eq!(red, expected);
        assert_eq!(&red[..4], &[0xef, 0x0f, 0x00, 0x03]);
    }

    #[test]
    fn timestamp_offset_wraps_with_the_rtp_timestamp() {
        let prev = previous(41, u32::MAX - 479, &[7]);
        let red = wrap(OPUS, 42, 480, &[8], Some(&prev));
        let offset = (u32::from(red[1]) << 6) | (u32::from(red[2]) >> 2);
        assert_eq!(offset, 960);
        let blocks = RedDecoder::decode(&red).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!((blocks[0].timestamp_offset, blocks[0].payload), (960, &[7u8][..]));
        assert_eq!((blocks[1].is_primary, blocks[1].payload), (true, &[8u8][..]));
    }

    #[test]
    fn the_first_packet_goes_as_primary_alone() {
        assert_eq!(wrap(OPUS, 1, 0, &[5, 6], None), vec![OPUS, 5, 6]);
    }

    #[test]
    fn no_redundant_block_across_a_gap() {
        let prev = previous(8, 1000, &[0xaa]);
        assert_eq!(wrap(OPUS, 10, 2920, &[1], Some(&prev)), vec![OPUS, 1]);
    }

    #[test]
    fn no_redundant_block_after_a_silence_too_long_for_14_bits() {
        // DTX: a packet every 400 ms (19 200 ticks) while silent.
        let prev = previous(9, 1000, &[0xaa]);
        assert_eq!(wrap(OPUS, 10, 1000 + 19_200, &[1], Some(&prev)), vec![OPUS, 1]);
        // The largest offset still fits.
        assert_eq!(wrap(OPUS, 10, 1000 + 0x3fff, &[1], Some(&prev)).len(), 4 + 1 + 1 + 1);
    }

    #[test]
    fn no_redundant_block_longer_than_10_bits() {
        let big = previous(9, 1000, &[0; 1024]);
        assert_eq!(wrap(OPUS, 10, 1960, &[1], Some(&big)), vec![OPUS, 1]);
        let largest = previous(9, 1000, &[0; 1023]);
        assert_eq!(wrap(OPUS, 10, 1960, &[1], Some(&largest)).len(), 4 + 1 + 1023 + 1);
    }

    #[test]
    fn no_redundant_block_when_timestamps_do_not_move_forward() {
        let prev = previous(9, 1000, &[0xaa]);
        assert_eq!(wrap(OPUS, 10, 1000, &[1], Some(&prev)), vec![OPUS, 1]);
        assert_eq!(wrap(OPUS, 10, 40, &[1], Some(&prev)), vec![OPUS, 1]);
    }

    #[test]
    fn a_publishers_red_is_forwarded_as_its_primary_opus() {
        let red = wrap(OPUS, 10, 1960, &[1, 2], Some(&previous(9, 1000, &[0xaa])));
        assert_eq!(unwrap(OPUS, &red).as_deref(), Some(&[1u8, 2][..]));
        assert_eq!(unwrap(OPUS, &[OPUS, 3]).as_deref(), Some(&[3u8][..]));
    }

    #[test]
    fn a_red_payload_that_is_malformed_or_not_opus_is_dropped() {
        assert_eq!(unwrap(OPUS, &[]), None);
        // A redundant header whose block runs past the end.
        assert_eq!(unwrap(OPUS, &[0x80 | OPUS, 0, 4, 50, OPUS, 1]), None);
        // A primary of another codec (PCMU).
        assert_eq!(unwrap(OPUS, &[0, 1, 2]), None);
    }

    #[test]
    fn red_turns_on_at_two_percent_loss() {
        let t = Instant::now();
        let mut s = RedSwitch::default();
        assert!(!report(&mut s, t, 0.0));
        assert!(!report(&mut s, t, 0.015));
        assert!(!s.is_on());
        for _ in 1..LOSSY_SECONDS {
            assert!(!report(&mut s, t, 0.05), "fewer lossy seconds: the burst of a drop, maybe");
        }
        assert!(report(&mut s, t, 0.05), "LOSSY_SECONDS of them: a lasting loss");
        assert!(s.is_on());
        assert!(!report(&mut s, t, 0.05));
    }

    /// Seen after a drop to 400 kbit/s (weak-link, 2026-12-08): the link lost 10–60 % for a
    /// second or two while the queue overflowed; RED turned on by it (then from late receiver
    /// reports) doubled the sound and paused the floor holder's video for 34 s.
    #[test]
    fn a_drops_burst_does_not_turn_red_on_and_a_lasting_loss_does() {
        let t = Instant::now();
        let mut s = RedSwitch::default();
        s.observe_rtt(t, Duration::from_millis(1));
        let second = |n: u64| t + Duration::from_secs(n);
        for (n, loss) in [(1, 0.4), (2, 0.3), (3, 0.05), (4, 0.0), (5, 0.0), (6, 0.01), (7, 0.0)] {
            assert!(!report(&mut s, second(n), loss), "second {n}");
        }
        // Random loss of 5 %: most seconds lose 2 % or more, some fewer.
        for (n, loss) in [(10, 0.05), (11, 0.01), (12, 0.06), (13, 0.04)] {
            assert!(!report(&mut s, second(n), loss), "second {n}");
        }
        assert!(report(&mut s, second(14), 0.05), "4 of the last 6 seconds");
    }

    #[test]
    fn lossy_seconds_far_apart_or_across_a_new_path_do_not_add_up() {
        let t = Instant::now();
        let mut s = RedSwitch::default();
        for n in 0..3 {
            assert!(!report(&mut s, t + Duration::from_secs(n), 0.05));
        }
        // The stats paused (a busy loop, a dropped socket): what came before no longer counts.
        let later = t + Duration::from_secs(20);
        assert!(!report(&mut s, later, 0.05), "the first three are too old");
        for n in 1..3 {
            assert!(!report(&mut s, later + Duration::from_secs(n), 0.05));
        }
        s.forget_path();
        for n in 3..6 {
            assert!(!report(&mut s, later + Duration::from_secs(n), 0.05), "a new path starts afresh");
        }
        assert!(report(&mut s, later + Duration::from_secs(6), 0.05));
    }

    #[test]
    fn a_lossy_second_counts_as_lately_for_loss_seconds() {
        let t = Instant::now();
        let mut s = RedSwitch::default();
        assert!(!s.lossy_lately(t));
        report(&mut s, t, 0.01);
        assert!(!s.lossy_lately(t));
        report(&mut s, t, 0.3);
        assert!(s.lossy_lately(t + Duration::from_secs(LOSS_SECONDS as u64 - 1)));
        assert!(!s.lossy_lately(t + Duration::from_secs(LOSS_SECONDS as u64)));
    }

    #[test]
    fn red_stays_on_until_thirty_clean_seconds() {
        let t = Instant::now();
        let mut s = RedSwitch::default();
        lasting(&mut s, t, 0.05);
        assert!(!report(&mut s, t + Duration::from_secs(2), 0.0));
        assert!(!report(&mut s, t + Duration::from_secs(31), 0.005));
        assert!(s.is_on());
        assert!(report(&mut s, t + Duration::from_secs(32), 0.0));
        assert!(!s.is_on());
    }

    #[test]
    fn congestion_turns_red_off_at_once_and_keeps_it_off() {
        let t = Instant::now();
        let mut s = RedSwitch::default();
        // A queue on the way: the round trip risen above the path's shortest.
        s.observe_rtt(t, Duration::from_millis(20));
        s.observe_rtt(t, Duration::from_millis(20) + QUEUE_DELAY);
        assert!(lasting(&mut s, t, 0.05));
        assert!(s.set_congested(t, true), "a video paused for room: the loss is a full queue");
        assert!(!s.is_on());
        let t1 = t + Duration::from_secs(1);
        assert!(!report(&mut s, t1, 0.2), "more loss while congested changes nothing");
        assert!(!s.is_on());
        assert!(!s.set_congested(t1, true));
        // Over: not on by itself, and not on loss for AFTER_CONGESTION after it was last seen.
        let t2 = t + Duration::from_secs(2);
        assert!(!s.set_congested(t2, false));
        assert!(!s.is_on());
        assert!(!report(&mut s, t2, 0.05));
        assert!(!report(&mut s, t1 + AFTER_CONGESTION - Duration::from_millis(1), 0.05));
        assert!(!s.is_on());
        // (The lossy second just before counts among the last LOSS_SECONDS.)
        let on = (0..LOSSY_SECONDS).any(|_| report(&mut s, t1 + AFTER_CONGESTION, 0.05));
        assert!(on && s.is_on());
        assert!(s.is_on());
    }

    #[test]
    fn a_pause_before_the_first_round_trip_is_not_congestion() {
        let t = Instant::now();
        let mut s = RedSwitch::default();
        // Joined: the starting estimate pauses a video; no round trip measured yet.
        assert!(s.queueing(t), "no round trip counts as a queue (the allocator's side)");
        assert!(!s.set_congested(t, true));
        // The first reports: a clean round trip and loss. RED comes on at once.
        let t1 = t + Duration::from_secs(1);
        s.observe_rtt(t1, Duration::from_millis(20));
        assert!(lasting(&mut s, t1, 0.05));
        assert!(s.is_on());
        // After an ICE restart the path is learnt again, the same way.
        s.forget_path();
        assert!(!s.set_congested(t1, true));
        assert!(s.is_on());
    }

    #[test]
    fn a_pause_without_a_queue_on_the_way_is_not_congestion() {
        let t = Instant::now();
        let mut s = RedSwitch::default();
        s.observe_rtt(t, Duration::from_millis(20));
        assert!(lasting(&mut s, t, 0.05));
        // The estimator dipped on random loss and a video paused; the round trip stayed.
        let t1 = t + Duration::from_secs(1);
        s.observe_rtt(t1, Duration::from_millis(20) + QUEUE_DELAY - Duration::from_millis(1));
        assert!(!s.queueing(t1));
        assert!(!s.set_congested(t1, true), "random loss with room: RED stays on");
        assert!(s.is_on());
        // And loss after it still counts: no wait as after congestion.
        assert!(!report(&mut s, t1, 0.05));
        assert!(s.is_on());
    }

    #[test]
    fn a_pause_with_the_round_trip_risen_by_a_queue_is_congestion() {
        let t = Instant::now();
        let mut s = RedSwitch::default();
        s.observe_rtt(t, Duration::from_millis(20));
        assert!(lasting(&mut s, t, 0.05));
        let t1 = t + Duration::from_secs(1);
        s.observe_rtt(t1, Duration::from_millis(20) + QUEUE_DELAY);
        assert!(s.queueing(t1));
        assert!(!s.set_congested(t1, false), "a queue without a pause is not congestion");
        assert!(s.is_on());
        assert!(s.set_congested(t1, true));
        assert!(!s.is_on());
    }

    #[test]
    fn the_link_overflows_while_the_sound_loses_packets_at_a_standing_queue() {
        let t = Instant::now();
        let floor = Duration::from_millis(2);
        let mut s = RedSwitch::default();
        report(&mut s, t, 0.2);
        assert!(!s.overflowing(t), "no round trip yet: no queue to tell");
        s.observe_rtt(t, floor);
        assert!(!s.overflowing(t), "random loss on a path without a queue: a radio link's");
        let t1 = t + Duration::from_secs(2);
        s.observe_rtt(t1, floor + Duration::from_millis(160));
        assert!(s.overflowing(t1), "lost within LOSS_FRESH, with a queue");
        assert!(!s.overflowing(t + LOSS_FRESH), "the loss is stale");
        report(&mut s, t1, OVERFLOW_LOSS - 0.01);
        assert!(!s.overflowing(t + LOSS_FRESH), "a keyframe's burst is not an overflow");
        report(&mut s, t1, OVERFLOW_LOSS);
        assert!(s.overflowing(t1 + Duration::from_secs(1)));
        // A stale round trip says nothing: no queue is seen, whatever the loss.
        s.handle_loss(t1 + RTT_FRESH, 0.2);
        assert!(!s.overflowing(t1 + RTT_FRESH), "no fresh round trip: no queue seen");
        s.forget_path();
        assert!(!s.overflowing(t1 + RTT_FRESH), "a new path: nothing known");
        // The queue drains and fresh round trips show it.
        let t2 = t1 + RTT_FRESH;
        s.observe_rtt(t2, floor);
        report(&mut s, t2, 0.1);
        assert!(!s.overflowing(t2));
    }

    #[test]
    fn a_queue_reported_after_the_pause_turns_red_off_and_holds_it_off() {
        let t = Instant::now();
        let mut s = RedSwitch::default();
        s.observe_rtt(t, Duration::from_millis(1));
        assert!(lasting(&mut s, t, 0.05));
        // The link dropped: a video is paused at once, before any report shows the queue.
        let t1 = t + Duration::from_secs(1);
        assert!(!s.set_congested(t1, true));
        assert!(s.is_on());
        // The next turn's reports: a video's shows the queue, the sound's does not.
        let t2 = t + Duration::from_secs(2);
        assert!(s.observe_rtt(t2, Duration::from_millis(166)), "the queue under a pause is congestion");
        assert!(!s.is_on());
        assert!(!s.observe_rtt(t2, Duration::from_millis(1)));
        assert!(!report(&mut s, t2, 0.05), "the drop's loss does not turn it on");
        // Drained, still paused: the highest of the last RTT_FRESH still shows the queue.
        assert!(!s.set_congested(t2 + RTT_FRESH - Duration::from_millis(1), true));
        assert!(!s.is_on());
        // Long after: loss turns it on again only AFTER_CONGESTION after congestion was seen.
        let t3 = t2 + RTT_FRESH - Duration::from_millis(1) + AFTER_CONGESTION;
        s.observe_rtt(t3, Duration::from_millis(1));
        assert!(!s.set_congested(t3, false));
        assert!(lasting(&mut s, t3, 0.05), "a lasting loss, long after");
    }

    #[test]
    fn without_a_fresh_round_trip_a_pause_counts_as_congestion() {
        let t = Instant::now();
        let mut s = RedSwitch::default();
        assert!(s.queueing(t), "no round trip yet");
        s.observe_rtt(t, Duration::from_millis(20));
        assert!(!s.queueing(t + RTT_FRESH - Duration::from_millis(1)));
        assert!(s.queueing(t + RTT_FRESH), "the last round trip is stale");
        // A new path learns its round trip again: its shortest is not the old path's.
        s.observe_rtt(t, Duration::from_millis(5));
        s.forget_path();
        assert!(s.queueing(t));
        s.observe_rtt(t, Duration::from_millis(150));
        assert!(!s.queueing(t), "a longer path is not a queue");
    }

    #[test]
    fn no_congestion_no_change() {
        let t = Instant::now();
        let mut s = RedSwitch::default();
        assert!(!s.set_congested(t, false));
        assert!(lasting(&mut s, t, 0.05), "never congested: a lasting loss turns it on");
        assert!(!s.set_congested(t, false));
        assert!(s.is_on());
    }

    #[test]
    fn some_loss_while_on_starts_the_clean_spell_again() {
        let t = Instant::now();
        let mut s = RedSwitch::default();
        lasting(&mut s, t, 0.05);
        report(&mut s, t + Duration::from_secs(2), 0.0);
        // Between the clean and the on threshold: neither on again nor clean.
        report(&mut s, t + Duration::from_secs(20), 0.015);
        assert!(!report(&mut s, t + Duration::from_secs(40), 0.0));
        assert!(!report(&mut s, t + Duration::from_secs(69), 0.0));
        assert!(report(&mut s, t + Duration::from_secs(70), 0.0));
    }
}

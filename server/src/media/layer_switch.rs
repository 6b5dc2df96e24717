//! Simulcast forwarding for one subscriber and one published video: which of the
//! publisher's layers goes out, and how its packets are renumbered so the subscriber's
//! browser sees one continuous stream on one SSRC. PURE: no I/O, no clock, no str0m types;
//! imports nothing from the crate (tests compare with `media::packet` and str0m).
//!
//! # Why
//! A browser publishing simulcast sends two or three independent RTP streams (rids), each
//! with its own SSRC, sequence numbers, RTP clock offset, VP8 picture ids and TL0PICIDX. A
//! subscriber gets one of them on one m-line, and the allocator moves it between them (or
//! pauses it) as its link allows. The subscriber's decoder must never see a jump it would
//! read as loss or as time going backwards, and can only start on a keyframe.
//!
//! # Rules
//! - **Switch at a keyframe of the target, and only there.** Until the target layer sends
//!   the first packet of a keyframe the current layer keeps flowing, so a switch down never
//!   freezes the picture; from a pause (or the start) nothing flows until that keyframe.
//!   [`LayerSwitch::wants_keyframe`] says which layer to ask (PLI) meanwhile. A keyframe
//!   older than a packet already seen of its layer (a late retransmission, or a first
//!   packet overtaken by the rest) is passed over: starting there would leave holes nobody
//!   can fill. The next keyframe is waited for, so keep asking.
//! - **Sequence numbers**: a switch, a resume or a [`LayerSwitch::skip`] continues right
//!   after the last number sent (no hole: the subscriber would ask for packets that never
//!   existed); within one run of one layer the publisher's holes stay, so a real loss is
//!   NACKed and its retransmission (str0m hands it over un-RTX'd, with the original number)
//!   fills the hole. Packets from before the run's first (late retransmissions of what
//!   came before the switch, any packet of the old layer) are dropped. A jump of more than
//!   [`RENUMBER_JUMP`] within a layer starts a new run without a hole, as `SeqRewrite` does.
//! - **Timestamps, picture id, TL0PICIDX**: when the layer changes, the new layer's are
//!   offset so its first frame follows the newest one sent: the timestamp by the arrival gap
//!   at the clock rate (at least one tick), picture id and TL0PICIDX by one. Resuming the
//!   layer last sent keeps its offsets: the publisher's own clock and counters are the
//!   truth there. Within a layer the publisher's differences pass unchanged.
//! - **One layer is the old forwarder**: a publisher without simulcast is layer 0; pausing
//!   and resuming it numbers exactly as `SeqRewrite` with `skip()` and the `needs_keyframe`
//!   gate did, and its payload is never rewritten (the offsets stay zero).
//!
//! # Driving it (from `forward`, not wired yet)
//! ```text
//! allocator Change ──set_target(Some(layer) / None)──▶ LayerSwitch ──wants_keyframe()──▶ PLI on that rid
//! received packet ──PacketInfo::vp8(..) once──▶ on_packet(layer, &info) per subscriber ──▶ Verdict
//! ```
//! - Keep one [`LayerSwitch`] per (subscriber, published track) for the subscription's life:
//!   its numbering is the subscriber's send stream's. Start it with
//!   [`LayerSwitch::set_target`]; `None` pauses at once.
//! - Per received packet, build one [`PacketInfo`] ([`PacketInfo::vp8`] for video parses the
//!   descriptor once, [`PacketInfo::opaque`] for audio: every packet may start it) and call
//!   [`LayerSwitch::on_packet`] for each subscriber with the packet's layer (rid index,
//!   lowest first). On [`Verdict::Forward`], write with its `seq` (extended: its upper bits
//!   are the subscriber's SRTP rollover counter, starting at 0) and `timestamp`; if
//!   `rewrite` is set, rewrite the payload's descriptor: best with str0m's
//!   `RtpWrite::vp8_patch` (build it with `Vp8Descriptor::parse(&payload)?.patch()`), which
//!   patches while serializing, resends included, without a copy of ours; or into a buffer
//!   with [`Vp8Rewrite::write`].
//! - A packet you cannot write (the subscriber's stream is not there yet): call
//!   [`LayerSwitch::skip`] instead of `on_packet`, as with `SeqRewrite::skip`.
//!
//! # Cost per packet
//! [`PacketInfo::vp8`] reads at most seven bytes, once per received packet. `on_packet`
//! is a few comparisons and wrapping additions per subscriber on a `Copy` state of 160
//! bytes: no allocation, no hashing, no payload access. A payload is rewritten only after
//! a change of layer (until then, and always for one layer, `rewrite` is `None` and the
//! shared payload goes out as it is).

pub mod vp8;

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;

use std::time::Instant;

pub use vp8::{Descriptor, Vp8Rewrite};

/// A difference in one layer's sequence numbers bigger than any reordering or repairable
/// loss (10 s of video): a new numbering, continued without a hole. As in `packet.rs`.
pub const RENUMBER_JUMP: u64 = 3000;
/// Layers whose newest sequence number is kept (a publisher sends at most three).
pub const TRACKED_LAYERS: usize = 4;
/// The RTP clock of video.
pub const VIDEO_CLOCK_RATE: u32 = 90_000;
/// A switch after a long pause advances the timestamp by at most this much: under half
/// the 32-bit range, so it always reads as forward (about 3 h at 90 kHz).
const MAX_TIMESTAMP_GAP: u32 = 1 << 30;

/// What one received packet offers every subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketInfo {
    /// Extended sequence number of its layer's stream (str0m's `RtpPacket::seq_no`).
    pub seq: u64,
    /// RTP timestamp as received.
    pub timestamp: u32,
    /// When it arrived (str0m's `RtpPacket::timestamp`).
    pub arrival: Instant,
    pub payload: Payload,
}

/// How a packet's payload may start a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// VP8: a stream starts at a keyframe; `None` for bytes that are no VP8 descriptor.
    Vp8(Option<Descriptor>),
    /// Anything else (Opus): every packet may start it, nothing is rewritten.
    Opaque,
}

impl PacketInfo {
    pub fn vp8(seq: u64, timestamp: u32, arrival: Instant, payload: &[u8]) -> PacketInfo {
        PacketInfo { seq, timestamp, arrival, payload: Payload::Vp8(Descriptor::parse(payload)) }
    }

    pub fn opaque(seq: u64, timestamp: u32, arrival: Instant) -> PacketInfo {
        PacketInfo { seq, timestamp, arrival, payload: Payload::Opaque }
    }

    /// Whether a subscriber may start (or switch to) this packet's layer here.
    pub fn starts_stream(&self) -> bool {
        match self.payload {
            Payload::Vp8(d) => d.is_some_and(|d| d.starts_keyframe()),
            Payload::Opaque => true,
        }
    }

    /// The frame size a keyframe's first packet announces (VP8), given the packet's payload.
    pub fn keyframe_size(&self, payload: &[u8]) -> Option<(u16, u16)> {
        self.descriptor()?.keyframe_size(payload)
    }

    fn descriptor(&self) -> Option<&Descriptor> {
        match &self.payload {
            Payload::Vp8(d) => d.as_ref(),
            Payload::Opaque => None,
        }
    }
}

/// What to do with one packet for one subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Drop,
    Forward(Forward),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    /// The subscriber's extended sequence number: `RtpWrite::new`'s `seq_no`.
    pub seq: u64,
    pub timestamp: u32,
    /// New descriptor fields; `None`: send the payload as received.
    pub rewrite: Option<Vp8Rewrite>,
    /// The first packet after a switch, a resume or the start (a keyframe, for video).
    pub starts_layer: bool,
}

/// One subscriber's view of one published video (or audio) track. See the module docs.
#[derive(Debug, Clone, Copy)]
pub struct LayerSwitch {
    clock_rate: u32,
    /// What the allocator wants; `None`: paused.
    target: Option<u8>,
    /// What flows now; `None`: nothing (paused, or waiting for the first keyframe).
    current: Option<u8>,
    /// The newest sequence number seen of each of the first [`TRACKED_LAYERS`] layers: an
    /// older keyframe (a late retransmission) is no place to start, it would leave a hole
    /// as wide as everything that layer sent since.
    seen: [Option<u64>; TRACKED_LAYERS],
    /// The layer sent last, kept through a pause: resuming it keeps its offsets.
    last_layer: Option<u8>,
    run: Run,
    /// Added to the current layer's timestamps, picture ids (mod 2^15) and TL0PICIDX.
    ts_offset: u32,
    pid_offset: u16,
    tl0_offset: u8,
    /// The packet with the highest sequence number sent, as sent.
    newest: Option<Sent>,
}

/// The current run of one layer: its sequence numbers from `floor` on map to `base` on.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    floor: u64,
    base: u64,
    /// The layer's newest sequence number seen in this run.
    last_in: u64,
    /// [`LayerSwitch::skip`] was called: the next packet starts a new run.
    broken: bool,
}

#[derive(Debug, Clone, Copy)]
struct Sent {
    seq: u64,
    timestamp: u32,
    picture_id: Option<u16>,
    tl0picidx: Option<u8>,
    arrival: Instant,
}

impl LayerSwitch {
    /// Paused, for a stream with this RTP clock rate ([`VIDEO_CLOCK_RATE`] for video).
    pub fn new(clock_rate: u32) -> LayerSwitch {
        LayerSwitch {
            clock_rate,
            target: None,
            current: None,
            seen: [None; TRACKED_LAYERS],
            last_layer: None,
            run: Run::default(),
            ts_offset: 0,
            pid_offset: 0,
            tl0_offset: 0,
            newest: None,
        }
    }

    /// The layer to forward (an index, lowest first), or `None` to pause at once. A new
    /// layer takes over at its next keyframe; the current one flows until then.
    pub fn set_target(&mut self, target: Option<u8>) {
        if target == self.target {
            return;
        }
        self.target = target;
        if target.is_none() {
            self.current = None;
        }
    }

    pub fn target(&self) -> Option<u8> {
        self.target
    }

    /// The layer flowing now.
    pub fn current(&self) -> Option<u8> {
        self.current
    }

    /// The layer whose keyframe this subscriber waits for: ask its publisher (PLI on that
    /// layer's stream), throttled by the caller, until this returns `None`.
    pub fn wants_keyframe(&self) -> Option<u8> {
        self.target.filter(|&t| self.current != Some(t))
    }

    /// A packet of the current layer was not sent (call it instead of [`Self::on_packet`]):
    /// the next one sent follows the last one sent without a hole.
    pub fn skip(&mut self) {
        self.run.broken = true;
    }

    /// The verdict on `packet` of the publisher's layer `layer` for this subscriber.
    pub fn on_packet(&mut self, layer: u8, packet: &PacketInfo) -> Verdict {
        let fresh = self.note_seen(layer, packet.seq);
        if self.target == Some(layer) && self.current != Some(layer) && fresh && packet.starts_stream() {
            self.switch_to(layer, packet);
            return self.forward(packet, true);
        }
        if self.current != Some(layer) {
            return Verdict::Drop;
        }
        let run = &mut self.run;
        // A jump this far is a new numbering (the publisher's stream was replaced) or an
        // outage too long to repair: continue without a hole rather than drop everything
        // below the old floor or invite a storm of NACKs.
        if run.broken || packet.seq.abs_diff(run.last_in) > RENUMBER_JUMP {
            self.start_run(packet.seq);
        } else if packet.seq < run.floor {
            return Verdict::Drop;
        } else {
            run.last_in = run.last_in.max(packet.seq);
        }
        self.forward(packet, false)
    }

    /// Whether `seq` is the newest of its layer yet (or a new numbering); a layer beyond
    /// the tracked ones always is.
    fn note_seen(&mut self, layer: u8, seq: u64) -> bool {
        let Some(newest) = self.seen.get_mut(usize::from(layer)) else { return true };
        let fresh = newest.is_none_or(|n| seq > n || n - seq > RENUMBER_JUMP);
        if fresh {
            *newest = Some(seq);
        }
        fresh
    }

    /// `layer` starts at `packet`, the first packet of a keyframe.
    fn switch_to(&mut self, layer: u8, packet: &PacketInfo) {
        let resumes = self.last_layer == Some(layer);
        self.current = Some(layer);
        self.last_layer = Some(layer);
        self.start_run(packet.seq);
        let Some(newest) = self.newest.filter(|_| !resumes) else { return };
        let gap = packet.arrival.saturating_duration_since(newest.arrival);
        let ticks = gap.as_micros().saturating_mul(u128::from(self.clock_rate)) / 1_000_000;
        let ticks = u32::try_from(ticks).unwrap_or(u32::MAX).clamp(1, MAX_TIMESTAMP_GAP);
        self.ts_offset = newest.timestamp.wrapping_add(ticks).wrapping_sub(packet.timestamp);
        let d = packet.descriptor();
        self.pid_offset = match (newest.picture_id, d.and_then(|d| d.picture_id)) {
            (Some(last), Some(first)) => last.wrapping_add(1).wrapping_sub(first.value) & 0x7fff,
            _ => 0,
        };
        self.tl0_offset = match (newest.tl0picidx, d.and_then(|d| d.tl0picidx)) {
            (Some(last), Some(first)) => last.wrapping_add(1).wrapping_sub(first),
            _ => 0,
        };
    }

    /// A run of the current layer starts at `seq`, right after the last number sent (the
    /// very first at rollover counter 0, which the subscriber's SRTP assumes).
    fn start_run(&mut self, seq: u64) {
        let base = self.newest.map_or(seq & 0xffff, |n| n.seq.wrapping_add(1));
        self.run = Run { floor: seq, base, last_in: seq, broken: false };
    }

    fn forward(&mut self, packet: &PacketInfo, starts_layer: bool) -> Verdict {
        let seq = packet.seq.wrapping_sub(self.run.floor).wrapping_add(self.run.base);
        let timestamp = packet.timestamp.wrapping_add(self.ts_offset);
        let mut rewrite = Vp8Rewrite::default();
        let d = packet.descriptor();
        let picture_id = d.and_then(|d| d.picture_id).map(|p| {
            let out = p.value.wrapping_add(self.pid_offset) & p.mask();
            rewrite.picture_id = (out != p.value).then_some(out);
            out
        });
        let tl0picidx = d.and_then(|d| d.tl0picidx).map(|t| {
            let out = t.wrapping_add(self.tl0_offset);
            rewrite.tl0picidx = (out != t).then_some(out);
            out
        });
        if self.newest.is_none_or(|n| seq > n.seq) {
            let last = self.newest;
            self.newest = Some(Sent {
                seq,
                timestamp,
                // A packet without them (a malformed one) leaves the last ones standing.
                picture_id: picture_id.or(last.and_then(|n| n.picture_id)),
                tl0picidx: tl0picidx.or(last.and_then(|n| n.tl0picidx)),
                arrival: packet.arrival,
            });
        }
        let rewrite = (rewrite != Vp8Rewrite::default()).then_some(rewrite);
        Verdict::Forward(Forward { seq, timestamp, rewrite, starts_layer })
    }
}

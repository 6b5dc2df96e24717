//! Property tests: the descriptor reads as `packet.rs` and str0m read it and rewrites only
//! what it is asked to; arbitrary input never panics; a simulated simulcast publisher (loss,
//! reordering, duplicates, late retransmissions, keyframes on request) seen through random
//! targets, pauses and unsendable packets keeps every promise of the module docs; and one
//! layer numbers exactly as `SeqRewrite` and the `needs_keyframe` gate did.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::vp8::{PictureId, Rewritten};
use super::*;
use crate::media::packet::{starts_vp8_keyframe, SeqRewrite};

fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..12),
        // Extensions announced, with whatever follows.
        (any::<u8>(), any::<u8>(), prop::collection::vec(any::<u8>(), 0..8)).prop_map(|(first, ext, rest)| {
            let mut v = vec![first | 0x80, ext];
            v.extend(rest);
            v
        }),
    ]
}

proptest! {
    #[test]
    fn descriptors_read_as_packet_rs_and_str0m_read_them(payload in payload()) {
        let mine = Descriptor::parse(&payload);
        prop_assert_eq!(mine.is_some_and(|d| d.starts_keyframe()), starts_vp8_keyframe(&payload));
        match str0m::rtp::Vp8Descriptor::parse(&payload) {
            Ok(theirs) => {
                let d = mine.expect("str0m reads it");
                prop_assert_eq!(d.picture_id.map(|p| p.value), theirs.picture_id());
                prop_assert_eq!(d.tl0picidx, theirs.tl0_pic_idx());
                prop_assert_eq!(d.temporal.and_then(|t| t.keyidx), theirs.key_idx());
                prop_assert_eq!(d.starts_keyframe(), theirs.starts_keyframe(&payload));
            }
            // L without T: RFC 7741 forbids it and str0m refuses it; its layout is still clear.
            Err(_) => prop_assert!(mine.is_none() || (payload[0] & 0x80 != 0 && payload[1] & 0x60 == 0x40)),
        }
    }

    #[test]
    fn a_rewrite_changes_only_the_fields_asked(
        payload in payload(),
        picture_id in proptest::option::of(any::<u16>()),
        tl0picidx in proptest::option::of(any::<u8>()),
    ) {
        let rewrite = Vp8Rewrite { picture_id, tl0picidx };
        let mut out = vec![0; payload.len()];
        let result = rewrite.write(&payload, &mut out).expect("room for the payload");
        let mut in_place = payload.clone();
        let changed = rewrite.apply_in_place(&mut in_place);
        let before = Descriptor::parse(&payload);
        let wanted_pid = |p: PictureId| picture_id.map_or(p.value, |v| v & p.mask());
        let wanted_tl0 = |t: u8| tl0picidx.unwrap_or(t);
        match result {
            Rewritten::Unchanged => {
                prop_assert!(!changed);
                prop_assert_eq!(&in_place, &payload);
                if let Some(d) = before {
                    prop_assert!(d.picture_id.is_none_or(|p| wanted_pid(p) == p.value));
                    prop_assert!(d.tl0picidx.is_none_or(|t| wanted_tl0(t) == t));
                }
            }
            Rewritten::Written(n) => {
                prop_assert_eq!(n, payload.len());
                prop_assert!(changed);
                prop_assert_eq!(&in_place, &out);
                let before = before.expect("only a descriptor is rewritten");
                let after = Descriptor::parse(&out).expect("still a descriptor");
                prop_assert_eq!(after.picture_id.map(|p| p.wide), before.picture_id.map(|p| p.wide));
                prop_assert_eq!(after.picture_id.map(|p| p.value), before.picture_id.map(wanted_pid));
                prop_assert_eq!(after.tl0picidx, before.tl0picidx.map(wanted_tl0));
                prop_assert_eq!(after.temporal, before.temporal);
                prop_assert_eq!(after.starts_keyframe(), before.starts_keyframe());
                prop_assert_eq!(after.header_len(), before.header_len());
                prop_assert_eq!(&out[..2], &payload[..2]);
                prop_assert_eq!(&out[before.header_len()..], &payload[before.header_len()..]);
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Target(Option<u8>),
    Skip,
    Packet { layer: u8, seq: u64, timestamp: u32, at_ms: u64, payload: Vec<u8>, opaque: bool },
}

fn op() -> impl Strategy<Value = Op> {
    let seq = prop_oneof![any::<u64>(), 0..70_000u64, (u64::MAX - 70_000)..=u64::MAX];
    let packet = (0..4u8, seq, any::<u32>(), 0..100_000u64, payload(), prop::bool::weighted(0.1)).prop_map(
        |(layer, seq, timestamp, at_ms, payload, opaque)| Op::Packet { layer, seq, timestamp, at_ms, payload, opaque },
    );
    prop_oneof![
        1 => proptest::option::of(0..4u8).prop_map(Op::Target),
        1 => Just(Op::Skip),
        8 => packet,
    ]
}

proptest! {
    #[test]
    fn arbitrary_input_never_panics(
        ops in prop::collection::vec(op(), 0..200),
        clock_rate in prop_oneof![Just(VIDEO_CLOCK_RATE), any::<u32>()],
    ) {
        let t0 = Instant::now();
        let mut sw = LayerSwitch::new(clock_rate);
        for op in ops {
            match op {
                Op::Target(t) => sw.set_target(t),
                Op::Skip => sw.skip(),
                Op::Packet { layer, seq, timestamp, at_ms, payload, opaque } => {
                    let at = t0 + Duration::from_millis(at_ms);
                    let info = if opaque {
                        PacketInfo::opaque(seq, timestamp, at)
                    } else {
                        PacketInfo::vp8(seq, timestamp, at, &payload)
                    };
                    if let Verdict::Forward(f) = sw.on_packet(layer, &info) {
                        prop_assert_eq!(sw.current(), Some(layer));
                        if let Some(rewrite) = f.rewrite {
                            let mut out = vec![0; payload.len()];
                            prop_assert_eq!(rewrite.write(&payload, &mut out), Ok(Rewritten::Written(payload.len())));
                        }
                    }
                }
            }
            prop_assert_eq!(sw.wants_keyframe(), sw.target().filter(|&t| sw.current() != Some(t)));
        }
    }
}

/// xorshift64*: the simulation's loss, reordering and keyframe timing, from proptest's seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One layer of the simulated publisher, numbered and clocked on its own as browsers do.
struct SimLayer {
    seq: u64,
    ts: u32,
    pid: u16,
    wide: bool,
    tl0: u8,
    frames: u64,
    wants_key: bool,
}

/// A packet as delivered to the forwarder.
#[derive(Clone)]
struct Delivered {
    layer: u8,
    info: PacketInfo,
    payload: Vec<u8>,
}

/// Perturbations of the path from publisher to SFU, in percent.
#[derive(Debug, Clone, Copy)]
struct Path {
    loss: u64,
    resend: u64,
    duplicate: u64,
    swap: u64,
    /// Whether a lost or swapped packet may be a keyframe's first (the `SeqRewrite`
    /// comparison keeps those in place: only there do old and new knowingly differ).
    disturb_keyframes: bool,
}

struct Publisher {
    rng: Rng,
    layers: Vec<SimLayer>,
    path: Path,
    now: Instant,
    /// Lost packets coming again (a retransmission), at the tick given.
    resends: Vec<(u64, Delivered)>,
    tick: u64,
}

impl Publisher {
    fn new(seed: u64, layers: usize, narrow_top: bool, path: Path) -> Publisher {
        let mut rng = Rng(seed | 1);
        let layers = (0..layers)
            .map(|i| SimLayer {
                // Near the 16-bit boundary now and then, so numbering crosses it.
                seq: if rng.chance(30) { 65_536 - rng.below(200) } else { rng.below(200_000) },
                ts: rng.next() as u32,
                pid: rng.below(0x8000) as u16,
                wide: !(narrow_top && i == layers - 1),
                tl0: rng.next() as u8,
                frames: 0,
                wants_key: false,
            })
            .collect();
        Publisher { rng, layers, path, now: Instant::now(), resends: Vec::new(), tick: 0 }
    }

    fn request_keyframe(&mut self, layer: u8) {
        if let Some(l) = self.layers.get_mut(usize::from(layer)) {
            l.wants_key = true;
        }
    }

    /// One frame of every layer, as the SFU receives it.
    fn tick(&mut self) -> Vec<Delivered> {
        self.tick += 1;
        self.now += Duration::from_millis(33 + self.rng.below(10));
        let mut sent = Vec::new();
        let first_layer = self.rng.below(self.layers.len() as u64) as usize;
        for k in 0..self.layers.len() {
            let index = (first_layer + k) % self.layers.len();
            let rng = &mut self.rng;
            let l = &mut self.layers[index];
            let key = l.frames == 0 || (l.wants_key && rng.chance(50)) || rng.chance(2);
            l.wants_key &= !key;
            // Three temporal layers: 0 2 1 2; TL0PICIDX counts the frames of layer 0.
            let tid = [0u8, 2, 1, 2][(l.frames % 4) as usize];
            if tid == 0 && l.frames > 0 {
                l.tl0 = l.tl0.wrapping_add(1);
            }
            let packets = 1 + index + if key { 2 } else { 0 };
            for i in 0..packets {
                let first = i == 0;
                let mut payload = vec![0x80 | if first { 0x10 } else { 0x00 }, 0xe0];
                if l.wide {
                    payload.extend([0x80 | (l.pid >> 8) as u8, l.pid as u8]);
                } else {
                    payload.push(l.pid as u8 & 0x7f);
                }
                payload.extend([l.tl0, tid << 6, if key && first { 0x00 } else { 0x01 }, 0xaa]);
                let info = PacketInfo::vp8(l.seq, l.ts, self.now, &payload);
                sent.push(Delivered { layer: index as u8, info, payload });
                l.seq += 1;
            }
            l.frames += 1;
            l.ts = l.ts.wrapping_add(3000 + rng.below(100) as u32);
            l.pid = (l.pid + 1) & if l.wide { 0x7fff } else { 0x7f };
        }
        let mut delivered: Vec<Delivered> = Vec::new();
        for (at, late) in std::mem::take(&mut self.resends) {
            if at <= self.tick {
                delivered.push(late);
            } else {
                self.resends.push((at, late));
            }
        }
        let path = self.path;
        for d in sent {
            let movable = path.disturb_keyframes || !d.info.starts_stream();
            if movable && self.rng.chance(path.loss) {
                if self.rng.chance(path.resend) {
                    let at = self.tick + 1 + self.rng.below(3);
                    self.resends.push((at, d));
                }
                continue;
            }
            let twice = self.rng.chance(path.duplicate);
            delivered.push(d.clone());
            if twice {
                delivered.push(d);
            }
        }
        for i in 1..delivered.len() {
            let movable = |d: &Delivered| path.disturb_keyframes || !d.info.starts_stream();
            if movable(&delivered[i]) && movable(&delivered[i - 1]) && self.rng.chance(path.swap) {
                delivered.swap(i, i - 1);
            }
        }
        for (i, d) in delivered.iter_mut().enumerate() {
            d.info.arrival = self.now + Duration::from_micros(200 * i as u64);
        }
        delivered
    }
}

#[derive(Debug, Clone)]
enum Step {
    Frames(u8),
    Target(Option<u8>),
    /// The next this many packets cannot be written: `skip()` instead of `on_packet`.
    Unsendable(u8),
}

fn step(layers: u8) -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (1..20u8).prop_map(Step::Frames),
        2 => proptest::option::of(0..=layers).prop_map(Step::Target),
        1 => (1..6u8).prop_map(Step::Unsendable),
    ]
}

fn path(disturb_keyframes: bool) -> impl Strategy<Value = Path> {
    (0..10u64, 0..100u64, 0..5u64, 0..10u64).prop_map(move |(loss, resend, duplicate, swap)| Path {
        loss,
        resend,
        duplicate,
        swap,
        disturb_keyframes,
    })
}

/// What the subscriber saw last: the packet with the highest number sent.
#[derive(Debug, Clone, Copy)]
struct Newest {
    seq: u64,
    timestamp: u32,
    picture_id: Option<u16>,
    tl0picidx: Option<u8>,
    arrival: Instant,
}

/// Checks every verdict against the promises, from what the subscriber receives.
#[derive(Default)]
struct Watcher {
    target: Option<u8>,
    current: Option<u8>,
    last_layer: Option<u8>,
    /// `skip()` was called while a layer flowed: its next packet starts a run.
    run_broken: bool,
    /// Subscriber number minus publisher number, within the current run.
    run_delta: Option<u64>,
    /// The highest publisher number sent in the current run.
    run_top: u64,
    /// Timestamp, picture id and TL0PICIDX offsets since the layer last changed.
    offsets: Option<(u32, Option<u16>, Option<u8>)>,
    newest: Option<Newest>,
    /// Who got each subscriber number.
    sent: HashMap<u64, (u8, u64)>,
    /// The highest number seen of each layer.
    seen: HashMap<u8, u64>,
    switches: usize,
    forwarded: usize,
}

impl Watcher {
    fn set_target(&mut self, target: Option<u8>) {
        self.target = target;
        if target.is_none() {
            self.current = None;
        }
    }

    fn skip(&mut self) {
        self.run_broken |= self.current.is_some();
    }

    fn check(&mut self, d: &Delivered, verdict: Verdict) -> Result<(), TestCaseError> {
        let (layer, seq) = (d.layer, d.info.seq);
        let newest_of_layer = self.seen.get(&layer).is_none_or(|&s| seq > s);
        let top = self.seen.entry(layer).or_insert(seq);
        *top = (*top).max(seq);
        let switch_point =
            self.target == Some(layer) && self.current != Some(layer) && d.info.starts_stream() && newest_of_layer;
        let f = match verdict {
            Verdict::Drop => {
                prop_assert!(!switch_point, "a keyframe of the target is not taken");
                let live = self.current == Some(layer) && !self.run_broken && seq > self.run_top;
                prop_assert!(!live, "a new packet of the current layer is dropped");
                return Ok(());
            }
            Verdict::Forward(f) => f,
        };
        self.forwarded += 1;
        // One subscriber number, one publisher packet.
        let owner = *self.sent.entry(f.seq).or_insert((layer, seq));
        prop_assert_eq!(owner, (layer, seq), "a subscriber number reused");
        let descriptor = d.info.descriptor().copied();
        let pid_in = descriptor.and_then(|d| d.picture_id);
        let tl0_in = descriptor.and_then(|d| d.tl0picidx);
        let rewrite = f.rewrite.unwrap_or_default();
        let pid_out = pid_in.map(|p| rewrite.picture_id.unwrap_or(p.value));
        let tl0_out = tl0_in.map(|t| rewrite.tl0picidx.unwrap_or(t));
        prop_assert_eq!(f.rewrite.is_none(), pid_out == pid_in.map(|p| p.value) && tl0_out == tl0_in);
        if let Some(r) = f.rewrite {
            let mut out = vec![0; d.payload.len()];
            r.write(&d.payload, &mut out).expect("room");
            let after = Descriptor::parse(&out).expect("a descriptor");
            prop_assert_eq!((after.picture_id.map(|p| p.value), after.tl0picidx), (pid_out, tl0_out));
        }
        let follows = self.newest.map_or(seq & 0xffff, |n| n.seq + 1);
        if f.starts_layer {
            prop_assert!(switch_point, "a switch away from a keyframe of the target");
            self.switches += 1;
            self.current = Some(layer);
            prop_assert_eq!(f.seq, follows, "a hole or overlap at a switch");
            if self.last_layer != Some(layer) {
                match self.newest {
                    Some(n) => {
                        let gap = d.info.arrival.saturating_duration_since(n.arrival);
                        let ticks = (gap.as_micros() * 90_000 / 1_000_000).clamp(1, 1 << 30) as u32;
                        prop_assert_eq!(f.timestamp.wrapping_sub(n.timestamp), ticks);
                        if let (Some(last), Some(p), Some(out)) = (n.picture_id, pid_in, pid_out) {
                            prop_assert_eq!(out, last.wrapping_add(1) & p.mask());
                        }
                        if let (Some(last), Some(out)) = (n.tl0picidx, tl0_out) {
                            prop_assert_eq!(out, last.wrapping_add(1));
                        }
                    }
                    None => prop_assert_eq!((f.timestamp, f.rewrite), (d.info.timestamp, None)),
                }
                self.offsets = None;
            }
            self.run_broken = false;
            self.run_delta = None;
        } else {
            prop_assert_eq!(self.current, Some(layer), "a packet of a layer not flowing");
            if self.run_broken {
                prop_assert_eq!(f.seq, follows, "a hole or overlap after skip()");
                self.run_broken = false;
                self.run_delta = None;
            }
        }
        // Within a run the publisher's differences (and holes) pass unchanged.
        let delta = f.seq.wrapping_sub(seq);
        if self.run_delta.is_none() {
            self.run_top = seq;
        }
        prop_assert_eq!(*self.run_delta.get_or_insert(delta), delta, "a hole moved within a run");
        self.run_top = self.run_top.max(seq);
        // Within a layer (and through a pause of it) so do clock and counters.
        let offsets = (
            f.timestamp.wrapping_sub(d.info.timestamp),
            pid_in.zip(pid_out).map(|(p, out)| out.wrapping_sub(p.value) & p.mask()),
            tl0_in.zip(tl0_out).map(|(t, out)| out.wrapping_sub(t)),
        );
        let expected = self.offsets.get_or_insert(offsets);
        prop_assert_eq!(expected.0, offsets.0, "the clock offset moved within a layer");
        if let (Some(a), Some(b)) = (expected.1, offsets.1) {
            prop_assert_eq!(a, b, "the picture id offset moved within a layer");
        }
        if let (Some(a), Some(b)) = (expected.2, offsets.2) {
            prop_assert_eq!(a, b, "the TL0PICIDX offset moved within a layer");
        }
        self.last_layer = Some(layer);
        if self.newest.is_none_or(|n| f.seq > n.seq) {
            let last = self.newest;
            self.newest = Some(Newest {
                seq: f.seq,
                timestamp: f.timestamp,
                picture_id: pid_out.or(last.and_then(|n| n.picture_id)),
                tl0picidx: tl0_out.or(last.and_then(|n| n.tl0picidx)),
                arrival: d.info.arrival,
            });
        }
        Ok(())
    }
}

/// Runs `steps` through a switch and a watcher; returns (switches, packets forwarded).
fn simulate(seed: u64, layers: u8, narrow_top: bool, path: Path, steps: &[Step]) -> Result<(usize, usize), TestCaseError> {
    let mut publisher = Publisher::new(seed, usize::from(layers), narrow_top, path);
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    let mut watcher = Watcher::default();
    let mut unsendable = 0;
    for step in steps {
        match *step {
            Step::Target(t) => {
                sw.set_target(t);
                watcher.set_target(t);
            }
            Step::Unsendable(n) => unsendable += n,
            Step::Frames(n) => {
                for _ in 0..n {
                    for d in publisher.tick() {
                        if unsendable > 0 {
                            unsendable -= 1;
                            sw.skip();
                            watcher.skip();
                        } else {
                            let verdict = sw.on_packet(d.layer, &d.info);
                            watcher.check(&d, verdict)?;
                        }
                        if let Some(layer) = sw.wants_keyframe() {
                            publisher.request_keyframe(layer);
                        }
                    }
                }
            }
        }
        prop_assert_eq!(sw.current(), watcher.current);
        prop_assert_eq!(sw.wants_keyframe(), watcher.target.filter(|&t| watcher.current != Some(t)));
    }
    Ok((watcher.switches, watcher.forwarded))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn a_simulcast_stream_keeps_its_promises(
        seed in any::<u64>(),
        layers in 1..=3u8,
        narrow_top in prop::bool::weighted(0.2),
        path in path(true),
        steps in prop::collection::vec(step(3), 1..40),
    ) {
        simulate(seed, layers, narrow_top, path, &steps)?;
    }
}

#[test]
fn the_simulation_switches_and_forwards() {
    let path = Path { loss: 5, resend: 50, duplicate: 2, swap: 5, disturb_keyframes: true };
    let steps = [
        Step::Target(Some(0)),
        Step::Frames(20),
        Step::Target(Some(2)),
        Step::Frames(20),
        Step::Unsendable(3),
        Step::Target(Some(1)),
        Step::Frames(20),
        Step::Target(None),
        Step::Frames(5),
        Step::Target(Some(0)),
        Step::Frames(20),
    ];
    for seed in 1..20 {
        let (switches, forwarded) = simulate(seed, 3, seed % 2 == 0, path, &steps).unwrap();
        assert!(switches >= 4, "seed {seed}: {switches} switches");
        assert!(forwarded > 100, "seed {seed}: {forwarded} forwarded");
    }
}

/// Today's forwarder for one subscriber: `SeqRewrite` behind the `needs_keyframe` gate.
struct Before {
    seq: SeqRewrite,
    needs_keyframe: bool,
    forwarding: bool,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn one_layer_numbers_as_seq_rewrite_did(
        seed in any::<u64>(),
        path in path(false),
        steps in prop::collection::vec(step(0), 1..40),
    ) {
        let mut publisher = Publisher::new(seed, 1, false, path);
        let mut before = Before { seq: SeqRewrite::default(), needs_keyframe: true, forwarding: false };
        let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
        let mut unsendable = 0;
        for step in steps {
            match step {
                // `set_forwarding` off and on again.
                Step::Target(None) => {
                    before.forwarding = false;
                    sw.set_target(None);
                }
                Step::Target(Some(_)) => {
                    if !before.forwarding {
                        before.seq.skip();
                        before.needs_keyframe = true;
                        before.forwarding = true;
                    }
                    sw.set_target(Some(0));
                }
                Step::Unsendable(n) => unsendable += n,
                Step::Frames(n) => {
                    for _ in 0..n {
                        for d in publisher.tick() {
                            let can_send = unsendable == 0;
                            unsendable = unsendable.saturating_sub(1);
                            // As `forward` does, in its order.
                            let old = if !before.forwarding {
                                None
                            } else if (before.needs_keyframe && !d.info.starts_stream()) || !can_send {
                                before.seq.skip();
                                None
                            } else {
                                let out = before.seq.map(d.info.seq);
                                before.needs_keyframe &= out.is_none();
                                out
                            };
                            let new = if can_send {
                                sw.on_packet(0, &d.info)
                            } else {
                                sw.skip();
                                Verdict::Drop
                            };
                            match new {
                                Verdict::Drop => prop_assert_eq!(old, None),
                                Verdict::Forward(f) => {
                                    prop_assert_eq!(old, Some(f.seq));
                                    prop_assert_eq!((f.timestamp, f.rewrite), (d.info.timestamp, None));
                                }
                            }
                            if sw.wants_keyframe().is_some() {
                                publisher.request_keyframe(0);
                            }
                        }
                    }
                }
            }
        }
    }
}

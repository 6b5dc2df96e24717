//! One scenario per test: switching, pausing, numbering, and the VP8 descriptor.

use std::time::{Duration, Instant};

use super::vp8::{BufferTooSmall, PictureId, Rewritten, Temporal};
use super::*;

/// A VP8 payload as browsers send it: 15-bit picture id, TL0PICIDX, TID 0; the VP8 header
/// byte (P=0 on a keyframe) only matters on a frame's first packet.
fn vp8(pid: u16, tl0: u8, key: bool, first: bool) -> Vec<u8> {
    let s = if first { 0x10 } else { 0x00 };
    let p = if key && first { 0x00 } else { 0x01 };
    vec![0x80 | s, 0xe0, 0x80 | (pid >> 8) as u8, pid as u8, tl0, 0x00, p, 0xaa]
}

/// One simulcast layer of a publisher: its own numbering, clock and counters.
struct Layer {
    seq: u64,
    ts: u32,
    pid: u16,
    tl0: u8,
}

impl Layer {
    fn new(seq: u64, ts: u32, pid: u16, tl0: u8) -> Layer {
        Layer { seq, ts, pid, tl0 }
    }

    /// The next frame's packets, all arriving at `at`.
    fn frame(&mut self, key: bool, packets: usize, at: Instant) -> Vec<PacketInfo> {
        let frame = (0..packets)
            .map(|i| {
                let p = PacketInfo::vp8(self.seq, self.ts, at, &vp8(self.pid, self.tl0, key, i == 0));
                self.seq += 1;
                p
            })
            .collect();
        self.ts = self.ts.wrapping_add(3000);
        self.pid = (self.pid + 1) & 0x7fff;
        self.tl0 = self.tl0.wrapping_add(1);
        frame
    }
}

fn forwarded(v: Verdict) -> Forward {
    match v {
        Verdict::Forward(f) => f,
        Verdict::Drop => panic!("dropped"),
    }
}

/// The picture id and TL0PICIDX the subscriber sees.
fn seen(p: &PacketInfo, f: &Forward) -> (Option<u16>, Option<u8>) {
    let d = p.descriptor().copied();
    let rewrite = f.rewrite.unwrap_or_default();
    (
        rewrite.picture_id.or(d.and_then(|d| d.picture_id).map(|p| p.value)),
        rewrite.tl0picidx.or(d.and_then(|d| d.tl0picidx)),
    )
}

fn ms(t0: Instant, ms: u64) -> Instant {
    t0 + Duration::from_millis(ms)
}

#[test]
fn nothing_flows_before_the_first_keyframe_which_starts_at_rollover_zero() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    let mut l0 = Layer::new(3 * 65536 + 100, 5000, 7, 1);
    sw.set_target(Some(0));
    for p in l0.frame(false, 2, t0) {
        assert_eq!(sw.on_packet(0, &p), Verdict::Drop);
    }
    assert_eq!(sw.wants_keyframe(), Some(0));
    let key = l0.frame(true, 2, ms(t0, 33));
    let f = forwarded(sw.on_packet(0, &key[0]));
    assert_eq!((f.seq, f.timestamp, f.rewrite, f.starts_layer), (102, 8000, None, true));
    assert_eq!(forwarded(sw.on_packet(0, &key[1])).seq, 103);
    assert_eq!(sw.wants_keyframe(), None);
    assert_eq!(sw.current(), Some(0));
}

#[test]
fn upstream_holes_stay_and_retransmissions_fill_them() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    sw.set_target(Some(0));
    let mut l0 = Layer::new(10, 0, 0, 0);
    let frame = l0.frame(true, 4, t0);
    assert_eq!(forwarded(sw.on_packet(0, &frame[0])).seq, 10);
    assert_eq!(forwarded(sw.on_packet(0, &frame[1])).seq, 11);
    // Lost upstream: the hole stays, so the subscriber asks for it.
    assert_eq!(forwarded(sw.on_packet(0, &frame[3])).seq, 13);
    // The retransmission fills it, and a duplicate gets the same number.
    assert_eq!(forwarded(sw.on_packet(0, &frame[2])).seq, 12);
    assert_eq!(forwarded(sw.on_packet(0, &frame[2])).seq, 12);
}

#[test]
fn a_switch_down_keeps_the_current_layer_flowing_until_the_target_keyframe() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    let (mut low, mut high) = (Layer::new(1000, 90_000, 300, 30), Layer::new(50_000, 7_000_000, 20_000, 200));
    sw.set_target(Some(1));
    for p in high.frame(true, 3, t0) {
        forwarded(sw.on_packet(1, &p));
    }
    sw.set_target(Some(0));
    assert_eq!(sw.wants_keyframe(), Some(0));
    // Delta frames of the target are no place to switch; the high layer goes on.
    for p in low.frame(false, 1, ms(t0, 33)) {
        assert_eq!(sw.on_packet(0, &p), Verdict::Drop);
    }
    for p in high.frame(false, 3, ms(t0, 34)) {
        forwarded(sw.on_packet(1, &p));
    }
    assert_eq!(sw.current(), Some(1));
    let key = low.frame(true, 1, ms(t0, 66));
    let f = forwarded(sw.on_packet(0, &key[0]));
    assert!(f.starts_layer);
    assert_eq!(sw.current(), Some(0));
    // The old layer stops at once, whatever it still sends.
    for p in high.frame(false, 3, ms(t0, 67)) {
        assert_eq!(sw.on_packet(1, &p), Verdict::Drop);
    }
}

#[test]
fn a_switch_continues_numbers_timestamps_and_picture_ids() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    let (mut low, mut high) = (Layer::new(1000, 90_000, 300, 30), Layer::new(50_000, 7_000_000, 20_000, 200));
    sw.set_target(Some(0));
    let mut last = None;
    for (i, key) in [true, false, false].into_iter().enumerate() {
        for p in low.frame(key, 2, ms(t0, 33 * i as u64)) {
            let f = forwarded(sw.on_packet(0, &p));
            last = Some((f, seen(&p, &f)));
        }
    }
    let (last, (last_pid, last_tl0)) = last.unwrap();
    assert_eq!((last.seq, last.timestamp, last_pid, last_tl0), (1005, 96_000, Some(302), Some(32)));
    sw.set_target(Some(1));
    // The high layer's keyframe comes 40 ms after the last low packet: 3600 ticks later.
    let key = high.frame(true, 3, ms(t0, 66 + 40));
    let f = forwarded(sw.on_packet(1, &key[0]));
    assert_eq!((f.seq, f.timestamp, f.starts_layer), (1006, 99_600, true));
    assert_eq!(seen(&key[0], &f), (Some(303), Some(33)));
    assert_eq!(f.rewrite, Some(Vp8Rewrite { picture_id: Some(303), tl0picidx: Some(33) }));
    // Within the new layer, the publisher's differences pass unchanged.
    let next = high.frame(false, 1, ms(t0, 140));
    let g = forwarded(sw.on_packet(1, &next[0]));
    assert_eq!((g.seq, g.timestamp, seen(&next[0], &g)), (1009, 102_600, (Some(304), Some(34))));
}

#[test]
fn a_keyframe_arriving_with_the_last_packet_still_moves_time_forward() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    let (mut low, mut high) = (Layer::new(1, 1000, 1, 1), Layer::new(1, 900, 1, 1));
    sw.set_target(Some(0));
    let f = forwarded(sw.on_packet(0, &low.frame(true, 1, t0)[0]));
    sw.set_target(Some(1));
    let g = forwarded(sw.on_packet(1, &high.frame(true, 1, t0)[0]));
    assert_eq!(g.timestamp, f.timestamp + 1);
}

#[test]
fn picture_ids_wrap_and_keep_their_width() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    let mut low = Layer::new(1, 0, 0x7fff, 255);
    sw.set_target(Some(0));
    let f = forwarded(sw.on_packet(0, &low.frame(true, 1, t0)[0]));
    assert_eq!(f.rewrite, None);
    // A layer with a 7-bit picture id and no TL0PICIDX.
    sw.set_target(Some(1));
    let short = [0x90, 0x80, 0x05, 0x00];
    let g = forwarded(sw.on_packet(1, &PacketInfo::vp8(500, 0, ms(t0, 10), &short)));
    // 0x7fff + 1 wraps to 0; the 7-bit field carries its low bits.
    assert_eq!(g.rewrite, Some(Vp8Rewrite { picture_id: Some(0), tl0picidx: None }));
    let next = [0x90, 0x80, 0x06, 0x01];
    let h = forwarded(sw.on_packet(1, &PacketInfo::vp8(501, 3000, ms(t0, 43), &next)));
    assert_eq!(h.rewrite, Some(Vp8Rewrite { picture_id: Some(1), tl0picidx: None }));
    let mut out = [0; 4];
    assert_eq!(h.rewrite.unwrap().write(&next, &mut out), Ok(Rewritten::Written(4)));
    assert_eq!(out, [0x90, 0x80, 0x01, 0x01]);
}

#[test]
fn late_packets_from_before_a_switch_are_dropped() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    let (mut low, mut high) = (Layer::new(100, 0, 0, 0), Layer::new(900, 0, 0, 0));
    sw.set_target(Some(0));
    let old = low.frame(true, 3, t0);
    forwarded(sw.on_packet(0, &old[0]));
    sw.set_target(Some(1));
    let early = high.frame(false, 2, ms(t0, 10));
    let key = high.frame(true, 2, ms(t0, 20));
    forwarded(sw.on_packet(1, &key[0]));
    // The old layer's retransmission, and the new layer's packets from before its keyframe.
    assert_eq!(sw.on_packet(0, &old[1]), Verdict::Drop);
    assert_eq!(sw.on_packet(1, &early[1]), Verdict::Drop);
    assert_eq!(forwarded(sw.on_packet(1, &key[1])).seq, 102);
}

#[test]
fn pausing_stops_at_once_and_resuming_waits_for_a_keyframe_without_a_hole() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    let mut l0 = Layer::new(10, 0, 40, 4);
    sw.set_target(Some(0));
    for p in l0.frame(true, 2, t0) {
        forwarded(sw.on_packet(0, &p));
    }
    sw.set_target(None);
    assert_eq!(sw.wants_keyframe(), None);
    for p in l0.frame(false, 2, ms(t0, 33)) {
        assert_eq!(sw.on_packet(0, &p), Verdict::Drop);
    }
    sw.set_target(Some(0));
    assert_eq!(sw.wants_keyframe(), Some(0));
    for p in l0.frame(false, 2, ms(t0, 66)) {
        assert_eq!(sw.on_packet(0, &p), Verdict::Drop);
    }
    let key = l0.frame(true, 1, ms(t0, 99));
    let f = forwarded(sw.on_packet(0, &key[0]));
    // Numbering goes on from 11; the layer's own clock and picture ids are kept.
    assert_eq!((f.seq, f.timestamp, f.rewrite, f.starts_layer), (12, 9000, None, true));
}

#[test]
fn resuming_the_layer_last_sent_keeps_its_offsets() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    let (mut low, mut high) = (Layer::new(1, 0, 10, 10), Layer::new(5000, 400_000, 900, 90));
    sw.set_target(Some(0));
    forwarded(sw.on_packet(0, &low.frame(true, 1, t0)[0]));
    sw.set_target(Some(1));
    let f = forwarded(sw.on_packet(1, &high.frame(true, 1, ms(t0, 30))[0]));
    sw.set_target(None);
    high.frame(false, 1, ms(t0, 60));
    sw.set_target(Some(1));
    let key = high.frame(true, 1, ms(t0, 5000));
    let g = forwarded(sw.on_packet(1, &key[0]));
    // Two frames of the publisher's clock later, not the 5 s of arrival: same offsets.
    assert_eq!(g.timestamp.wrapping_sub(f.timestamp), 6000);
    assert_eq!(seen(&key[0], &g).0, Some(13));
    assert_eq!(g.seq, f.seq + 1);
}

#[test]
fn a_late_retransmitted_keyframe_is_no_place_to_switch() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    let (mut low, mut high) = (Layer::new(1, 0, 0, 0), Layer::new(100, 0, 0, 0));
    sw.set_target(Some(0));
    forwarded(sw.on_packet(0, &low.frame(true, 1, t0)[0]));
    let old_key = high.frame(true, 2, t0);
    sw.set_target(Some(1));
    let newer = high.frame(false, 1, ms(t0, 33));
    assert_eq!(sw.on_packet(1, &newer[0]), Verdict::Drop);
    // Starting there would leave a hole as wide as everything since.
    assert_eq!(sw.on_packet(1, &old_key[0]), Verdict::Drop);
    assert_eq!(sw.current(), Some(0));
    let key = high.frame(true, 1, ms(t0, 66));
    assert!(forwarded(sw.on_packet(1, &key[0])).starts_layer);
}

#[test]
fn a_target_that_never_sends_leaves_the_current_layer_flowing() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    let mut low = Layer::new(1, 0, 0, 0);
    sw.set_target(Some(0));
    forwarded(sw.on_packet(0, &low.frame(true, 1, t0)[0]));
    sw.set_target(Some(7));
    for i in 1..10 {
        forwarded(sw.on_packet(0, &low.frame(i % 3 == 0, 1, ms(t0, 33 * i))[0]));
    }
    assert_eq!(sw.wants_keyframe(), Some(7));
    // Back to the current layer: nothing to wait for.
    sw.set_target(Some(0));
    assert_eq!(sw.wants_keyframe(), None);
}

#[test]
fn skip_and_a_jump_in_numbering_continue_without_a_hole() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    let mut l0 = Layer::new(40_000, 0, 0, 0);
    sw.set_target(Some(0));
    assert_eq!(forwarded(sw.on_packet(0, &l0.frame(true, 1, t0)[0])).seq, 40_000);
    // The subscriber's stream was not there for these.
    for _ in l0.frame(false, 3, ms(t0, 33)) {
        sw.skip();
    }
    let f = forwarded(sw.on_packet(0, &l0.frame(false, 1, ms(t0, 66))[0]));
    assert_eq!((f.seq, f.starts_layer), (40_001, false));
    // The publisher's stream was replaced and counts from somewhere else.
    let mut replaced = Layer::new(7, 0, 0, 0);
    assert_eq!(forwarded(sw.on_packet(0, &replaced.frame(false, 1, ms(t0, 99))[0])).seq, 40_002);
    assert_eq!(forwarded(sw.on_packet(0, &replaced.frame(false, 1, ms(t0, 132))[0])).seq, 40_003);
}

#[test]
fn sequence_numbers_cross_the_16_bit_boundary_on_both_sides() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    let (mut low, mut high) = (Layer::new(65_534, 0, 0, 0), Layer::new(2 * 65_536 - 1, 0, 0, 0));
    sw.set_target(Some(0));
    let seqs: Vec<u64> = low.frame(true, 3, t0).iter().map(|p| forwarded(sw.on_packet(0, p)).seq).collect();
    assert_eq!(seqs, [65_534, 65_535, 65_536]);
    sw.set_target(Some(1));
    let seqs: Vec<u64> = high.frame(true, 2, ms(t0, 33)).iter().map(|p| forwarded(sw.on_packet(1, p)).seq).collect();
    assert_eq!(seqs, [65_537, 65_538]);
}

#[test]
fn audio_starts_at_any_packet_and_is_never_rewritten() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(48_000);
    assert_eq!(sw.on_packet(0, &PacketInfo::opaque(5, 960, t0)), Verdict::Drop);
    sw.set_target(Some(0));
    let f = forwarded(sw.on_packet(0, &PacketInfo::opaque(6, 1920, t0)));
    assert_eq!((f.seq, f.timestamp, f.rewrite), (6, 1920, None));
    sw.set_target(None);
    sw.set_target(Some(0));
    let g = forwarded(sw.on_packet(0, &PacketInfo::opaque(60, 9600, t0)));
    assert_eq!((g.seq, g.timestamp, g.rewrite), (7, 9600, None));
}

#[test]
fn a_descriptor_without_picture_id_is_not_rewritten() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    sw.set_target(Some(0));
    forwarded(sw.on_packet(0, &Layer::new(1, 0, 9, 9).frame(true, 1, t0)[0]));
    sw.set_target(Some(1));
    // No X bit: nothing to renumber but the header.
    let f = forwarded(sw.on_packet(1, &PacketInfo::vp8(77, 0, ms(t0, 33), &[0x10, 0x00, 0xaa])));
    assert_eq!((f.seq, f.rewrite), (2, None));
    // A garbage payload on the current layer still flows, untouched.
    let g = forwarded(sw.on_packet(1, &PacketInfo::vp8(78, 0, ms(t0, 34), &[0xff])));
    assert_eq!((g.seq, g.rewrite), (3, None));
}

#[test]
fn a_keyframe_tells_its_frame_size() {
    // Descriptor with a 15-bit picture id, TL0PICIDX and TID; then a keyframe's frame tag,
    // the start code and 960 × 540 (with scaling bits set above the 14 bits of each).
    let mut key = vec![0x90, 0xe0, 0x81, 0x23, 0x05, 0x40, 0x50, 0x2a, 0x01, 0x9d, 0x01, 0x2a];
    key.extend_from_slice(&(960u16 | 0x4000).to_le_bytes());
    key.extend_from_slice(&(540u16 | 0xc000).to_le_bytes());
    let d = Descriptor::parse(&key).unwrap();
    assert_eq!(d.keyframe_size(&key), Some((960, 540)));
    // No descriptor extensions, 240 × 135.
    let plain = [0x10, 0x50, 0x2a, 0x01, 0x9d, 0x01, 0x2a, 0xf0, 0x00, 0x87, 0x00];
    assert_eq!(Descriptor::parse(&plain).unwrap().keyframe_size(&plain), Some((240, 135)));
    // A delta frame, a later packet of the keyframe, a wrong start code, a truncated header.
    let mut delta = plain;
    delta[1] |= 0x01;
    assert_eq!(Descriptor::parse(&delta).unwrap().keyframe_size(&delta), None);
    let mut later = plain;
    later[0] = 0x00;
    assert_eq!(Descriptor::parse(&later).unwrap().keyframe_size(&later), None);
    let mut wrong = plain;
    wrong[5] = 0x02;
    assert_eq!(Descriptor::parse(&wrong).unwrap().keyframe_size(&wrong), None);
    for cut in 2..plain.len() {
        assert_eq!(Descriptor::parse(&plain[..cut]).unwrap().keyframe_size(&plain[..cut]), None, "cut at {cut}");
    }
}

#[test]
fn descriptors_are_read_with_and_without_extensions() {
    let d = Descriptor::parse(&[0x90, 0xe0, 0x81, 0x23, 0x05, 0x40, 0x00]).unwrap();
    assert!(d.starts_keyframe());
    assert_eq!(d.picture_id, Some(PictureId { value: 0x123, wide: true }));
    assert_eq!(d.tl0picidx, Some(5));
    assert_eq!(d.temporal, Some(Temporal { tid: Some(1), layer_sync: false, keyidx: None }));
    assert_eq!(d.header_len(), 6);
    let short = Descriptor::parse(&[0x90, 0x80, 0x05, 0x9c]).unwrap();
    assert_eq!(short.picture_id, Some(PictureId { value: 5, wide: false }));
    assert!(short.starts_keyframe());
    assert!(!Descriptor::parse(&[0x10, 0x01]).unwrap().starts_keyframe());
    assert!(!Descriptor::parse(&[0x11, 0x00]).unwrap().starts_keyframe());
    // Truncated: no descriptor, or no VP8 byte after it.
    for truncated in [&[][..], &[0x10], &[0x90, 0x80, 0x85], &[0x90, 0xe0, 0x81, 0x23, 0x05, 0x40]] {
        assert_eq!(Descriptor::parse(truncated), None);
    }
}

#[test]
fn a_rewrite_is_one_copy_or_nothing() {
    let payload = [0x90, 0xe0, 0x81, 0x23, 0x05, 0x40, 0x00, 0xaa, 0xbb];
    let mut out = [0u8; 16];
    let same = Vp8Rewrite { picture_id: Some(0x123), tl0picidx: Some(5) };
    assert_eq!(same.write(&payload, &mut out), Ok(Rewritten::Unchanged));
    assert_eq!(out, [0; 16]);
    let new = Vp8Rewrite { picture_id: Some(0x7abc), tl0picidx: Some(6) };
    assert_eq!(new.write(&payload, &mut out), Ok(Rewritten::Written(9)));
    assert_eq!(out[..9], [0x90, 0xe0, 0xfa, 0xbc, 0x06, 0x40, 0x00, 0xaa, 0xbb]);
    assert_eq!(new.write(&payload, &mut [0; 8]), Err(BufferTooSmall));
    let mut copy = payload;
    assert!(new.apply_in_place(&mut copy));
    assert_eq!(copy[..], out[..9]);
    // Fields the packet does not carry are not invented.
    assert_eq!(new.write(&[0x10, 0x00, 0xaa], &mut out), Ok(Rewritten::Unchanged));
}

#[test]
fn a_keyframe_older_than_what_the_layer_sent_before_the_switch_is_no_place_either() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    let (mut low, mut high) = (Layer::new(1, 0, 0, 0), Layer::new(100, 0, 0, 0));
    sw.set_target(Some(0));
    forwarded(sw.on_packet(0, &low.frame(true, 1, t0)[0]));
    // The high layer flows past this subscriber before the allocator picks it.
    let old_key = high.frame(true, 2, t0);
    assert_eq!(sw.on_packet(1, &old_key[1]), Verdict::Drop);
    sw.set_target(Some(1));
    assert_eq!(sw.on_packet(1, &old_key[0]), Verdict::Drop);
    assert_eq!(sw.current(), Some(0));
}

#[test]
fn a_target_that_starts_counting_again_is_still_taken_at_its_keyframe() {
    let t0 = Instant::now();
    let mut sw = LayerSwitch::new(VIDEO_CLOCK_RATE);
    let (mut low, mut high) = (Layer::new(1, 0, 0, 0), Layer::new(50_000, 0, 0, 0));
    sw.set_target(Some(0));
    forwarded(sw.on_packet(0, &low.frame(true, 1, t0)[0]));
    assert_eq!(sw.on_packet(1, &high.frame(false, 1, t0)[0]), Verdict::Drop);
    // The publisher's high layer was replaced (a new SSRC) and numbers from 10.
    sw.set_target(Some(1));
    let key = Layer::new(10, 0, 0, 0).frame(true, 1, ms(t0, 33));
    assert!(forwarded(sw.on_packet(1, &key[0])).starts_layer);
}

#[test]
fn the_state_is_small() {
    // Copied per subscriber per track and touched on every packet.
    assert!(std::mem::size_of::<LayerSwitch>() <= 160, "{}", std::mem::size_of::<LayerSwitch>());
    assert!(std::mem::size_of::<PacketInfo>() <= 48, "{}", std::mem::size_of::<PacketInfo>());
}

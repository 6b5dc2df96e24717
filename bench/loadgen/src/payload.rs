//! What a synthetic participant sends: Opus- and VP8-shaped frames whose bytes carry a probe
//! (publisher, sequence number, send time) so every receiver measures loss and one-way delay
//! on the same clock. VP8 frames have a real frame tag, so an SFU finds keyframes.

/// Marks the probe inside a frame.
const MAGIC: [u8; 4] = *b"HVLG";
const PROBE_BYTES: usize = 4 + 4 + 4 + 8 + 1;

/// Opus at 20 ms: ~100 B.
pub const AUDIO_BYTES: usize = 100;
/// ~800 kbit/s at 30 frames/s: three ~1100 B packets a frame.
pub const DELTA_FRAME_BYTES: usize = 3200;
/// A keyframe answering a PLI: a burst of about eight packets.
pub const KEYFRAME_BYTES: usize = 8800;

/// One simulcast layer as a browser sends it (`--simulcast`): its rid, its picture size
/// (written into keyframes) and its frame sizes at 30 frames/s.
#[derive(Debug, Clone, Copy)]
pub struct LayerShape {
    pub rid: &'static str,
    pub width: u16,
    pub height: u16,
    pub delta_bytes: usize,
    pub keyframe_bytes: usize,
}

/// Chromium's three layers of a 640×360 camera (Haven's web client: q, h, f scaled down 4, 2,
/// 1), at about 150, 450 and 1200 kbit/s of payload; keyframes about three times a frame.
pub const LAYERS: [LayerShape; 3] = [
    LayerShape { rid: "q", width: 160, height: 90, delta_bytes: 625, keyframe_bytes: 2_000 },
    LayerShape { rid: "h", width: 320, height: 180, delta_bytes: 1_875, keyframe_bytes: 5_600 },
    LayerShape { rid: "f", width: 640, height: 360, delta_bytes: 5_000, keyframe_bytes: 13_000 },
];

/// The one stream of a participant without simulcast (layer 0 in probes).
pub const SINGLE: LayerShape =
    LayerShape { rid: "", width: 160, height: 120, delta_bytes: DELTA_FRAME_BYTES, keyframe_bytes: KEYFRAME_BYTES };

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub publisher: u32,
    pub seq: u32,
    /// Microseconds since the generator's epoch.
    pub sent_us: u64,
    /// The simulcast layer the frame was sent on (0 without simulcast): a subscriber gets
    /// one layer of each publisher, the same frame numbers on each.
    pub layer: u8,
}

fn put_probe(out: &mut Vec<u8>, probe: Probe) {
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&probe.publisher.to_le_bytes());
    out.extend_from_slice(&probe.seq.to_le_bytes());
    out.extend_from_slice(&probe.sent_us.to_le_bytes());
    out.push(probe.layer);
}

/// An Opus-shaped packet: a TOC byte (20 ms SILK frame), the probe, padding.
pub fn audio(probe: Probe) -> Vec<u8> {
    let mut out = Vec::with_capacity(AUDIO_BYTES);
    out.push(0x08);
    put_probe(&mut out, probe);
    out.resize(AUDIO_BYTES, 0xa5);
    out
}

/// A VP8 frame: the 3-byte frame tag (P bit clear on a keyframe), the keyframe start code
/// and the layer's picture size, the probe, padding up to the frame's size.
pub fn vp8(probe: Probe, keyframe: bool, shape: &LayerShape) -> Vec<u8> {
    let size = if keyframe { shape.keyframe_bytes } else { shape.delta_bytes };
    let first_partition = (size as u32 - 10) & 0x7_ffff;
    // size(19) | show_frame(1) | version(3) | P(1), little endian.
    let tag = (first_partition << 5) | (1 << 4) | u32::from(!keyframe);
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&tag.to_le_bytes()[..3]);
    if keyframe {
        out.extend_from_slice(&[0x9d, 0x01, 0x2a]);
        out.extend_from_slice(&shape.width.to_le_bytes());
        out.extend_from_slice(&shape.height.to_le_bytes());
    }
    put_probe(&mut out, probe);
    out.resize(size, 0x5a);
    out
}

/// Finds the probe near the start of a received frame.
pub fn find(frame: &[u8]) -> Option<Probe> {
    let head = &frame[..frame.len().min(32)];
    let at = head.windows(4).position(|w| w == MAGIC)?;
    let p = frame.get(at..at + PROBE_BYTES)?;
    Some(Probe {
        publisher: u32::from_le_bytes(p[4..8].try_into().ok()?),
        seq: u32::from_le_bytes(p[8..12].try_into().ok()?),
        sent_us: u64::from_le_bytes(p[12..20].try_into().ok()?),
        layer: p[20],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_survive_both_shapes() {
        let probe = Probe { publisher: 7, seq: 99, sent_us: 123_456_789, layer: 2 };
        assert_eq!(find(&audio(probe)), Some(probe));
        for shape in LAYERS.iter().chain([&SINGLE]) {
            assert_eq!(find(&vp8(probe, true, shape)), Some(probe));
            assert_eq!(find(&vp8(probe, false, shape)), Some(probe));
            assert_eq!(vp8(probe, true, shape)[0] & 1, 0, "keyframe P bit");
            assert_eq!(vp8(probe, false, shape)[0] & 1, 1, "delta P bit");
            assert_eq!(vp8(probe, true, shape).len(), shape.keyframe_bytes);
        }
        assert_eq!(find(&[0u8; 40]), None);
    }
}

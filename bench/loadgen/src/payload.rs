//! What a synthetic participant sends: Opus- and VP8-shaped frames whose bytes carry a probe
//! (publisher, sequence number, send time) so every receiver measures loss and one-way delay
//! on the same clock. VP8 frames have a real frame tag, so an SFU finds keyframes.

/// Marks the probe inside a frame.
const MAGIC: [u8; 4] = *b"HVLG";
const PROBE_BYTES: usize = 4 + 4 + 4 + 8;

/// Opus at 20 ms: ~100 B.
pub const AUDIO_BYTES: usize = 100;
/// ~800 kbit/s at 30 frames/s: three ~1100 B packets a frame.
pub const DELTA_FRAME_BYTES: usize = 3200;
/// A keyframe answering a PLI: a burst of about eight packets.
pub const KEYFRAME_BYTES: usize = 8800;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub publisher: u32,
    pub seq: u32,
    /// Microseconds since the generator's epoch.
    pub sent_us: u64,
}

fn put_probe(out: &mut Vec<u8>, probe: Probe) {
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&probe.publisher.to_le_bytes());
    out.extend_from_slice(&probe.seq.to_le_bytes());
    out.extend_from_slice(&probe.sent_us.to_le_bytes());
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
/// and a 160×120 size, the probe, padding up to the frame's size.
pub fn vp8(probe: Probe, keyframe: bool) -> Vec<u8> {
    let size = if keyframe { KEYFRAME_BYTES } else { DELTA_FRAME_BYTES };
    let first_partition = (size as u32 - 10) & 0x7_ffff;
    // size(19) | show_frame(1) | version(3) | P(1), little endian.
    let tag = (first_partition << 5) | (1 << 4) | u32::from(!keyframe);
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&tag.to_le_bytes()[..3]);
    if keyframe {
        out.extend_from_slice(&[0x9d, 0x01, 0x2a]);
        out.extend_from_slice(&160u16.to_le_bytes());
        out.extend_from_slice(&120u16.to_le_bytes());
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_survive_both_shapes() {
        let probe = Probe { publisher: 7, seq: 99, sent_us: 123_456_789 };
        assert_eq!(find(&audio(probe)), Some(probe));
        assert_eq!(find(&vp8(probe, true)), Some(probe));
        assert_eq!(find(&vp8(probe, false)), Some(probe));
        assert_eq!(vp8(probe, true)[0] & 1, 0, "keyframe P bit");
        assert_eq!(find(&[0u8; 40]), None);
    }
}

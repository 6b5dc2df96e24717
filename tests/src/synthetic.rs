//! Synthetic media that says who sent it. Every payload repeats `HAVEN:<id>:<kind>:<seq>;`
//! so any packet, not only a frame's first, names its publisher. VP8 frames carry a real
//! payload descriptor and frame tag, so an SFU can find frame starts and keyframes.

use std::collections::BTreeSet;

/// RTP packets this large or smaller are sent whole; bigger frames are split.
pub const MAX_VP8_CHUNK: usize = 1000;
pub const AUDIO_PAYLOAD_BYTES: usize = 100;
pub const KEYFRAME_BYTES: usize = 2400;
pub const DELTA_FRAME_BYTES: usize = 400;

pub fn marker(sender: &str, kind: char, seq: u64) -> String {
    format!("HAVEN:{sender}:{kind}:{seq};")
}

/// An Opus-shaped packet: a TOC byte (20 ms SILK frame), then markers.
pub fn opus_payload(sender: &str, seq: u64) -> Vec<u8> {
    let mut out = vec![0x08];
    fill(&mut out, &marker(sender, 'a', seq), AUDIO_PAYLOAD_BYTES);
    out
}

/// A VP8 frame: frame tag (P bit clear for a keyframe), the keyframe start code and size,
/// then markers up to the frame's length.
pub fn vp8_frame(sender: &str, seq: u64, keyframe: bool) -> Vec<u8> {
    let size = if keyframe {
        KEYFRAME_BYTES
    } else {
        DELTA_FRAME_BYTES
    };
    let first_partition = (size as u32 - 10) & 0x7_ffff;
    // size(19) | show_frame(1) | version(3) | P(1), little endian.
    let tag = (first_partition << 5) | (1 << 4) | u32::from(!keyframe);
    let mut out = tag.to_le_bytes()[..3].to_vec();
    if keyframe {
        out.extend_from_slice(&[0x9d, 0x01, 0x2a]);
        out.extend_from_slice(&160u16.to_le_bytes());
        out.extend_from_slice(&120u16.to_le_bytes());
    }
    fill(&mut out, &marker(sender, 'v', seq), size);
    out
}

/// Splits a VP8 frame into RTP payloads (RFC 7741) with a 15-bit PictureID, as browsers
/// send: S set on the first packet only. The caller sets the marker bit on the last.
pub fn vp8_packets(frame: &[u8], picture_id: u16) -> Vec<Vec<u8>> {
    let pid = picture_id & 0x7fff;
    frame
        .chunks(MAX_VP8_CHUNK)
        .enumerate()
        .map(|(i, chunk)| {
            let start = if i == 0 { 0x10 } else { 0x00 };
            let mut p = vec![0x80 | start, 0x80, 0x80 | (pid >> 8) as u8, pid as u8];
            p.extend_from_slice(chunk);
            p
        })
        .collect()
}

fn fill(out: &mut Vec<u8>, marker: &str, size: usize) {
    while out.len() < size {
        out.extend_from_slice(marker.as_bytes());
    }
    out.truncate(size);
}

/// Whether a VP8 RTP payload starts a keyframe: S set, partition 0, P bit clear.
pub fn vp8_is_keyframe_start(payload: &[u8]) -> bool {
    let Some(&b0) = payload.first() else {
        return false;
    };
    if b0 & 0x10 == 0 || b0 & 0x07 != 0 {
        return false;
    }
    let mut i = 1;
    if b0 & 0x80 != 0 {
        let Some(&x) = payload.get(1) else {
            return false;
        };
        i = 2;
        if x & 0x80 != 0 {
            match payload.get(i) {
                Some(b) if b & 0x80 != 0 => i += 2,
                Some(_) => i += 1,
                None => return false,
            }
        }
        if x & 0x40 != 0 {
            i += 1;
        }
        if x & 0x30 != 0 {
            i += 1;
        }
    }
    payload.get(i).is_some_and(|b| b & 0x01 == 0)
}

/// The `(sender, kind)` of every complete marker in `payload`.
pub fn markers_in(payload: &[u8]) -> BTreeSet<(String, char)> {
    const TAG: &[u8] = b"HAVEN:";
    let mut found = BTreeSet::new();
    let mut rest = payload;
    while let Some(at) = find(rest, TAG) {
        rest = &rest[at + TAG.len()..];
        let Some(end) = rest.iter().position(|&b| b == b';') else {
            break;
        };
        if let Ok(text) = std::str::from_utf8(&rest[..end]) {
            let mut parts = text.split(':');
            if let (Some(id), Some(kind), Some(seq), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            {
                let kind = kind.chars().next().filter(|_| kind.len() == 1);
                if let (Some(kind), true) = (kind, seq.parse::<u64>().is_ok()) {
                    found.insert((id.to_string(), kind));
                }
            }
        }
        rest = &rest[end..];
    }
    found
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyframe_packets_are_recognised_and_delta_packets_are_not() {
        let key = vp8_packets(&vp8_frame("p1", 0, true), 7);
        let delta = vp8_packets(&vp8_frame("p1", 1, false), 8);
        assert!(key.len() > 1, "a keyframe spans several packets");
        assert!(vp8_is_keyframe_start(&key[0]));
        assert!(
            !vp8_is_keyframe_start(&key[1]),
            "only the first packet starts the frame"
        );
        assert_eq!(delta.len(), 1);
        assert!(!vp8_is_keyframe_start(&delta[0]));
    }

    #[test]
    fn every_packet_names_its_sender() {
        for p in vp8_packets(&vp8_frame("pX9", 3, true), 1) {
            assert_eq!(markers_in(&p), BTreeSet::from([("pX9".to_string(), 'v')]));
        }
        assert_eq!(
            markers_in(&opus_payload("pX9", 3)),
            BTreeSet::from([("pX9".to_string(), 'a')])
        );
    }
}

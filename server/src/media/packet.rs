//! What the forwarder reads and rewrites in an RTP packet it passes on unchanged otherwise:
//! where a VP8 keyframe starts, and each subscriber's own sequence numbers.

/// Whether a VP8 RTP payload (RFC 7741) starts a keyframe: the first packet of a frame's first
/// partition, whose VP8 payload header has the inverse key-frame bit clear.
pub fn starts_vp8_keyframe(payload: &[u8]) -> bool {
    let Some(&descriptor) = payload.first() else { return false };
    let start_of_partition = descriptor & 0x10 != 0;
    let partition_id = descriptor & 0x07;
    if !start_of_partition || partition_id != 0 {
        return false;
    }
    let mut header = 1;
    if descriptor & 0x80 != 0 {
        // Extension bits: I (picture id, 7 or 15 bits), L (TL0PICIDX), T or K (TID/KEYIDX).
        let Some(&extensions) = payload.get(1) else { return false };
        header = 2;
        if extensions & 0x80 != 0 {
            let Some(&picture_id) = payload.get(header) else { return false };
            header += if picture_id & 0x80 != 0 { 2 } else { 1 };
        }
        if extensions & 0x40 != 0 {
            header += 1;
        }
        if extensions & 0x30 != 0 {
            header += 1;
        }
    }
    payload.get(header).is_some_and(|vp8_header| vp8_header & 0x01 == 0)
}

/// A difference in the publisher's sequence numbers bigger than any reordering or repairable
/// loss (10 s of video).
const RENUMBER_JUMP: u64 = 3000;

/// One subscriber's sequence numbers for one forwarded track. Packets the SFU chose not to
/// send (before a subscriber's first keyframe, while the publisher is muted) leave no hole,
/// or the subscriber would ask for them again and count them lost; a real loss upstream keeps
/// its hole, which the subscriber's NACK and str0m's retransmission upstream can fill.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeqRewrite {
    /// The publisher's last sequence number seen.
    last_in: Option<u64>,
    /// Subtracted from the publisher's extended sequence number.
    offset: u64,
    /// The first publisher sequence number of the current run: older ones (late
    /// retransmissions of packets that were skipped) are not sent.
    floor: u64,
    last_out: Option<u64>,
    /// Packets were skipped: the next one sent follows `last_out` directly.
    skipped: bool,
}

impl SeqRewrite {
    /// A packet was not sent to this subscriber.
    pub fn skip(&mut self) {
        self.skipped = true;
    }

    /// The subscriber's sequence number for the publisher's `seq`, or `None` if the packet
    /// belongs before the current run and must not be sent.
    pub fn map(&mut self, seq: u64) -> Option<u64> {
        // A jump this far is a new numbering (the publisher's stream was replaced) or an
        // outage too long to repair: continue without a hole rather than drop everything
        // below the old floor or invite a storm of NACKs.
        if self.last_in.is_some_and(|last| seq.abs_diff(last) > RENUMBER_JUMP) {
            self.skipped = true;
        }
        self.last_in = Some(match self.last_in {
            Some(last) if !self.skipped => last.max(seq),
            // A new run (perhaps a new numbering, lower than the old): it starts here.
            _ => seq,
        });
        match self.last_out {
            None => {
                // Start at rollover counter 0, which the subscriber's SRTP assumes.
                self.offset = seq & !0xffff;
                self.floor = seq;
            }
            Some(last) if self.skipped => {
                self.offset = seq.wrapping_sub(last.wrapping_add(1));
                self.floor = seq;
            }
            Some(_) => {}
        }
        self.skipped = false;
        if seq < self.floor {
            return None;
        }
        let out = seq.wrapping_sub(self.offset);
        self.last_out = Some(self.last_out.map_or(out, |last| last.max(out)));
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vp8_keyframe_starts_are_found_with_and_without_extensions() {
        // S=1, PID=0, then a VP8 header with P=0 (key) or P=1 (delta).
        assert!(starts_vp8_keyframe(&[0x10, 0x00]));
        assert!(!starts_vp8_keyframe(&[0x10, 0x01]));
        // Not the start of the partition, or not partition 0.
        assert!(!starts_vp8_keyframe(&[0x00, 0x00]));
        assert!(!starts_vp8_keyframe(&[0x11, 0x00]));
        // X with a 15-bit picture id (as browsers send), TL0PICIDX and TID.
        assert!(starts_vp8_keyframe(&[0x90, 0xe0, 0x81, 0x23, 0x05, 0x40, 0x00]));
        assert!(!starts_vp8_keyframe(&[0x90, 0xe0, 0x81, 0x23, 0x05, 0x40, 0x01]));
        // X with a 7-bit picture id.
        assert!(starts_vp8_keyframe(&[0x90, 0x80, 0x05, 0x9c]));
        // Truncated payloads are not keyframes.
        assert!(!starts_vp8_keyframe(&[]));
        assert!(!starts_vp8_keyframe(&[0x10]));
        assert!(!starts_vp8_keyframe(&[0x90, 0x80, 0x85]));
    }

    #[test]
    fn a_subscriber_starts_at_rollover_zero_and_keeps_upstream_holes() {
        let mut s = SeqRewrite::default();
        let base = 3 * 65536 + 100;
        assert_eq!(s.map(base), Some(100));
        assert_eq!(s.map(base + 1), Some(101));
        // Lost upstream: the hole stays, so the subscriber asks for it.
        assert_eq!(s.map(base + 3), Some(103));
        // The retransmission fills it.
        assert_eq!(s.map(base + 2), Some(102));
    }

    #[test]
    fn skipped_packets_leave_no_hole_and_are_never_sent_late() {
        let mut s = SeqRewrite::default();
        assert_eq!(s.map(10), Some(10));
        assert_eq!(s.map(11), Some(11));
        for _ in 12..20 {
            s.skip();
        }
        assert_eq!(s.map(20), Some(12));
        assert_eq!(s.map(21), Some(13));
        // A late retransmission of a skipped packet would collide with what was sent.
        assert_eq!(s.map(15), None);
        assert_eq!(s.map(22), Some(14));
    }

    #[test]
    fn a_new_numbering_upstream_continues_without_a_hole() {
        let mut s = SeqRewrite::default();
        assert_eq!(s.map(40_000), Some(40_000));
        assert_eq!(s.map(40_001), Some(40_001));
        // The publisher's stream was replaced and counts from somewhere else.
        assert_eq!(s.map(7), Some(40_002));
        assert_eq!(s.map(8), Some(40_003));
        assert_eq!(s.map(90_000), Some(40_004));
    }

    #[test]
    fn sequence_numbers_cross_the_16_bit_boundary() {
        let mut s = SeqRewrite::default();
        assert_eq!(s.map(65535), Some(65535));
        assert_eq!(s.map(65536), Some(65536));
    }
}

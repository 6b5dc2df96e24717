use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use crate::io::DATAGRAM_MAX_PACKET_SIZE;
use crate::packet::Vp8Patch;
use crate::rtp_::{ExtensionValues, Pt, RtpHeader, SeqNo, Ssrc};

use super::RtpPacket;
use super::rtx_cache_buf::EvictingBuffer;

const RTX_CACHE_SIZE_QUANTIZER: usize = 25;
const RTX_CACHE_QUANTIZE_SLOTS: usize = DATAGRAM_MAX_PACKET_SIZE / RTX_CACHE_SIZE_QUANTIZER;

/// Haven patch 6: what a resend needs of a sent packet, not the whole `RtpPacket` (~430 bytes,
/// most of them an `RtpHeader` whose CSRC list and extension values are usually empty).
///
/// The payload is shared with the packet that was sent (the `Arc` the caller handed in, no
/// copy). The CSRCs and extension values, when there are any, are kept behind an `Arc` that
/// consecutive packets with the same values share (see [`RtxCache::cache_sent_packet`]).
/// [`RtxEntry::header`] rebuilds the header the cached `RtpPacket` held.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RtxEntry {
    pub seq_no: SeqNo,
    pub payload: Arc<[u8]>,
    extras: Option<Arc<RtxExtras>>,
    sequence_number: u16,
    timestamp: u32,
    pt: Pt,
    marker: bool,
    pub vp8_patch: Option<Vp8Patch>,
}

/// Haven patch 6: the rarely set part of a cached packet's header.
#[derive(Debug, PartialEq, Eq)]
struct RtxExtras {
    csrc_count: usize,
    csrc: [u32; 15],
    ext_vals: ExtensionValues,
}

// The extras are never changed once cached. `Rtc` is unwind safe while it holds the same
// values by value (a packet in the send queue); sharing them through an `Arc` changes nothing
// about that, but `Arc<T>` asks `T: RefUnwindSafe`, which user values' `dyn Any` is not.
impl std::panic::RefUnwindSafe for RtxExtras {}

impl RtxEntry {
    /// `last`: the extras of the packet cached before, shared when this packet's are equal.
    fn new(packet: RtpPacket, last: &mut Option<Arc<RtxExtras>>) -> Self {
        let RtpPacket {
            seq_no,
            header,
            payload,
            vp8_patch,
            ..
        } = packet;
        let RtpHeader {
            csrc_count,
            marker,
            payload_type,
            sequence_number,
            timestamp,
            csrc,
            ext_vals,
            ..
        } = header;
        let extras = if csrc_count == 0 && ext_vals == ExtensionValues::default() {
            None
        } else {
            // User values compare by their types only: never shared.
            let shareable = !ext_vals.user_values.is_set();
            match last {
                Some(l)
                    if shareable
                        && l.csrc_count == csrc_count
                        && l.csrc == csrc
                        && l.ext_vals == ext_vals =>
                {
                    Some(l.clone())
                }
                _ => {
                    let extras = Arc::new(RtxExtras {
                        csrc_count,
                        csrc,
                        ext_vals,
                    });
                    *last = shareable.then(|| extras.clone());
                    Some(extras)
                }
            }
        };
        RtxEntry {
            seq_no,
            payload,
            extras,
            sequence_number,
            timestamp,
            pt: payload_type,
            marker,
            vp8_patch,
        }
    }

    /// The header the packet was cached with (as `StreamTx::write_rtp` built it, with the
    /// changes `poll_packet` made to it before caching), on the stream's `ssrc`.
    pub fn header(&self, ssrc: Ssrc) -> RtpHeader {
        let mut header = RtpHeader {
            marker: self.marker,
            payload_type: self.pt,
            sequence_number: self.sequence_number,
            timestamp: self.timestamp,
            ssrc,
            ..Default::default()
        };
        if let Some(extras) = &self.extras {
            header.csrc_count = extras.csrc_count;
            header.csrc = extras.csrc;
            header.ext_vals = extras.ext_vals.clone();
        }
        header
    }

    /// Fill `pkt` (a scratch packet) for a resend: the header, payload and VP8 patch of the
    /// packet this entry was cached from.
    pub fn fill(&self, pkt: &mut RtpPacket, ssrc: Ssrc) {
        pkt.seq_no = self.seq_no;
        pkt.header = self.header(ssrc);
        pkt.payload = self.payload.clone();
        pkt.vp8_patch = self.vp8_patch;
        pkt.nackable = true;
    }
}

#[derive(Debug)]
pub(crate) struct RtxCache {
    // Data, new additions here probably need to be cleared in [`clear`].
    packet_by_seq_no: EvictingBuffer<RtxEntry>,

    // Technically we want [Option<SeqNo>; X] to indicate the absence of
    // a SeqNo. However We can half the storage space by using the sentinel
    // values SeqNo::MAX to indicate None
    seq_no_by_quantized_size: [SeqNo; RTX_CACHE_QUANTIZE_SLOTS],

    // Haven patch 6: the last cached extras, shared with the next packet if equal.
    last_extras: Option<Arc<RtxExtras>>,
}

impl RtxCache {
    pub fn new(max_packet_count: usize, max_packet_age: Duration) -> Self {
        Self {
            packet_by_seq_no: EvictingBuffer::new(10, max_packet_age, max_packet_count),
            seq_no_by_quantized_size: [SeqNo::MAX; RTX_CACHE_QUANTIZE_SLOTS],
            last_extras: None,
        }
    }

    pub fn cache_sent_packet(&mut self, packet: RtpPacket, now: Instant) {
        assert!(packet.nackable);
        let seq_no = packet.seq_no;
        let quantized_size = packet.payload.len() / RTX_CACHE_SIZE_QUANTIZER;
        let entry = RtxEntry::new(packet, &mut self.last_extras);
        self.packet_by_seq_no.push(*seq_no, now, entry);
        self.seq_no_by_quantized_size[quantized_size] = seq_no;
        self.remove_old_packets(now);
    }

    pub fn last_cached_seq_no(&self) -> Option<SeqNo> {
        Some(self.packet_by_seq_no.last_position()?.into())
    }

    pub fn get_cached_packet_by_seq_no(&self, seq_no: SeqNo) -> Option<&RtxEntry> {
        self.packet_by_seq_no.get(*seq_no)
    }

    pub fn get_cached_packet_smaller_than(&self, max_size: usize) -> Option<&RtxEntry> {
        let quantized_size = max_size / RTX_CACHE_SIZE_QUANTIZER;

        let seq_no = self.seq_no_by_quantized_size[..quantized_size]
            .iter()
            .rev()
            .filter(|seq_no| !seq_no.is_max())
            .find(|seq_no| self.packet_by_seq_no.contains(***seq_no))?;

        self.get_cached_packet_by_seq_no(*seq_no)
    }

    fn remove_old_packets(&mut self, now: Instant) {
        self.packet_by_seq_no.maybe_evict(now);
    }

    pub(crate) fn last_packet(&self) -> Option<&[u8]> {
        let packet = self.packet_by_seq_no.last()?;
        Some(packet.payload.as_ref())
    }

    pub(crate) fn clear(&mut self) {
        self.packet_by_seq_no.clear();
        self.seq_no_by_quantized_size = [SeqNo::MAX; RTX_CACHE_QUANTIZE_SLOTS];
        self.last_extras = None;
    }
}

#[cfg(test)]
mod test {
    use crate::rtp_::MediaTime;
    use crate::rtp_::RtpHeader;

    use super::*;

    fn after(now: Instant, millis: u64) -> Instant {
        now + Duration::from_millis(millis)
    }

    fn packet(now: Instant, seq_no: u64, millis: u64) -> RtpPacket {
        RtpPacket {
            header: RtpHeader::default(),
            seq_no: seq_no.into(),
            time: MediaTime::from_90khz(0),
            payload: millis.to_be_bytes().into(),
            vp8_patch: None,
            timestamp: after(now, millis),
            last_sender_info: None,
            nackable: true,
        }
    }

    fn entry(now: Instant, seq_no: u64, millis: u64) -> RtxEntry {
        RtxEntry::new(packet(now, seq_no, millis), &mut None)
    }

    // Haven patch 6: a packet with CSRCs, extension values and a VP8 patch, as the send
    // path caches it.
    fn rich_packet(now: Instant, seq_no: u64, orientation: u8) -> RtpPacket {
        let mut pkt = packet(now, seq_no, 10);
        pkt.header = RtpHeader {
            marker: seq_no % 2 == 1,
            payload_type: 96.into(),
            sequence_number: seq_no as u16,
            timestamp: 3000 * seq_no as u32,
            ssrc: 7.into(),
            csrc_count: 2,
            csrc: [11, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            ext_vals: ExtensionValues {
                video_orientation: Some(orientation.into()),
                mid: Some("v1".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let descriptor = crate::packet::Vp8Descriptor::parse(&[0x90, 0x80, 0x81, 0x23, 0x9d]);
        pkt.vp8_patch = Some(
            descriptor
                .unwrap()
                .patch()
                .picture_id(0x456)
                .build()
                .unwrap(),
        );
        pkt
    }

    #[test]
    fn an_entry_gives_back_the_cached_header_payload_and_patch() {
        let now = Instant::now();
        let mut rtx_cache = RtxCache::new(10, Duration::from_secs(3));
        for seq_no in [1, 2] {
            rtx_cache.cache_sent_packet(rich_packet(now, seq_no, 1), now);
            rtx_cache.cache_sent_packet(packet(now, seq_no + 2, 20), now);
        }
        for seq_no in [1, 2] {
            let original = rich_packet(now, seq_no, 1);
            let entry = rtx_cache
                .get_cached_packet_by_seq_no(seq_no.into())
                .unwrap();
            let mut resend = RtpPacket::blank();
            entry.fill(&mut resend, 7.into());
            assert_eq!(resend.seq_no, original.seq_no);
            assert_eq!(resend.header, original.header);
            assert_eq!(resend.payload, original.payload);
            assert_eq!(resend.vp8_patch, original.vp8_patch);
            assert!(resend.nackable);
        }
        // A packet without CSRCs or extension values keeps none.
        let plain = rtx_cache.get_cached_packet_by_seq_no(3.into()).unwrap();
        assert!(plain.extras.is_none());
        assert_eq!(plain.header(0.into()), packet(now, 3, 20).header);
    }

    #[test]
    fn equal_extras_are_shared_and_user_values_never() {
        let now = Instant::now();
        let mut rtx_cache = RtxCache::new(10, Duration::from_secs(3));
        rtx_cache.cache_sent_packet(rich_packet(now, 1, 1), now);
        rtx_cache.cache_sent_packet(rich_packet(now, 2, 1), now);
        rtx_cache.cache_sent_packet(rich_packet(now, 3, 2), now);
        let extras = |rtx_cache: &RtxCache, seq_no: u64| {
            let entry = rtx_cache
                .get_cached_packet_by_seq_no(seq_no.into())
                .unwrap();
            entry.extras.clone().unwrap()
        };
        assert!(Arc::ptr_eq(&extras(&rtx_cache, 1), &extras(&rtx_cache, 2)));
        assert!(!Arc::ptr_eq(&extras(&rtx_cache, 2), &extras(&rtx_cache, 3)));
        assert_eq!(
            rtx_cache
                .get_cached_packet_by_seq_no(3.into())
                .unwrap()
                .header(7.into()),
            rich_packet(now, 3, 2).header
        );

        // User values compare by type only, so two packets' values are never taken as one.
        #[derive(Debug, PartialEq)]
        struct Level(u8);
        for (seq_no, level) in [(4, 1), (5, 2)] {
            let mut pkt = rich_packet(now, seq_no, 2);
            pkt.header.ext_vals.user_values.set(Level(level));
            rtx_cache.cache_sent_packet(pkt, now);
        }
        let level = |seq_no: u64| {
            let header = rtx_cache
                .get_cached_packet_by_seq_no(seq_no.into())
                .unwrap()
                .header(7.into());
            header.ext_vals.user_values.get::<Level>().map(|l| l.0)
        };
        assert_eq!(level(4), Some(1));
        assert_eq!(level(5), Some(2));
    }

    #[test]
    fn rtx_cache_0_sized() {
        let now = Instant::now();
        let mut rtx_cache = RtxCache::new(0, Duration::from_secs(3));
        rtx_cache.cache_sent_packet(packet(now, 1, 10), after(now, 10));
        assert_eq!(
            Some(&entry(now, 1, 10)),
            rtx_cache.get_cached_packet_by_seq_no(1.into())
        );
        assert_eq!(
            Some(&entry(now, 1, 10)),
            rtx_cache.get_cached_packet_smaller_than(1000)
        );
    }

    #[test]
    fn rtx_cache_0_duration() {
        let now = Instant::now();
        let mut rtx_cache = RtxCache::new(10, Duration::from_secs(0));
        rtx_cache.cache_sent_packet(packet(now, 1, 10), after(now, 10));
        assert_eq!(None, rtx_cache.get_cached_packet_by_seq_no(1.into()));
        assert_eq!(None, rtx_cache.get_cached_packet_smaller_than(1000));
    }

    #[test]
    fn rtx_cache_1_sized() {
        let now = Instant::now();
        let mut rtx_cache = RtxCache::new(1, Duration::from_secs(3));
        rtx_cache.cache_sent_packet(packet(now, 1, 10), after(now, 10));
        assert_eq!(
            Some(&entry(now, 1, 10)),
            rtx_cache.get_cached_packet_by_seq_no(1.into())
        );
        assert_eq!(
            Some(&entry(now, 1, 10)),
            rtx_cache.get_cached_packet_smaller_than(1000)
        );
        assert_eq!(
            Some(&entry(now, 1, 10)),
            rtx_cache.get_cached_packet_smaller_than(25)
        );
        assert_eq!(None, rtx_cache.get_cached_packet_smaller_than(24));
        rtx_cache.cache_sent_packet(packet(now, 2, 20), after(now, 20));
        assert_eq!(
            Some(&entry(now, 2, 20)),
            rtx_cache.get_cached_packet_by_seq_no(2.into())
        );
    }

    #[test]
    fn rtx_cache_100_sized_backwards() {
        let now = Instant::now();
        let mut rtx_cache = RtxCache::new(100, Duration::from_secs(3));

        for i in 1..=200 {
            let seq_no = 201 - i;
            let pkt = packet(now, seq_no, (201 - i) * 10);
            let now = after(now, i * 10);
            rtx_cache.cache_sent_packet(pkt, now);
        }

        assert_eq!(
            Some(&entry(now, 200, 2000)),
            rtx_cache.get_cached_packet_by_seq_no(200.into())
        );
        assert_eq!(None, rtx_cache.get_cached_packet_by_seq_no(100.into()));
        assert_eq!(None, rtx_cache.get_cached_packet_by_seq_no(101.into()));
    }

    #[test]
    fn rtx_cache_eviction() {
        let now = Instant::now();
        // Cache can take all entries
        let mut rtx_cache = RtxCache::new(400, Duration::from_secs(1));
        for i in 1..=200 {
            let seq_no = i;
            let pkt = packet(now, seq_no, i * 10);
            let now = after(now, i * 10);
            rtx_cache.cache_sent_packet(pkt, now);
        }

        assert_eq!(None, rtx_cache.get_cached_packet_by_seq_no(99.into()));

        assert_eq!(
            Some(&entry(now, 100, 1000)),
            rtx_cache.get_cached_packet_by_seq_no(100.into())
        );
        assert_eq!(
            Some(&entry(now, 200, 2000)),
            rtx_cache.get_cached_packet_by_seq_no(200.into())
        );
    }
}

//! Haven patch: `Rtc::forward_rtp` between two connected `Rtc`s (L sends, R receives).
//!
//! A minimal harness in the spirit of str0m's `tests/common.rs` (which is not vendored):
//! datagrams are handed over at once, time moves in fixed steps, and a forwarded packet is
//! delivered or dropped by the test itself.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::bwe::Bitrate;
use crate::format::Codec;
use crate::media::{MediaKind, Mid, Pt};
use crate::net::{Protocol, Receive};
use crate::packet::Vp8Descriptor;
use crate::rtp::rtcp::Rtcp;
use crate::rtp::{ExtensionValues, FORWARD_RTP_BUFFER_LEN, ForwardRefusal, RawPacket, RtpWrite, Ssrc, VideoOrientation};
use crate::{Candidate, Event, Input, Output, Rtc};

const SSRC: u32 = 42;
const RTX: u32 = 44;
const STEP: Duration = Duration::from_millis(2);

struct Side {
    rtc: Rtc,
    events: Vec<Event>,
}

struct Pair {
    l: Side,
    r: Side,
    now: Instant,
    mid: Mid,
    pt: Pt,
    rtx_pt: Pt,
}

impl Pair {
    /// L sends VP8 to R on one stream (with RTX); `bwe` gives L a pacer.
    fn connected(bwe: bool) -> Pair {
        let now = Instant::now();
        let mut l = Rtc::builder().set_rtp_mode(true);
        if bwe {
            l = l.enable_bwe(Some(Bitrate::kbps(1000)));
        }
        let l = l.build(now);
        let r = Rtc::builder().set_rtp_mode(true).enable_raw_packets(true).build(now);
        let vp8 = l.codec_config().find(|p| p.spec().codec == Codec::Vp8).unwrap().clone();
        let mid: Mid = "vid".into();
        let mut pair = Pair {
            l: Side { rtc: l, events: vec![] },
            r: Side { rtc: r, events: vec![] },
            now,
            mid,
            pt: vp8.pt(),
            rtx_pt: vp8.resend().unwrap(),
        };
        let (l, r) = (&mut pair.l.rtc, &mut pair.r.rtc);
        let host_l = Candidate::host((Ipv4Addr::new(1, 1, 1, 1), 1000).into(), "udp").unwrap();
        let host_r = Candidate::host((Ipv4Addr::new(2, 2, 2, 2), 2000).into(), "udp").unwrap();
        l.add_local_candidate(host_l.clone());
        l.add_remote_candidate(host_r.clone());
        r.add_local_candidate(host_r);
        r.add_remote_candidate(host_l);
        let finger_l = l.direct_api().local_dtls_fingerprint().clone();
        let finger_r = r.direct_api().local_dtls_fingerprint().clone();
        l.direct_api().set_remote_fingerprint(finger_r);
        r.direct_api().set_remote_fingerprint(finger_l);
        let creds_l = l.direct_api().local_ice_credentials();
        let creds_r = r.direct_api().local_ice_credentials();
        l.direct_api().set_remote_ice_credentials(creds_r);
        r.direct_api().set_remote_ice_credentials(creds_l);
        l.direct_api().set_ice_controlling(true);
        r.direct_api().set_ice_controlling(false);
        l.direct_api().start_dtls(true).unwrap();
        r.direct_api().start_dtls(false).unwrap();
        l.direct_api().declare_media(mid, MediaKind::Video);
        l.direct_api().declare_stream_tx(SSRC.into(), Some(RTX.into()), mid, None);
        r.direct_api().declare_media(mid, MediaKind::Video);
        r.direct_api().expect_stream_rx(SSRC.into(), Some(RTX.into()), mid, None);
        r.direct_api().enable_twcc_feedback();

        for _ in 0..2000 {
            if pair.l.rtc.is_connected() && pair.r.rtc.is_connected() {
                break;
            }
            pair.progress(STEP);
        }
        assert!(pair.l.rtc.is_connected() && pair.r.rtc.is_connected(), "L and R connect");
        // The stream's first timeout (kind, clock rate, RTX cache) has happened.
        pair.progress(Duration::from_millis(20));
        pair
    }

    fn write(&self, seq: u64, payload: &[u8]) -> RtpWrite {
        let time = 90_000 + seq as u32 * 3000;
        RtpWrite::new(self.pt, seq.into(), time, self.now, payload.to_vec()).marker(seq % 3 == 0).nackable(true)
    }

    /// The SRTP datagram L writes for `rtp`, not yet delivered.
    fn forward(&mut self, rtp: RtpWrite) -> Result<Vec<u8>, ForwardRefusal> {
        let mut out = vec![0; FORWARD_RTP_BUFFER_LEN];
        let forwarded = self.l.rtc.forward_rtp(self.now, SSRC.into(), rtp, &mut out)?;
        assert_eq!(forwarded.destination, SocketAddr::from((Ipv4Addr::new(2, 2, 2, 2), 2000)));
        assert_eq!(forwarded.source, SocketAddr::from((Ipv4Addr::new(1, 1, 1, 1), 1000)));
        out.truncate(forwarded.len);
        Ok(out)
    }

    fn deliver_to_r(&mut self, datagram: &[u8]) {
        let from = SocketAddr::from((Ipv4Addr::new(1, 1, 1, 1), 1000));
        let to = SocketAddr::from((Ipv4Addr::new(2, 2, 2, 2), 2000));
        let input = Input::Receive(
            self.now,
            Receive { proto: Protocol::Udp, source: from, destination: to, contents: datagram.try_into().unwrap() },
        );
        self.r.rtc.handle_input(input).unwrap();
        let mut to_l = vec![];
        drain(&mut self.r, &mut to_l);
        for d in to_l {
            deliver(&mut self.l, self.now, d);
        }
    }

    /// Both sides handle time and each other's datagrams for `duration`.
    fn progress(&mut self, duration: Duration) {
        let end = self.now + duration;
        while self.now < end {
            self.now += STEP;
            let now = self.now;
            let (mut to_r, mut to_l) = (vec![], vec![]);
            self.l.rtc.handle_input(Input::Timeout(now)).unwrap();
            drain(&mut self.l, &mut to_r);
            self.r.rtc.handle_input(Input::Timeout(now)).unwrap();
            drain(&mut self.r, &mut to_l);
            while !to_r.is_empty() || !to_l.is_empty() {
                for d in std::mem::take(&mut to_r) {
                    deliver(&mut self.r, now, d);
                    drain(&mut self.r, &mut to_l);
                }
                for d in std::mem::take(&mut to_l) {
                    deliver(&mut self.l, now, d);
                    drain(&mut self.l, &mut to_r);
                }
            }
        }
    }

    /// RTP packets R received on the main SSRC: (header, payload).
    fn received(&self) -> Vec<(crate::rtp::RtpHeader, Vec<u8>)> {
        self.r
            .events
            .iter()
            .filter_map(|e| match e.as_raw_packet() {
                Some(RawPacket::RtpRx(h, b)) if h.ssrc == Ssrc::from(SSRC) => Some((h.clone(), b.clone())),
                _ => None,
            })
            .collect()
    }
}

struct Datagram {
    source: SocketAddr,
    destination: SocketAddr,
    contents: Vec<u8>,
}

fn drain(side: &mut Side, out: &mut Vec<Datagram>) {
    loop {
        match side.rtc.poll_output().unwrap() {
            Output::Timeout(_) => break,
            Output::Transmit(t) => {
                out.push(Datagram { source: t.source, destination: t.destination, contents: t.contents.to_vec() })
            }
            Output::Event(e) => side.events.push(e),
        }
    }
}

fn deliver(side: &mut Side, now: Instant, d: Datagram) {
    let receive = Receive {
        proto: Protocol::Udp,
        source: d.source,
        destination: d.destination,
        contents: (&d.contents[..]).try_into().unwrap(),
    };
    side.rtc.handle_input(Input::Receive(now, receive)).unwrap();
}

#[test]
fn forwarded_packets_arrive_with_their_pt_seq_timestamp_and_payload() {
    let mut pair = Pair::connected(false);
    for seq in 0..5_u64 {
        let payload = vec![seq as u8; 100 + seq as usize];
        let datagram = pair.forward(pair.write(seq, &payload)).unwrap();
        pair.deliver_to_r(&datagram);
        pair.progress(Duration::from_millis(10));
    }
    let received = pair.received();
    assert_eq!(received.len(), 5);
    for (seq, (header, payload)) in received.iter().enumerate() {
        assert_eq!(header.payload_type, pair.pt);
        assert_eq!(header.sequence_number, seq as u16);
        assert_eq!(header.timestamp, 90_000 + seq as u32 * 3000);
        assert_eq!(header.marker, seq % 3 == 0);
        assert_eq!(payload, &vec![seq as u8; 100 + seq]);
        // Negotiated extensions, as poll_output writes them: the mid until R has acked the
        // SSRC in a receiver report, abs-send-time and the transport-wide sequence.
        assert_eq!(header.ext_vals.mid, Some(pair.mid));
        assert!(header.ext_vals.abs_send_time.is_some());
        assert_eq!(header.ext_vals.transport_cc, Some(seq as u16));
    }
    // Nothing forwarded made L send a second copy through poll_output.
    assert_eq!(pair.received().len(), 5);
}

#[test]
fn sender_report_counts_forwarded_packets() {
    let mut pair = Pair::connected(false);
    for seq in 0..10_u64 {
        let datagram = pair.forward(pair.write(seq, &[7; 200])).unwrap();
        pair.deliver_to_r(&datagram);
        pair.progress(Duration::from_millis(5));
    }
    pair.progress(Duration::from_secs(2));
    let last_sr = pair
        .r
        .events
        .iter()
        .filter_map(|e| match e.as_raw_packet() {
            Some(RawPacket::RtcpRx(Rtcp::SenderReport(sr))) if sr.sender_info.ssrc == Ssrc::from(SSRC) => Some(sr),
            _ => None,
        })
        .next_back()
        .expect("a sender report for the stream");
    assert_eq!(last_sr.sender_info.sender_packet_count, 10);
    assert_eq!(last_sr.sender_info.sender_octet_count, 2000);
    // RTP time runs on from the last packet's timestamp at the VP8 clock rate.
    let rtp = last_sr.sender_info.rtp_time.numer() as u32;
    assert!(rtp > 90_000 + 9 * 3000, "rtp time {rtp} after the last packet's");
}

#[test]
fn a_lost_forwarded_packet_is_resent_on_nack() {
    let mut pair = Pair::connected(false);
    for seq in 0..30_u64 {
        let datagram = pair.forward(pair.write(seq, &[seq as u8; 300])).unwrap();
        if seq != 10 {
            pair.deliver_to_r(&datagram);
        }
        pair.progress(Duration::from_millis(10));
    }
    pair.progress(Duration::from_millis(500));
    let nacked = pair.r.events.iter().any(|e| matches!(e.as_raw_packet(), Some(RawPacket::RtcpTx(Rtcp::Nack(_)))));
    assert!(nacked, "R asked for the lost packet");
    let resent: Vec<_> = pair
        .r
        .events
        .iter()
        .filter_map(|e| match e.as_raw_packet() {
            Some(RawPacket::RtpRx(h, b)) if h.payload_type == pair.rtx_pt => Some(b.clone()),
            _ => None,
        })
        .collect();
    // An RTX packet carries the original sequence number before the payload.
    let repaired = resent.iter().find(|b| b[..2] == [0, 10]).expect("packet 10 resent over RTX");
    assert_eq!(&repaired[2..], &[10; 300][..]);
}

/// Haven patch 6: a resend is built from the RTX cache's slim entry, not a kept `RtpPacket`.
/// What R's application receives for a repaired packet is what it receives for one delivered
/// at once: PT, sequence number, timestamp, marker, extension values and the (VP8-patched)
/// payload.
#[test]
fn a_resend_from_the_slim_rtx_cache_equals_the_original() {
    let mut pair = Pair::connected(false);
    // The VP8 payload descriptor (X, S; I; 15-bit PictureID 0x01nn) before the payload header.
    let payload = |seq: u64| {
        let mut p = vec![0x90, 0x80, 0x81, seq as u8, 0x9d, 0x01, 0x2a];
        p.resize(300 + seq as usize, seq as u8);
        p
    };
    let write = |pair: &Pair, seq: u64| {
        let ext_vals = ExtensionValues {
            video_orientation: Some(VideoOrientation::from(seq as u8 & 3)),
            ..Default::default()
        };
        let p = payload(seq);
        let patch = Vp8Descriptor::parse(&p).unwrap().patch().picture_id(0x0400 + seq as u16).build().unwrap();
        pair.write(seq, &p).ext_vals(ext_vals).vp8_patch(patch)
    };
    let lost = [10_u64, 12, 13];
    for seq in 0..30_u64 {
        let datagram = pair.forward(write(&pair, seq)).unwrap();
        if !lost.contains(&seq) {
            pair.deliver_to_r(&datagram);
        }
        pair.progress(Duration::from_millis(10));
    }
    pair.progress(Duration::from_millis(500));

    let resent = pair
        .r
        .events
        .iter()
        .filter(|e| matches!(e.as_raw_packet(), Some(RawPacket::RtpRx(h, _)) if h.payload_type == pair.rtx_pt))
        .count();
    assert!(resent >= lost.len(), "the lost packets came over RTX ({resent} RTX packets)");
    let received: Vec<_> = pair
        .r
        .events
        .iter()
        .filter_map(|e| match e {
            Event::RtpPacket(p) => Some(p),
            _ => None,
        })
        .collect();
    for seq in 0..30_u64 {
        let copies: Vec<_> = received.iter().filter(|p| *p.seq_no == seq).collect();
        assert_eq!(copies.len(), 1, "packet {seq} received once");
        let p = copies[0];
        let h = &p.header;
        assert_eq!(h.payload_type, pair.pt, "packet {seq}");
        assert_eq!(h.ssrc, Ssrc::from(SSRC), "packet {seq}");
        assert_eq!(h.sequence_number, seq as u16);
        assert_eq!(h.timestamp, 90_000 + seq as u32 * 3000, "packet {seq}");
        assert_eq!(h.marker, seq % 3 == 0, "packet {seq}");
        assert_eq!(h.ext_vals.video_orientation, Some(VideoOrientation::from(seq as u8 & 3)), "packet {seq}");
        let mut expected = payload(seq);
        expected[2..4].copy_from_slice(&(0x8400 + seq as u16).to_be_bytes());
        assert_eq!(&p.payload[..], &expected[..], "packet {seq}");
    }
}

#[test]
fn forwarded_packets_are_registered_for_twcc_feedback() {
    let mut pair = Pair::connected(false);
    assert!(pair.l.rtc.session.twcc_rtt().is_none());
    for seq in 0..20_u64 {
        let datagram = pair.forward(pair.write(seq, &[1; 500])).unwrap();
        pair.deliver_to_r(&datagram);
        pair.progress(Duration::from_millis(10));
    }
    pair.progress(Duration::from_millis(300));
    // R's feedback names the forwarded packets' transport-wide numbers and L matched them to
    // its send records (the round trip is measured from them).
    let feedback = pair.r.events.iter().any(|e| matches!(e.as_raw_packet(), Some(RawPacket::RtcpTx(Rtcp::Twcc(_)))));
    assert!(feedback, "R sent TWCC feedback");
    assert!(pair.l.rtc.session.twcc_rtt().is_some(), "L applied it to forwarded packets");
}

#[test]
fn a_vp8_patch_is_applied_on_the_fast_path() {
    let mut pair = Pair::connected(false);
    // X, S; I; 15-bit PictureID 0x0123; then the VP8 payload header.
    let payload = [0x90, 0x80, 0x81, 0x23, 0x9d, 0x01, 0x2a, 0x55];
    let descriptor = Vp8Descriptor::parse(&payload).unwrap();
    let patch = descriptor.patch().picture_id(0x0456).build().unwrap();
    let datagram = pair.forward(pair.write(0, &payload).vp8_patch(patch)).unwrap();
    pair.deliver_to_r(&datagram);
    let received = pair.received();
    assert_eq!(received[0].1, vec![0x90, 0x80, 0x84, 0x56, 0x9d, 0x01, 0x2a, 0x55]);
}

#[test]
fn with_a_pacer_a_video_burst_is_paced_and_the_fast_path_resumes_after_it() {
    let mut pair = Pair::connected(true);
    pair.progress(Duration::from_millis(100));
    // A keyframe's worth of packets at one instant: the first leave at once; once the pacer
    // would hold one back (its media debt at the pacing rate), the rest are refused, to be
    // written with `write_rtp` and paced.
    let results: Vec<_> = (0..40_u64).map(|seq| pair.forward(pair.write(seq, &[5; 1200]))).collect();
    let sent = results.iter().take_while(|r| r.is_ok()).count();
    assert!(sent >= 1, "the first packet leaves at once");
    // The pacer counted the packets it did not send itself (`register_send`): without that,
    // its debt never grew and all 40 left at once.
    assert!(sent < 40, "a burst is not sent all at once");
    assert!(results[sent..].iter().all(|r| *r == Err(ForwardRefusal::Paced)), "{:?}", &results[sent..]);
    assert_eq!(pair.l.rtc.session.forward_refusal_of(SSRC.into()), Some(None), "a refusal queues nothing");
    // Once the pacer has caught up, packets leave at once again.
    pair.progress(Duration::from_millis(500));
    assert!(pair.forward(pair.write(40, &[5; 1200])).is_ok(), "the fast path resumes");
}

#[test]
fn forwarding_is_refused_behind_queued_packets_and_keeps_their_order() {
    let mut pair = Pair::connected(false);
    let first = pair.write(0, &[1; 100]);
    pair.l.rtc.direct_api().stream_tx(&SSRC.into()).unwrap().write_rtp(first);
    assert_eq!(pair.forward(pair.write(1, &[2; 100])), Err(ForwardRefusal::QueueNotEmpty));
    pair.progress(Duration::from_millis(10));
    let datagram = pair.forward(pair.write(1, &[2; 100])).unwrap();
    pair.deliver_to_r(&datagram);
    let seqs: Vec<u16> = pair.received().iter().map(|(h, _)| h.sequence_number).collect();
    assert_eq!(seqs, [0, 1]);
}

#[test]
fn forwarding_is_refused_before_the_connection_is_up() {
    let now = Instant::now();
    let mut rtc = Rtc::builder().set_rtp_mode(true).build(now);
    rtc.direct_api().declare_media("vid".into(), MediaKind::Video);
    rtc.direct_api().declare_stream_tx(SSRC.into(), None, "vid".into(), None);
    let rtp = RtpWrite::new(96.into(), 0.into(), 0, now, vec![1; 10]);
    let mut out = vec![0; FORWARD_RTP_BUFFER_LEN];
    assert_eq!(rtc.forward_rtp(now, SSRC.into(), rtp, &mut out).unwrap_err(), ForwardRefusal::NotReady);
}

/// Haven patch 7: a forwarded packet is sent as the head of the send queue would be, without
/// entering it: the queue's totals stay empty, and it notes the packet as emitted (the pacer
/// orders its queues by that).
#[test]
fn a_forwarded_packet_leaves_without_entering_the_send_queue() {
    let mut pair = Pair::connected(false);
    let ssrc = Ssrc::from(SSRC);
    assert_eq!(pair.l.rtc.session.send_queue_of(ssrc, pair.now).unwrap().last_emitted, None);
    let datagram = pair.forward(pair.write(0, &[1; 100])).unwrap();
    let now = pair.now;
    let queue = pair.l.rtc.session.send_queue_of(ssrc, now).unwrap();
    assert_eq!((queue.packet_count, queue.byte_size), (0, 0));
    assert_eq!(queue.total_queue_time_origin, Duration::ZERO);
    assert_eq!(queue.last_emitted, Some(now));
    assert_eq!(pair.l.rtc.session.forward_refusal_of(ssrc), Some(None));
    pair.deliver_to_r(&datagram);
    assert_eq!(pair.received().len(), 1);
}

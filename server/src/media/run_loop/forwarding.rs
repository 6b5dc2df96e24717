//! Which published track goes to whom, and the packets themselves: live tracks are opened
//! in the group and idle ones closed, answered m-lines become subscriptions, forwarding flags
//! are applied, and every received RTP packet is written to its subscribers.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use str0m::format::Codec;
use str0m::media::{MediaKind, Mid, Pt};
use str0m::rtp::{ExtensionValues, ForwardRefusal, RtpPacket, RtpWrite, Vp8Descriptor, Vp8Patch};
use str0m::Rtc;

use super::{Outbound, Sfu};
use crate::media::layer_switch::{PacketInfo, Payload, Verdict, Vp8Rewrite};
use crate::media::peer::layer_of;
use crate::media::peer::{Subscriber, TrackIn, TrackOut, TrackOutState};
use crate::media::red::{self, Previous};
use crate::media::{Forwarding, GroupKey, MediaSignal, PeerKey};

impl Sfu {
    /// A track the peer in `slot` publishes, offered to its group once forwarding allows.
    pub(super) fn add_track_in(&mut self, slot: usize, mid: Mid, kind: MediaKind) {
        let Some(peer) = self.peers[slot].as_mut() else { return };
        let screen = kind == MediaKind::Video && peer.screen_mid == Some(mid);
        // A connection publishes one microphone, one camera and one screen (on its screen
        // m-line): more m-lines that send (a modified client's extra transceivers) are
        // received and go nowhere.
        if peer.tracks_in.iter().any(|t| t.kind == kind && t.screen == screen) {
            tracing::debug!(peer = peer.key.0, "a second published track of one kind; not forwarded");
            return;
        }
        peer.tracks_in.push(TrackIn::new(mid, kind, screen));
        if peer.forwarding.allows(kind, screen) {
            self.open_track_in_group(slot, mid, kind, screen);
        }
    }

    /// A live published track: every other peer of the group that does not have it yet
    /// will receive it.
    pub(super) fn open_track_in_group(&mut self, publisher_slot: usize, mid: Mid, kind: MediaKind, screen: bool) {
        let Some(publisher) = self.peers[publisher_slot].as_ref() else { return };
        let (key, group, label) = (publisher.key, publisher.group, publisher.label.clone());
        for slot in 0..self.peers.len() {
            let Some(peer) = self.peers[slot].as_mut() else { continue };
            if slot == publisher_slot || peer.group != group {
                continue;
            }
            let has_it = peer.tracks_out.iter().any(|t| {
                t.publisher == key
                    && t.publisher_mid == mid
                    && matches!(t.state, TrackOutState::ToOpen | TrackOutState::Negotiating(_) | TrackOutState::Open(_))
            });
            if has_it {
                continue;
            }
            peer.tracks_out.push(TrackOut::new(key, label.clone(), mid, kind, screen));
            peer.wants_negotiation = true;
            self.mark_dirty(slot);
        }
    }

    /// The hot path: one published RTP packet written to every subscriber of its layer, with
    /// the subscriber's payload type and numbering (see `layer_switch`). No lock, no copy of
    /// the payload (it is reference counted; a VP8 descriptor that needs new numbers is
    /// patched by str0m as it writes the packet), no re-packetizing.
    pub(super) fn forward(&mut self, publisher_slot: usize, mut packet: RtpPacket) {
        let Some(publisher) = self.peers[publisher_slot].as_mut() else { return };
        let forwarding = publisher.forwarding;
        let Some((mid, rid)) = publisher.rtc.direct_api().stream_rx(&packet.header.ssrc).map(|s| (s.mid(), s.rid())) else {
            return;
        };
        let Some(layer) = layer_of(rid) else { return };
        // Padding alone (a browser probing its uplink) is for us, not for anyone else's link.
        if packet.payload.is_empty() {
            return;
        }
        let Some(track) = publisher.tracks_in.iter_mut().find(|t| t.mid == mid) else {
            return;
        };
        let kind = track.kind;
        // A muted microphone, a stopped camera, a screen whose share is not on: dropped here,
        // whatever the browser sends.
        if !forwarding.allows(kind, track.screen) {
            return;
        }
        if kind == MediaKind::Audio {
            let opus_pt = payload_type(&publisher.rtc, MediaKind::Audio);
            if Some(packet.header.payload_type) != opus_pt {
                // RED from a browser that sends it although we list it after Opus (the only
                // other audio payload type negotiated): forwarded as its newest block, plain
                // Opus, like everyone's sound.
                let unwrapped = opus_pt.and_then(|pt| red::unwrap(*pt, &packet.payload));
                let Some(primary) = unwrapped else { return };
                packet.payload = primary;
            }
        }
        // When it arrived: the loop's clock for this packet.
        let now = packet.timestamp;
        track.meters[usize::from(layer)].add(now, packet.payload.len());
        track.simulcast |= rid.is_some();
        let is_video = kind == MediaKind::Video;
        let info = if is_video {
            PacketInfo::vp8(*packet.seq_no, packet.header.timestamp, now, &packet.payload)
        } else {
            PacketInfo::opaque(*packet.seq_no, packet.header.timestamp, now)
        };
        let is_keyframe = is_video && info.starts_stream();
        if is_keyframe {
            track.keyframe_seen(layer);
            if let Some((_, height)) = info.keyframe_size(&packet.payload) {
                track.heights[usize::from(layer)] = Some(u32::from(height));
            }
        }
        let mut subscribers = std::mem::take(&mut track.subscribers);
        let red_previous = track.red_previous.take();
        // Made for the first subscriber that gets RED, then shared by those with the same Opus
        // payload type and the same block (the previous packet, or none).
        let mut red_payload: Option<(Pt, bool, Arc<[u8]>)> = None;
        // Receivers show who is speaking from the audio level; str0m writes the rest (mid,
        // the subscriber's own transport-wide number) per subscriber itself.
        let ext_vals = ExtensionValues {
            audio_level: packet.header.ext_vals.audio_level,
            voice_activity: packet.header.ext_vals.voice_activity,
            ..Default::default()
        };
        // Frames are counted at their last packet.
        let frame_end = !is_video || packet.header.marker;
        // Parsed by str0m only if some subscriber's numbering differs from the publisher's.
        let mut descriptor = None;
        for sub in subscribers.iter_mut() {
            let Some(peer) = self.peers[sub.slot].as_mut().filter(|p| p.key == sub.key) else {
                continue;
            };
            if sub.ssrc.is_none() {
                sub.ssrc = peer.rtc.direct_api().stream_tx_by_mid(sub.mid, None).map(|s| s.ssrc());
                if sub.ssrc.is_none() {
                    // Not negotiated yet: nothing is numbered for it.
                    sub.switch.skip();
                    continue;
                }
            }
            let forward = match sub.switch.on_packet(layer, &info) {
                Verdict::Forward(forward) => forward,
                Verdict::Drop => {
                    // Another layer, a paused video, or a picture waiting for its keyframe.
                    if frame_end && sub.switch.wants_keyframe() == Some(layer) {
                        self.counts.dropped_frames += 1;
                    }
                    continue;
                }
            };
            let Some(ssrc) = sub.ssrc else { continue };
            // Sound to a member whose link loses packets, whose browser took RED.
            let red_pt = sub.red_pt.filter(|_| peer.red.is_on());
            let (pt, payload) = match red_pt {
                Some(red_pt) => {
                    // No copy of a packet this member was never sent (the first after a start).
                    let previous = red_previous.as_ref().filter(|_| !forward.starts_layer);
                    let key = (sub.pt, previous.is_some());
                    let payload = match &red_payload {
                        Some((pt, with, payload)) if (*pt, *with) == key => payload.clone(),
                        _ => {
                            let wrapped: Arc<[u8]> = red::wrap(*sub.pt, *packet.seq_no, packet.header.timestamp, &packet.payload, previous).into();
                            red_payload = Some((key.0, key.1, wrapped.clone()));
                            wrapped
                        }
                    };
                    (red_pt, payload)
                }
                None => (sub.pt, packet.payload.clone()),
            };
            let written = payload.len();
            let mut write = RtpWrite::new(pt, forward.seq.into(), forward.timestamp, packet.timestamp, payload)
                .marker(packet.header.marker)
                .ext_vals(ext_vals.clone())
                .nackable(is_video);
            if let Some(rewrite) = forward.rewrite {
                let parsed = descriptor.get_or_insert_with(|| Vp8Descriptor::parse(&packet.payload).ok());
                if let Some(patch) = parsed.as_ref().and_then(|d| vp8_patch(d, &info, rewrite)) {
                    write = write.vp8_patch(patch);
                }
            }
            // The fast path: sealed straight into a buffer of the send batch (no allocation,
            // no copy) and sent with this turn's batch (vendor/str0m/HAVEN.md patches 4 and 5).
            // Refused (not connected yet, or earlier packets still queued on the stream: never
            // reordered), the copy goes through str0m's queue.
            let queued = if self.template.fast_path {
                let mut sealed = self.outgoing.buffer(str0m::rtp::FORWARD_RTP_BUFFER_LEN);
                let rtc = &mut peer.rtc;
                match catch_unwind(AssertUnwindSafe(|| rtc.forward_rtp(now, ssrc, write.clone(), &mut sealed))) {
                    Ok(Ok(forwarded)) => {
                        let out = Outbound { tcp_writers: &self.tcp_writers, batch: &mut self.outgoing, sender: &self.sender };
                        out.send_part(forwarded.proto, forwarded.destination, peer.local_ip, sealed, forwarded.len);
                        self.counts.fast_copies += 1;
                        None
                    }
                    Ok(Err(ForwardRefusal::UnknownPt)) => {
                        self.outgoing.recycle(sealed);
                        continue;
                    }
                    Ok(Err(_)) => {
                        self.outgoing.recycle(sealed);
                        Some(write)
                    }
                    Err(_) => {
                        tracing::debug!(peer = peer.key.0, "peer failed while forwarding");
                        peer.dead = true;
                        continue;
                    }
                }
            } else {
                Some(write)
            };
            if let Some(write) = queued {
                let mut api = peer.rtc.direct_api();
                let Some(stream) = api.stream_tx(&ssrc) else {
                    // The stream went: the mid is looked up again next time.
                    sub.ssrc = None;
                    continue;
                };
                stream.write_rtp(write);
                self.counts.queued_copies += 1;
                self.mark_dirty(sub.slot);
            }
            if frame_end {
                self.counts.forwarded_frames += 1;
            }
            self.counts.forwarded_bytes += written as u64;
        }
        let publisher = self.peers[publisher_slot].as_mut().expect("publisher polled above");
        if let Some(track) = publisher.tracks_in.iter_mut().find(|t| t.mid == mid) {
            track.subscribers = subscribers;
            if !is_video {
                track.red_previous = Some(Previous {
                    seq: *packet.seq_no,
                    timestamp: packet.header.timestamp,
                    payload: packet.payload.clone(),
                });
            }
            // Only a keyframe ends a subscriber's wait.
            if is_keyframe {
                track.refresh_awaiting();
            }
        }
        if !is_video {
            let (group, key) = (publisher.group, publisher.key);
            self.observe_voice(group, key, packet.header.ext_vals.audio_level, now);
        }
    }

    pub(super) fn accept_answer(&mut self, key: PeerKey, sdp: &str, now: Instant) {
        let Some(&slot) = self.by_key.get(&key) else { return };
        let Some(peer) = self.peers[slot].as_mut() else { return };
        let before: Vec<TrackOutState> = peer.tracks_out.iter().map(|t| t.state).collect();
        let published = match peer.accept_answer(sdp, now) {
            Ok(published) => published,
            Err(e) => {
                let _ = peer.signals.send(MediaSignal::Refused(e));
                return;
            }
        };
        // Tracks that just opened start flowing: subscribe them at their publisher and ask
        // for a keyframe so the picture appears at once.
        let opened: Vec<(PeerKey, Mid, Mid, MediaKind)> = peer
            .tracks_out
            .iter()
            .filter(|t| {
                matches!(t.state, TrackOutState::Open(_))
                    && !before.contains(&t.state)
            })
            .filter_map(|t| match t.state {
                TrackOutState::Open(mid) => Some((t.publisher, t.publisher_mid, mid, t.kind)),
                _ => None,
            })
            .collect();
        self.mark_dirty(slot);
        if let Some(peer) = self.peers[slot].as_mut() {
            peer.downlink.replan(now);
        }
        for (mid, kind) in published {
            self.add_track_in(slot, mid, kind);
        }
        for (publisher, publisher_mid, mid, kind) in opened {
            let Some(&pub_slot) = self.by_key.get(&publisher) else { continue };
            let Some(peer) = self.peers[slot].as_ref() else { continue };
            let Some(pt) = payload_type(&peer.rtc, kind) else { continue };
            let red_pt = if kind == MediaKind::Audio { red_payload_type(&peer.rtc) } else { None };
            let Some(pub_peer) = self.peers[pub_slot].as_mut() else { continue };
            if let Some(track) = pub_peer.tracks_in.iter_mut().find(|t| t.mid == publisher_mid) {
                // A video waits for the subscriber's plan, which comes at once (and asks
                // for the keyframe of the layer it picks).
                let mut subscriber = Subscriber::new(slot, key, mid, pt, kind);
                subscriber.red_pt = red_pt;
                track.subscribers.push(subscriber);
                track.refresh_awaiting();
            }
        }
    }

    pub(super) fn set_forwarding(&mut self, key: PeerKey, forwarding: Forwarding, now: Instant) {
        let Some(&slot) = self.by_key.get(&key) else { return };
        let Some(peer) = self.peers[slot].as_mut() else { return };
        let mut turned_on = Vec::new();
        let mut screen_off = false;
        for (kind, screen) in [(MediaKind::Audio, false), (MediaKind::Video, false), (MediaKind::Video, true)] {
            match (peer.forwarding.allows(kind, screen), forwarding.allows(kind, screen)) {
                (false, true) => {
                    if !screen {
                        *peer.off_since(kind) = None;
                    }
                    for track in peer.tracks_in.iter_mut().filter(|t| t.kind == kind && t.screen == screen) {
                        for sub in &mut track.subscribers {
                            sub.restart();
                        }
                        track.refresh_awaiting();
                        turned_on.push((track.mid, kind, screen));
                    }
                }
                // A share that ended is gone at once (no idle wait): its line is stopped in
                // everyone's next offer, and a new share opens it again.
                (true, false) if screen => screen_off = true,
                (true, false) => *peer.off_since(kind) = Some(now),
                _ => {}
            }
        }
        peer.forwarding = forwarding;
        let group = peer.group;
        for &(mid, kind, screen) in &turned_on {
            if kind == MediaKind::Video {
                peer.request_awaited_keyframes(mid, now);
            }
            if screen {
                // The sharer's encoder has a keyframe ready as the viewers' lines open.
                peer.request_keyframe(mid, 0, now);
            }
        }
        if screen_off {
            for track in peer.tracks_in.iter_mut().filter(|t| t.screen) {
                track.subscribers.clear();
                track.refresh_awaiting();
            }
            self.stop_tracks_out(key, group, Some((MediaKind::Video, true)));
        }
        self.mark_dirty(slot);
        for (mid, kind, screen) in turned_on {
            self.open_track_in_group(slot, mid, kind, screen);
        }
        if !forwarding.audio {
            self.forget_voice(group, key, now);
        }
        // A video that comes or goes moves what fits for everyone.
        self.replan_group(group, now);
    }

    /// Takes tracks off for `idle_track_close` out of the others' peer connections.
    pub(super) fn close_idle_tracks(&mut self, now: Instant) {
        for slot in 0..self.peers.len() {
            for kind in [MediaKind::Audio, MediaKind::Video] {
                let Some(peer) = self.peers[slot].as_mut() else { break };
                let idle = peer.off_since(kind).is_some_and(|t| now.duration_since(t) >= self.idle_track_close);
                if !idle {
                    continue;
                }
                *peer.off_since(kind) = None;
                // Nothing flows while off; the m-lines may be recycled once stopped.
                for track in peer.tracks_in.iter_mut().filter(|t| t.kind == kind && !t.screen) {
                    track.subscribers.clear();
                    track.refresh_awaiting();
                }
                let (key, group) = (peer.key, peer.group);
                self.stop_tracks_out(key, group, Some((kind, false)));
            }
        }
    }

    /// Takes `publisher`'s tracks (of `which` kind, screen or not, or all) out of every other
    /// peer of `group`: one not negotiated yet is dropped, an open one is stopped by the next
    /// offer.
    pub(super) fn stop_tracks_out(&mut self, publisher: PeerKey, group: GroupKey, which: Option<(MediaKind, bool)>) {
        let stops = |t: &TrackOut| t.publisher == publisher && which.is_none_or(|(k, screen)| t.kind == k && t.screen == screen);
        for other_slot in 0..self.peers.len() {
            let Some(other) = self.peers[other_slot].as_mut() else { continue };
            if other.group != group || other.key == publisher {
                continue;
            }
            let before = other.tracks_out.len();
            other.tracks_out.retain(|t| !(stops(t) && t.state == TrackOutState::ToOpen));
            let mut changed = before != other.tracks_out.len();
            for track in other.tracks_out.iter_mut().filter(|t| stops(t)) {
                track.state = match track.state {
                    TrackOutState::Negotiating(m) => TrackOutState::NegotiatingThenStop(m),
                    TrackOutState::Open(m) => {
                        changed = true;
                        TrackOutState::ToStop(m)
                    }
                    other => other,
                };
            }
            if changed {
                other.wants_negotiation = true;
                self.mark_dirty(other_slot);
            }
        }
    }
}

/// The peer's payload type for the one codec of `kind` (Opus or VP8: every peer is built
/// with only these, so a publisher's packets fit every subscriber once renumbered).
fn payload_type(rtc: &Rtc, kind: MediaKind) -> Option<Pt> {
    let codec = match kind {
        MediaKind::Audio => Codec::Opus,
        MediaKind::Video => Codec::Vp8,
    };
    rtc.codec_config().params().iter().find(|p| p.spec().codec == codec).map(|p| p.pt())
}

/// The peer's RED payload type for Opus, if its browser took the one we offer (`media::red`).
pub(super) fn red_payload_type(rtc: &Rtc) -> Option<Pt> {
    rtc.codec_config().params().iter().find(|p| p.spec().codec == Codec::Opus).and_then(|p| p.red())
}

/// str0m's patch for the numbers `rewrite` gives (a 7-bit picture id keeps its low 7 bits);
/// `None` when str0m will not patch this descriptor (it refuses one RFC 7741 forbids), and
/// the packet goes as received.
fn vp8_patch(descriptor: &Vp8Descriptor, info: &PacketInfo, rewrite: Vp8Rewrite) -> Option<Vp8Patch> {
    let mut builder = descriptor.patch();
    let width = match info.payload {
        Payload::Vp8(Some(parsed)) => parsed.picture_id.map(|p| p.mask()),
        _ => None,
    };
    if let (Some(value), Some(mask)) = (rewrite.picture_id, width) {
        builder = builder.picture_id(value & mask);
    }
    if let Some(tl0) = rewrite.tl0picidx {
        builder = builder.tl0_pic_idx(tl0);
    }
    builder.build().ok()
}

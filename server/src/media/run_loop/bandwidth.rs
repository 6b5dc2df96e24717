//! Sound first: each member's downlink estimate (str0m's TWCC bandwidth estimator on what we
//! send them, or the browser's REMB) drives their [`Allocator`], whose changes pause or
//! resume the videos written to them. Audio is never paused. The group's floor holder (from
//! the hub) and active speaker (from the audio levels) come first among the videos.
//!
//! A member is planned again at once when any input changes (a new estimate, a track opened
//! or closed, their tile report or "sound only", the floor or the speaker moving, a
//! publisher's camera switched), at the allocator's deadline, and every
//! [`REPLAN_EVERY`](crate::media::downlink::REPLAN_EVERY) for the measured bitrates.

use std::time::Instant;

use str0m::bwe::{Bitrate, BweKind};
use str0m::media::MediaKind;

use super::forwarding::red_payload_type;
use super::Sfu;
use crate::allocator::{Allocation, Bps, Inputs, Layer, Media, PauseReason, PublisherId, Track, TrackId, View, NOMINAL_AUDIO};
use crate::media::downlink::SpeakerDetector;
use crate::media::peer::{TrackOutState, LAYERS, LAYER_RIDS};
use crate::media::{GroupKey, MediaSignal, PeerKey};

/// Before the first estimate, str0m assumes this much: enough for the sound and one or two
/// videos; its probes find more within seconds.
pub(super) const INITIAL_ESTIMATE_KBPS: u64 = 800;
/// A publisher without simulcast has one layer; its height does not matter to the
/// allocator (one layer is the most and the least a tile can get).
const SINGLE_LAYER_HEIGHT: u32 = 720;

/// The heights of the simulcast layers q, h and f as Haven's web client asks for them (its
/// 640×360 camera scaled down 4, 2 and 1: `web/js/peer.js`), for the tile cap until a
/// layer's first keyframe tells its real height (a camera that gives less, a phone held
/// upright, a browser that scales otherwise).
const SIMULCAST_HEIGHTS: [u32; 3] = [90, 180, 360];

/// How often the publishers' camera layers are compared with what their subscribers get
/// when nothing asks sooner (a layer switched on comes at once: a new target asks).
const CAMERA_LAYERS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// For each video in a plan's inputs, its layers as given to the allocator: the publisher's
/// layer numbers (`peer::LAYER_RIDS`) of the allocator's indexes.
type LayerMap = Vec<(TrackId, Vec<u8>)>;

/// What decides video priority in one group.
#[derive(Default)]
pub(super) struct GroupMedia {
    pub floor: Option<PeerKey>,
    pub speaker: SpeakerDetector,
}

/// The allocator's id for `publisher`'s track of `kind`, its screen or not (a microphone, a
/// camera and a screen per publisher).
fn track_id(publisher: PeerKey, kind: MediaKind, screen: bool) -> TrackId {
    let which = match (kind, screen) {
        (MediaKind::Audio, _) => 0,
        (MediaKind::Video, false) => 1,
        (MediaKind::Video, true) => 2,
    };
    TrackId(publisher.0 << 2 | which)
}

fn track_of(id: TrackId) -> (PeerKey, MediaKind, bool) {
    let kind = if id.0 & 3 == 0 { MediaKind::Audio } else { MediaKind::Video };
    (PeerKey(id.0 >> 2), kind, id.0 & 3 == 2)
}

impl Sfu {
    /// str0m's estimate of what the member in `slot` can receive.
    pub(super) fn on_estimate(&mut self, slot: usize, kind: BweKind, now: Instant) {
        let Some(peer) = self.peers[slot].as_mut() else { return };
        let estimate = match kind {
            BweKind::Twcc { estimate, .. } => estimate,
            // A browser without TWCC feedback reports what it receives per m-line; the
            // lowest is what the whole link carries.
            BweKind::Remb { estimate, .. } => estimate,
            _ => return,
        };
        let bps = Bps(estimate.as_u64());
        if peer.downlink.take_estimate(bps, now) {
            tracing::trace!(peer = peer.key.0, kbps = bps.0 / 1000, "downlink estimate");
            peer.downlink.replan(now);
        }
    }

    /// The member's own choices: sound only, and how they show each publisher.
    pub(super) fn set_reception(&mut self, key: PeerKey, sound_only: Option<bool>, tiles: Option<Vec<(PeerKey, View)>>, now: Instant) {
        let Some(&slot) = self.by_key.get(&key) else { return };
        let Some(peer) = self.peers[slot].as_mut() else { return };
        if let Some(sound_only) = sound_only {
            peer.downlink.sound_only = sound_only;
        }
        if let Some(tiles) = tiles {
            peer.downlink.tiles = tiles.into_iter().collect();
        }
        peer.downlink.replan(now);
    }

    pub(super) fn set_floor(&mut self, group: GroupKey, holder: Option<PeerKey>, now: Instant) {
        let media = self.groups.entry(group).or_default();
        if media.floor != holder {
            media.floor = holder;
            self.replan_group(group, now);
        }
    }

    /// One audio packet's level from `publisher`: the group's speaker may change.
    pub(super) fn observe_voice(&mut self, group: GroupKey, publisher: PeerKey, level: Option<i8>, now: Instant) {
        let media = self.groups.entry(group).or_default();
        if media.speaker.observe(publisher, level, now).is_some() {
            self.replan_group(group, now);
        }
    }

    /// `publisher`'s voice is gone (muted or left).
    pub(super) fn forget_voice(&mut self, group: GroupKey, publisher: PeerKey, now: Instant) {
        let Some(media) = self.groups.get_mut(&group) else { return };
        if media.speaker.forget(publisher, now).is_some() {
            self.replan_group(group, now);
        }
    }

    /// Every member of `group` is planned again at the next turn.
    pub(super) fn replan_group(&mut self, group: GroupKey, now: Instant) {
        for peer in self.peers.iter_mut().flatten().filter(|p| p.group == group) {
            peer.downlink.replan(now);
        }
    }

    /// When the next member's plan is due.
    pub(super) fn next_plan(&self) -> Option<Instant> {
        self.peers.iter().flatten().filter_map(|p| p.downlink.due).min()
    }

    /// Plans every member whose plan is due.
    pub(super) fn plan_due(&mut self, now: Instant) {
        for slot in 0..self.peers.len() {
            let due = self.peers[slot].as_ref().and_then(|p| p.downlink.due).is_some_and(|d| d <= now);
            if due {
                self.plan(slot, now);
            }
        }
    }

    /// What the member in `slot` could receive now, for the allocator.
    fn inputs(&self, slot: usize, now: Instant) -> Option<(Inputs, LayerMap)> {
        let peer = self.peers[slot].as_ref()?;
        let group = self.groups.get(&peer.group);
        let mut tracks = Vec::new();
        let mut layer_map = LayerMap::new();
        // With redundancy each sound packet also carries the one before: twice the sound.
        let audio_copies = if peer.red.is_on() && red_payload_type(&peer.rtc).is_some() { 2 } else { 1 };
        for out in peer.tracks_out.iter().filter(|t| matches!(t.state, TrackOutState::Open(_))) {
            let Some(publisher) = self.by_key.get(&out.publisher).and_then(|&s| self.peers[s].as_ref()) else { continue };
            // A track switched off sends nothing: nothing to plan for it.
            if !publisher.forwarding.allows(out.kind, out.screen) {
                continue;
            }
            let Some(track) = publisher.tracks_in.iter().find(|t| t.mid == out.publisher_mid) else { continue };
            let id = track_id(out.publisher, out.kind, out.screen);
            let media = match out.kind {
                MediaKind::Audio => Media::Audio { bitrate: Bps(track.meters[0].rate(now).unwrap_or(NOMINAL_AUDIO).0 * audio_copies) },
                MediaKind::Video => {
                    // The layers that flow now, smallest first; before any has been
                    // measured, the smallest at its nominal rate. A layer the publisher was
                    // asked to switch off (or just to switch on again) is offered at its last
                    // rate: otherwise nobody could ask for it again (`camera_layers`).
                    let mut numbers = Vec::new();
                    let mut layers = Vec::new();
                    for (number, meter) in track.meters.iter().enumerate() {
                        let quiet = || track.simulcast && track.layers.quiet_but_offered(number, now);
                        let Some(bitrate) = meter.rate(now).or_else(|| meter.last().filter(|_| quiet())) else { continue };
                        let assumed = if track.simulcast { SIMULCAST_HEIGHTS[number] } else { SINGLE_LAYER_HEIGHT };
                        let height = track.heights[number].unwrap_or(assumed);
                        numbers.push(number as u8);
                        layers.push(Layer { bitrate, height });
                    }
                    if layers.is_empty() {
                        numbers.push(0);
                        layers.push(Layer::nominal(0));
                    }
                    layer_map.push((id, numbers));
                    // Tiles are reported per person, for their camera: the screen is shown
                    // large wherever it is, its larger layer whenever the link carries it.
                    let view = match out.screen {
                        true => View::Unknown,
                        false => peer.downlink.tiles.get(&out.publisher).copied().unwrap_or(View::Unknown),
                    };
                    Media::Video { layers, view, screen: out.screen }
                }
            };
            tracks.push(Track { id, publisher: PublisherId(out.publisher.0), media });
        }
        let inputs = Inputs {
            estimate: peer.downlink.estimate,
            sound_only: peer.downlink.sound_only,
            floor: group.and_then(|g| g.floor).map(|k| PublisherId(k.0)),
            speaker: group.and_then(|g| g.speaker.current()).map(|k| PublisherId(k.0)),
            tracks,
            // The round trips RED's congestion test keeps (receiver reports on every stream).
            // No queue in the fresh round trips, and no loss in the last seconds (the round
            // trips, a few a second, miss a full queue that the loss shows).
            path_clear: !peer.red.queueing(now) && !peer.red.lossy_lately(now),
            // Packets lost at a standing queue: the link drops what it is sent.
            overflowing: peer.red.overflowing(now),
        };
        Some((inputs, layer_map))
    }

    fn plan(&mut self, slot: usize, now: Instant) {
        let Some((inputs, layer_map)) = self.inputs(slot, now) else { return };
        let Some(peer) = self.peers[slot].as_mut() else { return };
        // Applied whole below (not only the changes): a publisher's layers may come and go
        // under the same indexes.
        let changes = peer.downlink.allocator.update(now, &inputs);
        if tracing::enabled!(tracing::Level::TRACE) {
            let rates: Vec<(u64, Vec<u64>)> = inputs
                .tracks
                .iter()
                .map(|t| {
                    let kbps = match &t.media {
                        Media::Audio { bitrate } => vec![bitrate.0 / 1000],
                        Media::Video { layers, .. } => layers.iter().map(|l| l.bitrate.0 / 1000).collect(),
                    };
                    (t.id.0, kbps)
                })
                .collect();
            tracing::trace!(peer = peer.key.0, ?rates, "downlink plan inputs");
        }
        peer.downlink.planned(now);
        // A video paused for room, with a queue on the way: the member's loss is congestion,
        // not what redundancy is for (`RedSwitch::set_congested`, which also ignores pauses
        // before the path's first round trip, as at a join).
        let paused = peer.downlink.allocator.allocations().any(|(_, a)| a == Allocation::Paused(PauseReason::NoRoom));
        if peer.red.set_congested(now, paused) && red_payload_type(&peer.rtc).is_some() {
            tracing::debug!(peer = peer.key.0, on = peer.red.is_on(), "sound redundancy switched (congestion)");
            // What the sound costs this member changed.
            peer.downlink.replan(now);
        }
        if let Some(held) = peer.downlink.end_hold(now) {
            peer.rtc.bwe().reset(Bitrate::bps(held.0));
        }
        if !changes.is_empty() {
            // Peer keys and rates only: nothing about who the members are.
            let moved: Vec<(u64, Allocation)> = changes.iter().map(|c| (track_of(c.track).0 .0, c.to)).collect();
            tracing::debug!(
                peer = peer.key.0,
                estimate_kbps = inputs.estimate.map_or(0, |e| e.0 / 1000),
                allocated_kbps = peer.downlink.allocator.probe().allocated.0 / 1000,
                ?moved,
                "downlink plan changed"
            );
        }
        // No rate to sustain with padding (`minimum` 0: on a weak link padding only crowds
        // the sound, measured at 100-130 kbit/s of 400), but probes toward what the next step
        // up needs; and padding only for an estimator held back by what it is sent
        // (`allocator::prober`).
        let probe = peer.downlink.allocator.probe();
        // No video wanted at all ("sound only", every tile hidden): nothing to probe for.
        // str0m's probes resend video packets from its history as padding (and probe in the
        // application-limited region every 5 s at twice `desired`), so a "sound only" member
        // got old video bytes (1.9 KB in 10 s, CI of 2026-12-07); a desired of zero stops them.
        let wants_video = peer
            .downlink
            .allocator
            .allocations()
            .any(|(_, a)| matches!(a, Allocation::Layer(_) | Allocation::Paused(PauseReason::NoRoom)));
        let desired = if wants_video { probe.desired.0 } else { 0 };
        // Padding only while the allocator's prober asks for it (`allocator::PAD_AFTER`).
        let minimum = if probe.pad { desired } else { 0 };
        if probe.pad != peer.downlink.padding {
            peer.downlink.padding = probe.pad;
            tracing::debug!(
                peer = peer.key.0,
                on = probe.pad,
                estimate_kbps = inputs.estimate.map_or(0, |e| e.0 / 1000),
                desired_kbps = desired / 1000,
                "downlink padding"
            );
        }
        peer.rtc.bwe().set_bitrate(Bitrate::bps(minimum), Bitrate::bps(desired));
        let key = peer.key;
        // The member hears of pauses once there is an estimate to blame them on (before it,
        // only the first video plays for a moment).
        if peer.downlink.estimate.is_some() || peer.downlink.sound_only {
            let mut paused: Vec<String> = peer
                .downlink
                .allocator
                .allocations()
                .filter(|(_, a)| *a == Allocation::Paused(PauseReason::NoRoom))
                .filter_map(|(id, _)| {
                    let (publisher, _, _) = track_of(id);
                    peer.tracks_out.iter().find(|t| t.publisher == publisher).map(|t| t.publisher_label.clone())
                })
                .collect();
            // A sharer whose screen and camera are both paused is named once.
            paused.dedup();
            if let Some((paused, sound_only)) = peer.downlink.news(paused) {
                let _ = peer.signals.send(MediaSignal::Reception { paused, sound_only });
            }
        }
        let targets: Vec<(PeerKey, bool, Option<u8>)> = peer
            .downlink
            .allocator
            .allocations()
            .filter_map(|(id, allocation)| {
                let target = match allocation {
                    Allocation::Audio => return None,
                    Allocation::Paused(_) => None,
                    Allocation::Layer(i) => {
                        let numbers = &layer_map.iter().find(|(t, _)| *t == id)?.1;
                        numbers.get(usize::from(i)).or(numbers.last()).copied()
                    }
                };
                let (publisher, _, screen) = track_of(id);
                Some((publisher, screen, target))
            })
            .collect();
        for (publisher, screen, target) in targets {
            self.set_video_target(key, publisher, screen, target, now);
        }
        self.mark_dirty(slot);
    }

    /// Every simulcast camera's layers against what its subscribers get or are being
    /// switched to: a publisher is told when one should go off or come on again
    /// (`camera_layers`). A screen's two layers stay on for the whole share: the half size
    /// costs its sharer little for a few minutes, and a weak member who arrives mid-share
    /// gets the screen without a round trip to the sharer first.
    pub(super) fn update_camera_layers(&mut self, now: Instant) {
        let mut next = now + CAMERA_LAYERS_EVERY;
        for peer in self.peers.iter_mut().flatten() {
            for track in peer.tracks_in.iter_mut().filter(|t| t.kind == MediaKind::Video && t.simulcast && !t.screen) {
                let mut wanted = [false; LAYERS];
                for sub in &track.subscribers {
                    for layer in [sub.switch.target(), sub.switch.current()].into_iter().flatten() {
                        if let Some(w) = wanted.get_mut(usize::from(layer)) {
                            *w = true;
                        }
                    }
                }
                if let Some(active) = track.layers.update(now, wanted) {
                    tracing::debug!(peer = peer.key.0, ?active, "camera layers");
                    let rids = LAYER_RIDS.iter().zip(active).filter(|(_, on)| *on).map(|(rid, _)| *rid).collect();
                    let _ = peer.signals.send(MediaSignal::CameraLayers { active: rids });
                }
                if let Some(due) = track.layers.next_deadline() {
                    next = next.min(due);
                }
            }
        }
        self.layers_due = Some(next);
    }

    /// Which layer of `publisher`'s camera (or screen) is written to `subscriber` (`None`:
    /// paused). A new layer, or a resumed one, starts at its keyframe, which is asked for at
    /// once.
    fn set_video_target(&mut self, subscriber: PeerKey, publisher: PeerKey, screen: bool, target: Option<u8>, now: Instant) {
        let Some(&pub_slot) = self.by_key.get(&publisher) else { return };
        let Some(pub_peer) = self.peers[pub_slot].as_mut() else { return };
        let Some(track) = pub_peer.tracks_in.iter_mut().find(|t| t.kind == MediaKind::Video && t.screen == screen) else { return };
        let mid = track.mid;
        let Some(sub) = track.subscribers.iter_mut().find(|s| s.key == subscriber) else { return };
        if sub.switch.target() == target {
            return;
        }
        sub.switch.set_target(target);
        if target.is_some_and(|t| !track.layers.is_on(usize::from(t))) {
            // A layer switched off at the publisher: asked for again at once.
            self.layers_due = Some(now);
        }
        let wanted = sub.switch.wants_keyframe();
        track.refresh_awaiting();
        if let Some(layer) = wanted {
            pub_peer.request_keyframe(mid, layer, now);
            self.mark_dirty(pub_slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_ids_name_the_publisher_and_kind() {
        for key in [PeerKey(0), PeerKey(7), PeerKey(u64::MAX >> 2)] {
            for (kind, screen) in [(MediaKind::Audio, false), (MediaKind::Video, false), (MediaKind::Video, true)] {
                assert_eq!(track_of(track_id(key, kind, screen)), (key, kind, screen));
            }
        }
        assert_ne!(track_id(PeerKey(3), MediaKind::Audio, false), track_id(PeerKey(3), MediaKind::Video, false));
        assert_ne!(track_id(PeerKey(3), MediaKind::Video, false), track_id(PeerKey(3), MediaKind::Video, true));
    }
}

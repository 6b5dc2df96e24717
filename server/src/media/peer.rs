//! One participant's peer connection: its str0m `Rtc`, the tracks it publishes (each with the
//! list of subscribers the run loop writes to) and the tracks it receives, and the one-offer-
//! at-a-time negotiation rule.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid, Pt, Rid, Simulcast, SimulcastLayer};
use str0m::rtp::Ssrc;
use str0m::net::Protocol;
use str0m::Rtc;
use tokio::sync::mpsc::UnboundedSender;

use super::camera_layers::CameraLayers;
use super::downlink::{Downlink, RateMeter};
use super::layer_switch::{LayerSwitch, VIDEO_CLOCK_RATE};
use super::red::{Previous, RedSwitch};
use super::remote_candidates::without_candidates;
use super::{Forwarding, GroupKey, MediaError, MediaSignal, PeerKey};

/// A publisher is asked for a keyframe at most this often per track.
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(300);

/// How long a forwarded packet is kept for retransmission (NACK), per subscriber and track:
/// memory that grows with the square of a meeting's size (str0m's default of 3 s is ~350 KB
/// per forwarded video track). Until the subscriber's round trip is known (its first receiver
/// reports, within seconds), 300 ms: a NACK and its resend over a 250 ms round trip; then
/// [`retransmission_window`] of it, as Janus does (200 ms at least, more for a longer round
/// trip). The packet cap covers keyframes.
const RTX_WINDOW_UNKNOWN_RTT: Duration = Duration::from_millis(300);
const RTX_WINDOW_MIN: Duration = Duration::from_millis(200);
const RTX_WINDOW_MAX: Duration = Duration::from_millis(1000);
/// Beyond two round trips: the receiver noticing the gap (the next packet's arrival).
const RTX_WINDOW_MARGIN: Duration = Duration::from_millis(100);
/// Smaller changes are not applied: str0m empties the history whenever its window changes.
const RTX_WINDOW_STEP: Duration = Duration::from_millis(100);
const RTX_CACHE_PACKETS: usize = 400;

/// How long to keep packets for a subscriber whose round trip is `rtt`: a NACK comes back one
/// round trip after the packet left (plus the receiver noticing the gap), a second try for a
/// lost resend one more.
pub fn retransmission_window(rtt: Duration) -> Duration {
    (rtt * 2 + RTX_WINDOW_MARGIN).clamp(RTX_WINDOW_MIN, RTX_WINDOW_MAX)
}

pub(super) struct Peer {
    pub key: PeerKey,
    pub group: GroupKey,
    pub label: String,
    pub rtc: Rtc,
    /// Gates the tracks forwarded now: microphone, camera and screen each by its own flag.
    pub forwarding: Forwarding,
    pub signals: UnboundedSender<MediaSignal>,
    pub ufrag: String,
    /// The browser's DTLS fingerprint: a later offer with the same one comes from the same
    /// peer connection (a renegotiation), another from a new one (a replacement).
    pub remote_fingerprint: Option<String>,
    /// Remote addresses (UDP or ICE-TCP) routed to this peer, removed with it.
    pub addrs: Vec<(Protocol, SocketAddr)>,
    /// The local address its connectivity checks arrive at, on a wildcard-bound socket: what
    /// its datagrams are sent from.
    pub local_ip: Option<std::net::IpAddr>,
    pub next_timeout: Instant,
    /// When the browser last sent anything (STUN consent checks come every few seconds, RTCP
    /// every second): a peer silent for [`super::run_loop`]'s limit is gone.
    pub last_heard: Instant,
    pub tracks_in: Vec<TrackIn>,
    pub tracks_out: Vec<TrackOut>,
    /// Our offer awaiting the browser's answer: at most one in flight, with its SDP in case
    /// the session that carried it dropped and it must be sent again.
    pub pending: Option<(SdpPendingOffer, String)>,
    /// Set when tracks_out changed; the loop then tries to negotiate.
    pub wants_negotiation: bool,
    /// The m-lines the server receives on (microphone, camera, screen) when it offers first.
    pub receive_lines: ReceiveLines,
    /// The m-line the browser shows its screen on: the third it publishes (the third of our
    /// first offer, or of its own offer from a new peer connection). A video published on it
    /// is the screen track, gated by `forwarding.screen`; any other extra video goes nowhere.
    pub screen_mid: Option<Mid>,
    /// Set when the peer failed; the loop removes it at the end of the turn.
    pub dead: bool,
    /// Since when this peer's microphone (camera) has been off while its tracks are still
    /// negotiated to the others; `None` while on, or once they were closed for idleness.
    pub audio_off_since: Option<Instant>,
    pub video_off_since: Option<Instant>,
    /// What this member's link can receive, and which videos it gets (`run_loop::bandwidth`).
    pub downlink: Downlink,
    /// Whether the sound goes to this member with redundancy, if their browser took RED.
    pub red: RedSwitch,
}

/// Where a peer's three receive m-lines (what the browser publishes) stand.
pub(super) enum ReceiveLines {
    /// They came in the browser's own offer, or have been negotiated.
    Settled,
    /// The next server offer starts the connection with them, before any forwarded track.
    ToOffer,
    /// In the server's offer awaiting its answer. str0m announces only m-lines the browser
    /// offered (`Event::MediaAdded`), so these become tracks in on the answer.
    Offered(Vec<(Mid, MediaKind)>),
}

/// The browser's DTLS certificate fingerprint in an SDP: it names one peer connection.
pub(super) fn dtls_fingerprint(sdp: &str) -> Option<&str> {
    sdp.lines().find_map(|line| line.trim_end().strip_prefix("a=fingerprint:"))
}

/// The mid of the screen m-line in a browser's own offer from a new peer connection: its
/// third m-line, a video (audio, camera, screen in that order, docs/protocol.md). An offer
/// with two has none.
pub(super) fn screen_mid_in_offer(sdp: &str) -> Option<Mid> {
    let third = sdp.split("\nm=").nth(3)?;
    if !third.starts_with("video ") {
        return None;
    }
    // As written, like `accept_renegotiation` reads mids; str0m refuses an overlong one.
    let mid = third.lines().find_map(|line| line.trim_end_matches('\r').strip_prefix("a=mid:"))?;
    (mid.len() <= 16).then(|| Mid::from(mid))
}

/// The simulcast layers the server asks browsers for, smallest first (`a=simulcast:recv
/// q;h;f`): a browser scales them 4, 2 and 1 from its camera. A camera sent without
/// simulcast (no rid) is layer 0, its only one.
pub const LAYER_RIDS: [&str; LAYERS] = ["q", "h", "f"];
/// The screen's simulcast layers, smallest first (`a=simulcast:recv sh;sf`): half and full
/// size, numbered as the camera's layers of the same scales, 1 and 2 (a screen sent without
/// simulcast is layer 0, like a camera). Rids of their own: with the camera's `h` and `f` on
/// the screen line too, Firefox sent its camera's lowest layer alone (tests/simulcast.test.js).
pub const SCREEN_RIDS: [&str; 2] = ["sh", "sf"];
/// The layer number of `SCREEN_RIDS[0]`.
const SCREEN_FIRST_LAYER: usize = 1;
/// As many as the allocator plans for.
pub const LAYERS: usize = crate::allocator::MAX_LAYERS;

/// The layer a received stream carries, by its rid; `None` for a rid we did not ask for.
pub fn layer_of(rid: Option<Rid>) -> Option<u8> {
    match rid {
        None => Some(0),
        Some(rid) => LAYER_RIDS
            .iter()
            .position(|r| Rid::from(*r) == rid)
            .or_else(|| SCREEN_RIDS.iter().position(|r| Rid::from(*r) == rid).map(|i| i + SCREEN_FIRST_LAYER))
            .map(|i| i as u8),
    }
}

/// A track this peer publishes.
pub(super) struct TrackIn {
    pub mid: Mid,
    pub kind: MediaKind,
    /// The screen (a video on the peer's `screen_mid`), not the camera.
    pub screen: bool,
    pub subscribers: Vec<Subscriber>,
    /// What each layer costs a subscriber's link: the allocator's bitrates.
    pub meters: [RateMeter; LAYERS],
    /// Keyframe requests, per layer.
    keyframes: [KeyframeAsk; LAYERS],
    /// It came with rids (simulcast): its layers' sizes are the ones asked for.
    pub simulcast: bool,
    /// Each layer's frame height, as its last keyframe announced: the tile cap's measure.
    pub heights: [Option<u32>; LAYERS],
    /// Which of its layers the publisher is asked to send (a simulcast camera).
    pub layers: CameraLayers,
    /// The last packet forwarded (audio): the redundant block of the next, for the
    /// subscribers that get RED.
    pub red_previous: Option<Previous>,
}

#[derive(Default, Clone, Copy)]
struct KeyframeAsk {
    last_request: Option<Instant>,
    /// A keyframe was wanted while requests were throttled.
    wanted: bool,
    /// Requests since the last keyframe; after two PLIs we escalate to FIR.
    unanswered: u8,
    /// Some subscriber waits for this layer's keyframe: kept by `refresh_awaiting` so the
    /// run loop's every turn need not scan the subscribers.
    awaiting: bool,
}

/// Where a published track goes: written to `mid` of the peer in `slot`, as payload type
/// `pt` (the subscriber's number for the codec), one layer of it, numbered as one stream.
#[derive(Clone, Copy)]
pub(super) struct Subscriber {
    pub slot: usize,
    pub key: PeerKey,
    pub mid: Mid,
    pub pt: Pt,
    /// Which layer flows to this subscriber (none: paused by its allocator, or waiting for
    /// a keyframe, so a decoder never starts on a delta frame), and its numbering.
    pub switch: LayerSwitch,
    /// The SSRC of the send stream on `mid`, once it exists: str0m finds a stream by SSRC in
    /// a hash map, by mid only by walking all of the subscriber's streams (per packet).
    pub ssrc: Option<Ssrc>,
    /// The subscriber's RED payload type for Opus, if their browser took it (audio).
    pub red_pt: Option<Pt>,
}

impl Subscriber {
    /// A new subscription: audio flows at once; video waits for the subscriber's allocation
    /// (which comes at the next turn) and then a keyframe.
    pub fn new(slot: usize, key: PeerKey, mid: Mid, pt: Pt, kind: MediaKind) -> Subscriber {
        let switch = match kind {
            MediaKind::Audio => {
                let mut switch = LayerSwitch::new(48_000);
                switch.set_target(Some(0));
                switch
            }
            MediaKind::Video => LayerSwitch::new(VIDEO_CLOCK_RATE),
        };
        Subscriber { slot, key, mid, pt, switch, ssrc: None, red_pt: None }
    }

    /// The publisher's flow stopped for a while (its mic or camera was off): what was held
    /// back leaves no hole in the numbering, and a picture starts again at a keyframe.
    pub fn restart(&mut self) {
        self.switch.skip();
        let target = self.switch.target();
        self.switch.set_target(None);
        self.switch.set_target(target);
    }
}

/// A track this peer receives from another peer.
pub(super) struct TrackOut {
    pub publisher: PeerKey,
    /// The publisher's label: the `msid` stream id the browser sees.
    pub publisher_label: String,
    pub publisher_mid: Mid,
    pub kind: MediaKind,
    /// The publisher's screen: its `msid` stream id is `screen-<label>`.
    pub screen: bool,
    pub state: TrackOutState,
    /// How long str0m keeps this track's packets for retransmission.
    pub rtx_window: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TrackOutState {
    ToOpen,
    Negotiating(Mid),
    Open(Mid),
    /// The publisher left while our offer for this track was in flight.
    NegotiatingThenStop(Mid),
    ToStop(Mid),
    NegotiatingStop(Mid),
}

impl TrackOut {
    /// A track of `publisher` to offer this peer.
    pub fn new(publisher: PeerKey, publisher_label: String, publisher_mid: Mid, kind: MediaKind, screen: bool) -> TrackOut {
        TrackOut {
            publisher,
            publisher_label,
            publisher_mid,
            kind,
            screen,
            state: TrackOutState::ToOpen,
            rtx_window: RTX_WINDOW_UNKNOWN_RTT,
        }
    }
}

impl TrackIn {
    pub fn new(mid: Mid, kind: MediaKind, screen: bool) -> TrackIn {
        TrackIn {
            mid,
            kind,
            screen,
            subscribers: Vec::new(),
            meters: Default::default(),
            keyframes: [KeyframeAsk::default(); LAYERS],
            simulcast: false,
            heights: [None; LAYERS],
            layers: CameraLayers::default(),
            red_previous: None,
        }
    }

    /// Which layers' keyframes subscribers wait for: after any change to the subscribers or
    /// their layer switches.
    pub fn refresh_awaiting(&mut self) {
        for (layer, ask) in self.keyframes.iter_mut().enumerate() {
            ask.awaiting = self.subscribers.iter().any(|s| s.switch.wants_keyframe() == Some(layer as u8));
        }
    }

    /// The layers some subscriber waits for a keyframe of.
    pub fn awaited_layers(&self) -> impl Iterator<Item = u8> + '_ {
        self.keyframes.iter().enumerate().filter(|(_, a)| a.awaiting).map(|(l, _)| l as u8)
    }

    /// Whether a keyframe request for `layer` may go out now; if not, remembers to send one later.
    fn may_request_keyframe(&mut self, layer: usize, now: Instant) -> bool {
        let ask = &mut self.keyframes[layer];
        let throttled = ask.last_request.is_some_and(|t| now.duration_since(t) < KEYFRAME_REQUEST_INTERVAL);
        if throttled {
            ask.wanted = true;
        }
        !throttled
    }

    /// When the next request is due for `layer`: a throttled one, or a repeat while a
    /// subscriber still waits for its first picture (a browser ignores a PLI that comes
    /// right after a keyframe it just sent, and a new viewer cannot ask for a stream it never
    /// received).
    fn layer_keyframe_due(&self, layer: usize) -> Option<Instant> {
        let ask = &self.keyframes[layer];
        if !(ask.wanted || ask.awaiting) {
            return None;
        }
        Some(ask.last_request.map_or(Instant::now(), |t| t + KEYFRAME_REQUEST_INTERVAL))
    }

    pub fn keyframe_due(&self) -> Option<Instant> {
        (0..LAYERS).filter_map(|l| self.layer_keyframe_due(l)).min()
    }

    /// A keyframe of `layer` went out: the requests were answered.
    pub fn keyframe_seen(&mut self, layer: u8) {
        if let Some(ask) = self.keyframes.get_mut(usize::from(layer)) {
            ask.unanswered = 0;
        }
    }
}

impl Peer {
    pub fn off_since(&mut self, kind: MediaKind) -> &mut Option<Instant> {
        match kind {
            MediaKind::Audio => &mut self.audio_off_since,
            MediaKind::Video => &mut self.video_off_since,
        }
    }

    /// Asks this peer (as publisher) for a keyframe of `layer` on `mid`, throttled per
    /// layer.
    pub fn request_keyframe(&mut self, mid: Mid, layer: u8, now: Instant) {
        let forwarding = self.forwarding;
        let Some(track) = self.tracks_in.iter_mut().find(|t| t.mid == mid) else {
            return;
        };
        if !forwarding.allows(track.kind, track.screen) {
            return; // Nothing of this video is forwarded; a picture would go nowhere.
        }
        let l = usize::from(layer);
        if track.kind != MediaKind::Video || l >= LAYERS || !track.may_request_keyframe(l, now) {
            return;
        }
        let ask = &mut track.keyframes[l];
        // PLI is what every browser answers; FIR for a sender that ignored two of them.
        let kind = if ask.unanswered >= 2 { KeyframeRequestKind::Fir } else { KeyframeRequestKind::Pli };
        // A request that could not go out (not connected yet) is retried after the interval.
        ask.last_request = Some(now);
        ask.wanted = false;
        let mut api = self.rtc.direct_api();
        // A simulcast layer's own stream; without simulcast, the one stream (any rid).
        let rid = match track.screen {
            true => l.checked_sub(SCREEN_FIRST_LAYER).and_then(|i| SCREEN_RIDS.get(i)),
            false => LAYER_RIDS.get(l),
        };
        let rid = Rid::from(rid.copied().unwrap_or(""));
        let stream = if api.stream_rx_by_mid(mid, Some(rid)).is_some() {
            api.stream_rx_by_mid(mid, Some(rid))
        } else if l == 0 {
            api.stream_rx_by_mid(mid, None)
        } else {
            None
        };
        if let Some(stream) = stream {
            stream.request_keyframe(kind);
            ask.unanswered = ask.unanswered.saturating_add(1);
        }
    }

    /// Asks for a keyframe of every layer of `mid` some subscriber waits for.
    pub fn request_awaited_keyframes(&mut self, mid: Mid, now: Instant) {
        let Some(track) = self.tracks_in.iter_mut().find(|t| t.mid == mid) else { return };
        track.refresh_awaiting();
        let layers: Vec<u8> = track.awaited_layers().collect();
        for layer in layers {
            self.request_keyframe(mid, layer, now);
        }
    }

    /// When this peer next needs waking to ask itself for a keyframe.
    pub fn keyframe_due(&self) -> Option<Instant> {
        let forwarding = self.forwarding;
        self.tracks_in.iter().filter(|t| forwarding.allows(t.kind, t.screen)).filter_map(TrackIn::keyframe_due).min()
    }

    /// Sends keyframe requests that have come due.
    pub fn send_due_keyframe_requests(&mut self, now: Instant) {
        let due: Vec<(Mid, u8)> = self
            .tracks_in
            .iter()
            .flat_map(|t| {
                (0..LAYERS).filter(|&l| t.layer_keyframe_due(l).is_some_and(|d| d <= now)).map(|l| (t.mid, l as u8))
            })
            .collect();
        for (mid, layer) in due {
            self.request_keyframe(mid, layer, now);
        }
    }

    pub fn accept_offer(&mut self, sdp: &str) -> Result<String, MediaError> {
        self.guarded(|peer| {
            let sdp = without_candidates(sdp);
            let offer = SdpOffer::from_sdp_string(&sdp).map_err(|_| MediaError::BadSdp)?;
            let answer = peer.rtc.sdp_api().accept_offer(offer).map_err(|_| MediaError::BadSdp)?;
            Ok(answer.to_sdp_string())
        })
    }

    /// Runs str0m on SDP a browser (or an attacker) wrote: a panic in it ends this peer, not
    /// the media worker and every meeting on it.
    fn guarded<T>(&mut self, work: impl FnOnce(&mut Peer) -> Result<T, MediaError>) -> Result<T, MediaError> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(self))) {
            Ok(result) => result,
            Err(_) => {
                tracing::debug!(peer = self.key.0, "str0m panicked on SDP; dropping the peer");
                self.dead = true;
                Err(MediaError::BadSdp)
            }
        }
    }

    /// The browser's own offer on an established connection. An ICE restart in it gives
    /// this peer new local ICE credentials: the caller re-keys its ufrag route.
    pub fn accept_renegotiation(&mut self, sdp: &str) -> Result<String, MediaError> {
        if self.pending.is_some() {
            return Err(MediaError::NegotiationInProgress);
        }
        // Only the server adds m-lines: a browser's own offer on an established connection
        // (an ICE restart) names none that str0m does not know. Otherwise one member's
        // hundred transceivers would be offered to everyone else.
        let unknown = sdp
            .lines()
            // As written: str0m reads `a=mid:0 ` as another mid than `0`, and so must we.
            .filter_map(|line| line.strip_prefix("a=mid:"))
            .any(|mid| mid.len() > 16 || self.rtc.media(Mid::from(mid)).is_none());
        if unknown {
            return Err(MediaError::NewMediaInRenegotiation);
        }
        self.accept_offer(sdp)
    }

    /// Points signaling at a new session and repeats an offer the old one may have lost.
    /// Not a first offer that was never answered: that browser has no connection to keep,
    /// and after a resume it offers a new one itself (which replaces this peer).
    pub fn rebind(&mut self, signals: UnboundedSender<MediaSignal>) {
        self.signals = signals;
        if self.remote_fingerprint.is_none() {
            return;
        }
        if let Some((_, sdp)) = &self.pending {
            let _ = self.signals.send(MediaSignal::Offer(sdp.clone()));
        }
    }

    /// The browser's answer to our offer. Returns the receive m-lines it settled (the first
    /// offer's microphone, camera and screen), which the caller makes tracks in.
    pub fn accept_answer(&mut self, sdp: &str, now: Instant) -> Result<Vec<(Mid, MediaKind)>, MediaError> {
        let Some((pending, _)) = self.pending.take() else {
            return Err(MediaError::UnexpectedAnswer);
        };
        if self.remote_fingerprint.is_none() {
            // The answer to our first offer: this browser peer connection is the peer's, and
            // its silence counts from now.
            self.remote_fingerprint = dtls_fingerprint(sdp).map(str::to_string);
            self.last_heard = now;
        }
        // Not every peer keeps to what was offered (webrtc-rs answers with its own extensions).
        self.guarded(|peer| {
            let sdp = without_candidates(sdp);
            let answer = SdpAnswer::from_sdp_string(&sdp).map_err(|_| MediaError::BadSdp)?;
            peer.rtc.sdp_api().accept_answer(pending, answer).map_err(|_| MediaError::BadSdp)
        })?;
        for track in &mut self.tracks_out {
            if let TrackOutState::Negotiating(mid) = track.state {
                if let Some(stream) = self.rtc.direct_api().stream_tx_by_mid(mid, None) {
                    stream.set_rtx_cache(RTX_CACHE_PACKETS, track.rtx_window, None);
                }
            }
            track.state = match track.state {
                TrackOutState::Negotiating(m) => TrackOutState::Open(m),
                TrackOutState::NegotiatingThenStop(m) => TrackOutState::ToStop(m),
                other => other,
            };
        }
        // A stopped m-line is now inactive; str0m may recycle it for a later track.
        self.tracks_out
            .retain(|t| !matches!(t.state, TrackOutState::NegotiatingStop(_)));
        self.wants_negotiation = true;
        match std::mem::replace(&mut self.receive_lines, ReceiveLines::Settled) {
            ReceiveLines::Offered(lines) => Ok(lines),
            other => {
                self.receive_lines = other;
                Ok(Vec::new())
            }
        }
    }

    /// The subscriber's round trip on a track it receives (from its receiver reports) fits
    /// that track's retransmission history to it.
    pub fn fit_retransmission(&mut self, mid: Mid, rtt: Duration) {
        let open = TrackOutState::Open(mid);
        let Some(track) = self.tracks_out.iter_mut().find(|t| t.state == open && t.kind == MediaKind::Video) else {
            return;
        };
        let window = retransmission_window(rtt);
        if window.abs_diff(track.rtx_window) < RTX_WINDOW_STEP {
            return;
        }
        if let Some(stream) = self.rtc.direct_api().stream_tx_by_mid(mid, None) {
            stream.set_rtx_cache(RTX_CACHE_PACKETS, window, None);
            track.rtx_window = window;
            tracing::debug!(peer = self.key.0, ?rtt, ?window, "retransmission history fitted");
        }
    }

    /// Makes the next server offer if tracks changed and none is in flight.
    pub fn negotiate_if_needed(&mut self) {
        if !self.wants_negotiation || self.pending.is_some() {
            return;
        }
        self.wants_negotiation = false;
        let mut change = self.rtc.sdp_api();
        if matches!(self.receive_lines, ReceiveLines::ToOffer) {
            // The camera comes as simulcast layers, smallest first, where the browser can.
            let mut simulcast = Simulcast::new();
            for rid in LAYER_RIDS {
                simulcast.add_recv_layer(SimulcastLayer::new(rid));
            }
            let audio = change.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
            let video = change.add_media(MediaKind::Video, Direction::RecvOnly, None, None, Some(simulcast));
            // The screen: full size and half size (`SCREEN_RIDS`), so a weak link still gets
            // the screen the room is looking at, smaller, before anyone's camera.
            let mut screen_layers = Simulcast::new();
            for rid in SCREEN_RIDS {
                screen_layers.add_recv_layer(SimulcastLayer::new(rid));
            }
            let screen = change.add_media(MediaKind::Video, Direction::RecvOnly, None, None, Some(screen_layers));
            self.screen_mid = Some(screen);
            let lines = [(audio, MediaKind::Audio), (video, MediaKind::Video), (screen, MediaKind::Video)];
            self.receive_lines = ReceiveLines::Offered(lines.to_vec());
        }
        for track in &mut self.tracks_out {
            match track.state {
                TrackOutState::ToOpen => {
                    // The screen's stream id tells it from the camera (docs/protocol.md).
                    let stream_id = match track.screen {
                        true => format!("screen-{}", track.publisher_label),
                        false => track.publisher_label.clone(),
                    };
                    let track_id = format!("{stream_id}-{}", track.kind);
                    let mid = change.add_media(track.kind, Direction::SendOnly, Some(stream_id), Some(track_id), None);
                    track.state = TrackOutState::Negotiating(mid);
                }
                TrackOutState::ToStop(mid) => {
                    change.stop_media(mid);
                    track.state = TrackOutState::NegotiatingStop(mid);
                }
                _ => {}
            }
        }
        let Some((offer, pending)) = change.apply() else {
            return;
        };
        let sdp = offer.to_sdp_string();
        self.pending = Some((pending, sdp.clone()));
        let _ = self.signals.send(MediaSignal::Offer(sdp));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_screens_layers_are_numbered_as_the_cameras_half_and_full_sizes() {
        let layers: Vec<Option<u8>> = SCREEN_RIDS.iter().map(|r| layer_of(Some(Rid::from(*r)))).collect();
        assert_eq!(layers, [Some(1), Some(2)], "smallest first, numbered like the camera's");
        assert_eq!(layer_of(None), Some(0), "a screen without simulcast is one layer");
    }

    #[test]
    fn the_third_video_line_of_a_browser_offer_is_its_screen() {
        let lines = |kinds: &[&str]| {
            let mut sdp = String::from("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
            for (i, kind) in kinds.iter().enumerate() {
                sdp.push_str(&format!("m={kind} 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:m{i}\r\na=sendonly\r\n"));
            }
            sdp
        };
        assert_eq!(screen_mid_in_offer(&lines(&["audio", "video", "video"])), Some(Mid::from("m2")));
        assert_eq!(screen_mid_in_offer(&lines(&["audio", "video", "video", "video"])), Some(Mid::from("m2")));
        assert_eq!(screen_mid_in_offer(&lines(&["audio", "video"])), None, "two lines: no screen");
        assert_eq!(screen_mid_in_offer(&lines(&["audio", "video", "audio"])), None, "the third must be a video");
    }

    #[test]
    fn the_retransmission_window_covers_two_round_trips_within_bounds() {
        let ms = Duration::from_millis;
        assert_eq!(retransmission_window(ms(0)), ms(200), "a LAN keeps the minimum");
        assert_eq!(retransmission_window(ms(150)), ms(400));
        assert_eq!(retransmission_window(ms(300)), ms(700), "a long round trip keeps more than before");
        assert_eq!(retransmission_window(ms(2000)), ms(1000), "a dreadful one keeps at most a second");
    }
}

//! The SFU. Each media worker is a run loop on its own thread that owns a UDP socket and every
//! str0m `Rtc` of the groups given to it, routes datagrams to peers through maps (ICE ufrag,
//! remote address), and forwards media between peers of the same group; a group lives on one
//! worker (`workers`). Knows nothing of rooms, roles or moderation: it obeys forwarding
//! flags set from outside, which also decide which tracks are negotiated (only live ones).
//! Must not import `room`, `hub`, `protocol` or the HTTP layer.

mod addresses;
mod camera_layers;
mod downlink;
mod layer_switch;
// The forwarder before `layer_switch`: kept as the reference its one-layer behaviour is
// property-tested against.
#[cfg(test)]
mod packet;
mod peer;
mod recv;
mod red;
mod remote_candidates;
mod run_loop;
mod send_batch;
mod stun;
mod tcp;
mod workers;

use std::net::SocketAddr;

use tokio::sync::mpsc;

pub use crate::allocator::View;
pub use workers::{MediaWorkers, SpawnError};
#[doc(hidden)]
pub use run_loop::fuzz_sdp;

/// The hub's key for a peer; stable for the peer's life, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerKey(pub u64);

/// Peers forward to each other only within one group (a meeting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupKey(pub u64);

/// What a peer's media may reach others: the enforcement point of every mute and
/// stopped camera, and of who may show their screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forwarding {
    pub audio: bool,
    pub video: bool,
    /// True for at most one peer of a group: the one whose screen share is on. Its screen
    /// track (the third m-line it publishes, see `peer::Peer::screen_mid`) is forwarded and
    /// negotiated to the others only while this is true, whatever the browser sends.
    pub screen: bool,
}

impl Forwarding {
    /// Whether a published track of `kind` may reach the others: the screen (a video on the
    /// peer's screen m-line) by `screen`, the camera by `video`.
    pub fn allows(&self, kind: str0m::media::MediaKind, screen: bool) -> bool {
        match kind {
            str0m::media::MediaKind::Audio => self.audio,
            str0m::media::MediaKind::Video if screen => self.screen,
            str0m::media::MediaKind::Video => self.video,
        }
    }
}

/// Who a peer is, for starting one.
pub struct PeerSetup {
    pub peer: PeerKey,
    pub group: GroupKey,
    /// Put in the `msid` of this peer's tracks so subscribers can tell who is who.
    pub label: String,
    pub forwarding: Forwarding,
    /// Where its answers, offers and refusals go, in order (the participant's session).
    pub signals: mpsc::UnboundedSender<MediaSignal>,
}

pub enum MediaCommand {
    /// Start a peer for a participant just admitted, the server offering first: three
    /// m-lines it receives (the browser's microphone, camera and screen) and every live
    /// track of the group, so one offer and its answer bring the newcomer's media both ways.
    /// Ignored for a peer that exists.
    Open(PeerSetup),
    /// Start a peer from the browser's offer (a browser with a new peer connection, say
    /// after a resume). For a peer that exists, an offer from the same browser peer
    /// connection (same DTLS fingerprint) renegotiates it — an ICE restart after a network
    /// change, refused while our own offer awaits its answer — and an offer from a new peer
    /// connection replaces it.
    Connect { setup: PeerSetup, offer_sdp: String },
    /// The browser's answer to our last offer.
    Answer { peer: PeerKey, answer_sdp: String },
    /// The peer's signaling moved to a new session (a resumed WebSocket): later answers and
    /// offers go to `signals`, and an offer left unanswered is sent again (unless it was the
    /// first: a browser that never answered offers a new connection after its resume).
    Rebind { peer: PeerKey, signals: mpsc::UnboundedSender<MediaSignal> },
    SetForwarding { peer: PeerKey, forwarding: Forwarding },
    /// How the member shows the others (absent = unchanged): `sound_only` sends them no
    /// video at all; `tiles` replaces the last report (a publisher not in it is shown at an
    /// unknown size). See `run_loop::downlink`.
    SetReception { peer: PeerKey, sound_only: Option<bool>, tiles: Option<Vec<(PeerKey, View)>> },
    /// Whose video comes first for everyone in the group with too little bandwidth for all:
    /// the one who holds the floor (shares now), if anyone.
    SetFloor { group: GroupKey, holder: Option<PeerKey> },
    Disconnect { peer: PeerKey },
}

/// Sent to one peer's signaling session.
#[derive(Debug)]
pub enum MediaSignal {
    Answer(String),
    Offer(String),
    Refused(MediaError),
    /// What the member receives changed: whose video is paused because their link cannot
    /// carry it after the sound (by label), and whether they chose sound only.
    Reception { paused: Vec<String>, sound_only: bool },
    /// Which of the member's own camera layers somebody receives (rids, lowest first): the
    /// browser may switch the others off (`camera_layers`).
    CameraLayers { active: Vec<&'static str> },
}

/// Sent to the hub.
#[derive(Debug)]
pub enum MediaEvent {
    /// ICE and DTLS are up.
    Connected { peer: PeerKey },
    /// The peer's connection failed or timed out; it has been removed from the loop.
    Lost { peer: PeerKey },
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum MediaError {
    #[error("the SDP could not be parsed or applied")]
    BadSdp,
    #[error("the server's offer awaits your answer; answer it, then offer again")]
    NegotiationInProgress,
    #[error("an answer arrived with no offer pending")]
    UnexpectedAnswer,
    #[error("this peer is not connected to the media engine")]
    UnknownPeer,
    #[error("an offer on an established connection may not add media; only the server adds m-lines")]
    NewMediaInRenegotiation,
}

impl MediaError {
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::BadSdp => "bad_sdp",
            MediaError::NegotiationInProgress => "negotiation_in_progress",
            MediaError::UnexpectedAnswer => "unexpected_answer",
            MediaError::UnknownPeer => "media_unavailable",
            MediaError::NewMediaInRenegotiation => "bad_sdp",
        }
    }
}

/// The way in to one worker's run loop.
#[derive(Clone)]
pub struct MediaHandle {
    pub(crate) commands: mpsc::UnboundedSender<MediaCommand>,
    /// Where the worker's socket is bound (`0.0.0.0:10000`, say).
    pub local_addr: SocketAddr,
    /// The addresses browsers are told to send media to (its ICE host candidates).
    pub announced: Vec<SocketAddr>,
}

impl MediaHandle {
    pub fn send(&self, command: MediaCommand) {
        // The loop only stops when the server does; a send after that has nowhere to go.
        let _ = self.commands.send(command);
    }
}

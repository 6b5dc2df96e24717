//! One meeting participant on webrtc-rs (independent of the server's str0m): joins a room,
//! negotiates as the protocol's polite side, publishes paced marked Opus and VP8, answers
//! keyframe requests with keyframes, and counts what arrives per publisher.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_tungstenite::tungstenite::Message;
use webrtc::api::interceptor_registry::{configure_nack, configure_rtcp_reports, configure_twcc};
use webrtc::api::media_engine::{MediaEngine, MIME_TYPE_OPUS, MIME_TYPE_VP8};
use webrtc::api::setting_engine::SettingEngine;
use webrtc::api::{APIBuilder, API};
use webrtc::ice::mdns::MulticastDnsMode;
use webrtc::ice::network_type::NetworkType;
use webrtc::ice_transport::ice_connection_state::RTCIceConnectionState;
use webrtc::interceptor::registry::Registry;
use webrtc::ice_transport::ice_server::RTCIceServer;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::policy::ice_transport_policy::RTCIceTransportPolicy;
use webrtc::peer_connection::offer_answer_options::RTCOfferOptions;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use webrtc::rtcp::transport_feedbacks::transport_layer_cc::TransportLayerCc;
use webrtc::rtp::header::Header;
use webrtc::rtp::packet::Packet;
use webrtc::rtp_transceiver::rtp_codec::{RTCRtpCodecCapability, RTPCodecType};
use webrtc::rtp_transceiver::rtp_sender::RTCRtpSender;
use webrtc::rtp_transceiver::rtp_transceiver_direction::RTCRtpTransceiverDirection;
use webrtc::rtp_transceiver::RTCRtpTransceiverInit;
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;
use webrtc::track::track_local::TrackLocalWriter;
use webrtc::track::track_remote::TrackRemote;

use crate::signaling::{next_incoming, Incoming, SignalingClient, WsStream};
use crate::synthetic::{markers_in, opus_payload, vp8_frame, vp8_is_keyframe_start, vp8_packets};
use crate::{wait_until, WAIT};

const AUDIO_INTERVAL: Duration = Duration::from_millis(20);
const VIDEO_INTERVAL: Duration = Duration::from_millis(33);
/// About half a second of media: enough to call a flow established or still running.
const AUDIO_PACKETS_ENOUGH: u64 = 25;
const VIDEO_PACKETS_ENOUGH: u64 = 15;

/// What one participant received from one publisher (keyed by the track's stream id, which
/// the protocol says is the publisher's participant id).
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub audio_packets: u64,
    pub video_packets: u64,
    /// Packets that start a VP8 keyframe.
    pub video_keyframes: u64,
    /// Video packets that arrived before the first keyframe: a decoder could not use them.
    pub video_before_first_keyframe: u64,
    /// Packets per `(sender id, 'a' | 'v')` found in payload markers.
    pub markers: BTreeMap<(String, char), u64>,
    /// Packets whose RTP sequence number this track had already delivered recently.
    pub duplicates: u64,
    /// The most sequence numbers ever missing between two packets in a row (a held-back
    /// flow must resume without a hole; a real loss leaves a small one).
    pub largest_seq_gap: u16,
    /// Tracks that appeared (`on_track`) for this stream, and tracks whose reads ended.
    pub tracks: u32,
    pub tracks_ended: u32,
    pub last_packet_at: Option<Instant>,
    /// Packets carrying a transport-wide sequence number (TWCC) under the id the server gave
    /// that extension: it numbers only what it receives, never what it forwards.
    pub twcc_numbered: u64,
}

/// One of a publisher's two flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Audio,
    Video,
}

impl Kind {
    /// About half a second of this flow.
    pub fn packets_enough(self) -> u64 {
        match self {
            Kind::Audio => AUDIO_PACKETS_ENOUGH,
            Kind::Video => VIDEO_PACKETS_ENOUGH,
        }
    }
}

impl Received {
    pub fn packets(&self, kind: Kind) -> u64 {
        match kind {
            Kind::Audio => self.audio_packets,
            Kind::Video => self.video_packets,
        }
    }

    pub fn senders(&self) -> BTreeSet<String> {
        self.markers.keys().map(|(id, _)| id.clone()).collect()
    }

    /// Audio and video from `id`, with its markers, and at least one keyframe.
    pub fn has_media_from(&self, id: &str) -> bool {
        self.audio_packets >= AUDIO_PACKETS_ENOUGH
            && self.video_packets >= VIDEO_PACKETS_ENOUGH
            && self.video_keyframes >= 1
            && self.markers.contains_key(&(id.to_string(), 'a'))
            && self.markers.contains_key(&(id.to_string(), 'v'))
    }
}

/// What this participant sent, and the keyframe requests it got as a publisher.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    pub audio_packets: u64,
    pub video_frames: u64,
    pub keyframes: u64,
    pub pli: u64,
    pub fir: u64,
    /// TWCC feedback reports the server sent about our packets.
    pub twcc_feedback: u64,
    /// Frames sent on the screen m-line, and the keyframe requests (PLI, FIR) that came on it.
    pub screen_frames: u64,
    pub screen_keyframe_requests: u64,
}

impl Sent {
    pub fn keyframe_requests(&self) -> u64 {
        self.pli + self.fir
    }
}

#[derive(Default)]
struct SentCounters {
    audio_packets: AtomicU64,
    video_frames: AtomicU64,
    keyframes: AtomicU64,
    pli: AtomicU64,
    fir: AtomicU64,
    twcc_feedback: AtomicU64,
    screen_frames: AtomicU64,
    screen_keyframe_requests: AtomicU64,
}

#[derive(Debug, Default)]
struct Log {
    messages: Vec<Value>,
    /// Things a correct server never causes: failed negotiation, protocol-order violations.
    anomalies: Vec<String>,
    socket_ended: Option<String>,
    offers_answered: u32,
}

#[derive(Default)]
struct Shared {
    log: Mutex<Log>,
    received: Mutex<BTreeMap<String, Received>>,
    sent: SentCounters,
    keyframe_wanted: AtomicBool,
    /// The screen's own: a request on the screen m-line asks the screen, not the camera.
    screen_keyframe_wanted: AtomicBool,
    /// The extension id of TWCC in the server's SDP (its first offer, or its answer to ours).
    server_twcc_id: Mutex<Option<u8>>,
    /// Set while one of our offers awaits the server's answer.
    awaiting_answer: Mutex<Option<oneshot::Sender<Result<(), String>>>>,
    /// Set after joining until the server's first offer is answered.
    awaiting_first_offer: Mutex<Option<oneshot::Sender<Result<(), String>>>>,
}

impl Shared {
    fn anomaly(&self, what: String) {
        // Per-packet anomalies would otherwise grow without bound.
        let mut log = self.log.lock().unwrap();
        if log.anomalies.len() < 20 {
            log.anomalies.push(what);
        }
    }
}

pub struct Participant {
    pub id: String,
    pub name: String,
    pub room: String,
    /// The server's `joined` message.
    pub joined: Value,
    pc: Arc<RTCPeerConnection>,
    outbox: mpsc::UnboundedSender<Message>,
    shared: Arc<Shared>,
    /// Media and RTCP tasks: they outlive a dropped socket.
    tasks: Vec<JoinHandle<()>>,
    /// The third sendonly transceiver's track (the screen m-line, docs/protocol.md), and
    /// what sends on it while `start_screen_media` has it send.
    screen: Arc<TrackLocalStaticRTP>,
    screen_task: Mutex<Option<JoinHandle<()>>>,
    /// The WebSocket's reader and writer.
    socket_tasks: Vec<JoinHandle<()>>,
}

impl Participant {
    /// Connects, joins `room` as `name`, negotiates and starts publishing once connected.
    pub async fn join(http_addr: SocketAddr, room: &str, name: &str) -> Result<Participant> {
        let signaling = SignalingClient::connect(http_addr).await?;
        Self::join_with(signaling, room, name).await
    }

    /// Like [`Participant::join`] on a socket that is already open (and may have been used).
    pub async fn join_with(
        signaling: SignalingClient,
        room: &str,
        name: &str,
    ) -> Result<Participant> {
        Self::join_with_fields(signaling, room, name, &json!({})).await
    }

    /// Like [`Participant::join`], with extra `join` fields such as `{"key": …}`.
    pub async fn join_as(
        http_addr: SocketAddr,
        room: &str,
        name: &str,
        fields: &Value,
    ) -> Result<Participant> {
        let signaling = SignalingClient::connect(http_addr).await?;
        Self::join_with_fields(signaling, room, name, fields).await
    }

    /// Sends `join` with extra `fields` on an open socket, then goes on as [`Participant::join`].
    /// Being put in the waiting room is an error here.
    pub async fn join_with_fields(
        mut signaling: SignalingClient,
        room: &str,
        name: &str,
        fields: &Value,
    ) -> Result<Participant> {
        signaling
            .join_with_fields(room, name, "join", fields)
            .await?;
        Self::start(signaling, room, name, false, false).await
    }

    /// On a socket that has already sent `join` and may be in the waiting room: waits for
    /// `joined` (however long admission takes, up to [`WAIT`]), then goes on as
    /// [`Participant::join`]. Spawn it, admit, then await it.
    pub async fn when_admitted(
        signaling: SignalingClient,
        room: &str,
        name: &str,
    ) -> Result<Participant> {
        Self::start(signaling, room, name, true, false).await
    }

    /// Like [`Participant::join`], reaching the server only through the TURN servers the
    /// server hands out in `joined` (as a browser behind a firewall that allows nothing else).
    pub async fn join_relay_only(http_addr: SocketAddr, room: &str, name: &str) -> Result<Participant> {
        let mut signaling = SignalingClient::connect(http_addr).await?;
        signaling.join_with_fields(room, name, "join", &json!({})).await?;
        Self::start(signaling, room, name, false, true).await
    }

    async fn start(
        mut signaling: SignalingClient,
        room: &str,
        name: &str,
        may_wait: bool,
        relay_only: bool,
    ) -> Result<Participant> {
        let shared = Arc::new(Shared::default());
        let mut before = Vec::new();
        let joined = loop {
            let message = signaling
                .recv()
                .await
                .with_context(|| format!("{name} joining {room}; before it came {before:?}"))?;
            match message["type"].as_str() {
                Some("joined") => break message,
                Some("error" | "closed") => bail!("{name} could not join {room}: {message}"),
                Some("waiting") if !may_wait => {
                    bail!("{name} was put in {room}'s waiting room: {message}")
                }
                _ => before.push(message),
            }
        };
        let id = joined["you"]["id"]
            .as_str()
            .context("joined.you.id is not a string")?
            .to_string();
        if joined["you"]["name"] != name
            || joined["room"]["id"] != room
            || !joined["participants"].is_array()
        {
            bail!("joined does not describe {name} in {room}: {joined}");
        }
        shared
            .log
            .lock()
            .unwrap()
            .messages
            .extend(before.into_iter().chain([joined.clone()]));

        // Mic and camera on, as a browser that has both says once it has joined.
        signaling
            .send(&json!({"type": "media_state", "audio": true, "video": true}))
            .await?;

        let relay = if relay_only { Some(ice_servers_of(&joined)?) } else { None };
        let pc = Arc::new(new_peer_connection(relay).await?);
        let (sink, stream) = signaling.into_parts();
        let (outbox, outbox_rx) = mpsc::unbounded_channel();
        let mut socket_tasks = vec![tokio::spawn(write_socket(sink, outbox_rx))];
        let mut tasks = Vec::new();

        let audio = Arc::new(TrackLocalStaticRTP::new(
            codec(MIME_TYPE_OPUS, 48_000, 2),
            "audio".into(),
            format!("client-{name}"),
        ));
        let video = Arc::new(TrackLocalStaticRTP::new(
            codec(MIME_TYPE_VP8, 90_000, 0),
            "video".into(),
            format!("client-{name}"),
        ));
        // The screen, as the web client keeps it: a third sendonly transceiver that sends
        // nothing until it shares.
        let screen = Arc::new(TrackLocalStaticRTP::new(
            codec(MIME_TYPE_VP8, 90_000, 0),
            "screen".into(),
            format!("client-{name}-screen"),
        ));
        for (track, is_screen) in [(audio.clone(), false), (video.clone(), false), (screen.clone(), true)] {
            let init = RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Sendonly,
                send_encodings: vec![],
            };
            let transceiver = pc.add_transceiver_from_track(track, Some(init)).await?;
            tasks.push(tokio::spawn(read_sender_rtcp(
                transceiver.sender().await,
                shared.clone(),
                is_screen,
            )));
        }

        let on_track_shared = shared.clone();
        pc.on_track(Box::new(move |track, _, _| {
            tokio::spawn(read_track(track, on_track_shared.clone()));
            Box::pin(async {})
        }));
        let (state_tx, mut state_rx) = watch::channel(RTCPeerConnectionState::New);
        pc.on_peer_connection_state_change(Box::new(move |state| {
            let _ = state_tx.send(state);
            Box::pin(async {})
        }));

        // A fresh join answers the server's first offer, which pairs our two sendonly
        // transceivers with its two receive m-lines. After a resume this new peer connection
        // offers itself, once.
        let resumed = joined["resumed"] == true;
        let (answered_tx, answered_rx) = oneshot::channel();
        if resumed {
            // No trickle: the server learns our address from ICE checks, but the offer
            // carries the gathered candidates anyway.
            let offer = pc.create_offer(None).await?;
            let mut gathered = pc.gathering_complete_promise().await;
            pc.set_local_description(offer).await?;
            let _ = tokio::time::timeout(WAIT, gathered.recv()).await;
            let sdp = pc
                .local_description()
                .await
                .context("no local description")?
                .sdp;
            outbox.send(Message::text(
                json!({"type": "offer", "sdp": sdp}).to_string(),
            ))?;
            *shared.awaiting_answer.lock().unwrap() = Some(answered_tx);
        } else {
            *shared.awaiting_first_offer.lock().unwrap() = Some(answered_tx);
        }
        socket_tasks.push(tokio::spawn(read_socket(
            stream,
            pc.clone(),
            outbox.clone(),
            shared.clone(),
        )));
        let describe = |shared: &Shared| format!("{:?}", shared.log.lock().unwrap());
        match tokio::time::timeout(WAIT, answered_rx).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => bail!(
                "{name}: the first negotiation failed: {e}; {}",
                describe(&shared)
            ),
            Ok(Err(_)) => bail!(
                "{name}: socket ended before the first negotiation; {}",
                describe(&shared)
            ),
            Err(_) => bail!("{name}: no first negotiation within {WAIT:?}; {}", describe(&shared)),
        }
        let connected = tokio::time::timeout(WAIT, async {
            loop {
                match *state_rx.borrow_and_update() {
                    RTCPeerConnectionState::Connected => return Ok(()),
                    s @ (RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed) => {
                        return Err(anyhow!("peer connection {s}"))
                    }
                    _ => {}
                }
                if state_rx.changed().await.is_err() {
                    return Err(anyhow!("peer connection dropped"));
                }
            }
        })
        .await;
        match connected {
            Ok(Ok(())) => {}
            Ok(Err(e)) => bail!("{name}: {e}"),
            Err(_) => bail!(
                "{name}: ICE/DTLS not connected within {WAIT:?} (state {})",
                *state_rx.borrow()
            ),
        }

        // Media starts once DTLS is up, so the opening keyframe is not lost.
        tasks.push(tokio::spawn(publish_audio(
            audio,
            id.clone(),
            shared.clone(),
        )));
        tasks.push(tokio::spawn(publish_video(
            video,
            id.clone(),
            shared.clone(),
            false,
        )));
        Ok(Participant {
            id,
            name: name.into(),
            room: room.into(),
            joined,
            pc,
            outbox,
            shared,
            tasks,
            screen,
            screen_task: Mutex::new(None),
            socket_tasks,
        })
    }

    /// Sends VP8 on the screen m-line (markers `screen-<id>`), as a browser that shares, or
    /// a modified one that sends there unasked: the server decides whether it reaches anyone.
    pub fn start_screen_media(&self) {
        let mut task = self.screen_task.lock().unwrap();
        if task.is_none() {
            let marker = format!("screen-{}", self.id);
            *task = Some(tokio::spawn(publish_video(self.screen.clone(), marker, self.shared.clone(), true)));
        }
    }

    /// Stops sending on the screen m-line.
    pub fn stop_screen_media(&self) {
        if let Some(task) = self.screen_task.lock().unwrap().take() {
            task.abort();
        }
    }

    /// Drops the WebSocket without `leave`, as a phone losing its data connection would;
    /// the peer connection and its media go on.
    pub fn drop_socket(&mut self) {
        for task in self.socket_tasks.drain(..) {
            task.abort();
        }
    }

    /// Closes the peer connection but keeps the socket, as a browser whose network dropped
    /// media (UDP) but not signaling would look to the server.
    pub async fn close_media(&self) {
        let _ = self.pc.close().await;
    }

    /// Opens a new socket and sends `resume` with the key from the last `joined`. Returns
    /// the server's answer: `joined` (then this participant goes on on the new socket,
    /// keeping its peer connection) or an `error`.
    pub async fn resume(&mut self, http_addr: SocketAddr) -> Result<Value> {
        self.drop_socket();
        let key = self.joined["resume_key"].as_str().context("joined has no resume_key")?.to_string();
        let mut signaling = SignalingClient::connect(http_addr).await?;
        signaling
            .send(&json!({"type": "resume", "room": self.room, "resume_key": key}))
            .await?;
        let answer = loop {
            let message = signaling.recv().await?;
            if matches!(message["type"].as_str(), Some("joined" | "waiting" | "error" | "closed")) {
                break message;
            }
        };
        if answer["type"] != "joined" {
            return Ok(answer);
        }
        self.joined = answer.clone();
        self.shared.log.lock().unwrap().messages.push(answer.clone());
        let (sink, stream) = signaling.into_parts();
        let (outbox, outbox_rx) = mpsc::unbounded_channel();
        self.outbox = outbox.clone();
        self.socket_tasks.push(tokio::spawn(write_socket(sink, outbox_rx)));
        self.socket_tasks.push(tokio::spawn(read_socket(stream, self.pc.clone(), outbox, self.shared.clone())));
        Ok(answer)
    }

    /// Offers an ICE restart on the same peer connection, as a browser does after a network
    /// change, and waits for the server's answer and for the connection to be up again.
    pub async fn restart_ice(&self) -> Result<()> {
        let options = RTCOfferOptions { ice_restart: true, ..Default::default() };
        let offer = self.pc.create_offer(Some(options)).await?;
        let mut gathered = self.pc.gathering_complete_promise().await;
        self.pc.set_local_description(offer).await?;
        let _ = tokio::time::timeout(WAIT, gathered.recv()).await;
        let sdp = self.pc.local_description().await.context("no local description")?.sdp;
        let (answered_tx, answered_rx) = oneshot::channel();
        *self.shared.awaiting_answer.lock().unwrap() = Some(answered_tx);
        self.send(&json!({"type": "offer", "sdp": sdp}))?;
        match tokio::time::timeout(WAIT, answered_rx).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => bail!("{}: the server's answer to an ICE restart failed: {e}", self.name),
            _ => bail!("{}: no answer to an ICE restart; {}", self.name, self.describe()),
        }
    }

    /// What a modified client would do: adds `extra` camera transceivers to its peer
    /// connection and offers them on the established connection. Returns without waiting.
    pub async fn offer_extra_cameras(&self, extra: usize) -> Result<()> {
        for i in 0..extra {
            let capability = RTCRtpCodecCapability { mime_type: MIME_TYPE_VP8.to_owned(), clock_rate: 90000, ..Default::default() };
            let track = Arc::new(TrackLocalStaticRTP::new(capability, format!("extra-{i}"), format!("extra-stream-{i}")));
            self.pc.add_track(track).await?;
        }
        let offer = self.pc.create_offer(None).await?;
        self.pc.set_local_description(offer.clone()).await?;
        self.send(&json!({"type": "offer", "sdp": offer.sdp}))
    }

    /// Sends a JSON message on this participant's socket.
    pub fn send(&self, message: &Value) -> Result<()> {
        self.send_raw(&message.to_string())
    }

    /// Sends any text frame, JSON or not.
    pub fn send_raw(&self, text: &str) -> Result<()> {
        self.outbox
            .send(Message::text(text))
            .map_err(|_| anyhow!("{}: socket writer is gone", self.name))
    }

    /// Every server message since (and including) `joined`.
    pub fn messages(&self) -> Vec<Value> {
        self.shared.log.lock().unwrap().messages.clone()
    }

    /// The `error` messages received.
    pub fn errors(&self) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| m["type"] == "error")
            .collect()
    }

    pub fn anomalies(&self) -> Vec<String> {
        self.shared.log.lock().unwrap().anomalies.clone()
    }

    pub fn offers_answered(&self) -> u32 {
        self.shared.log.lock().unwrap().offers_answered
    }

    pub fn socket_ended(&self) -> Option<String> {
        self.shared.log.lock().unwrap().socket_ended.clone()
    }

    /// What arrived on tracks whose stream id is `publisher`.
    pub fn received_from(&self, publisher: &str) -> Received {
        self.shared
            .received
            .lock()
            .unwrap()
            .get(publisher)
            .cloned()
            .unwrap_or_default()
    }

    /// Everything received, by stream id.
    pub fn received(&self) -> BTreeMap<String, Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Every sender id seen in a marker, on any track. Our own id must never be among them.
    pub fn senders_seen(&self) -> BTreeSet<String> {
        self.received()
            .values()
            .flat_map(Received::senders)
            .collect()
    }

    pub fn sent(&self) -> Sent {
        let s = &self.shared.sent;
        Sent {
            audio_packets: s.audio_packets.load(Ordering::Relaxed),
            video_frames: s.video_frames.load(Ordering::Relaxed),
            keyframes: s.keyframes.load(Ordering::Relaxed),
            pli: s.pli.load(Ordering::Relaxed),
            fir: s.fir.load(Ordering::Relaxed),
            twcc_feedback: s.twcc_feedback.load(Ordering::Relaxed),
            screen_frames: s.screen_frames.load(Ordering::Relaxed),
            screen_keyframe_requests: s.screen_keyframe_requests.load(Ordering::Relaxed),
        }
    }

    /// What must hold at any moment of a healthy meeting, whatever the test: no negotiation
    /// failures or protocol-order violations, never our own media back, every stream carries
    /// only its own publisher's markers, and no duplicate storm.
    pub fn check_invariants(&self) -> Result<()> {
        let mut problems = self.anomalies();
        for (stream, r) in self.received() {
            if stream == self.id {
                problems.push("received a stream with our own id".into());
            }
            let senders = r.senders();
            if senders.iter().any(|s| s != &stream) {
                problems.push(format!("stream {stream:?} carried markers of {senders:?}"));
            }
            let packets = r.audio_packets + r.video_packets;
            if r.duplicates * 50 > packets.max(50) {
                problems.push(format!(
                    "stream {stream:?}: {} duplicates in {packets} packets",
                    r.duplicates
                ));
            }
        }
        if self.senders_seen().contains(&self.id) {
            problems.push("our own marker came back".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            bail!(
                "{} broke invariants: {problems:?}\n{}",
                self.name,
                self.describe()
            )
        }
    }

    /// No `error` message arrived.
    pub fn check_no_errors(&self) -> Result<()> {
        let errors = self.errors();
        if errors.is_empty() {
            Ok(())
        } else {
            bail!("{} got errors {errors:?}\n{}", self.name, self.describe())
        }
    }

    /// A readable account of this participant's state, for failure messages.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "{} ({}): sent {:?}; received:",
            self.name,
            self.id,
            self.sent()
        );
        for (stream, r) in self.received() {
            let _ = write!(
                out,
                "\n  stream {stream:?}: audio {} video {} keyframes {} before-keyframe {} dup {} tracks {}/{} ended, markers {:?}",
                r.audio_packets, r.video_packets, r.video_keyframes, r.video_before_first_keyframe,
                r.duplicates, r.tracks, r.tracks_ended, r.markers
            );
        }
        let log = self.shared.log.lock().unwrap();
        let types: Vec<String> = log
            .messages
            .iter()
            .map(|m| match m["type"].as_str() {
                Some("error" | "closed") => m.to_string(),
                Some(t) => t.to_string(),
                None => m.to_string(),
            })
            .collect();
        let _ = write!(
            out,
            "\n  messages {types:?}\n  offers answered {}, anomalies {:?}, socket ended {:?}",
            log.offers_answered, log.anomalies, log.socket_ended
        );
        out
    }

    /// Waits for a server message matching `pred` (already received ones count).
    pub async fn wait_message(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Result<Value> {
        let mut found = None;
        wait_until(
            WAIT,
            &format!("{}: {what}", self.name),
            || {
                found = self.messages().into_iter().find(|m| pred(m));
                found.is_some()
            },
            || self.describe(),
        )
        .await?;
        Ok(found.unwrap())
    }

    /// Waits until audio and video with markers from each of `publishers` have arrived.
    pub async fn wait_receiving_from(&self, publishers: &[&str]) -> Result<()> {
        wait_until(
            WAIT,
            &format!(
                "{} to receive audio, video and a keyframe from {publishers:?}",
                self.name
            ),
            || {
                publishers
                    .iter()
                    .all(|p| self.received_from(p).has_media_from(p))
            },
            || self.describe(),
        )
        .await
    }

    /// Waits until both of `publisher`'s flows have grown by about half a second's worth.
    pub async fn wait_still_receiving_from(&self, publisher: &str) -> Result<()> {
        let before = self.received_from(publisher);
        wait_until(
            WAIT,
            &format!(
                "{}'s audio and video from {publisher} to keep rising",
                self.name
            ),
            || {
                let now = self.received_from(publisher);
                now.audio_packets >= before.audio_packets + AUDIO_PACKETS_ENOUGH
                    && now.video_packets >= before.video_packets + VIDEO_PACKETS_ENOUGH
            },
            || format!("before {before:?}; {}", self.describe()),
        )
        .await
    }

    /// Waits until `publisher`'s `kind` flow has grown by about half a second's worth.
    pub async fn wait_flow_rising(&self, publisher: &str, kind: Kind) -> Result<()> {
        let before = self.received_from(publisher);
        wait_until(
            WAIT,
            &format!("{}'s {kind:?} from {publisher} to rise", self.name),
            || {
                self.received_from(publisher).packets(kind)
                    >= before.packets(kind) + kind.packets_enough()
            },
            || format!("before {before:?}; {}", self.describe()),
        )
        .await
    }

    /// Waits until no `kind` packet from `publisher` has arrived for `quiet` (whatever the
    /// other kind does); returns that flow's final count.
    pub async fn wait_flow_stopped(
        &self,
        publisher: &str,
        kind: Kind,
        quiet: Duration,
    ) -> Result<u64> {
        let mut last = self.received_from(publisher).packets(kind);
        let mut since = Instant::now();
        wait_until(
            WAIT,
            &format!(
                "{}'s {kind:?} from {publisher} to stop for {quiet:?}",
                self.name
            ),
            || {
                let now = self.received_from(publisher).packets(kind);
                if now != last {
                    last = now;
                    since = Instant::now();
                }
                since.elapsed() >= quiet
            },
            || self.describe(),
        )
        .await?;
        Ok(self.received_from(publisher).packets(kind))
    }

    /// Tracks the server currently sends to this peer connection: live (non-rejected)
    /// m-lines of the remote description in which the server sends.
    pub async fn tracks_sent_to_me(&self) -> usize {
        let Some(remote) = self.pc.current_remote_description().await else { return 0 };
        remote
            .sdp
            .split("\r\nm=")
            .skip(1)
            .filter(|section| {
                let port = section.split(' ').nth(1).unwrap_or("0");
                port != "0" && (section.contains("a=sendonly") || section.contains("a=sendrecv"))
            })
            .count()
    }

    /// The server's side of this peer connection (its last offer or answer), as SDP text.
    pub async fn remote_sdp(&self) -> String {
        self.pc.current_remote_description().await.map(|d| d.sdp).unwrap_or_default()
    }

    /// The server's UDP ports in this peer connection's remote description (its candidates):
    /// where the browser sends its media.
    pub async fn server_media_ports(&self) -> BTreeSet<u16> {
        let Some(remote) = self.pc.current_remote_description().await else { return BTreeSet::new() };
        remote
            .sdp
            .lines()
            .filter_map(|line| line.strip_prefix("a=candidate:"))
            .map(|candidate| candidate.split(' ').collect::<Vec<_>>())
            // foundation, component, transport, priority, address, port, "typ", type
            .filter(|fields| fields.get(2).is_some_and(|t| t.eq_ignore_ascii_case("udp")))
            .filter_map(|fields| fields.get(5)?.parse().ok())
            .collect()
    }

    /// Waits until the server sends exactly `count` tracks to this peer connection.
    pub async fn wait_tracks_sent_to_me(&self, count: usize) -> Result<()> {
        let start = Instant::now();
        loop {
            let now = self.tracks_sent_to_me().await;
            if now == count {
                return Ok(());
            }
            if start.elapsed() > WAIT {
                bail!("{}: the server sends {now} tracks, not {count}; {}", self.name, self.describe());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until nothing from `publisher` has arrived for `quiet`; returns the final counts.
    pub async fn wait_stopped_from(&self, publisher: &str, quiet: Duration) -> Result<Received> {
        let mut last = self.received_from(publisher);
        let mut since = Instant::now();
        wait_until(
            WAIT,
            &format!(
                "{}'s packets from {publisher} to stop for {quiet:?}",
                self.name
            ),
            || {
                let now = self.received_from(publisher);
                if (now.audio_packets, now.video_packets)
                    != (last.audio_packets, last.video_packets)
                {
                    last = now;
                    since = Instant::now();
                }
                since.elapsed() >= quiet
            },
            || self.describe(),
        )
        .await?;
        Ok(self.received_from(publisher))
    }

    /// Sends `leave` and waits for the server to end the session; returns its last message.
    pub async fn leave(mut self) -> Result<Value> {
        self.send(&json!({"type": "leave"}))?;
        wait_until(
            WAIT,
            &format!("{}'s session to end after leave", self.name),
            || {
                let log = self.shared.log.lock().unwrap();
                log.socket_ended.is_some() || log.messages.iter().any(|m| m["type"] == "closed")
            },
            || self.describe(),
        )
        .await?;
        let last = self.messages().pop().unwrap_or(Value::Null);
        self.shutdown().await;
        Ok(last)
    }

    /// Vanishes without `leave`: the socket drops and the peer connection closes, as when a
    /// browser tab is killed.
    pub async fn vanish(mut self) {
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        self.stop_screen_media();
        for task in self.tasks.drain(..).chain(self.socket_tasks.drain(..)) {
            task.abort();
        }
        let _ = self.pc.close().await;
    }
}

impl Drop for Participant {
    fn drop(&mut self) {
        self.stop_screen_media();
        for task in self.tasks.iter().chain(&self.socket_tasks) {
            task.abort();
        }
        let pc = self.pc.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = pc.close().await;
            });
        }
    }
}

fn codec(mime: &str, clock_rate: u32, channels: u16) -> RTCRtpCodecCapability {
    RTCRtpCodecCapability {
        mime_type: mime.into(),
        clock_rate,
        channels,
        ..Default::default()
    }
}

/// The `ice_servers` of a `joined`, for webrtc-rs.
fn ice_servers_of(joined: &Value) -> Result<Vec<RTCIceServer>> {
    let servers = joined["ice_servers"].as_array().context("joined has no ice_servers")?;
    servers
        .iter()
        .map(|s| {
            Ok(RTCIceServer {
                urls: serde_json::from_value(s["urls"].clone())?,
                username: s["username"].as_str().context("no username")?.to_string(),
                credential: s["credential"].as_str().context("no credential")?.to_string(),
            })
        })
        .collect()
}

/// A peer connection on loopback UDP; with `relay`, only through those TURN servers.
async fn new_peer_connection(relay: Option<Vec<RTCIceServer>>) -> Result<RTCPeerConnection> {
    crate::install_crypto_provider();
    let mut media = MediaEngine::default();
    media.register_default_codecs()?;
    let api = loopback_api(media)?;
    let config = match relay {
        Some(ice_servers) => RTCConfiguration {
            ice_servers,
            ice_transport_policy: RTCIceTransportPolicy::Relay,
            ..Default::default()
        },
        None => RTCConfiguration::default(),
    };
    Ok(api.new_peer_connection(config).await?)
}

/// A webrtc-rs API for `media`'s codecs as the tests' clients use it: NACK, RTCP reports and
/// TWCC both ways, ICE on loopback only.
pub fn loopback_api(mut media: MediaEngine) -> Result<API> {
    // webrtc-rs's defaults give TWCC feedback but do not number what they send; a browser
    // does both, so the server's feedback to publishers is observable.
    let registry = configure_nack(Registry::new(), &mut media);
    let registry = configure_twcc(configure_rtcp_reports(registry), &mut media)?;
    // The server listens on loopback only (127.0.0.1, or ::1 in the wildcard-bind tests);
    // offer nothing else.
    let mut setting = SettingEngine::default();
    setting.set_include_loopback_candidate(true);
    setting.set_network_types(vec![NetworkType::Udp4, NetworkType::Udp6]);
    setting.set_ip_filter(Box::new(|ip| ip.is_loopback()));
    setting.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
    Ok(APIBuilder::new()
        .with_media_engine(media)
        .with_interceptor_registry(registry)
        .with_setting_engine(setting)
        .build())
}

async fn write_socket(
    mut sink: crate::signaling::WsSink,
    mut outbox: mpsc::UnboundedReceiver<Message>,
) {
    while let Some(message) = outbox.recv().await {
        if sink.send(message).await.is_err() {
            break;
        }
    }
}

/// Reads the socket for the whole session: applies the answer to our offer, answers
/// every server offer (the polite side), and logs everything else for the test to inspect.
async fn read_socket(
    mut stream: WsStream,
    pc: Arc<RTCPeerConnection>,
    outbox: mpsc::UnboundedSender<Message>,
    shared: Arc<Shared>,
) {
    loop {
        let message = match next_incoming(&mut stream).await {
            Ok(Incoming::Message(m)) => m,
            Ok(Incoming::Ended(why)) => {
                shared.log.lock().unwrap().socket_ended = Some(why);
                return;
            }
            Err(e) => {
                shared.anomaly(format!("bad frame from server: {e:#}"));
                continue;
            }
        };
        shared.log.lock().unwrap().messages.push(message.clone());
        let sdp = message["sdp"].as_str().unwrap_or_default().to_string();
        match message["type"].as_str() {
            Some("answer") => match take_awaiting(&shared) {
                Some(tx) => {
                    if let Some(id) = twcc_extension_id(&sdp) {
                        *shared.server_twcc_id.lock().unwrap() = Some(id);
                    }
                    let result = match RTCSessionDescription::answer(sdp) {
                        Ok(desc) => pc.set_remote_description(desc).await,
                        Err(e) => Err(e),
                    };
                    let _ = tx.send(result.map_err(|e| e.to_string()));
                }
                None => shared.anomaly("an `answer` with no client offer outstanding".into()),
            },
            Some("offer") => {
                let glare = shared.awaiting_answer.lock().unwrap().is_some();
                if glare {
                    shared.anomaly("the server offered before answering our offer (glare)".into());
                }
                if pc.current_remote_description().await.is_some() {
                    ice_started(&pc).await;
                }
                {
                    let mut server_twcc_id = shared.server_twcc_id.lock().unwrap();
                    if server_twcc_id.is_none() {
                        *server_twcc_id = twcc_extension_id(&sdp);
                    }
                }
                let result = answer_offer(&pc, sdp).await;
                match &result {
                    Ok(answer) => {
                        let _ = outbox.send(Message::text(
                            json!({"type": "answer", "sdp": answer}).to_string(),
                        ));
                        shared.log.lock().unwrap().offers_answered += 1;
                    }
                    Err(e) => shared.anomaly(format!("could not answer a server offer: {e:#}")),
                }
                if let Some(tx) = shared.awaiting_first_offer.lock().unwrap().take() {
                    let _ = tx.send(result.map(|_| ()).map_err(|e| format!("{e:#}")));
                }
            }
            _ => {}
        }
    }
}

/// The id an SDP gives the transport-wide congestion control extension.
fn twcc_extension_id(sdp: &str) -> Option<u8> {
    sdp.lines()
        .filter(|l| l.contains("transport-wide-cc-extensions"))
        .find_map(|l| l.strip_prefix("a=extmap:")?.split([' ', '/']).next()?.parse().ok())
}

fn take_awaiting(shared: &Shared) -> Option<oneshot::Sender<Result<(), String>>> {
    shared.awaiting_answer.lock().unwrap().take()
}

/// webrtc-rs 0.17 applies our answer's ICE credentials in a queued task; a server offer
/// applied before that task runs looks like new credentials and restarts ICE, and the
/// connection never comes up. A browser has no such race, so wait it out (a busy machine is
/// enough to hit it). ICE leaves `New` only after the credentials are set.
async fn ice_started(pc: &RTCPeerConnection) {
    let start = Instant::now();
    while pc.ice_connection_state() == RTCIceConnectionState::New && start.elapsed() < WAIT {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The synthetic participant publishes one camera stream, as a client that does not do
/// simulcast would: it ignores the layers the server's offer asks for (webrtc-rs would echo
/// them in its answer and then send without rids, which no browser does).
fn without_simulcast(sdp: &str) -> String {
    sdp.split_inclusive('\n')
        .filter(|line| !line.starts_with("a=rid:") && !line.starts_with("a=simulcast:"))
        .collect()
}

async fn answer_offer(pc: &RTCPeerConnection, sdp: String) -> Result<String> {
    pc.set_remote_description(RTCSessionDescription::offer(without_simulcast(&sdp))?)
        .await?;
    let answer = pc.create_answer(None).await?;
    pc.set_local_description(answer).await?;
    Ok(pc
        .local_description()
        .await
        .context("no local description")?
        .sdp)
}

/// Reading RTCP also drives webrtc-rs's interceptors (NACK responses); PLI and FIR ask for
/// a keyframe, which the video publisher sends on its next frame (the screen's own, on the
/// screen's sender).
async fn read_sender_rtcp(sender: Arc<RTCRtpSender>, shared: Arc<Shared>, screen: bool) {
    while let Ok((packets, _)) = sender.read_rtcp().await {
        for packet in packets {
            let any = packet.as_any();
            let keyframe_request = any.downcast_ref::<PictureLossIndication>().is_some() || any.downcast_ref::<FullIntraRequest>().is_some();
            if screen {
                if keyframe_request {
                    shared.sent.screen_keyframe_requests.fetch_add(1, Ordering::Relaxed);
                    shared.screen_keyframe_wanted.store(true, Ordering::Relaxed);
                } else if any.downcast_ref::<TransportLayerCc>().is_some() {
                    // Transport-wide: it may reach any sender, this one too.
                    shared.sent.twcc_feedback.fetch_add(1, Ordering::Relaxed);
                }
                continue;
            }
            if any.downcast_ref::<PictureLossIndication>().is_some() {
                shared.sent.pli.fetch_add(1, Ordering::Relaxed);
                shared.keyframe_wanted.store(true, Ordering::Relaxed);
            } else if any.downcast_ref::<FullIntraRequest>().is_some() {
                shared.sent.fir.fetch_add(1, Ordering::Relaxed);
                shared.keyframe_wanted.store(true, Ordering::Relaxed);
            } else if any.downcast_ref::<TransportLayerCc>().is_some() {
                shared.sent.twcc_feedback.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

async fn read_track(track: Arc<TrackRemote>, shared: Arc<Shared>) {
    let stream = track.stream_id();
    let kind = track.kind();
    shared
        .received
        .lock()
        .unwrap()
        .entry(stream.clone())
        .or_default()
        .tracks += 1;
    let mut recent: VecDeque<u16> = VecDeque::with_capacity(512);
    let mut keyframe_seen = false;
    let mut highest: Option<u16> = None;
    while let Ok((packet, _)) = track.read_rtp().await {
        let seq = packet.header.sequence_number;
        let ahead = highest.map_or(1, |h| seq.wrapping_sub(h));
        let gap = if (1..0x8000).contains(&ahead) { ahead - 1 } else { 0 };
        if (1..0x8000).contains(&ahead) {
            highest = Some(seq);
        }
        let duplicate = recent.contains(&seq);
        if recent.len() == 512 {
            recent.pop_front();
        }
        recent.push_back(seq);
        let markers = markers_in(&packet.payload);
        let own_kind = if kind == RTPCodecType::Audio {
            'a'
        } else {
            'v'
        };
        if markers.iter().any(|(_, k)| *k != own_kind) {
            shared.anomaly(format!(
                "a {kind} track of stream {stream:?} carried {markers:?}"
            ));
        }
        let is_keyframe = kind == RTPCodecType::Video && vp8_is_keyframe_start(&packet.payload);
        let twcc_id = *shared.server_twcc_id.lock().unwrap();
        let twcc_numbered = twcc_id.is_some_and(|id| packet.header.get_extension(id).is_some());
        let mut received = shared.received.lock().unwrap();
        let r = received.entry(stream.clone()).or_default();
        r.twcc_numbered += u64::from(twcc_numbered);
        match kind {
            RTPCodecType::Audio => r.audio_packets += 1,
            RTPCodecType::Video => {
                r.video_packets += 1;
                keyframe_seen |= is_keyframe;
                r.video_keyframes += u64::from(is_keyframe);
                r.video_before_first_keyframe += u64::from(!keyframe_seen);
            }
            _ => {}
        }
        r.duplicates += u64::from(duplicate);
        r.largest_seq_gap = r.largest_seq_gap.max(gap);
        for marker in markers {
            *r.markers.entry(marker).or_default() += 1;
        }
        r.last_packet_at = Some(Instant::now());
    }
    shared
        .received
        .lock()
        .unwrap()
        .entry(stream)
        .or_default()
        .tracks_ended += 1;
}

fn rtp_header(payload_type: u8, sequence_number: u16, timestamp: u32, marker: bool) -> Header {
    Header {
        version: 2,
        payload_type,
        sequence_number,
        timestamp,
        marker,
        ..Default::default()
    }
}

/// 50 packets a second, paced: a late tick delays the next rather than bursting to catch up.
async fn publish_audio(track: Arc<TrackLocalStaticRTP>, id: String, shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(AUDIO_INTERVAL);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let (mut seq, mut ts) = (rand_u16(), u32::from(rand_u16()) << 8);
    for n in 0u64.. {
        tick.tick().await;
        let packet = Packet {
            header: rtp_header(111, seq, ts, n == 0),
            payload: Bytes::from(opus_payload(&id, n)),
        };
        if track.write_rtp(&packet).await.is_ok() {
            shared.sent.audio_packets.fetch_add(1, Ordering::Relaxed);
        }
        seq = seq.wrapping_add(1);
        ts = ts.wrapping_add(960);
    }
}

/// 30 frames a second; a keyframe first and after every PLI/FIR, delta frames otherwise.
/// `screen`: on the screen m-line, with its own keyframe requests and count.
async fn publish_video(track: Arc<TrackLocalStaticRTP>, id: String, shared: Arc<Shared>, screen: bool) {
    let wanted = if screen { &shared.screen_keyframe_wanted } else { &shared.keyframe_wanted };
    let mut tick = tokio::time::interval(VIDEO_INTERVAL);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let (mut seq, mut ts, mut picture_id) = (rand_u16(), u32::from(rand_u16()) << 8, rand_u16());
    for n in 0u64.. {
        tick.tick().await;
        let keyframe = n == 0 || wanted.swap(false, Ordering::Relaxed);
        let payloads = vp8_packets(&vp8_frame(&id, n, keyframe), picture_id);
        let last = payloads.len() - 1;
        for (i, payload) in payloads.into_iter().enumerate() {
            let packet = Packet {
                header: rtp_header(96, seq, ts, i == last),
                payload: Bytes::from(payload),
            };
            let _ = track.write_rtp(&packet).await;
            seq = seq.wrapping_add(1);
        }
        if screen {
            shared.sent.screen_frames.fetch_add(1, Ordering::Relaxed);
        } else {
            shared.sent.video_frames.fetch_add(1, Ordering::Relaxed);
            shared
                .sent
                .keyframes
                .fetch_add(u64::from(keyframe), Ordering::Relaxed);
        }
        ts = ts.wrapping_add(3000);
        picture_id = picture_id.wrapping_add(1) & 0x7fff;
    }
}

/// Random starting points, as RFC 3550 asks; no need for a `rand` dependency.
fn rand_u16() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    let mixed = nanos.wrapping_mul(2_654_435_761) ^ (std::process::id() << 7);
    (mixed >> 13) as u16
}

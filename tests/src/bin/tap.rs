//! The server-blindness tap (docs/e2ee.md "What the server forwards, measured"): a member
//! written with webrtc-rs, no camera or microphone and no meeting key, that joins a meeting,
//! takes every track the SFU forwards it for a while and writes each frame's payload as the
//! SFU's SRTP carried it: VP8 frames put back together from their RTP packets, Opus packets
//! as they are. Started by `tests/browser/tests/e2ee-blind.test.js`; it judges nothing.
//!
//! ```text
//! tap --server 127.0.0.1:8080 --room ROOM --seconds 12 --out frames.jsonl
//! ```
//!
//! One JSON line per frame: `{"from": publisher id (the track's msid), "kind": "audio" |
//! "video", "ssrc", "ts" (RTP timestamp), "seq" (first packet's), "data": hex}`. On stdout,
//! once joined `{"ready": true, "id": …}`, at the end `{"done": true, "tracks": […]}`.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use haven_tests::signaling::{next_incoming, Incoming, SignalingClient};
use haven_tests::WAIT;
use serde_json::{json, Value};
use tokio::sync::watch;
use webrtc::api::media_engine::{MediaEngine, MIME_TYPE_OPUS, MIME_TYPE_VP8};
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use webrtc::rtp::codecs::vp8::Vp8Packet;
use webrtc::rtp::packetizer::Depacketizer;
use webrtc::rtp_transceiver::rtp_codec::{
    RTCRtpCodecCapability, RTCRtpCodecParameters, RTPCodecType,
};
use webrtc::rtp_transceiver::rtp_transceiver_direction::RTCRtpTransceiverDirection;
use webrtc::rtp_transceiver::{RTCPFeedback, RTCRtpTransceiverInit};
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;
use webrtc::track::track_remote::TrackRemote;

struct Args {
    server: SocketAddr,
    room: String,
    seconds: u64,
    out: String,
    /// How often to ask each video for a keyframe (more keyframes to check); 0: never.
    pli_ms: u64,
}

fn args() -> Result<Args> {
    let mut map = BTreeMap::new();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        map.insert(flag.trim_start_matches('-').to_string(), value);
    }
    let get = |k: &str| {
        map.get(k)
            .cloned()
            .with_context(|| format!("--{k} is required"))
    };
    let server = get("server")?;
    Ok(Args {
        server: server
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()?,
        room: get("room")?,
        seconds: get("seconds")?.parse()?,
        out: get("out")?,
        pli_ms: map.get("pli-ms").map_or(Ok(2000), |v| v.parse())?,
    })
}

/// What one forwarded track gave, for the closing summary.
#[derive(Default)]
struct TrackCount {
    from: String,
    kind: &'static str,
    packets: u64,
    frames: u64,
}

struct Shared {
    out: Mutex<BufWriter<File>>,
    counts: Mutex<BTreeMap<u32, TrackCount>>,
    stopped: AtomicBool,
}

impl Shared {
    fn frame(&self, from: &str, kind: &str, ssrc: u32, ts: u32, seq: u16, data: &[u8]) {
        if self.stopped.load(Ordering::Relaxed) {
            return;
        }
        let mut hex = String::with_capacity(data.len() * 2);
        for b in data {
            let _ = write!(hex, "{b:02x}");
        }
        let line =
            json!({"from": from, "kind": kind, "ssrc": ssrc, "ts": ts, "seq": seq, "data": hex});
        let _ = writeln!(self.out.lock().unwrap(), "{line}");
        if let Some(c) = self.counts.lock().unwrap().get_mut(&ssrc) {
            c.frames += 1;
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = args()?;
    haven_tests::install_crypto_provider();
    let shared = Arc::new(Shared {
        out: Mutex::new(BufWriter::new(
            File::create(&args.out).with_context(|| format!("creating {}", args.out))?,
        )),
        counts: Mutex::default(),
        stopped: AtomicBool::new(false),
    });

    let mut signaling = SignalingClient::connect(args.server).await?;
    let joined = signaling.try_join(&args.room, "Tap", json!({})).await?;
    if joined["type"] != "joined" {
        bail!("the tap was not let in: {joined}");
    }
    let id = joined["you"]["id"]
        .as_str()
        .context("joined without you.id")?
        .to_string();

    let pc = Arc::new(peer_connection().await?);
    // As a browser with its microphone and camera off: the three lines it sends on (audio,
    // camera, screen) with tracks on which nothing is ever written.
    for (mime, rate, channels, name) in [
        (MIME_TYPE_OPUS, 48_000, 2, "audio"),
        (MIME_TYPE_VP8, 90_000, 0, "video"),
        (MIME_TYPE_VP8, 90_000, 0, "screen"),
    ] {
        let capability = RTCRtpCodecCapability {
            mime_type: mime.into(),
            clock_rate: rate,
            channels,
            ..Default::default()
        };
        let track = Arc::new(TrackLocalStaticRTP::new(
            capability,
            name.into(),
            format!("tap-{name}"),
        ));
        let init = RTCRtpTransceiverInit {
            direction: RTCRtpTransceiverDirection::Sendonly,
            send_encodings: vec![],
        };
        pc.add_transceiver_from_track(track, Some(init)).await?;
    }
    let on_track = (shared.clone(), pc.clone(), args.pli_ms);
    pc.on_track(Box::new(move |track, _, _| {
        let (shared, pc, pli_ms) = on_track.clone();
        tokio::spawn(read_track(track, shared, pc, pli_ms));
        Box::pin(async {})
    }));
    let (state_tx, mut state_rx) = watch::channel(RTCPeerConnectionState::New);
    pc.on_peer_connection_state_change(Box::new(move |state| {
        let _ = state_tx.send(state);
        Box::pin(async {})
    }));

    let (mut sink, mut stream) = signaling.into_parts();
    let socket_pc = pc.clone();
    let (answers_tx, mut answers) = tokio::sync::mpsc::unbounded_channel::<String>();
    // The polite side: every server offer is answered; nothing else needs doing.
    let reader = tokio::spawn(async move {
        loop {
            let message: Value = match next_incoming(&mut stream).await {
                Ok(Incoming::Message(m)) => m,
                Ok(Incoming::Ended(why)) => return format!("socket ended: {why}"),
                Err(e) => return format!("bad frame: {e:#}"),
            };
            if message["type"] == "offer" {
                let sdp = message["sdp"].as_str().unwrap_or_default();
                match answer(&socket_pc, sdp).await {
                    Ok(sdp) => {
                        let _ = answers_tx.send(json!({"type": "answer", "sdp": sdp}).to_string());
                    }
                    Err(e) => return format!("could not answer an offer: {e:#}"),
                }
            }
        }
    });
    let writer = tokio::spawn(async move {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        while let Some(text) = answers.recv().await {
            if sink.send(Message::text(text)).await.is_err() {
                break;
            }
        }
        let _ = sink
            .send(Message::text(json!({"type": "leave"}).to_string()))
            .await;
    });

    tokio::time::timeout(WAIT, async {
        while *state_rx.borrow_and_update() != RTCPeerConnectionState::Connected {
            state_rx.changed().await?;
        }
        anyhow::Ok(())
    })
    .await
    .context("the tap's media did not connect")??;
    println!("{}", json!({"ready": true, "id": id}));

    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    shared.stopped.store(true, Ordering::Relaxed);
    if reader.is_finished() {
        bail!("the tap's socket: {}", reader.await?);
    }
    reader.abort();
    let _ = writer.await; // sends `leave` once the reader's sender is gone
    let _ = pc.close().await;
    shared.out.lock().unwrap().flush()?;
    let tracks: Vec<Value> = shared
        .counts
        .lock()
        .unwrap()
        .iter()
        .map(|(ssrc, c)| json!({"ssrc": ssrc, "from": c.from, "kind": c.kind, "packets": c.packets, "frames": c.frames}))
        .collect();
    println!("{}", json!({"done": true, "tracks": tracks}));
    Ok(())
}

/// Only Opus and VP8, the codecs Haven forwards: no RED, so every audio payload is one Opus
/// packet. NACK, receiver reports and TWCC as a browser would, all on loopback.
async fn peer_connection() -> Result<RTCPeerConnection> {
    let mut media = MediaEngine::default();
    for (mime, rate, channels, fmtp, pt, kind) in [
        (
            MIME_TYPE_OPUS,
            48_000,
            2,
            "minptime=10;useinbandfec=1",
            111,
            RTPCodecType::Audio,
        ),
        (MIME_TYPE_VP8, 90_000, 0, "", 96, RTPCodecType::Video),
    ] {
        let capability = RTCRtpCodecCapability {
            mime_type: mime.into(),
            clock_rate: rate,
            channels,
            sdp_fmtp_line: fmtp.into(),
            // Keyframe requests (the tap's PLIs) as a browser negotiates them; NACK and TWCC
            // come from the interceptors below.
            rtcp_feedback: if kind == RTPCodecType::Video {
                vec![
                    RTCPFeedback {
                        typ: "nack".into(),
                        parameter: "pli".into(),
                    },
                    RTCPFeedback {
                        typ: "ccm".into(),
                        parameter: "fir".into(),
                    },
                ]
            } else {
                vec![]
            },
        };
        media.register_codec(
            RTCRtpCodecParameters {
                capability,
                payload_type: pt,
                ..Default::default()
            },
            kind,
        )?;
    }
    let api = haven_tests::participant::loopback_api(media)?;
    Ok(api.new_peer_connection(RTCConfiguration::default()).await?)
}

/// The tap sends no camera, so it ignores the simulcast layers the server asks for.
async fn answer(pc: &RTCPeerConnection, sdp: &str) -> Result<String> {
    let sdp: String = sdp
        .split_inclusive('\n')
        .filter(|line| !line.starts_with("a=rid:") && !line.starts_with("a=simulcast:"))
        .collect();
    pc.set_remote_description(RTCSessionDescription::offer(sdp)?)
        .await?;
    let answer = pc.create_answer(None).await?;
    pc.set_local_description(answer).await?;
    Ok(pc
        .local_description()
        .await
        .context("no local description")?
        .sdp)
}

async fn read_track(
    track: Arc<TrackRemote>,
    shared: Arc<Shared>,
    pc: Arc<RTCPeerConnection>,
    pli_ms: u64,
) {
    let from = track.stream_id();
    let ssrc = track.ssrc();
    let video = track.kind() == RTPCodecType::Video;
    let kind = if video { "video" } else { "audio" };
    shared.counts.lock().unwrap().insert(
        ssrc,
        TrackCount {
            from: from.clone(),
            kind,
            ..Default::default()
        },
    );
    let pli = (video && pli_ms > 0).then(|| {
        let pc = pc.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(pli_ms));
            loop {
                tick.tick().await;
                let request = PictureLossIndication {
                    sender_ssrc: 0,
                    media_ssrc: ssrc,
                };
                if pc.write_rtcp(&[Box::new(request)]).await.is_err() {
                    break;
                }
            }
        })
    });
    let mut frames = Vp8Frames::default();
    let mut recent: VecDeque<u16> = VecDeque::with_capacity(256);
    while let Ok((packet, _)) = track.read_rtp().await {
        let seq = packet.header.sequence_number;
        // Padding (the server's probes) carries no media; a retransmission is seen once.
        if packet.payload.is_empty() || recent.contains(&seq) {
            continue;
        }
        if recent.len() == 256 {
            recent.pop_front();
        }
        recent.push_back(seq);
        if let Some(c) = shared.counts.lock().unwrap().get_mut(&ssrc) {
            c.packets += 1;
        }
        let ts = packet.header.timestamp;
        if !video {
            shared.frame(&from, kind, ssrc, ts, seq, &packet.payload);
        } else if let Some((first, data)) =
            frames.push(ts, seq, packet.header.marker, &packet.payload)
        {
            shared.frame(&from, kind, ssrc, ts, first, &data);
        }
    }
    if let Some(pli) = pli {
        pli.abort();
    }
}

/// VP8 frames put back together (RFC 7741): the packets of one RTP timestamp, from the one
/// that starts partition 0 (S=1, PID=0) to the one with the marker bit, none missing.
#[derive(Default)]
struct Vp8Frames {
    /// Frames still missing packets: timestamp → (sequence number, starts the frame, marker, payload).
    pending: VecDeque<(u32, Vec<(u16, bool, bool, Bytes)>)>,
    /// Timestamps already written, so a late copy of a packet does not write a frame twice.
    done: VecDeque<u32>,
}

impl Vp8Frames {
    fn push(&mut self, ts: u32, seq: u16, marker: bool, payload: &Bytes) -> Option<(u16, Vec<u8>)> {
        if self.done.contains(&ts) {
            return None;
        }
        let mut descriptor = Vp8Packet::default();
        let data = descriptor.depacketize(payload).ok()?;
        let start = descriptor.s == 1 && descriptor.pid == 0;
        let at = match self.pending.iter().position(|(t, _)| *t == ts) {
            Some(at) => at,
            None => {
                if self.pending.len() == 32 {
                    self.pending.pop_front();
                }
                self.pending.push_back((ts, Vec::new()));
                self.pending.len() - 1
            }
        };
        let packets = &mut self.pending[at].1;
        packets.push((seq, start, marker, data));
        let first = packets.iter().find(|p| p.1)?.0;
        let last = packets.iter().find(|p| p.2)?.0;
        let count = last.wrapping_sub(first) as usize + 1;
        if count > 1000 {
            return None;
        }
        let mut frame = Vec::new();
        for i in 0..count {
            let want = first.wrapping_add(i as u16);
            frame.extend_from_slice(&packets.iter().find(|p| p.0 == want)?.3);
        }
        self.pending.remove(at);
        if self.done.len() == 64 {
            self.done.pop_front();
        }
        self.done.push_back(ts);
        Some((first, frame))
    }
}

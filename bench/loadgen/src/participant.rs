//! One synthetic participant: joins through an SFU adapter, publishes paced audio and video
//! on its connections, receives everyone else's, and tallies what arrived.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use str0m::media::{Frequency, MediaTime};
use tokio::sync::{mpsc, watch};
use tokio::time::sleep_until;
use tokio_tungstenite::tungstenite::Message;

use crate::conn::Conn;
use crate::measure::{Clock, Tally};
use crate::payload::{self, Probe};

pub const AUDIO_INTERVAL: Duration = Duration::from_millis(20);
pub const VIDEO_INTERVAL: Duration = Duration::from_micros(33_333);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(20);

/// Who this participant is in the load shape.
#[derive(Clone, Copy, Debug)]
pub struct Role {
    pub index: u32,
    pub audio: bool,
    pub video: bool,
    /// Decrypts and measures what it receives; otherwise only counts packets.
    pub measured: bool,
}

/// What every participant shares.
pub struct Shared {
    /// One for every meeting: one measuring window.
    pub clock: Arc<Clock>,
    pub bind: IpAddr,
    pub url: String,
    pub room: String,
    /// Tells the driver a participant's media is up.
    pub ready: mpsc::UnboundedSender<u32>,
    /// Whether anyone but a participant itself publishes (then "up" means media arrived).
    pub others_publish: Box<dyn Fn(u32) -> bool + Send + Sync>,
    /// Haven: publish the camera as three simulcast layers (`--simulcast`).
    pub simulcast: bool,
    /// Haven: after joining, report every other participant's tile at this size in device
    /// pixels (`receive {tiles}`), again whenever someone joins (`--tile WxH`).
    pub tile: Option<(u32, u32)>,
}

/// At most two peer connections: Haven uses one, Janus a publisher and a subscriber.
#[derive(Default)]
pub struct Conns {
    pub publisher: Option<Conn>,
    pub subscriber: Option<Conn>,
}

impl Conns {
    fn all(&mut self) -> impl Iterator<Item = &mut Conn> {
        self.publisher.iter_mut().chain(self.subscriber.iter_mut())
    }
}

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// An SFU's signaling, as seen by the media loop.
pub trait Adapter: Sized {
    /// The WebSocket subprotocol the SFU insists on.
    const SUBPROTOCOL: Option<&'static str>;
    /// Joins the room and starts negotiating; creates the connections it needs.
    async fn join(ws: &mut Ws, shared: &Shared, role: Role, conns: &mut Conns) -> Result<Self>;
    /// A signaling message after joining; returns the messages to send.
    fn on_message(&mut self, msg: Value, conns: &mut Conns, tally: &mut Tally) -> Result<Vec<Value>>;
    fn keepalive(&mut self) -> Option<Value>;
    fn leave(&mut self) -> Option<Value>;
}

pub async fn send_json(ws: &mut Ws, value: &Value) -> Result<()> {
    ws.send(Message::text(value.to_string())).await?;
    Ok(())
}

/// The next JSON message, skipping pings and other frames.
pub async fn recv_json(ws: &mut Ws) -> Result<Value> {
    loop {
        match ws.next().await.context("signaling closed")?? {
            Message::Text(text) => return Ok(serde_json::from_str(&text)?),
            Message::Close(_) => bail!("signaling closed"),
            _ => {}
        }
    }
}

/// One session: join, run until `stop` says so (or `lifetime` passes), leave.
pub async fn run<A: Adapter>(
    shared: Arc<Shared>,
    role: Role,
    mut stop: watch::Receiver<bool>,
    lifetime: Option<Duration>,
    tally: &mut Tally,
) -> Result<()> {
    let opened = Instant::now();
    let (mut ws, _) = tokio_tungstenite::connect_async(request(&shared.url, A::SUBPROTOCOL)?)
        .await
        .context("WebSocket connect")?;
    let mut conns = Conns::default();
    let mut adapter = A::join(&mut ws, &shared, role, &mut conns).await?;
    for conn in conns.all() {
        conn.light = !role.measured;
        if role.measured {
            conn.stamp_arrivals()?;
        }
    }
    let (mut ws_tx, mut ws_rx) = ws.split();

    let ends = lifetime.map(|l| opened + l);
    let mut next_audio = Instant::now();
    let mut next_video = Instant::now();
    let mut next_keepalive = Instant::now() + KEEPALIVE_INTERVAL;
    let (mut audio_seq, mut video_seq) = (0u32, 0u32);
    let mut reported_ready = false;
    let mut buf_pub = vec![0u8; 2048];
    let mut buf_sub = vec![0u8; 2048];

    loop {
        let mut wake = next_keepalive;
        for conn in conns.all() {
            wake = wake.min(conn.pump(&shared.clock, tally, opened)?);
        }
        if role.audio {
            wake = wake.min(next_audio);
        }
        if role.video {
            wake = wake.min(next_video);
        }
        if let Some(end) = ends {
            wake = wake.min(end);
        }
        if !reported_ready {
            // Our own sending is up, and media from the others arrives (when anyone else sends).
            let sending = conns.publisher.as_ref().is_none_or(|c| c.connected);
            let receiving = !(shared.others_publish)(role.index) || tally.join.is_some();
            if sending && receiving {
                reported_ready = true;
                let _ = shared.ready.send(role.index);
            }
        }

        let mut out = Vec::new();
        tokio::select! {
            r = recv_on(conns.publisher.as_ref(), &mut buf_pub) => {
                let (n, source, arrived) = r?;
                let now = Instant::now();
                if shared.clock.in_window(now) { tally.datagrams_in += 1; }
                if conns.publisher.as_mut().unwrap().receive(&buf_pub[..n], source, now, arrived)? {
                    tally.join.get_or_insert(now - opened);
                }
            }
            r = recv_on(conns.subscriber.as_ref(), &mut buf_sub) => {
                let (n, source, arrived) = r?;
                let now = Instant::now();
                if shared.clock.in_window(now) { tally.datagrams_in += 1; }
                if conns.subscriber.as_mut().unwrap().receive(&buf_sub[..n], source, now, arrived)? {
                    tally.join.get_or_insert(now - opened);
                }
            }
            msg = ws_rx.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None => bail!("signaling closed"),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => bail!("signaling: {e}"),
                };
                out = adapter.on_message(serde_json::from_str(&text)?, &mut conns, tally)?;
            }
            _ = sleep_until(wake.into()) => {
                let now = Instant::now();
                if ends.is_some_and(|end| now >= end) { break; }
                if now >= next_keepalive {
                    out.extend(adapter.keepalive());
                    next_keepalive = now + KEEPALIVE_INTERVAL;
                }
                if let Some(publisher) = conns.publisher.as_mut() {
                    while role.audio && now >= next_audio {
                        tally.sent_late(&shared.clock, now, next_audio);
                        let probe = Probe { publisher: role.index, seq: audio_seq, sent_us: shared.clock.micros(now), layer: 0 };
                        let time = MediaTime::new(u64::from(audio_seq) * 960, Frequency::FORTY_EIGHT_KHZ);
                        if publisher.write(false, 0, now, time, payload::audio(probe)) && shared.clock.in_window(now) {
                            tally.audio_sent += 1;
                        }
                        audio_seq += 1;
                        next_audio += AUDIO_INTERVAL;
                    }
                    while role.video && now >= next_video {
                        tally.sent_late(&shared.clock, now, next_video);
                        let time = MediaTime::new(u64::from(video_seq) * 3000, Frequency::NINETY_KHZ);
                        // With simulcast every layer carries the same frame (same probe but
                        // for its layer): a subscriber gets one of them, so a frame time
                        // counts once in `video_sent`.
                        let shapes: &[payload::LayerShape] =
                            if publisher.simulcast { &payload::LAYERS } else { std::slice::from_ref(&payload::SINGLE) };
                        let mut written = false;
                        for (layer, shape) in shapes.iter().enumerate() {
                            let probe = Probe {
                                publisher: role.index,
                                seq: video_seq,
                                sent_us: shared.clock.micros(now),
                                layer: layer as u8,
                            };
                            let keyframe = publisher.keyframe_wanted[layer];
                            if publisher.write(true, layer, now, time, payload::vp8(probe, keyframe, shape)) {
                                written = true;
                                publisher.keyframe_wanted[layer] &= !keyframe;
                                if shared.clock.in_window(now) && keyframe {
                                    tally.keyframes_sent += 1;
                                    tally.keyframes_by_layer[layer] += 1;
                                }
                            }
                        }
                        if written && shared.clock.in_window(now) {
                            tally.video_sent += 1;
                        }
                        video_seq += 1;
                        next_video += VIDEO_INTERVAL;
                    }
                }
                for conn in conns.all() {
                    conn.timeout(now)?;
                }
            }
            _ = stop.changed() => break,
        }
        for msg in out {
            ws_tx.send(Message::text(msg.to_string())).await?;
        }
    }
    if let Some(bye) = adapter.leave() {
        let _ = ws_tx.send(Message::text(bye.to_string())).await;
    }
    let _ = ws_tx.close().await;
    Ok(())
}

async fn recv_on(conn: Option<&Conn>, buf: &mut [u8]) -> std::io::Result<(usize, std::net::SocketAddr, Instant)> {
    match conn {
        Some(conn) => conn.recv(buf).await,
        None => std::future::pending().await,
    }
}

fn request(url: &str, subprotocol: Option<&str>) -> Result<tokio_tungstenite::tungstenite::handshake::client::Request> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request()?;
    if let Some(protocol) = subprotocol {
        request.headers_mut().insert("Sec-WebSocket-Protocol", protocol.parse()?);
    }
    Ok(request)
}

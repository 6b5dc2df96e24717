//! One peer connection of a synthetic participant: a str0m `Rtc` (full ICE, the offering or
//! answering side) on its own UDP socket. The same media path serves both SFUs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, MediaTime, Mid, Rid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig};
use tokio::net::UdpSocket;

use crate::arrival;
use crate::measure::{Clock, Tally};
use crate::payload;

pub struct Conn {
    rtc: Rtc,
    pub socket: UdpSocket,
    local: SocketAddr,
    pending: Option<SdpPendingOffer>,
    pub connected: bool,
    /// Our sending m-lines, when this connection publishes.
    audio_mid: Option<Mid>,
    video_mid: Option<Mid>,
    /// A keyframe request arrived: the next video frame is a keyframe, per simulcast layer
    /// (q, h, f; the first alone without simulcast).
    pub keyframe_wanted: [bool; 3],
    /// Publishes camera simulcast (`--simulcast`): answers an offer's `a=simulcast:recv`
    /// (str0m answers `a=simulcast:send` with the same rids by itself) and writes each video
    /// frame once per layer with its rid.
    pub simulcast: bool,
    /// Counts received RTP without decrypting it (a participant outside the measured
    /// sample, see `--measured`): the generator then costs far less than the SFU.
    pub light: bool,
    /// The kernel stamps what this socket receives (a measured participant's, see `arrival`).
    stamped: bool,
    /// When the datagram being handled reached the socket.
    arrived: Instant,
}

/// An RTP (not RTCP, STUN or DTLS) datagram, by RFC 7983's first byte and RFC 5761's
/// payload-type range.
fn is_rtp(data: &[u8]) -> bool {
    matches!(data, [128..=191, second, ..] if !(192..=223).contains(second))
}

impl Conn {
    pub async fn new(bind: std::net::IpAddr) -> Result<Conn> {
        let socket = UdpSocket::bind((bind, 0)).await?;
        let local = socket.local_addr()?;
        let mut rtc = RtcConfig::new()
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .build(Instant::now());
        let candidate = Candidate::host(local, "udp").context("a host candidate")?;
        rtc.add_local_candidate(candidate);
        Ok(Conn {
            rtc,
            socket,
            local,
            pending: None,
            connected: false,
            audio_mid: None,
            video_mid: None,
            keyframe_wanted: [true; 3],
            simulcast: false,
            light: false,
            stamped: false,
            arrived: Instant::now(),
        })
    }

    /// Measures this connection's frames at their kernel arrival time from now on.
    pub fn stamp_arrivals(&mut self) -> Result<()> {
        arrival::enable(&self.socket).context("SO_TIMESTAMPNS")?;
        self.stamped = true;
        Ok(())
    }

    /// The next datagram: length, source, when it reached the socket.
    pub async fn recv(&self, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr, Instant)> {
        if self.stamped {
            return arrival::recv(&self.socket, buf).await;
        }
        let (n, source) = self.socket.recv_from(buf).await?;
        Ok((n, source, Instant::now()))
    }

    /// Our offer with a sendonly m-line per published kind (both, as a browser in Haven does,
    /// when `kinds` says so).
    pub fn offer(&mut self, audio: bool, video: bool) -> Result<String> {
        let mut api = self.rtc.sdp_api();
        if audio {
            self.audio_mid = Some(api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None));
        }
        if video {
            self.video_mid = Some(api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None));
        }
        let (offer, pending) = api.apply().context("an offer")?;
        self.pending = Some(pending);
        Ok(offer.to_sdp_string())
    }

    pub fn accept_answer(&mut self, sdp: &str) -> Result<()> {
        let answer = SdpAnswer::from_sdp_string(sdp)?;
        let pending = self.pending.take().context("an answer without an offer")?;
        self.rtc.sdp_api().accept_answer(pending, answer)?;
        Ok(())
    }

    pub fn accept_offer(&mut self, sdp: &str) -> Result<String> {
        // Without `--simulcast` the synthetic participant publishes one camera stream, as a
        // client without simulcast: it ignores the layers Haven's offer asks for (str0m would
        // answer them and then send without rids, which no browser does). With it, str0m
        // answers `a=simulcast:recv q;h;f` with `a=simulcast:send q;h;f` and the rid lines,
        // and makes a send stream per rid.
        let sdp: String = if self.simulcast {
            sdp.to_string()
        } else {
            sdp.split_inclusive('\n')
                .filter(|line| !line.starts_with("a=rid:") && !line.starts_with("a=simulcast:"))
                .collect()
        };
        let offer = SdpOffer::from_sdp_string(&sdp)?;
        let answer = self.rtc.sdp_api().accept_offer(offer)?;
        Ok(answer.to_sdp_string())
    }

    /// A trickled candidate (`candidate:…`); an unparsable one is ignored.
    pub fn add_remote_candidate(&mut self, line: &str) {
        if let Ok(candidate) = Candidate::from_sdp_string(line) {
            self.rtc.add_remote_candidate(candidate);
        }
    }

    /// Sends what str0m wants sent, handles its events, and says when it next needs a turn.
    pub fn pump(&mut self, clock: &Clock, tally: &mut Tally, opened: Instant) -> Result<Instant> {
        loop {
            match self.rtc.poll_output()? {
                Output::Timeout(at) => return Ok(at),
                Output::Transmit(t) => {
                    let _ = self.socket.try_send_to(&t.contents, t.destination);
                }
                Output::Event(event) => self.on_event(event, clock, tally, opened),
            }
        }
    }

    fn on_event(&mut self, event: Event, clock: &Clock, tally: &mut Tally, opened: Instant) {
        match event {
            Event::Connected => self.connected = true,
            // A request for one layer gets a keyframe on that layer only, as a browser does.
            Event::KeyframeRequest(req) => match req.rid.and_then(|rid| payload::LAYERS.iter().position(|l| rid == Rid::from(l.rid))) {
                Some(layer) => self.keyframe_wanted[layer] = true,
                None => self.keyframe_wanted = [true; 3],
            },
            // Haven offers first: the m-lines it receives on are where we publish.
            Event::MediaAdded(added) if added.direction == Direction::SendOnly => match added.kind {
                MediaKind::Audio => _ = self.audio_mid.get_or_insert(added.mid),
                MediaKind::Video => _ = self.video_mid.get_or_insert(added.mid),
            },
            Event::MediaData(data) => {
                let now = Instant::now();
                if tally.join.is_none() {
                    tally.join = Some(now - opened);
                }
                let video = data.params.spec().codec == Codec::Vp8;
                if let Some(probe) = payload::find(&data.data) {
                    tally.received(clock, probe, video, self.arrived, now);
                }
            }
            _ => {}
        }
    }

    /// Feeds a datagram to str0m; on a light connection an RTP packet is only counted.
    /// Returns whether it was such a counted packet.
    pub fn receive(&mut self, data: &[u8], source: SocketAddr, now: Instant, arrived: Instant) -> Result<bool> {
        self.arrived = arrived;
        if self.light && is_rtp(data) {
            return Ok(true);
        }
        let Ok(contents) = data.try_into() else { return Ok(false) };
        let input = Input::Receive(now, Receive { proto: Protocol::Udp, source, destination: self.local, contents });
        self.rtc.handle_input(input)?;
        Ok(false)
    }

    pub fn timeout(&mut self, now: Instant) -> Result<()> {
        self.rtc.handle_input(Input::Timeout(now))?;
        Ok(())
    }

    /// Writes one frame of `kind` (video with simulcast: on `layer`, with its rid); false when
    /// not connected or not negotiated yet.
    pub fn write(&mut self, video: bool, layer: usize, now: Instant, time: MediaTime, frame: Vec<u8>) -> bool {
        let (mid, codec) = match video {
            true => (self.video_mid, Codec::Vp8),
            false => (self.audio_mid, Codec::Opus),
        };
        let (Some(mid), true) = (mid, self.connected) else { return false };
        let Some(writer) = self.rtc.writer(mid) else { return false };
        let Some(pt) = writer.payload_params().find(|p| p.spec().codec == codec).map(|p| p.pt()) else {
            return false;
        };
        let writer = match (video && self.simulcast, payload::LAYERS.get(layer)) {
            (true, Some(shape)) => writer.rid(Rid::from(shape.rid)),
            _ => writer,
        };
        writer.write(pt, now, time, Arc::<[u8]>::from(frame)).is_ok()
    }
}

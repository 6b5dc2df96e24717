//! The media run loop: one thread, one UDP socket, every peer. A datagram is routed to its
//! peer by map (ICE ufrag for connectivity checks, remote address for everything else), the
//! peer is polled, and the media it yields is written straight into its subscribers' `Rtc`s.
//! A failing or panicking peer is removed; the loop and everyone else carry on.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket as StdUdpSocket};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use str0m::crypto::from_feature_flags;
use str0m::media::{Direction, MediaData, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::net::TcpType;
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::peer::{Peer, Subscriber, TrackIn, TrackOut, TrackOutState};
use super::tcp::{self, TcpEvent};
use crate::config::MediaConfig;
use crate::metrics::Metrics;
use super::{stun, Forwarding, GroupKey, MediaCommand, MediaError, MediaEvent, MediaHandle};
use super::{MediaSignal, PeerKey};

/// Datagrams read in one wake-up before peers are polled: amortises the polling.
const RECV_BATCH: usize = 64;
/// Longest sleep when no peer has a deadline.
const IDLE_TICK: Duration = Duration::from_millis(500);
/// A browser sends STUN consent checks every ~5 s and RTCP every second, muted or not; this
/// long without a single datagram means it is gone (closed, crashed, or off the network).
const SILENCE_LIMIT: Duration = Duration::from_secs(12);
/// How often silent peers and idle tracks are looked for.
const SILENCE_SWEEP: Duration = Duration::from_secs(1);

/// Binds the media socket (and, with `ice_tcp`, a TCP listener on the same address and
/// port) and starts the loop on its own thread.
pub fn spawn(
    config: &MediaConfig,
    events: mpsc::UnboundedSender<MediaEvent>,
    metrics: Arc<Metrics>,
) -> io::Result<MediaHandle> {
    let MediaConfig { udp_addr, ref public_ips, ice_tcp, idle_track_seconds } = *config;
    let idle_track_close = Duration::from_secs(idle_track_seconds);
    let (socket, tcp_listener) = bind(udp_addr, ice_tcp)?;
    let local_addr = socket.local_addr()?;
    let announced: Vec<IpAddr> =
        if public_ips.is_empty() { vec![local_addr.ip()] } else { public_ips.to_vec() };
    let mut candidates = Vec::new();
    for ip in &announced {
        let addr = SocketAddr::new(*ip, local_addr.port());
        candidates.push(Candidate::host(addr, "udp"));
        if ice_tcp {
            // Passive: browsers connect to us. Lower priority than UDP, as in RFC 6544.
            candidates.push(Candidate::builder().tcp().host(addr).tcptype(TcpType::Passive).build());
        }
    }
    let candidates = candidates
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;

    let provider = from_feature_flags();
    // One certificate for every peer: generating a key per join costs milliseconds.
    let cert = provider
        .dtls_provider
        .generate_certificate()
        .ok_or_else(|| io::Error::other("cannot generate a DTLS certificate"))?;
    provider.install_process_default();

    let (commands, command_rx) = mpsc::unbounded_channel();
    let sender = socket.try_clone()?;
    std::thread::Builder::new().name("haven-media".into()).spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime");
        runtime.block_on(async move {
            let socket = UdpSocket::from_std(socket).expect("a tokio UDP socket");
            let (tcp_events, tcp_rx) = mpsc::channel(1024);
            if let Some(listener) = tcp_listener {
                let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio TCP listener");
                tokio::spawn(tcp::accept(listener, tcp_events));
            }
            let sfu = Sfu::new(sender, local_addr, candidates, cert, idle_track_close, events, metrics);
            sfu.run(socket, command_rx, tcp_rx).await;
        });
    })?;
    Ok(MediaHandle { commands, local_addr })
}

/// The UDP socket, and with `ice_tcp` a TCP listener on the same address and port. Port 0
/// picks a port free for both.
fn bind(addr: SocketAddr, ice_tcp: bool) -> io::Result<(StdUdpSocket, Option<std::net::TcpListener>)> {
    let mut attempts = 0;
    loop {
        let socket = StdUdpSocket::bind(addr)?;
        socket.set_nonblocking(true)?;
        if !ice_tcp {
            return Ok((socket, None));
        }
        match std::net::TcpListener::bind(socket.local_addr()?) {
            Ok(listener) => {
                listener.set_nonblocking(true)?;
                return Ok((socket, Some(listener)));
            }
            Err(_) if addr.port() == 0 && attempts < 20 => attempts += 1,
            Err(e) => return Err(e),
        }
    }
}

/// The browser's DTLS certificate fingerprint in an SDP: it names one peer connection.
fn dtls_fingerprint(sdp: &str) -> Option<&str> {
    sdp.lines().find_map(|line| line.trim_end().strip_prefix("a=fingerprint:"))
}

struct Sfu {
    /// Sends never wait: a full socket buffer drops the datagram, as the network would.
    sender: StdUdpSocket,
    local_addr: SocketAddr,
    candidates: Vec<Candidate>,
    cert: str0m::config::DtlsCert,
    /// Only live tracks are negotiated: a microphone or camera reaches the others' peer
    /// connections when it is first turned on, and leaves them after being off this long. A
    /// meeting of 50 where 3 speak then carries 3 audio m-lines per person, not 49 (str0m's
    /// work per poll and its memory grow with m-lines). A shorter pause keeps them, so sound
    /// and picture come back at once; after it, the first unmute waits for a renegotiation.
    idle_track_close: Duration,
    events: mpsc::UnboundedSender<MediaEvent>,
    peers: Vec<Option<Peer>>,
    free_slots: Vec<usize>,
    by_key: HashMap<PeerKey, usize>,
    by_ufrag: HashMap<String, usize>,
    by_addr: HashMap<SocketAddr, usize>,
    /// ICE-TCP connections by remote address, and the peers they carry.
    tcp_writers: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    by_tcp_addr: HashMap<SocketAddr, usize>,
    /// Peers to poll before the loop sleeps again.
    dirty: Vec<usize>,
    /// Counted here in plain integers, published to `metrics` once per loop turn.
    counts: Counts,
    metrics: Arc<Metrics>,
}

#[derive(Default)]
struct Counts {
    forwarded_frames: u64,
    forwarded_bytes: u64,
    dropped_frames: u64,
}

impl Sfu {
    fn new(
        sender: StdUdpSocket,
        local_addr: SocketAddr,
        candidates: Vec<Candidate>,
        cert: str0m::config::DtlsCert,
        idle_track_close: Duration,
        events: mpsc::UnboundedSender<MediaEvent>,
        metrics: Arc<Metrics>,
    ) -> Sfu {
        Sfu {
            sender,
            local_addr,
            candidates,
            cert,
            idle_track_close,
            events,
            peers: Vec::new(),
            free_slots: Vec::new(),
            by_key: HashMap::new(),
            by_ufrag: HashMap::new(),
            by_addr: HashMap::new(),
            tcp_writers: HashMap::new(),
            by_tcp_addr: HashMap::new(),
            dirty: Vec::new(),
            counts: Counts::default(),
            metrics,
        }
    }

    async fn run(
        mut self,
        socket: UdpSocket,
        mut commands: mpsc::UnboundedReceiver<MediaCommand>,
        mut tcp_events: mpsc::Receiver<TcpEvent>,
    ) {
        let mut buf = vec![0u8; 2048];
        let mut last_sweep = Instant::now();
        loop {
            let now = Instant::now();
            if now.duration_since(last_sweep) >= SILENCE_SWEEP {
                last_sweep = now;
                self.mark_silent_peers_dead(now);
                self.close_idle_tracks(now);
            }
            self.flush(Instant::now());
            self.publish_counts();
            let deadline = self.next_deadline(Instant::now());
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.handle_command(command, Instant::now()),
                    None => break,
                },
                received = socket.recv_from(&mut buf) => {
                    if let Ok((n, source)) = received {
                        self.handle_datagram(&buf[..n], source, Protocol::Udp, Instant::now());
                    }
                    for _ in 0..RECV_BATCH {
                        match socket.try_recv_from(&mut buf) {
                            Ok((n, source)) => self.handle_datagram(&buf[..n], source, Protocol::Udp, Instant::now()),
                            Err(_) => break,
                        }
                    }
                }
                Some(event) = tcp_events.recv() => {
                    self.handle_tcp(event, Instant::now());
                    for _ in 0..RECV_BATCH {
                        match tcp_events.try_recv() {
                            Ok(event) => self.handle_tcp(event, Instant::now()),
                            Err(_) => break,
                        }
                    }
                }
                _ = tokio::time::sleep_until(deadline.into()) => self.handle_timeouts(Instant::now()),
            }
        }
        tracing::info!("media loop stopped");
    }

    fn publish_counts(&self) {
        let m = &self.metrics;
        m.forwarded_frames.store(self.counts.forwarded_frames, Ordering::Relaxed);
        m.forwarded_bytes.store(self.counts.forwarded_bytes, Ordering::Relaxed);
        m.dropped_frames.store(self.counts.dropped_frames, Ordering::Relaxed);
        m.peers.store(self.by_key.len() as u64, Ordering::Relaxed);
    }

    fn mark_silent_peers_dead(&mut self, now: Instant) {
        for peer in self.peers.iter_mut().flatten() {
            if now.duration_since(peer.last_heard) > SILENCE_LIMIT {
                tracing::debug!(peer = peer.key.0, "peer silent; dropping it");
                peer.dead = true;
            }
        }
    }

    fn next_deadline(&self, now: Instant) -> Instant {
        let mut deadline = now + IDLE_TICK;
        for peer in self.peers.iter().flatten() {
            deadline = deadline.min(peer.next_timeout);
            if let Some(due) = peer.keyframe_due() {
                deadline = deadline.min(due);
            }
        }
        deadline
    }

    fn handle_timeouts(&mut self, now: Instant) {
        for slot in 0..self.peers.len() {
            let Some(peer) = self.peers[slot].as_mut() else { continue };
            let keyframes_due = peer.keyframe_due().is_some_and(|d| d <= now);
            if peer.next_timeout > now && !keyframes_due {
                continue;
            }
            if peer.next_timeout <= now {
                let rtc = &mut peer.rtc;
                let handled = catch_unwind(AssertUnwindSafe(|| rtc.handle_input(Input::Timeout(now))));
                if !matches!(handled, Ok(Ok(()))) {
                    peer.dead = true;
                }
            }
            peer.send_due_keyframe_requests(now);
            self.mark_dirty(slot);
        }
    }

    fn handle_tcp(&mut self, event: TcpEvent, now: Instant) {
        match event {
            TcpEvent::Opened { source, writer } => {
                self.tcp_writers.insert(source, writer);
            }
            TcpEvent::Packet { source, data } => self.handle_datagram(&data, source, Protocol::Tcp, now),
            TcpEvent::Closed { source } => {
                self.tcp_writers.remove(&source);
                // The peer itself lives on: it may still have UDP, or it falls silent and
                // is timed out like any other.
                self.by_tcp_addr.remove(&source);
            }
        }
    }

    fn handle_datagram(&mut self, packet: &[u8], source: SocketAddr, proto: Protocol, now: Instant) {
        let is_stun = stun::is_stun(packet);
        let by_addr = if proto == Protocol::Tcp { &self.by_tcp_addr } else { &self.by_addr };
        let routed = if is_stun {
            stun::local_ufrag(packet)
                .and_then(|ufrag| self.by_ufrag.get(ufrag))
                .or_else(|| by_addr.get(&source))
        } else {
            by_addr.get(&source)
        };
        // Unknown senders are dropped before any parsing or crypto.
        let Some(&slot) = routed else { return };
        let Ok(contents) = packet.try_into() else { return };
        let input = Input::Receive(
            now,
            Receive { proto, source, destination: self.local_addr, contents },
        );
        let Some(peer) = self.peers[slot].as_mut() else { return };
        if !peer.rtc.accepts(&input) {
            return;
        }
        peer.last_heard = now;
        let by_addr = if proto == Protocol::Tcp { &mut self.by_tcp_addr } else { &mut self.by_addr };
        if is_stun && by_addr.insert(source, slot) != Some(slot) {
            // The first valid connectivity check teaches us the browser's address, so a
            // browser that sends no candidates still connects.
            peer.addrs.push((proto, source));
        }
        let rtc = &mut peer.rtc;
        let handled = catch_unwind(AssertUnwindSafe(|| rtc.handle_input(input)));
        if !matches!(handled, Ok(Ok(()))) {
            tracing::debug!(peer = peer.key.0, "peer failed on input");
            peer.dead = true;
        }
        self.mark_dirty(slot);
    }

    fn mark_dirty(&mut self, slot: usize) {
        if !self.dirty.contains(&slot) {
            self.dirty.push(slot);
        }
    }

    /// Polls every peer that may have output until all are idle, then removes dead ones.
    fn flush(&mut self, now: Instant) {
        while let Some(slot) = self.dirty.pop() {
            self.poll_peer(slot, now);
        }
        let dead: Vec<usize> = (0..self.peers.len())
            .filter(|&s| self.peers[s].as_ref().is_some_and(|p| p.dead))
            .collect();
        for slot in dead {
            if let Some(key) = self.peers[slot].as_ref().map(|p| p.key) {
                self.remove_peer(slot);
                let _ = self.events.send(MediaEvent::Lost { peer: key });
            }
        }
        // Removal queues renegotiations for the others.
        while let Some(slot) = self.dirty.pop() {
            self.poll_peer(slot, now);
        }
    }

    fn poll_peer(&mut self, slot: usize, now: Instant) {
        loop {
            let Some(peer) = self.peers[slot].as_mut() else { return };
            if peer.dead {
                return;
            }
            peer.negotiate_if_needed();
            let rtc = &mut peer.rtc;
            let output = match catch_unwind(AssertUnwindSafe(|| rtc.poll_output())) {
                Ok(Ok(output)) => output,
                _ => {
                    tracing::debug!(peer = peer.key.0, "peer failed while polled");
                    peer.dead = true;
                    return;
                }
            };
            match output {
                Output::Timeout(t) => {
                    peer.next_timeout = t;
                    return;
                }
                Output::Transmit(t) => {
                    if t.proto == Protocol::Tcp {
                        // A full queue drops, as a congested link would.
                        let writer = self.tcp_writers.get(&t.destination);
                        if let (Some(writer), Some(framed)) = (writer, tcp::frame(&t.contents)) {
                            let _ = writer.try_send(framed);
                        }
                    } else {
                        // WouldBlock means the kernel buffer is full: drop, like a congested link.
                        let _ = self.sender.send_to(&t.contents, t.destination);
                    }
                }
                Output::Event(event) => self.handle_event(slot, event, now),
            }
        }
    }

    fn handle_event(&mut self, slot: usize, event: Event, now: Instant) {
        let Some(peer) = self.peers[slot].as_mut() else { return };
        match event {
            Event::Connected => {
                let _ = self.events.send(MediaEvent::Connected { peer: peer.key });
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => peer.dead = true,
            Event::MediaAdded(added) => {
                if matches!(added.direction, Direction::RecvOnly | Direction::SendRecv) {
                    peer.tracks_in.push(TrackIn::new(added.mid, added.kind));
                    if peer.forwarding.allows(added.kind) {
                        self.open_track_in_group(slot, added.mid, added.kind);
                    }
                }
            }
            Event::MediaData(data) => self.forward(slot, data, now),
            Event::KeyframeRequest(request) => {
                let source = peer
                    .tracks_out
                    .iter()
                    .find(|t| t.state == TrackOutState::Open(request.mid))
                    .map(|t| (t.publisher, t.publisher_mid));
                if let Some((publisher, mid)) = source {
                    self.request_keyframe(publisher, mid, now);
                }
            }
            _ => {}
        }
    }

    /// A live published track: every other peer of the group that does not have it yet
    /// will receive it.
    fn open_track_in_group(&mut self, publisher_slot: usize, mid: Mid, kind: MediaKind) {
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
            peer.tracks_out.push(TrackOut {
                publisher: key,
                publisher_label: label.clone(),
                publisher_mid: mid,
                kind,
                state: TrackOutState::ToOpen,
            });
            peer.wants_negotiation = true;
            self.mark_dirty(slot);
        }
    }

    /// The hot path: one published frame written to every subscriber. No lock, no copy of
    /// the payload (it is reference counted), no allocation.
    fn forward(&mut self, publisher_slot: usize, data: MediaData, now: Instant) {
        let Some(publisher) = self.peers[publisher_slot].as_mut() else { return };
        let Some(track) = publisher.tracks_in.iter_mut().find(|t| t.mid == data.mid) else {
            return;
        };
        let kind = track.kind;
        let allowed = match kind {
            MediaKind::Audio => publisher.forwarding.audio,
            MediaKind::Video => publisher.forwarding.video,
        };
        if !allowed {
            return;
        }
        let is_video = kind == MediaKind::Video;
        let is_keyframe = is_video && data.is_keyframe();
        if is_keyframe {
            track.keyframe_seen();
        }
        let mut subscribers = std::mem::take(&mut track.subscribers);
        let mut lost_picture = is_video && !data.contiguous;
        for sub in subscribers.iter_mut() {
            if is_video && sub.needs_keyframe && !is_keyframe {
                self.counts.dropped_frames += 1;
                continue;
            }
            let Some(peer) = self.peers[sub.slot].as_mut().filter(|p| p.key == sub.key) else {
                continue;
            };
            let Some(mut writer) = peer.rtc.writer(sub.mid) else { continue };
            let Some(pt) = writer.match_params(data.params) else { continue };
            if let Some(level) = data.ext_vals.audio_level {
                // Receivers show who is speaking from this header extension.
                writer = writer.audio_level(level, data.ext_vals.voice_activity.unwrap_or(false));
            }
            if writer.write(pt, data.network_time, data.time, data.data.clone()).is_ok() {
                // Only a keyframe actually handed over starts this subscriber's picture.
                sub.needs_keyframe = false;
                self.counts.forwarded_frames += 1;
                self.counts.forwarded_bytes += data.data.len() as u64;
            } else if is_video {
                self.counts.dropped_frames += 1;
                // Hold this subscriber's video until a fresh picture rather than send it
                // frames it cannot decode.
                sub.needs_keyframe = true;
                lost_picture = true;
            }
            if !self.dirty.contains(&sub.slot) {
                self.dirty.push(sub.slot);
            }
        }
        let publisher = self.peers[publisher_slot].as_mut().expect("publisher polled above");
        if let Some(track) = publisher.tracks_in.iter_mut().find(|t| t.mid == data.mid) {
            track.subscribers = subscribers;
        }
        if lost_picture {
            publisher.request_keyframe(data.mid, now);
        }
    }

    fn request_keyframe(&mut self, publisher: PeerKey, mid: Mid, now: Instant) {
        if let Some(&slot) = self.by_key.get(&publisher) {
            if let Some(peer) = self.peers[slot].as_mut() {
                peer.request_keyframe(mid, now);
                self.mark_dirty(slot);
            }
        }
    }

    fn handle_command(&mut self, command: MediaCommand, now: Instant) {
        match command {
            MediaCommand::Connect { peer, group, label, offer_sdp, forwarding, signals } => {
                if let Some(&slot) = self.by_key.get(&peer) {
                    let same = self.peers[slot].as_ref().and_then(|p| p.remote_fingerprint.as_deref())
                        == dtls_fingerprint(&offer_sdp);
                    if same {
                        self.renegotiate(peer, &offer_sdp);
                        return;
                    }
                    // Only an offer that looks like a whole new connection may end the old one.
                    let plausible = dtls_fingerprint(&offer_sdp).is_some()
                        && str0m::change::SdpOffer::from_sdp_string(&offer_sdp).is_ok();
                    if !plausible {
                        let _ = signals.send(MediaSignal::Refused(MediaError::BadSdp));
                        return;
                    }
                    self.remove_peer(slot);
                }
                match self.connect(peer, group, label, &offer_sdp, forwarding, signals.clone(), now) {
                    Ok(answer) => {
                        let _ = signals.send(MediaSignal::Answer(answer));
                    }
                    Err(e) => {
                        let _ = signals.send(MediaSignal::Refused(e));
                    }
                }
            }
            MediaCommand::Answer { peer, answer_sdp } => self.accept_answer(peer, &answer_sdp, now),
            MediaCommand::Rebind { peer, signals } => {
                let Some(&slot) = self.by_key.get(&peer) else { return };
                if let Some(p) = self.peers[slot].as_mut() {
                    p.rebind(signals);
                }
            }
            MediaCommand::SetForwarding { peer, forwarding } => {
                self.set_forwarding(peer, forwarding, now)
            }
            MediaCommand::Disconnect { peer } => {
                if let Some(&slot) = self.by_key.get(&peer) {
                    self.remove_peer(slot);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn connect(
        &mut self,
        key: PeerKey,
        group: GroupKey,
        label: String,
        offer_sdp: &str,
        forwarding: Forwarding,
        signals: mpsc::UnboundedSender<MediaSignal>,
        now: Instant,
    ) -> Result<String, MediaError> {
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .set_dtls_cert(self.cert.clone())
            // Everyone must decode everyone: one audio and one video codec for all.
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .build(now);
        for candidate in &self.candidates {
            rtc.add_local_candidate(candidate.clone());
        }
        let ufrag = rtc.direct_api().local_ice_credentials().ufrag;
        let mut peer = Peer {
            key,
            group,
            label,
            rtc,
            forwarding,
            signals,
            ufrag: ufrag.clone(),
            remote_fingerprint: dtls_fingerprint(offer_sdp).map(str::to_string),
            addrs: Vec::new(),
            next_timeout: now,
            last_heard: now,
            tracks_in: Vec::new(),
            tracks_out: Vec::new(),
            pending: None,
            wants_negotiation: false,
            dead: false,
            audio_off_since: None,
            video_off_since: None,
        };
        let answer = peer.accept_offer(offer_sdp)?;

        // Every live track of the group is offered to the newcomer right after the answer.
        for other in self.peers.iter().flatten().filter(|p| p.group == group) {
            for track in other.tracks_in.iter().filter(|t| other.forwarding.allows(t.kind)) {
                peer.tracks_out.push(TrackOut {
                    publisher: other.key,
                    publisher_label: other.label.clone(),
                    publisher_mid: track.mid,
                    kind: track.kind,
                    state: TrackOutState::ToOpen,
                });
                peer.wants_negotiation = true;
            }
        }

        // Registered before the answer leaves, so the first connectivity check finds it.
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.peers.push(None);
                self.peers.len() - 1
            }
        };
        self.peers[slot] = Some(peer);
        self.by_key.insert(key, slot);
        self.by_ufrag.insert(ufrag, slot);
        self.mark_dirty(slot);
        Ok(answer)
    }

    fn renegotiate(&mut self, key: PeerKey, sdp: &str) {
        let Some(&slot) = self.by_key.get(&key) else { return };
        let Some(peer) = self.peers[slot].as_mut() else { return };
        match peer.accept_renegotiation(sdp) {
            Ok(answer) => {
                let ufrag = peer.rtc.direct_api().local_ice_credentials().ufrag;
                if ufrag != peer.ufrag {
                    // An ICE restart: the browser's checks now carry the new ufrag, perhaps
                    // from a new address, which the first valid check teaches us.
                    self.by_ufrag.remove(&std::mem::replace(&mut peer.ufrag, ufrag.clone()));
                    self.by_ufrag.insert(ufrag, slot);
                }
                let _ = peer.signals.send(MediaSignal::Answer(answer));
            }
            Err(e) => {
                let _ = peer.signals.send(MediaSignal::Refused(e));
            }
        }
        self.mark_dirty(slot);
    }

    fn accept_answer(&mut self, key: PeerKey, sdp: &str, now: Instant) {
        let Some(&slot) = self.by_key.get(&key) else { return };
        let Some(peer) = self.peers[slot].as_mut() else { return };
        let before: Vec<TrackOutState> = peer.tracks_out.iter().map(|t| t.state).collect();
        if let Err(e) = peer.accept_answer(sdp) {
            let _ = peer.signals.send(MediaSignal::Refused(e));
            return;
        }
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
        for (publisher, publisher_mid, mid, kind) in opened {
            let Some(&pub_slot) = self.by_key.get(&publisher) else { continue };
            let Some(pub_peer) = self.peers[pub_slot].as_mut() else { continue };
            if let Some(track) = pub_peer.tracks_in.iter_mut().find(|t| t.mid == publisher_mid) {
                track.subscribers.push(Subscriber {
                    slot,
                    key,
                    mid,
                    needs_keyframe: kind == MediaKind::Video,
                });
            }
            if kind == MediaKind::Video {
                self.request_keyframe(publisher, publisher_mid, now);
            }
        }
    }

    fn set_forwarding(&mut self, key: PeerKey, forwarding: Forwarding, now: Instant) {
        let Some(&slot) = self.by_key.get(&key) else { return };
        let Some(peer) = self.peers[slot].as_mut() else { return };
        let video_resumed = forwarding.video && !peer.forwarding.video;
        let mut turned_on = Vec::new();
        for kind in [MediaKind::Audio, MediaKind::Video] {
            match (peer.forwarding.allows(kind), forwarding.allows(kind)) {
                (false, true) => {
                    *peer.off_since(kind) = None;
                    turned_on.extend(peer.tracks_in.iter().filter(|t| t.kind == kind).map(|t| (t.mid, kind)));
                }
                (true, false) => *peer.off_since(kind) = Some(now),
                _ => {}
            }
        }
        peer.forwarding = forwarding;
        if video_resumed {
            let mids: Vec<Mid> = peer
                .tracks_in
                .iter_mut()
                .filter(|t| t.kind == MediaKind::Video)
                .map(|t| {
                    t.subscribers.iter_mut().for_each(|s| s.needs_keyframe = true);
                    t.mid
                })
                .collect();
            for mid in mids {
                peer.request_keyframe(mid, now);
            }
            self.mark_dirty(slot);
        }
        for (mid, kind) in turned_on {
            self.open_track_in_group(slot, mid, kind);
        }
    }

    /// Takes tracks off for `idle_track_close` out of the others' peer connections.
    fn close_idle_tracks(&mut self, now: Instant) {
        for slot in 0..self.peers.len() {
            for kind in [MediaKind::Audio, MediaKind::Video] {
                let Some(peer) = self.peers[slot].as_mut() else { break };
                let idle = peer.off_since(kind).is_some_and(|t| now.duration_since(t) >= self.idle_track_close);
                if !idle {
                    continue;
                }
                *peer.off_since(kind) = None;
                // Nothing flows while off; the m-lines may be recycled once stopped.
                for track in peer.tracks_in.iter_mut().filter(|t| t.kind == kind) {
                    track.subscribers.clear();
                }
                let (key, group) = (peer.key, peer.group);
                self.stop_tracks_out(key, group, Some(kind));
            }
        }
    }

    /// Takes `publisher`'s tracks (of `kind`, or all) out of every other peer of `group`:
    /// one not negotiated yet is dropped, an open one is stopped by the next offer.
    fn stop_tracks_out(&mut self, publisher: PeerKey, group: GroupKey, kind: Option<MediaKind>) {
        let stops = |t: &TrackOut| t.publisher == publisher && kind.is_none_or(|k| t.kind == k);
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

    /// Takes a peer out of the loop and out of every other peer's forwarding.
    fn remove_peer(&mut self, slot: usize) {
        let Some(mut peer) = self.peers[slot].take() else { return };
        self.free_slots.push(slot);
        self.dirty.retain(|&s| s != slot);
        self.by_key.remove(&peer.key);
        self.by_ufrag.remove(&peer.ufrag);
        for (proto, addr) in &peer.addrs {
            let by_addr = if *proto == Protocol::Tcp { &mut self.by_tcp_addr } else { &mut self.by_addr };
            if by_addr.get(addr) == Some(&slot) {
                by_addr.remove(addr);
            }
        }
        for other in self.peers.iter_mut().flatten().filter(|o| o.group == peer.group) {
            for track in &mut other.tracks_in {
                track.subscribers.retain(|s| s.key != peer.key);
            }
        }
        self.stop_tracks_out(peer.key, peer.group, None);
        peer.rtc.disconnect();
    }
}

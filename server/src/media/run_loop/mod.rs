//! A media run loop: one thread, one UDP socket, every peer of the meetings given to this
//! worker (see `media::workers`). A datagram is routed to its peer by map (ICE ufrag for
//! connectivity checks, remote address for everything else), the peer is polled, and the
//! media it yields is written straight into its subscribers' `Rtc`s.
//! A failing or panicking peer is removed; the loop and everyone else carry on. Who receives
//! which track, and the forwarding of packets itself, are in `forwarding`.

mod bandwidth;
mod dirty;
mod forwarding;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket as StdUdpSocket};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use str0m::crypto::from_feature_flags;
use str0m::format::{Codec, FormatParams};
use str0m::media::Frequency;
use str0m::media::{Direction, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::net::TcpType;
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use dirty::DirtySlots;
use super::downlink::Downlink;
use super::peer::{dtls_fingerprint, screen_mid_in_offer, Peer, ReceiveLines, TrackOut, TrackOutState};
use super::addresses::{self, Announced};
use super::recv;
use super::red::RedSwitch;
use super::send_batch::SendBatch;
use super::tcp::{self, TcpEvent};
use crate::config::MediaConfig;
use crate::metrics::MediaWorkerMetrics;
use super::{stun, MediaCommand, MediaError, MediaEvent, MediaHandle};
use super::{GroupKey, MediaSignal, PeerKey, PeerSetup};

/// Datagrams read in one wake-up before subscribers are polled: amortises their polling (a
/// publisher is polled after each of its datagrams, see `handle_datagram`).
const RECV_BATCH: usize = 64;
/// ...but reading stops once this long has gone into it: the copies made so far wait for the
/// end of the turn, and on a busy core a full batch (64 packets fanned out to 49 listeners,
/// ~3 000 copies) held them 10–45 ms (measured, S2 at 50).
const RECV_BUDGET: Duration = Duration::from_millis(2);
/// Longest sleep when no peer has a deadline.
const IDLE_TICK: Duration = Duration::from_millis(500);
/// A browser sends STUN consent checks every ~5 s and RTCP every second, muted or not; this
/// long without a single datagram means it is gone (closed, crashed, or off the network).
const SILENCE_LIMIT: Duration = Duration::from_secs(12);
/// How often silent peers and idle tracks are looked for, and the thread's CPU time published.
const SILENCE_SWEEP: Duration = Duration::from_secs(1);
/// How often str0m reports each stream's figures (a subscriber's round trip among them) and
/// each peer's: the link's loss over the last second, so every second is seen (`media::red`).
const STATS_INTERVAL: Duration = Duration::from_secs(1);

/// Binds worker `worker`'s media socket (`udp_addr`'s port plus `worker`, or a free port when
/// that is 0; with `ice_tcp`, a TCP listener on the same address and port) and starts its
/// loop on its own thread.
pub fn spawn(
    config: &MediaConfig,
    worker: usize,
    events: mpsc::UnboundedSender<MediaEvent>,
    metrics: Arc<MediaWorkerMetrics>,
) -> io::Result<MediaHandle> {
    let MediaConfig { udp_addr, ref public_ips, ice_tcp, idle_track_seconds, workers: _, bandwidth_estimation, audio_red, fast_path } = *config;
    let idle_track_close = Duration::from_secs(idle_track_seconds);
    let (socket, tcp_listener) = bind(worker_addr(udp_addr, worker), ice_tcp)?;
    recv::enable_destination_info(&socket)?;
    let local_addr = socket.local_addr()?;
    let announced = Announced::new(local_addr, public_ips, addresses::interface_addresses);
    let mut candidates = Vec::new();
    for addr in announced.addrs() {
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
    let handle = MediaHandle { commands, local_addr, announced: announced.addrs().collect() };
    let local = announced;
    std::thread::Builder::new().name(format!("haven-media-{worker}")).spawn(move || {
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
            let template = PeerTemplate { cert, candidates, estimate_bandwidth: bandwidth_estimation, audio_red, fast_path };
            let sfu = Sfu::new(sender, local, template, idle_track_close, events, metrics);
            sfu.run(socket, command_rx, tcp_rx).await;
        });
    })?;
    Ok(handle)
}

/// Worker `worker` listens on the port `worker` places after the configured one
/// (`Config::validate` keeps them under 65536); port 0 stays 0: each worker gets a free port
/// of its own.
pub(super) fn worker_addr(addr: SocketAddr, worker: usize) -> SocketAddr {
    if addr.port() == 0 {
        return addr;
    }
    let port = u16::try_from(usize::from(addr.port()) + worker).expect("media.workers' ports validated to fit");
    SocketAddr::new(addr.ip(), port)
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

/// Opus's payload type, as browsers number it.
const OPUS_PT: u8 = 111;
/// RED's (RFC 2198) payload type for Opus, as Chromium numbers it.
const RED_PT: u8 = 63;

/// Opus as every peer asks for it (in its offers and answers, so both ways): in-band FEC (a
/// lost packet's sound rebuilt from the next one's copy, sent once the receiver reports loss)
/// and DTX (a silent microphone sends a packet every 400 ms instead of 50 a second: less data
/// on a member's link, and the sound of those who speak gets it).
fn opus_format() -> FormatParams {
    FormatParams { min_p_time: Some(10), use_inband_fec: Some(true), use_dtx: Some(true), ..Default::default() }
}

/// Where a datagram for a peer goes: its ICE-TCP connection, or the turn's UDP batch. Borrowed
/// from the `Sfu`'s fields while a peer is borrowed too.
struct Outbound<'a> {
    tcp_writers: &'a HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    batch: &'a mut SendBatch,
    sender: &'a StdUdpSocket,
}

impl Outbound<'_> {
    /// `contents` to `destination` over `proto`, leaving from `source` (UDP).
    fn send(self, proto: Protocol, destination: SocketAddr, source: Option<IpAddr>, contents: Vec<u8>) {
        let len = contents.len();
        self.send_part(proto, destination, source, contents, len);
    }

    /// [`send`](Self::send) for the first `len` bytes of `buffer` (a send batch's buffer).
    fn send_part(self, proto: Protocol, destination: SocketAddr, source: Option<IpAddr>, buffer: Vec<u8>, len: usize) {
        if proto == Protocol::Tcp {
            // A full queue drops, as a congested link would.
            let writer = self.tcp_writers.get(&destination);
            let contents = &buffer[..len.min(buffer.len())];
            if let (Some(writer), Some(framed)) = (writer, tcp::frame(contents)) {
                let _ = writer.try_send(framed);
            }
            self.batch.recycle(buffer);
        } else {
            self.batch.push_part(self.sender, destination, source, buffer, len);
        }
    }
}

/// What every peer of a worker is made with.
struct PeerTemplate {
    /// One certificate for every peer: generating a key per join costs milliseconds.
    cert: str0m::config::DtlsCert,
    candidates: Vec<Candidate>,
    /// `media.bandwidth_estimation`: see `bandwidth`.
    estimate_bandwidth: bool,
    /// `media.audio_red`: offer RED with Opus (see `media::red`).
    audio_red: bool,
    /// `media.fast_path`: forward with `Rtc::forward_rtp` (see `forwarding`).
    fast_path: bool,
}

/// A peer as every one starts: str0m configured for forwarding, our candidates, no tracks.
fn new_peer(setup: PeerSetup, template: &PeerTemplate, now: Instant) -> Peer {
    let PeerSetup { peer: key, group, label, forwarding, signals } = setup;
    let bwe = template.estimate_bandwidth.then(|| str0m::bwe::Bitrate::kbps(bandwidth::INITIAL_ESTIMATE_KBPS));
    let mut builder = Rtc::builder()
        // Full ICE: a browser nominates on its first check (see `remote_candidates`).
        .set_ice_lite(false)
        // Packets are forwarded as they come: no depacketizing and re-packetizing per
        // subscriber (see `forward`).
        .set_rtp_mode(true)
        // Stats events carry each subscriber's round trip, which sizes its retransmission
        // history (`Peer::fit_retransmission`).
        .set_stats_interval(Some(STATS_INTERVAL))
        .set_dtls_cert(template.cert.clone())
        // Everyone must decode everyone: one audio and one video codec for all.
        .clear_codecs()
        .enable_vp8(true)
        // Each member's downlink is estimated from the TWCC feedback on what we send them
        // (see `bandwidth`); str0m then paces video to the estimate (audio is never paced).
        .enable_bwe(bwe);
    builder.codec_config().add_config(Pt::from(OPUS_PT), None, Codec::Opus, Frequency::FORTY_EIGHT_KHZ, Some(2), opus_format());
    if template.audio_red {
        // Offered to every member, for what we send them (`red`); listed after Opus, so
        // Chromium keeps sending plain Opus (it sends RED only when RED comes first).
        builder.codec_config().set_red_pt(Codec::Opus, Pt::from(RED_PT));
        builder.codec_config().set_red_after_primary(true);
    }
    let mut rtc = builder.build(now);
    for candidate in &template.candidates {
        rtc.add_local_candidate(candidate.clone());
    }
    let ufrag = rtc.direct_api().local_ice_credentials().ufrag;
    Peer {
        key,
        group,
        label,
        rtc,
        forwarding,
        signals,
        ufrag,
        remote_fingerprint: None,
        addrs: Vec::new(),
        next_timeout: now,
        last_heard: now,
        local_ip: None,
        tracks_in: Vec::new(),
        tracks_out: Vec::new(),
        pending: None,
        wants_negotiation: false,
        receive_lines: ReceiveLines::Settled,
        screen_mid: None,
        dead: false,
        audio_off_since: None,
        video_off_since: None,
        downlink: Downlink::new(template.estimate_bandwidth),
        red: RedSwitch::default(),
    }
}

/// Attacker-written SDP through the very calls the run loop makes, for the fuzzer
/// (`fuzz/fuzz_targets/sdp.rs`): as a new connection's offer, as an ICE restart on it, and
/// as the answer to a first server offer. Whatever the text, nothing may panic past the
/// guards in `Peer` and nothing may hang.
#[doc(hidden)]
pub fn fuzz_sdp(sdp: &str) {
    use std::sync::OnceLock;
    static TEMPLATE: OnceLock<PeerTemplate> = OnceLock::new();
    let template = TEMPLATE.get_or_init(|| {
        let provider = from_feature_flags();
        let cert = provider.dtls_provider.generate_certificate().expect("a DTLS certificate");
        provider.install_process_default();
        let candidates = vec![Candidate::host("127.0.0.1:10000".parse().expect("an address"), "udp").expect("a candidate")];
        PeerTemplate { cert, candidates, estimate_bandwidth: true, audio_red: true, fast_path: true }
    });
    let setup = || PeerSetup {
        peer: super::PeerKey(1),
        group: super::GroupKey(1),
        label: "fuzz".into(),
        forwarding: super::Forwarding { audio: true, video: true, screen: false },
        signals: mpsc::unbounded_channel().0,
    };
    let now = Instant::now();
    let mut answering = new_peer(setup(), template, now);
    if answering.accept_offer(sdp).is_ok() {
        answering.remote_fingerprint = dtls_fingerprint(sdp).map(str::to_string);
        let _ = answering.accept_renegotiation(sdp);
    }
    let mut offering = new_peer(setup(), template, now);
    offering.receive_lines = ReceiveLines::ToOffer;
    offering.wants_negotiation = true;
    offering.negotiate_if_needed();
    let _ = offering.accept_answer(sdp, now);
}

struct Sfu {
    /// Sends never wait: a full socket buffer drops the datagram, as the network would.
    sender: StdUdpSocket,
    /// Datagrams made this loop turn, sent together at its end.
    outgoing: SendBatch,
    /// The announced addresses, to tell str0m which one each datagram was sent to.
    local: Announced,
    /// Bound to every interface: each peer's datagrams leave from the address its own arrive at.
    choose_source: bool,
    template: PeerTemplate,
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
    dirty: DirtySlots,
    /// Per meeting: whose video comes first (see `bandwidth`).
    groups: HashMap<GroupKey, bandwidth::GroupMedia>,
    /// When the publishers' camera layers are compared with what their subscribers get
    /// next (`bandwidth::update_camera_layers`).
    layers_due: Option<Instant>,
    /// Counted here in plain integers, published to `metrics` once per loop turn.
    counts: Counts,
    /// This worker's slot in the server's metrics.
    metrics: Arc<MediaWorkerMetrics>,
}

#[derive(Default)]
struct Counts {
    forwarded_frames: u64,
    forwarded_bytes: u64,
    fast_copies: u64,
    queued_copies: u64,
    dropped_frames: u64,
}

impl Sfu {
    fn new(
        sender: StdUdpSocket,
        local: Announced,
        template: PeerTemplate,
        idle_track_close: Duration,
        events: mpsc::UnboundedSender<MediaEvent>,
        metrics: Arc<MediaWorkerMetrics>,
    ) -> Sfu {
        let outgoing = SendBatch::new(&sender);
        let sender_bound_to_wildcard = sender.local_addr().is_ok_and(|a| a.ip().is_unspecified());
        Sfu {
            sender,
            outgoing,
            choose_source: sender_bound_to_wildcard,
            local,
            template,
            idle_track_close,
            events,
            peers: Vec::new(),
            free_slots: Vec::new(),
            by_key: HashMap::new(),
            by_ufrag: HashMap::new(),
            by_addr: HashMap::new(),
            tcp_writers: HashMap::new(),
            by_tcp_addr: HashMap::new(),
            dirty: DirtySlots::default(),
            groups: HashMap::new(),
            layers_due: None,
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
                let cpu = crate::metrics::thread_cpu_time().as_micros();
                self.metrics.cpu_micros.store(cpu as u64, Ordering::Relaxed);
            }
            self.flush(Instant::now());
            self.publish_counts();
            let deadline = self.next_deadline(Instant::now());
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.handle_command(command, Instant::now()),
                    None => break,
                },
                received = socket.async_io(Interest::READABLE, || recv::recv_with_destination(&socket, &mut buf)) => {
                    let woke = Instant::now();
                    if let Ok((n, source, to)) = received {
                        let _ = self.handle_datagram(&buf[..n], source, to, Protocol::Udp, woke);
                    }
                    for _ in 0..RECV_BATCH {
                        let now = Instant::now();
                        if now.duration_since(woke) >= RECV_BUDGET {
                            break;
                        }
                        match socket.try_io(Interest::READABLE, || recv::recv_with_destination(&socket, &mut buf)) {
                            Ok((n, source, to)) => {
                                let _ = self.handle_datagram(&buf[..n], source, to, Protocol::Udp, now);
                            }
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
        m.fast_copies.store(self.counts.fast_copies, Ordering::Relaxed);
        m.queued_copies.store(self.counts.queued_copies, Ordering::Relaxed);
        m.peers.store(self.by_key.len() as u64, Ordering::Relaxed);
    }

    fn mark_silent_peers_dead(&mut self, now: Instant) {
        // A peer whose browser has not answered our first offer has sent nothing yet by
        // design: it is judged from its answer on.
        for peer in self.peers.iter_mut().flatten().filter(|p| p.remote_fingerprint.is_some()) {
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
        if let Some(due) = self.next_plan() {
            deadline = deadline.min(due);
        }
        if let Some(due) = self.layers_due {
            deadline = deadline.min(due);
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
                let _span = tracing::debug_span!(target: "peer_span", "peer", peer = peer.key.0).entered();
                let rtc = &mut peer.rtc;
                let handled = catch_unwind(AssertUnwindSafe(|| rtc.handle_input(Input::Timeout(now))));
                if !matches!(handled, Ok(Ok(()))) {
                    peer.dead = true;
                }
            }
            peer.send_due_keyframe_requests(now);
            self.mark_dirty(slot);
        }
        self.plan_due(now);
        if self.layers_due.map_or(true, |d| d <= now) {
            self.update_camera_layers(now);
        }
    }

    fn handle_tcp(&mut self, event: TcpEvent, now: Instant) {
        match event {
            TcpEvent::Opened { source, writer } => {
                self.tcp_writers.insert(source, writer);
            }
            TcpEvent::Packet { source, local, data } => {
                let taken = self.handle_datagram(&data, source, Some(local.ip()), Protocol::Tcp, now);
                if !taken && !self.by_tcp_addr.contains_key(&source) {
                    // Not a valid check for any peer, on a connection no peer uses: close it
                    // (anyone can open connections to this port; see `tcp`).
                    self.tcp_writers.remove(&source);
                }
            }
            TcpEvent::Closed { source } => {
                self.tcp_writers.remove(&source);
                // The peer itself lives on: it may still have UDP, or it falls silent and
                // is timed out like any other.
                self.by_tcp_addr.remove(&source);
            }
        }
    }

    /// `to`: the local address the datagram arrived at, when known (see `recv`). Whether a
    /// peer took it.
    fn handle_datagram(&mut self, packet: &[u8], source: SocketAddr, to: Option<IpAddr>, proto: Protocol, now: Instant) -> bool {
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
        let Some(&slot) = routed else { return false };
        let Ok(contents) = packet.try_into() else { return false };
        // str0m takes a check only if it names one of its candidates: the announced address
        // this one was sent to.
        let destination = self.local.candidate_for(to);
        let input = Input::Receive(
            now,
            Receive { proto, source, destination, contents },
        );
        let Some(peer) = self.peers[slot].as_mut() else { return false };
        if !peer.rtc.accepts(&input) {
            return false;
        }
        peer.last_heard = now;
        if is_stun && proto == Protocol::Udp && self.choose_source {
            // Answers leave from where the browser's checks arrive (see `send_batch`).
            peer.local_ip = to;
        }
        let by_addr = if proto == Protocol::Tcp { &mut self.by_tcp_addr } else { &mut self.by_addr };
        if is_stun && by_addr.insert(source, slot) != Some(slot) {
            // The first valid connectivity check teaches us the browser's address, so a
            // browser that sends no candidates still connects.
            peer.addrs.push((proto, source));
        }
        // str0m's own log lines (its estimator's probes, among them) name no peer: with the
        // `peer_span` target on (`HAVEN_LOG=…,peer_span=debug`) they carry this span's. Its own
        // target, so `haven=debug` (the tests' default) does not pay for a span per datagram.
        let _span = tracing::debug_span!(target: "peer_span", "peer", peer = peer.key.0).entered();
        let rtc = &mut peer.rtc;
        let handled = catch_unwind(AssertUnwindSafe(|| rtc.handle_input(input)));
        if !matches!(handled, Ok(Ok(()))) {
            tracing::debug!(peer = peer.key.0, "peer failed on input");
            peer.dead = true;
        }
        // In RTP mode str0m holds one received packet until the next poll: take it now,
        // before the next datagram replaces it. Subscribers are polled once per batch.
        self.poll_peer(slot, now);
        true
    }

    fn mark_dirty(&mut self, slot: usize) {
        self.dirty.mark(slot);
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
        self.outgoing.send(&self.sender);
    }

    fn poll_peer(&mut self, slot: usize, now: Instant) {
        // str0m asks for a timeout "now" when media was queued on it (by `forward`): that one
        // is given at once, so the packets leave in this turn of the loop, not the next.
        let mut timeout_given = false;
        loop {
            let Some(peer) = self.peers[slot].as_mut() else { return };
            if peer.dead {
                return;
            }
            peer.negotiate_if_needed();
            let source = peer.local_ip;
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
                Output::Timeout(t) if t <= now && !timeout_given => {
                    timeout_given = true;
                    let handled = catch_unwind(AssertUnwindSafe(|| rtc.handle_input(Input::Timeout(now))));
                    if !matches!(handled, Ok(Ok(()))) {
                        peer.dead = true;
                        return;
                    }
                }
                Output::Timeout(t) => {
                    peer.next_timeout = t;
                    return;
                }
                Output::Transmit(t) => {
                    let out = Outbound { tcp_writers: &self.tcp_writers, batch: &mut self.outgoing, sender: &self.sender };
                    out.send(t.proto, t.destination, source, t.contents.into());
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
                    self.add_track_in(slot, added.mid, added.kind);
                }
            }
            Event::RtpPacket(packet) => self.forward(slot, packet),
            Event::MediaEgressStats(stats) => {
                let overflowing = peer.red.overflowing(now);
                if let Some(rtt) = stats.rtt {
                    peer.fit_retransmission(stats.mid, rtt);
                }
                // str0m repeats a stream's last round trip at every stats turn; only a new
                // receiver report (which also brings a loss figure) says how the path is now: a
                // paused video's last report would otherwise keep its queue "fresh" for ever.
                // (The loss itself is the stream's, a publisher's gaps included: the link's
                // comes with `PeerStats`.)
                if let (Some(rtt), Some(_)) = (stats.rtt, stats.loss) {
                    tracing::trace!(peer = peer.key.0, ?rtt, "round trip");
                    if peer.red.observe_rtt(now, rtt) && forwarding::red_payload_type(&peer.rtc).is_some() {
                        tracing::debug!(peer = peer.key.0, "sound redundancy switched off (a queue under a pause)");
                        peer.downlink.replan(now);
                    }
                }
                self.after_link_news(slot, overflowing, now);
            }
            // The member's link, by transport-wide feedback: the share of what we sent them over
            // the last second that did not arrive (their receiver reports would count a
            // publisher's own loss too).
            Event::PeerStats(stats) => {
                let overflowing = peer.red.overflowing(now);
                if let Some(loss) = stats.egress_loss_fraction {
                    if peer.red.handle_loss(now, loss) && forwarding::red_payload_type(&peer.rtc).is_some() {
                        tracing::debug!(peer = peer.key.0, on = peer.red.is_on(), "sound redundancy switched");
                        // What the sound costs this member changed.
                        peer.downlink.replan(now);
                    }
                }
                self.after_link_news(slot, overflowing, now);
            }
            Event::EgressBitrateEstimate(kind) => self.on_estimate(slot, kind, now),
            Event::KeyframeRequest(request) => {
                let source = peer
                    .tracks_out
                    .iter()
                    .find(|t| t.state == TrackOutState::Open(request.mid))
                    .map(|t| (t.publisher, t.publisher_mid));
                if let Some((publisher, mid)) = source {
                    let subscriber = peer.key;
                    self.request_keyframe(publisher, mid, subscriber, now);
                }
            }
            _ => {}
        }
    }

    /// After a round trip or a loss figure: a link that has just begun to overflow is planned
    /// again at once (its budget falls to the usable estimate: `allocator::Inputs::overflowing`).
    fn after_link_news(&mut self, slot: usize, was_overflowing: bool, now: Instant) {
        let Some(peer) = self.peers[slot].as_mut() else { return };
        if peer.red.overflowing(now) && !was_overflowing {
            tracing::debug!(peer = peer.key.0, "downlink overflowing (packets lost at a standing queue)");
            peer.downlink.replan(now);
        }
    }

    /// `subscriber` asked for a keyframe of `publisher`'s video on `mid`: the layer it
    /// receives (or waits for) is asked of the publisher.
    fn request_keyframe(&mut self, publisher: PeerKey, mid: Mid, subscriber: PeerKey, now: Instant) {
        let Some(&slot) = self.by_key.get(&publisher) else { return };
        let Some(peer) = self.peers[slot].as_mut() else { return };
        let layer = peer
            .tracks_in
            .iter()
            .find(|t| t.mid == mid)
            .and_then(|t| t.subscribers.iter().find(|s| s.key == subscriber))
            .and_then(|s| s.switch.current().or(s.switch.wants_keyframe()));
        if let Some(layer) = layer {
            peer.request_keyframe(mid, layer, now);
            self.mark_dirty(slot);
        }
    }

    fn handle_command(&mut self, command: MediaCommand, now: Instant) {
        match command {
            MediaCommand::Connect { setup, offer_sdp } => {
                let (peer, signals) = (setup.peer, setup.signals.clone());
                let existing = self.by_key.get(&peer).copied();
                if let Some(slot) = existing {
                    // Not yet answered (no fingerprint known): any offer is a new connection.
                    let known = self.peers[slot].as_ref().and_then(|p| p.remote_fingerprint.as_deref());
                    let same = known.is_some() && known == dtls_fingerprint(&offer_sdp);
                    if same {
                        self.renegotiate(peer, &offer_sdp);
                        return;
                    }
                    // Only an offer that looks like a whole new connection may end the old one.
                    if dtls_fingerprint(&offer_sdp).is_none() {
                        let _ = signals.send(MediaSignal::Refused(MediaError::BadSdp));
                        return;
                    }
                }
                match self.connect(setup, &offer_sdp, existing, now) {
                    Ok(answer) => {
                        let _ = signals.send(MediaSignal::Answer(answer));
                    }
                    Err(e) => {
                        let _ = signals.send(MediaSignal::Refused(e));
                    }
                }
            }
            MediaCommand::Open(setup) => {
                if !self.by_key.contains_key(&setup.peer) {
                    self.open(setup, now);
                }
            }
            MediaCommand::Answer { peer, answer_sdp } => self.accept_answer(peer, &answer_sdp, now),
            MediaCommand::Rebind { peer, signals } => {
                let Some(&slot) = self.by_key.get(&peer) else { return };
                if let Some(p) = self.peers[slot].as_mut() {
                    p.rebind(signals);
                    // The new session's page starts from "good": tell it again how things stand.
                    p.downlink.told = None;
                    p.downlink.replan(now);
                }
            }
            MediaCommand::SetForwarding { peer, forwarding } => {
                self.set_forwarding(peer, forwarding, now)
            }
            MediaCommand::SetReception { peer, sound_only, tiles } => self.set_reception(peer, sound_only, tiles, now),
            MediaCommand::SetFloor { group, holder } => self.set_floor(group, holder, now),
            MediaCommand::Disconnect { peer } => {
                if let Some(&slot) = self.by_key.get(&peer) {
                    self.remove_peer(slot);
                }
            }
        }
    }

    /// A peer for a newcomer, the server offering first (see `MediaCommand::Open`); the
    /// offer goes out when the loop next polls it.
    fn open(&mut self, setup: PeerSetup, now: Instant) {
        let mut peer = self.new_peer(setup, now);
        peer.receive_lines = ReceiveLines::ToOffer;
        peer.wants_negotiation = true;
        self.offer_live_tracks(&mut peer);
        self.register(peer);
    }

    /// A peer from the browser's offer, parsed once on this thread; it replaces the peer in
    /// `replacing` only once the offer is accepted (a bad offer leaves the old connection be).
    fn connect(&mut self, setup: PeerSetup, offer_sdp: &str, replacing: Option<usize>, now: Instant) -> Result<String, MediaError> {
        let mut peer = self.new_peer(setup, now);
        peer.remote_fingerprint = dtls_fingerprint(offer_sdp).map(str::to_string);
        // Known before str0m announces the offer's m-lines (`Event::MediaAdded`, when polled).
        peer.screen_mid = screen_mid_in_offer(offer_sdp);
        let answer = peer.accept_offer(offer_sdp)?;
        if let Some(slot) = replacing {
            self.remove_peer(slot);
        }
        // Every live track of the group is offered to the newcomer right after the answer.
        self.offer_live_tracks(&mut peer);
        // Registered before the answer leaves, so the first connectivity check finds it.
        self.register(peer);
        Ok(answer)
    }

    fn new_peer(&self, setup: PeerSetup, now: Instant) -> Peer {
        new_peer(setup, &self.template, now)
    }

    /// Queues every live track of the peer's group for its next server offer.
    fn offer_live_tracks(&self, peer: &mut Peer) {
        for other in self.peers.iter().flatten().filter(|p| p.group == peer.group) {
            for track in other.tracks_in.iter().filter(|t| other.forwarding.allows(t.kind, t.screen)) {
                peer.tracks_out.push(TrackOut::new(other.key, other.label.clone(), track.mid, track.kind, track.screen));
                peer.wants_negotiation = true;
            }
        }
    }

    /// Puts a new peer in the loop and its routing maps; it is polled at the end of the turn.
    fn register(&mut self, peer: Peer) {
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.peers.push(None);
                self.peers.len() - 1
            }
        };
        self.by_key.insert(peer.key, slot);
        self.by_ufrag.insert(peer.ufrag.clone(), slot);
        self.peers[slot] = Some(peer);
        self.mark_dirty(slot);
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
                    let initial = crate::allocator::Bps::kbps(bandwidth::INITIAL_ESTIMATE_KBPS);
                    peer.red.forget_path();
                    if peer.downlink.forget_estimate(Instant::now(), initial) {
                        peer.rtc.bwe().reset(str0m::bwe::Bitrate::kbps(bandwidth::INITIAL_ESTIMATE_KBPS));
                    }
                }
                let _ = peer.signals.send(MediaSignal::Answer(answer));
            }
            Err(e) => {
                let _ = peer.signals.send(MediaSignal::Refused(e));
            }
        }
        self.mark_dirty(slot);
    }

    /// Takes a peer out of the loop and out of every other peer's forwarding.
    fn remove_peer(&mut self, slot: usize) {
        let Some(mut peer) = self.peers[slot].take() else { return };
        self.free_slots.push(slot);
        self.dirty.remove(slot);
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
                track.refresh_awaiting();
            }
        }
        self.stop_tracks_out(peer.key, peer.group, None);
        peer.rtc.disconnect();
        let now = Instant::now();
        if self.peers.iter().flatten().any(|p| p.group == peer.group) {
            self.forget_voice(peer.group, peer.key, now);
            self.replan_group(peer.group, now);
        } else {
            self.groups.remove(&peer.group);
        }
    }
}

//! One WebSocket session: decodes client messages, checks what can be checked without the
//! room (size, JSON shape, order), and relays to the hub; writes the hub's and the media
//! loop's messages back in order. Knows nothing of str0m.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use axum::extract::ws::{close_code, CloseFrame, Message, Utf8Bytes, WebSocket};
use std::sync::Arc;

use tokio::sync::{mpsc, Notify};

use crate::config::LimitsConfig;
use crate::hub::{HubCommand, HubHandle, JoinRequest, ResumeRequest, OUTBOX_CAPACITY};
use crate::limits::ConnectionSlot;
use crate::media::{MediaSignal, PeerKey};
use crate::protocol::{ClientMessage, Link, ServerMessage, PROTOCOL_VERSION};
use crate::room::RateLimiter;

/// A flooding client is told at most this often that its messages are being dropped.
const RATE_ERROR_INTERVAL: Duration = Duration::from_secs(1);
/// A socket not in a meeting (or its waiting room) this long after opening is closed
/// (`join_timeout`): the web client sends `join` right after `hello`, so only an abandoned or
/// hostile connection waits longer, and each holds one of its address's
/// `limits.max_connections_per_address`.
const JOIN_TIMEOUT: Duration = Duration::from_secs(20);
/// How often the server pings the socket. Browsers answer by themselves, even in a background
/// tab; the traffic also keeps proxies from closing a quiet socket (nginx's default
/// `proxy_read_timeout` is 60 s), as in a waiting room, where nothing else may be said.
const PING_INTERVAL: Duration = Duration::from_secs(10);
/// A socket that has sent nothing, not even a pong, for this long is taken for dead (a laptop
/// lid, a network gone without a FIN): dropped like any lost connection, the place kept for
/// the grace period. Without it a participant without media (waiting, or never answering the
/// offer) would stay in the meeting for as long as the kernel kept the dead connection.
const SILENCE_LIMIT: Duration = Duration::from_secs(30);
/// A browser offers only to restart ICE (a network change) or after a resume: a few in a
/// row, then one per this long. Each offer costs the media worker of a whole meeting (or
/// several) a parse and an answer, so a client may not queue them.
const OFFER_EVERY: Duration = Duration::from_secs(5);
const OFFER_BURST: u32 = 4;
/// An offer the media worker never answered (its peer went away meanwhile) stops blocking the
/// next one after this long.
const OFFER_ANSWER_WAIT: Duration = Duration::from_secs(10);
/// `media_state` changes are told to everyone in the meeting: a few in a row pass at once,
/// then at most one per this long, the latest state standing for those in between (a
/// toggling client cannot flood every other session's queue).
const STATE_EVERY: Duration = Duration::from_millis(250);
const STATE_BURST: u32 = 8;

/// `slot` is this connection counted against its address; `None` when the address
/// already has too many open, and the session only says so and closes.
pub async fn run(
    mut socket: WebSocket,
    hub: HubHandle,
    limits: &LimitsConfig,
    addr: Option<IpAddr>,
    slot: Option<ConnectionSlot>,
    max_m_lines: usize,
) {
    let (outbox, mut outbox_rx) = mpsc::channel::<ServerMessage>(OUTBOX_CAPACITY);
    let (signals, mut signals_rx) = mpsc::unbounded_channel::<MediaSignal>();
    let now = Instant::now();
    let per_second = limits.messages_per_second;
    let mut session = Session {
        overflow: Arc::new(Notify::new()),
        states: Coalesced::new(now),
        receives: Coalesced::new(now),
        hub,
        outbox,
        signals,
        peer: None,
        addr,
        messages: RateLimiter::new(now, 2 * per_second, Duration::from_secs(1) / per_second),
        last_rate_error: None,
        left: false,
        slot,
        offers: RateLimiter::new(now, OFFER_BURST, OFFER_EVERY),
        offer_in_flight: None,
        max_m_lines,
    };

    let hello = ServerMessage::Hello {
        version: PROTOCOL_VERSION,
        server: concat!("haven/", env!("CARGO_PKG_VERSION")).into(),
    };
    if send(&mut socket, &hello).await.is_err() {
        return;
    }
    if session.slot.is_none() {
        let refusal = error(
            "too_many_connections",
            "Too many connections from your network. Close other meeting tabs and try again.",
            None,
        );
        let _ = send(&mut socket, &refusal).await;
        let _ = write(&mut socket, Message::Close(None)).await;
        return;
    }
    let join_deadline = tokio::time::sleep(JOIN_TIMEOUT);
    tokio::pin!(join_deadline);
    let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + PING_INTERVAL, PING_INTERVAL);
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let overflow = session.overflow.clone();
    loop {
        let state_due = [session.states.due(), session.receives.due()].into_iter().flatten().min();
        let reply = tokio::select! {
            // In this order: room messages go out before media signals queued after them (the
            // server's first offer follows `joined`, never overtakes it), and what is queued
            // for the client goes out before more is read (a flood cannot starve its replies).
            biased;
            // The hub found our queue full and let go of the session (the place is kept):
            // hang up so the browser reconnects and resumes with a fresh snapshot. Not a
            // `closed` message, which would end the meeting for it.
            () = overflow.notified() => {
                tracing::debug!("session could not keep up; closing it for a resume");
                let frame = CloseFrame { code: close_code::AGAIN, reason: Utf8Bytes::from_static("too slow: reconnect") };
                let _ = write(&mut socket, Message::Close(Some(frame))).await;
                break;
            }
            outgoing = outbox_rx.recv() => match outgoing {
                Some(message) => Some(message),
                // The hub dropped us: the server is stopping (which `stopped()` below may not
                // have won the race to say), or we were too slow.
                None if session.hub.is_stopping() => Some(server_stopping()),
                None => break,
            },
            _ = session.hub.stopped() => Some(server_stopping()),
            () = &mut join_deadline, if session.peer.is_none() => Some(ServerMessage::closed(
                "join_timeout",
                "The connection was closed because it did not join a meeting in time.",
            )),
            () = tokio::time::sleep_until(state_due.unwrap_or_else(Instant::now).into()), if state_due.is_some() => {
                session.flush_held();
                None
            }
            _ = pings.tick() => {
                if last_heard.elapsed() >= SILENCE_LIMIT {
                    tracing::debug!("signaling socket silent; dropping it");
                    break;
                }
                if write(&mut socket, Message::Ping(Default::default())).await.is_err() {
                    break;
                }
                None
            }
            Some(signal) = signals_rx.recv() => Some(match signal {
                MediaSignal::Answer(sdp) => {
                    session.offer_in_flight = None;
                    ServerMessage::Answer { sdp }
                }
                MediaSignal::Offer(sdp) => ServerMessage::Offer { sdp },
                MediaSignal::Refused(e) => {
                    session.offer_in_flight = None;
                    error(e.code(), e.to_string(), None)
                }
                MediaSignal::Reception { paused, sound_only } => {
                    let link = match (sound_only, paused.is_empty()) {
                        (true, _) => Link::SoundOnly,
                        (false, true) => Link::Good,
                        (false, false) => Link::Poor,
                    };
                    ServerMessage::Reception { link, paused }
                }
                MediaSignal::CameraLayers { active } => ServerMessage::CameraLayers { active: active.into_iter().map(String::from).collect() },
            }),
            incoming = socket.recv() => {
                // Any frame will do, a pong as well as a message.
                if let Some(Ok(_)) = incoming {
                    last_heard = Instant::now();
                }
                match incoming {
                    Some(Ok(Message::Text(text))) => {
                        if too_large(&text, limits) {
                            Some(error("message_too_large", "That message is too large.", None))
                        } else if !session.messages.try_take(Instant::now()) {
                            session.rate_limited(Instant::now())
                        } else {
                            session.handle_text(&text).await
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        Some(error("bad_message", "Messages must be JSON text.", None))
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => None,
                    // A close frame is the browser closing the page or the client hanging up on
                    // purpose: that is leaving. A socket that just dies keeps the place (below).
                    Some(Ok(Message::Close(_))) => {
                        session.leave();
                        break;
                    }
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "signaling socket failed");
                        if e.to_string().contains("Message too long") {
                            // A frame past even the SDP cap: the WebSocket layer stopped reading
                            // it. Say why in the close frame (1009) rather than just hanging up.
                            let frame = CloseFrame { code: close_code::SIZE, reason: Utf8Bytes::from_static("message too large") };
                            let _ = write(&mut socket, Message::Close(Some(frame))).await;
                        }
                        break;
                    }
                    None => break,
                }
            }
        };
        let Some(reply) = reply else { continue };
        let closing = matches!(reply, ServerMessage::Closed { .. });
        if send(&mut socket, &reply).await.is_err() || closing {
            break;
        }
    }
    // Without a `leave`, the connection dropped: the place is kept for a resume.
    session.detach();
    let _ = write(&mut socket, Message::Close(None)).await;
}

struct Session {
    hub: HubHandle,
    /// Notified by the hub when our outbox overflowed (see the run loop).
    overflow: Arc<Notify>,
    /// `media_state` and `receive` changes: rate-limited, the latest waiting merged.
    states: Coalesced,
    receives: Coalesced,
    outbox: mpsc::Sender<ServerMessage>,
    signals: mpsc::UnboundedSender<MediaSignal>,
    peer: Option<PeerKey>,
    /// Only ever hashed with a per-meeting salt for bans; never logged or stored.
    addr: Option<IpAddr>,
    /// Every message counts, whatever it is; the room has tighter limits for chat,
    /// reactions and hands.
    messages: RateLimiter,
    last_rate_error: Option<Instant>,
    /// Sent `leave`: the place is given up, not kept.
    left: bool,
    slot: Option<ConnectionSlot>,
    /// The client's offers: at most one with the media worker at a time, and a few a minute.
    offers: RateLimiter,
    offer_in_flight: Option<Instant>,
    /// More m-lines than this in an offer or answer are refused before the media worker
    /// sees them: three per participant (microphone, camera, screen) and a few more (see `http`).
    max_m_lines: usize,
}

impl Session {
    async fn handle_text(&mut self, text: &str) -> Option<ServerMessage> {
        let message = match serde_json::from_str::<ClientMessage>(text) {
            Ok(message) => message,
            Err(e) => {
                // serde's sentence names the field or type at fault and never echoes values.
                let detail = e.to_string();
                return Some(error("bad_message", format!("That message was not understood: {detail}."), None));
            }
        };
        let Some(peer) = self.peer else {
            return match message {
                ClientMessage::Join { room, name, key, token, accepted_guidelines, request_id } => {
                    let request = JoinRequest {
                        room,
                        name,
                        key,
                        token,
                        accepted_guidelines,
                        request_id: request_id.clone(),
                        addr: self.addr,
                        outbox: self.outbox.clone(),
                        signals: self.signals.clone(),
                        overflow: self.overflow.clone(),
                    };
                    if !self.may_join() {
                        return Some(too_many_attempts(request_id));
                    }
                    let asked = Instant::now();
                    let reply = self.join(request, request_id).await;
                    self.hub.metrics.observe_join(asked.elapsed());
                    reply
                }
                ClientMessage::Resume { room, resume_key, request_id } => {
                    if !self.may_join() {
                        return Some(too_many_attempts(request_id));
                    }
                    let request = ResumeRequest {
                        room,
                        resume_key,
                        request_id: request_id.clone(),
                        outbox: self.outbox.clone(),
                        signals: self.signals.clone(),
                        overflow: self.overflow.clone(),
                    };
                    self.settle(self.hub.ask(|reply| HubCommand::Resume { request, reply }).await, request_id)
                }
                _ => Some(error("not_joined", "Join a meeting first.", None)),
            };
        };
        match message {
            ClientMessage::Join { request_id, .. } | ClientMessage::Resume { request_id, .. } => {
                Some(error("already_joined", "You are already in this meeting.", request_id))
            }
            ClientMessage::Offer { sdp } => {
                if let Some(refusal) = self.check_sdp(&sdp) {
                    return Some(refusal);
                }
                let now = Instant::now();
                if self.offer_in_flight.is_some_and(|sent| now.duration_since(sent) < OFFER_ANSWER_WAIT) {
                    return Some(error(
                        "negotiation_in_progress",
                        "Your last offer is still being answered; wait for its answer.",
                        None,
                    ));
                }
                if !self.offers.try_take(now) {
                    return Some(error("rate_limited", "Too many offers; wait a few seconds before the next.", None));
                }
                self.offer_in_flight = Some(now);
                let signals = self.signals.clone();
                self.hub.send(HubCommand::Offer { peer, sdp, signals });
                None
            }
            ClientMessage::Answer { sdp } => {
                if let Some(refusal) = self.check_sdp(&sdp) {
                    return Some(refusal);
                }
                self.hub.send(HubCommand::Answer { peer, sdp });
                None
            }
            ClientMessage::Leave {} => {
                self.leave();
                Some(ServerMessage::closed("left", "You left the meeting."))
            }
            message @ ClientMessage::MediaState { .. } => {
                if let Some(message) = self.states.offer(Instant::now(), message) {
                    self.hub.send(HubCommand::Room { peer, message });
                }
                None
            }
            message @ ClientMessage::Receive { .. } => {
                if let Some(message) = self.receives.offer(Instant::now(), message) {
                    self.hub.send(HubCommand::Room { peer, message });
                }
                None
            }
            message => {
                self.hub.send(HubCommand::Room { peer, message });
                None
            }
        }
    }

    async fn join(&mut self, request: JoinRequest, request_id: Option<String>) -> Option<ServerMessage> {
        let answer = self.hub.ask(|reply| HubCommand::Join { request, reply }).await;
        self.settle(answer, request_id)
    }

    fn may_join(&self) -> bool {
        self.slot.as_ref().is_some_and(|slot| slot.try_join(Instant::now()))
    }

    /// Drops a message over the connection's rate; says so at most once a second.
    /// Sends the `media_state` and `receive` held back by the rate (see `STATE_EVERY`) that
    /// may go now.
    fn flush_held(&mut self) {
        let now = Instant::now();
        for held in [&mut self.states, &mut self.receives] {
            let Some(message) = held.flush(now) else { continue };
            if let Some(peer) = self.peer {
                self.hub.send(HubCommand::Room { peer, message });
            }
        }
    }

    /// What can be refused without parsing, before SDP reaches the media worker (which
    /// serves whole meetings from one thread): more media sections than any meeting needs.
    fn check_sdp(&self, sdp: &str) -> Option<ServerMessage> {
        let m_lines = sdp.lines().filter(|line| line.starts_with("m=")).count();
        (m_lines > self.max_m_lines).then(|| {
            error("bad_sdp", format!("That SDP has {m_lines} media sections; a meeting needs at most {}.", self.max_m_lines), None)
        })
    }

    fn rate_limited(&mut self, now: Instant) -> Option<ServerMessage> {
        if self.last_rate_error.is_some_and(|t| now.duration_since(t) < RATE_ERROR_INTERVAL) {
            return None;
        }
        self.last_rate_error = Some(now);
        Some(error("rate_limited", "Too many messages at once; some were ignored. Please slow down.", None))
    }

    /// The hub's answer to a join or resume.
    fn settle(
        &mut self,
        answer: Option<Result<PeerKey, crate::hub::Refusal>>,
        request_id: Option<String>,
    ) -> Option<ServerMessage> {
        match answer {
            Some(Ok(peer)) => {
                self.peer = Some(peer);
                None // `joined` or `waiting` arrives through the outbox, ahead of any event.
            }
            Some(Err(refusal)) => Some(refusal.into_message(request_id)),
            None => Some(error("server_stopping", "The server is restarting.", request_id)),
        }
    }

    /// Gives the place up at once.
    fn leave(&mut self) {
        self.left = true;
        if let Some(peer) = self.peer.take() {
            self.hub.send(HubCommand::Leave { peer });
        }
    }

    /// The WebSocket is gone without a `leave`: the hub keeps the place for the grace period.
    fn detach(&mut self) {
        if let Some(peer) = self.peer.take() {
            if !self.left {
                self.hub.send(HubCommand::Detach { peer, outbox: self.outbox.clone() });
            }
        }
    }
}

/// Messages whose later copy supersedes an earlier one (`media_state`, `receive`): a few in
/// a row pass at once, then one per [`STATE_EVERY`], those in between merged into the one
/// waiting (the latest news of each field standing).
struct Coalesced {
    rate: RateLimiter,
    held: Option<(Instant, ClientMessage)>,
}

impl Coalesced {
    fn new(now: Instant) -> Coalesced {
        Coalesced { rate: RateLimiter::new(now, STATE_BURST, STATE_EVERY), held: None }
    }

    /// `message` if it may go now; otherwise it is held (merged into the one held).
    fn offer(&mut self, now: Instant, message: ClientMessage) -> Option<ClientMessage> {
        match &mut self.held {
            Some((_, held)) => {
                merge(held, message);
                None
            }
            None if self.rate.try_take(now) => Some(message),
            None => {
                self.held = Some((now + STATE_EVERY, message));
                None
            }
        }
    }

    fn due(&self) -> Option<Instant> {
        self.held.as_ref().map(|(due, _)| *due)
    }

    /// The held message if it may go now.
    fn flush(&mut self, now: Instant) -> Option<ClientMessage> {
        let (_, message) = self.held.take()?;
        if self.rate.try_take(now) {
            return Some(message);
        }
        self.held = Some((now + STATE_EVERY, message));
        None
    }
}

/// `later`'s fields over `held`'s, for two messages of one kind.
fn merge(held: &mut ClientMessage, later: ClientMessage) {
    match (held, later) {
        (ClientMessage::MediaState { audio, video }, ClientMessage::MediaState { audio: a, video: v }) => {
            *audio = a.or(*audio);
            *video = v.or(*video);
        }
        (ClientMessage::Receive { video, tiles }, ClientMessage::Receive { video: v, tiles: t }) => {
            *video = v.or(*video);
            if t.is_some() {
                *tiles = t;
            }
        }
        (held, later) => *held = later,
    }
}

fn too_many_attempts(request_id: Option<String>) -> ServerMessage {
    error("too_many_attempts", "Too many attempts to join from your network. Please wait a minute.", request_id)
}

fn error(code: &str, message: impl Into<String>, request_id: Option<String>) -> ServerMessage {
    ServerMessage::error(code, message, request_id)
}

async fn send(socket: &mut WebSocket, message: &ServerMessage) -> Result<(), axum::Error> {
    write(socket, Message::Text(Utf8Bytes::from(message.to_json()))).await
}

/// A frame that cannot be written within [`SILENCE_LIMIT`] (the kernel's buffer full because
/// the peer stopped reading, or is gone) fails like a dead socket: a session stuck here would
/// never get to notice the silence.
async fn write(socket: &mut WebSocket, frame: Message) -> Result<(), axum::Error> {
    match tokio::time::timeout(SILENCE_LIMIT, socket.send(frame)).await {
        Ok(written) => written,
        Err(elapsed) => Err(axum::Error::new(elapsed)),
    }
}

fn server_stopping() -> ServerMessage {
    ServerMessage::closed("server_stopping", "The server is restarting.")
}

/// Whether a message is over its cap: SDP (`offer`, `answer`) has a larger one.
fn too_large(text: &str, limits: &LimitsConfig) -> bool {
    if text.len() <= limits.max_message_bytes {
        return false;
    }
    if text.len() > limits.max_sdp_message_bytes {
        return true;
    }
    #[derive(serde::Deserialize)]
    struct Kind<'a> {
        #[serde(rename = "type", borrow)]
        kind: std::borrow::Cow<'a, str>,
    }
    let is_sdp = serde_json::from_str::<Kind>(text).is_ok_and(|k| k.kind == "offer" || k.kind == "answer");
    !is_sdp
}

//! The hub: the one place that knows both rooms and media. A single task owns every meeting;
//! sessions and the HTTP layer send it commands, the media loop sends it events, and it answers
//! with wire messages to sessions and forwarding decisions to the media loop.

mod meeting;
mod wire;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot, watch, Notify};

use crate::config::{Config, DeclaredRoom, RoomDefaults};
use crate::media::{GroupKey, MediaCommand, MediaEvent, MediaSignal, MediaWorkers, PeerKey};
use crate::metrics::Metrics;
use crate::names;
use crate::protocol::{ClientMessage, ServerMessage};
use crate::room::{ParticipantId, PublicId, Role, RoomCommand, RoomError, RoomEvent, RoomSettings};
use meeting::{Conn, Meeting, Standing};
pub use meeting::{ADHOC_ROOM_IDLE_LIFETIME, UNUSED_ADHOC_ROOM_LIFETIME};

/// Messages queued for one session before it counts as too slow and is dropped.
pub const OUTBOX_CAPACITY: usize = 256;

pub type Outbox = mpsc::Sender<ServerMessage>;

pub enum HubCommand {
    /// An ad-hoc meeting, with the title its creator gave (`None`: `[room_defaults]`'s).
    /// `key_id`: of the links' key, for an `e2ee` room (docs/e2ee.md "Rotation").
    CreateRoom { title: Option<String>, e2ee: bool, key_id: Option<u16>, reply: oneshot::Sender<Result<CreatedRoom, Refusal>> },
    /// What the join screen shows before anyone joins.
    RoomInfo { id: String, reply: oneshot::Sender<Option<crate::protocol::RoomStatus>> },
    Join { request: JoinRequest, reply: oneshot::Sender<Result<PeerKey, Refusal>> },
    /// Take back a kept place with its resume key, from a new session.
    Resume { request: ResumeRequest, reply: oneshot::Sender<Result<PeerKey, Refusal>> },
    Offer { peer: PeerKey, sdp: String, signals: mpsc::UnboundedSender<MediaSignal> },
    Answer { peer: PeerKey, sdp: String },
    /// Any other client message: a room command.
    Room { peer: PeerKey, message: ClientMessage },
    Leave { peer: PeerKey },
    /// The session ended without `leave` (the WebSocket dropped): keep the place for the
    /// grace period. `outbox` tells which session, so a stale one cannot detach a resumed one.
    Detach { peer: PeerKey, outbox: Outbox },
    /// A meeting from the store, made or changed by an admin: added, or its settings, keys,
    /// schedule and archive state replaced (a live meeting keeps its own settings until it
    /// next starts). Refused with `slug_taken` when the id is a `[[room]]`'s or an ad-hoc one.
    PutStanding { room: StandingRoom, reply: oneshot::Sender<Result<(), Refusal>> },
    /// How many people are in each stored meeting that has anyone: counts only.
    LiveCounts { reply: oneshot::Sender<Vec<(String, usize)>> },
    /// The store answered a facilitator's `save_settings` (sent by the hub to itself): the
    /// meeting's settings as its next meetings start with them, or why not.
    SettingsSaved { room: String, peer: PeerKey, saved: Result<RoomSettings, crate::store::StoreError> },
    Shutdown,
}

/// A stored meeting as the hub runs it (made from the store's record by `standing`).
#[derive(Debug, Clone)]
pub struct StandingRoom {
    pub id: String,
    pub settings: RoomSettings,
    /// SHA-256 of each live facilitator key.
    pub key_hashes: Vec<[u8; 32]>,
    pub schedule: Option<Arc<crate::schedule::Compiled>>,
    pub archived: bool,
}

pub struct ResumeRequest {
    pub room: String,
    pub resume_key: String,
    pub request_id: Option<String>,
    pub outbox: Outbox,
    /// The new session's way for answers and offers of the media connection it may keep.
    pub signals: mpsc::UnboundedSender<MediaSignal>,
    /// Notified when the session's outbox overflows (see [`Conn::overflow`]).
    pub overflow: Arc<Notify>,
}

pub struct JoinRequest {
    pub room: String,
    pub name: String,
    pub key: Option<String>,
    pub token: Option<String>,
    pub accepted_guidelines: bool,
    pub request_id: Option<String>,
    /// Used only to derive a salted ban key; never stored or logged.
    pub addr: Option<IpAddr>,
    pub outbox: Outbox,
    /// The session's way for the media connection's offers and answers.
    pub signals: mpsc::UnboundedSender<MediaSignal>,
    /// Notified when the session's outbox overflows (see [`Conn::overflow`]).
    pub overflow: Arc<Notify>,
}

pub struct CreatedRoom {
    pub id: String,
    /// Shown once to whoever created the room; only its hash is kept.
    pub facilitator_key: String,
    pub title: Option<String>,
}

/// A refused request: a stable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
    /// `meeting_closed`: when members may next enter and when that occurrence starts.
    pub opens: Option<(jiff::Timestamp, jiff::Timestamp)>,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal { code, message: message.into(), opens: None }
    }

    /// The message a client receives, with the machine-readable times of `meeting_closed`.
    pub fn into_message(self, request_id: Option<String>) -> ServerMessage {
        ServerMessage::Error {
            code: self.code.to_string(),
            message: self.message,
            request_id,
            opens_at: self.opens.map(|(at, _)| at),
            starts_at: self.opens.map(|(_, start)| start),
        }
    }

    fn unknown_room() -> Refusal {
        Refusal::new("unknown_room", "There is no meeting with that link.")
    }
}

impl From<RoomError> for Refusal {
    fn from(e: RoomError) -> Refusal {
        Refusal { code: e.code(), message: e.message(), opens: None }
    }
}

/// The sender side: cheap to clone, one per session.
#[derive(Clone)]
pub struct HubHandle {
    commands: mpsc::UnboundedSender<HubCommand>,
    pub metrics: Arc<Metrics>,
    /// Turns true when the server starts stopping, so every session, joined or not, closes.
    stopping: watch::Receiver<bool>,
}

impl HubHandle {
    /// Whether the server has begun stopping.
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Resolves once the server is stopping.
    pub async fn stopped(&self) {
        let mut stopping = self.stopping.clone();
        let _ = stopping.wait_for(|stopping| *stopping).await;
    }

    pub fn send(&self, command: HubCommand) {
        let _ = self.commands.send(command);
    }

    /// Sends a command carrying a reply channel and waits for the reply.
    pub async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> HubCommand) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(make(reply)).ok()?;
        answer.await.ok()
    }
}

struct Hub {
    config: Config,
    metrics: Arc<Metrics>,
    media: MediaWorkers,
    meetings: HashMap<String, Meeting>,
    /// The organisation's data, where `save_settings` writes (`None`: no store configured).
    store: Option<crate::store::Store>,
    /// For answers the hub gets back from tasks it starts (the store's).
    commands: mpsc::WeakUnboundedSender<HubCommand>,
    /// Which meeting each connection is in.
    peer_rooms: HashMap<PeerKey, String>,
    next_key: u64,
}

pub fn spawn(
    config: Config,
    store: Option<crate::store::Store>,
    standing: Vec<StandingRoom>,
    media: MediaWorkers,
    events: mpsc::UnboundedReceiver<MediaEvent>,
    metrics: Arc<Metrics>,
) -> HubHandle {
    let (commands, command_rx) = mpsc::unbounded_channel();
    let (stop, stopping) = watch::channel(false);
    let mut hub = Hub {
        metrics: metrics.clone(),
        config,
        media,
        meetings: HashMap::new(),
        store,
        commands: commands.downgrade(),
        peer_rooms: HashMap::new(),
        next_key: 1,
    };
    for room in hub.config.declared_rooms.clone() {
        let key_hash = decode_hex32(&room.facilitator_key_sha256);
        let settings = declared_settings(&hub.config, &room);
        hub.add_meeting(room.id, settings, key_hash.into_iter().collect(), false);
    }
    for room in standing {
        if let Err(refusal) = hub.put_standing(room) {
            // A `[[room]]` of the same id wins: the file is the operator's last word.
            tracing::warn!(code = refusal.code, "a stored meeting shares its id with a [[room]] of the config file; the file's room is served");
        }
    }
    tokio::spawn(hub.run(command_rx, events, stop));
    HubHandle { commands, stopping, metrics }
}

impl Hub {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<HubCommand>,
        mut events: mpsc::UnboundedReceiver<MediaEvent>,
        stop: watch::Sender<bool>,
    ) {
        let mut sweep = tokio::time::interval(Duration::from_secs(60));
        loop {
            // Share timers: the rooms say when they next need waking.
            let grace = self.grace();
            let deadline = self
                .meetings
                .values()
                .flat_map(|m| [m.room.next_deadline(), m.next_grace_end(grace)])
                .flatten()
                .min();
            let timer = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = commands.recv() => match command {
                    Some(HubCommand::Shutdown) | None => break,
                    Some(command) => self.handle_command(command),
                },
                Some(event) = events.recv() => self.handle_media_event(event),
                _ = timer => self.handle_timers(Instant::now()),
                _ = sweep.tick() => self.sweep_idle_rooms(Instant::now()),
            }
            self.publish_counts();
        }
        // Sessions say goodbye themselves (`HubHandle::stopped`); joins are refused from now
        // on since this loop no longer answers.
        let _ = stop.send(true);
        tracing::info!("hub stopped");
    }

    fn handle_command(&mut self, command: HubCommand) {
        match command {
            HubCommand::CreateRoom { title, e2ee, key_id, reply } => {
                let _ = reply.send(self.create_room(title, e2ee, key_id));
            }
            HubCommand::RoomInfo { id, reply } => {
                let info = self
                    .meetings
                    .get(&id)
                    .filter(|m| !m.is_archived())
                    .map(|m| wire::status(&m.id, m.room.status()));
                let _ = reply.send(info);
            }
            HubCommand::Join { request, reply } => {
                let _ = reply.send(self.join(request));
            }
            HubCommand::Offer { peer, sdp, signals } => self.offer(peer, sdp, signals),
            HubCommand::Answer { peer, sdp } => {
                let Some(group) = self.meeting_of(peer).map(|m| m.group) else { return };
                self.media.send(group, MediaCommand::Answer { peer, answer_sdp: sdp })
            }
            HubCommand::Room { peer, message } => self.room_command(peer, message),
            HubCommand::Resume { request, reply } => {
                let _ = reply.send(self.resume(request));
            }
            HubCommand::Leave { peer } => self.leave(peer),
            HubCommand::Detach { peer, outbox } => self.detach(peer, &outbox),
            HubCommand::PutStanding { room, reply } => {
                let _ = reply.send(self.put_standing(room));
            }
            HubCommand::LiveCounts { reply } => {
                let mut counts: Vec<(String, usize)> = self
                    .meetings
                    .values()
                    .filter(|m| m.standing.is_some() && !m.conns.is_empty())
                    .map(|m| (m.id.clone(), m.conns.len()))
                    .collect();
                counts.sort();
                let _ = reply.send(counts);
            }
            HubCommand::SettingsSaved { room, peer, saved } => self.settings_saved(&room, peer, saved),
            HubCommand::Shutdown => {}
        }
    }

    /// A facilitator's `save_settings`, decided by the room: written to the store when the
    /// meeting is a stored one (answered by [`HubCommand::SettingsSaved`]).
    fn save_settings(&mut self, room_id: &str, peer: PeerKey, live: RoomSettings) {
        let standing = self.meetings.get(room_id).is_some_and(|m| m.standing.is_some());
        let Some(store) = self.store.clone().filter(|_| standing) else {
            let message = "Only a meeting set up on the admin page keeps its settings. These stay for this meeting.";
            self.send_error(peer, Refusal::new("not_standing", message));
            return;
        };
        let (room, config, commands) = (room_id.to_string(), self.config.clone(), self.commands.clone());
        let edit = crate::standing::kept(&live);
        tokio::spawn(async move {
            let slug = room.clone();
            let saved = store.run(move |db| db.edit_meeting(&slug, &edit, jiff::Timestamp::now().as_second())).await;
            let saved = saved.map(|record| crate::standing::settings(&config, &record));
            if let Some(commands) = commands.upgrade() {
                let _ = commands.send(HubCommand::SettingsSaved { room, peer, saved });
            }
        });
    }

    fn settings_saved(&mut self, room_id: &str, peer: PeerKey, saved: Result<RoomSettings, crate::store::StoreError>) {
        match saved {
            Ok(settings) => {
                if let Some(meeting) = self.meetings.get_mut(room_id) {
                    meeting.base_settings = settings;
                }
                if let Some(conn) = self.conn(peer) {
                    conn.send(ServerMessage::SettingsSaved {});
                }
            }
            Err(e) => {
                tracing::warn!(code = e.code(), "a meeting's settings could not be saved");
                let message = "The settings could not be kept just now. They still hold for this meeting; try again in a moment.";
                self.send_error(peer, Refusal::new("store_failed", message));
            }
        }
    }

    fn handle_media_event(&mut self, event: MediaEvent) {
        match event {
            MediaEvent::Connected { peer } => tracing::debug!(peer = peer.0, "media connected"),
            MediaEvent::Lost { peer } => {
                tracing::info!(peer = peer.0, "media connection lost");
                // The place is kept for the grace period: the client reconnects and resumes
                // with a fresh media connection.
                let Some(conn) = self.conn_mut(peer) else { return };
                conn.send(ServerMessage::closed(
                    "connection_lost",
                    "The audio and video connection was lost. Reconnecting…",
                ));
                if conn.detached_since.is_none() {
                    conn.detached_since = Some(Instant::now());
                }
                self.end_screen_share_of_dropped(peer);
            }
        }
    }

    fn create_room(&mut self, title: Option<String>, e2ee: bool, key_id: Option<u16>) -> Result<CreatedRoom, Refusal> {
        let mut settings = settings_from(&self.config.room_defaults, self.config.rooms.max_participants);
        settings.e2ee = e2ee;
        settings.e2ee_key_id = key_id;
        if let Some(title) = title.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
            let on_one_line = !title.chars().any(char::is_control);
            settings.title = Some(title);
            if settings.validate().is_err() || !on_one_line {
                return Err(Refusal::new("invalid_title", "A meeting's name is at most 200 characters, on one line."));
            }
        }
        if !self.config.rooms.allow_adhoc {
            return Err(Refusal::new(
                "adhoc_rooms_disabled",
                "This server only hosts the meetings its operator has set up.",
            ));
        }
        if self.meetings.len() >= self.config.rooms.max_rooms {
            return Err(Refusal::new(
                "server_full",
                "This server has as many meetings as it can hold. Please try again later.",
            ));
        }
        let id = loop {
            let id = crate::ids::random_token(10);
            if !self.meetings.contains_key(&id) {
                break id;
            }
        };
        let facilitator_key = crate::ids::random_token(24);
        let key_hash = Sha256::digest(facilitator_key.as_bytes()).into();
        let title = settings.title.clone();
        self.add_meeting(id.clone(), settings, vec![key_hash], true);
        tracing::info!(rooms = self.meetings.len(), "ad-hoc room created");
        Ok(CreatedRoom { id, facilitator_key, title })
    }

    fn add_meeting(&mut self, id: String, settings: RoomSettings, key_hashes: Vec<[u8; 32]>, adhoc: bool) {
        let group = GroupKey(self.next_key);
        self.next_key += 1;
        let turn = Arc::new(self.config.turn.clone());
        self.meetings.insert(id.clone(), Meeting::new(id, adhoc, key_hashes, group, settings, turn));
    }

    fn put_standing(&mut self, room: StandingRoom) -> Result<(), Refusal> {
        let standing = Standing { schedule: room.schedule, archived: room.archived };
        match self.meetings.get_mut(&room.id) {
            Some(meeting) if meeting.standing.is_some() => {
                meeting.key_hashes = room.key_hashes;
                // New encrypted links count at once, in a live meeting too: the stale ones
                // are refused from the next arrival (docs/e2ee.md "Rotation").
                meeting.room.set_e2ee_key_id(room.settings.e2ee_key_id);
                meeting.base_settings = room.settings;
                meeting.standing = Some(standing);
                // An empty room takes the new settings now; a live one at its next start.
                if meeting.conns.is_empty() {
                    meeting.reset_if_over(Instant::now());
                }
            }
            Some(_) => return Err(Refusal::new("slug_taken", "Another meeting on this server has that link.")),
            None => {
                self.add_meeting(room.id.clone(), room.settings, room.key_hashes, false);
                self.meetings.get_mut(&room.id).expect("just added").standing = Some(standing);
            }
        }
        Ok(())
    }

    fn join(&mut self, request: JoinRequest) -> Result<PeerKey, Refusal> {
        let name = names::validate(&request.name).map_err(|e| Refusal::new("invalid_name", e.to_string()))?;
        let meeting = self
            .meetings
            .get_mut(&request.room)
            .filter(|m| !m.is_archived())
            .ok_or_else(Refusal::unknown_room)?;
        let facilitator = request.key.as_ref().is_some_and(|key| {
            let given: [u8; 32] = Sha256::digest(key.as_bytes()).into();
            // Every hash is compared, so the time taken says nothing about which matched.
            meeting.key_hashes.iter().fold(false, |found, hash| constant_time_eq(&given, hash) | found)
        });
        if request.key.is_some() && !facilitator {
            // A wrong secret is worth saying out loud: the facilitator link was mistyped (or
            // revoked by an admin).
            return Err(Refusal::new("bad_key", "That facilitator link is not valid for this meeting."));
        }
        if !facilitator {
            if let Some(refusal) = meeting.closed_now(jiff::Timestamp::now()) {
                return Err(refusal);
            }
        }
        let key = PeerKey(self.next_key);
        self.next_key += 1;
        let pid = ParticipantId(key.0);
        let token = request.token.filter(|t| t.len() <= 64).unwrap_or_else(|| crate::ids::random_token(24));
        let name_key = names::look_alike_key(&name);
        let command = RoomCommand::Join {
            public_id: PublicId(crate::ids::random_token(8)),
            name,
            name_key,
            role: if facilitator { Role::Facilitator } else { Role::Member },
            token: Some(token.clone()),
            ban_key: request.addr.map(|a| meeting.ban_key(a)),
            accepted_guidelines: request.accepted_guidelines,
        };
        // The connection is known before the room speaks, so its first words reach it.
        let conn = Conn::new(request.outbox, request.signals, request.overflow, token, request.request_id);
        meeting.conns.insert(pid, conn);
        match meeting.room.handle(Instant::now(), pid, command) {
            Ok(effects) => {
                meeting.had_people = true;
                self.peer_rooms.insert(key, request.room.clone());
                tracing::info!(peer = key.0, facilitator, "participant arrived");
                self.apply(&request.room, effects);
                // The reply to this join has gone out; later messages answer nothing.
                if let Some(conn) = self.meetings.get_mut(&request.room).and_then(|m| m.conns.get_mut(&pid)) {
                    conn.request_id = None;
                }
                Ok(key)
            }
            Err(e) => {
                meeting.conns.remove(&pid);
                Err(e.into())
            }
        }
    }

    fn resume(&mut self, request: ResumeRequest) -> Result<PeerKey, Refusal> {
        let meeting = self.meetings.get_mut(&request.room).ok_or_else(Refusal::unknown_room)?;
        let pid = meeting.find_resumable(&request.resume_key).ok_or_else(|| {
            Refusal::new("resume_failed", "Your place in the meeting was not kept. Please join again.")
        })?;
        let conn = meeting.conns.get_mut(&pid).expect("found above");
        // A session still attached is one the browser has given up on (a half-open socket).
        let replaced = conn.detached_since.is_none();
        if replaced {
            let _ = conn.outbox.try_send(ServerMessage::closed(
                "replaced",
                "This meeting was opened again from another connection.",
            ));
        }
        conn.outbox = request.outbox;
        conn.overflow = request.overflow;
        conn.detached_since = None;
        conn.request_id = request.request_id.clone();
        let peer = PeerKey(pid.0);
        let now = Instant::now();
        let recipient = wire::Recipient {
            room_id: &meeting.id,
            token: &conn.token,
            resume_key: &conn.resume_key,
            request_id: request.request_id,
            resumed: true,
            ice_servers: crate::turn::ice_servers(&meeting.turn, std::time::SystemTime::now()),
            standing: meeting.standing.is_some(),
        };
        let event = match meeting.room.state_for(now, pid) {
            Some(snapshot) => RoomEvent::Snapshot(Box::new(snapshot)),
            None => meeting.room.waiting_event(),
        };
        if let Some(message) = wire::server_message(event, &recipient) {
            conn.send(message);
        }
        conn.request_id = None;
        // The browser may keep its media connection: its answers and our offers go to the
        // new session from now on.
        conn.signals = request.signals.clone();
        let group = meeting.group;
        self.media.send(group, MediaCommand::Rebind { peer, signals: request.signals });
        tracing::info!(peer = peer.0, "participant resumed");
        // A detached session's share ended with it; one replaced ends now, after `joined`.
        if replaced {
            self.end_screen_share_of_dropped(peer);
        }
        Ok(peer)
    }

    fn detach(&mut self, peer: PeerKey, outbox: &Outbox) {
        let Some(conn) = self.conn_mut(peer) else { return };
        if conn.outbox.same_channel(outbox) && conn.detached_since.is_none() {
            conn.detached_since = Some(Instant::now());
            tracing::info!(peer = peer.0, "connection dropped; place kept");
            self.end_screen_share_of_dropped(peer);
        }
    }

    /// `peer`'s connection is gone (socket, media, a session too slow, or replaced): their
    /// place waits for the grace period, their screen share does not.
    fn end_screen_share_of_dropped(&mut self, peer: PeerKey) {
        let Some(room_id) = self.peer_rooms.get(&peer).cloned() else { return };
        let Some(meeting) = self.meetings.get_mut(&room_id) else { return };
        let effects = meeting.room.connection_dropped(Instant::now(), ParticipantId(peer.0));
        if !effects.is_empty() {
            self.apply(&room_id, effects);
        }
    }

    fn offer(&mut self, peer: PeerKey, sdp: String, signals: mpsc::UnboundedSender<MediaSignal>) {
        let Some(meeting) = self.meeting_of(peer) else { return };
        let Some(setup) = meeting.peer_setup(ParticipantId(peer.0), signals) else {
            self.send_error(peer, RoomError::NotAdmitted.into());
            return;
        };
        self.media.send(setup.group, MediaCommand::Connect { setup, offer_sdp: sdp });
    }

    fn room_command(&mut self, peer: PeerKey, message: ClientMessage) {
        let Some(room_id) = self.peer_rooms.get(&peer).cloned() else { return };
        let meeting = self.meetings.get_mut(&room_id).expect("peer_rooms is consistent");
        if let ClientMessage::Receive { video, tiles } = message {
            match wire::reception(&meeting.room, ParticipantId(peer.0), video, tiles) {
                Ok(command) => self.media.send(meeting.group, command),
                Err(refusal) => self.send_error(peer, refusal),
            }
            return;
        }
        let command = match wire::room_command(&meeting.room, message) {
            Ok(Some(command)) => command,
            Ok(None) => return,
            Err(wire::UnknownId) => {
                self.send_error(peer, RoomError::UnknownParticipant.into());
                return;
            }
        };
        match meeting.room.handle(Instant::now(), ParticipantId(peer.0), command) {
            Ok(effects) => self.apply(&room_id, effects),
            Err(e) => self.send_error(peer, e.into()),
        }
    }

    fn leave(&mut self, peer: PeerKey) {
        let Some(room_id) = self.peer_rooms.remove(&peer) else { return };
        let Some(meeting) = self.meetings.get_mut(&room_id) else { return };
        self.media.send(meeting.group, MediaCommand::Disconnect { peer });
        let pid = ParticipantId(peer.0);
        meeting.conns.remove(&pid);
        tracing::info!(peer = peer.0, "participant left");
        // A room that already let them go (removed, ended) has nothing more to say.
        if let Ok(effects) = meeting.room.handle(Instant::now(), pid, RoomCommand::Leave) {
            self.apply(&room_id, effects);
        }
        self.settle(&room_id);
    }

    /// A meeting left empty or ended starts afresh (but an ended ad-hoc one stays ended);
    /// an empty one gives up its media worker.
    fn settle(&mut self, room_id: &str) {
        let Some(meeting) = self.meetings.get_mut(room_id) else { return };
        meeting.reset_if_over(Instant::now());
        if meeting.conns.is_empty() {
            self.media.release(meeting.group);
        }
    }

    /// Applies room effects, then cleans up whoever they disconnected or found too slow.
    fn apply(&mut self, room_id: &str, effects: Vec<crate::room::Effect>) {
        let Some(meeting) = self.meetings.get_mut(room_id) else { return };
        let applied = meeting.apply(effects, &mut self.media);
        if let Some((who, settings)) = applied.save {
            self.save_settings(room_id, PeerKey(who.0), settings);
        }
        for pid in applied.disconnected {
            self.peer_rooms.remove(&PeerKey(pid.0));
        }
        self.settle(room_id);
        // A session that cannot keep up is cut loose rather than allowed to hold up the
        // others, but the person keeps their place: their browser reconnects and resumes with
        // a fresh snapshot, as after any dropped connection.
        let mut dropped = Vec::new();
        for pid in applied.too_slow {
            let Some(meeting) = self.meetings.get_mut(room_id) else { break };
            if let Some(conn) = meeting.conns.get_mut(&pid) {
                if conn.detached_since.is_none() {
                    conn.detached_since = Some(Instant::now());
                    conn.overflow.notify_one();
                    tracing::info!(peer = pid.0, "session too slow; disconnected, place kept");
                    dropped.push(pid);
                }
            }
        }
        for pid in dropped {
            self.end_screen_share_of_dropped(PeerKey(pid.0));
        }
    }

    fn handle_timers(&mut self, now: Instant) {
        let due: Vec<String> = self
            .meetings
            .iter()
            .filter(|(_, m)| m.room.next_deadline().is_some_and(|d| d <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for room_id in due {
            let Some(meeting) = self.meetings.get_mut(&room_id) else { continue };
            let effects = meeting.room.handle_timeout(now);
            self.apply(&room_id, effects);
        }
        let grace = self.grace();
        let expired: Vec<ParticipantId> =
            self.meetings.values().flat_map(|m| m.grace_expired(now, grace)).collect();
        for pid in expired {
            tracing::info!(peer = pid.0, "grace period over");
            self.leave(PeerKey(pid.0));
        }
    }

    /// The gauges of `/metrics`: counts only.
    fn publish_counts(&self) {
        let people: usize = self.meetings.values().map(|m| m.conns.len()).sum();
        let active = self.meetings.values().filter(|m| !m.conns.is_empty()).count();
        self.metrics.rooms.store(self.meetings.len() as u64, Ordering::Relaxed);
        self.metrics.active_meetings.store(active as u64, Ordering::Relaxed);
        self.metrics.participants.store(people as u64, Ordering::Relaxed);
    }

    fn grace(&self) -> Duration {
        Duration::from_secs(self.config.rooms.reconnect_grace_seconds)
    }

    fn send_error(&self, peer: PeerKey, refusal: Refusal) {
        if let Some(conn) = self.conn(peer) {
            conn.send(refusal.into_message(None));
        }
    }

    fn conn_mut(&mut self, peer: PeerKey) -> Option<&mut Conn> {
        let room_id = self.peer_rooms.get(&peer)?;
        self.meetings.get_mut(room_id)?.conns.get_mut(&ParticipantId(peer.0))
    }

    fn conn(&self, peer: PeerKey) -> Option<&Conn> {
        self.meeting_of(peer)?.conns.get(&ParticipantId(peer.0))
    }

    fn meeting_of(&self, peer: PeerKey) -> Option<&Meeting> {
        self.meetings.get(self.peer_rooms.get(&peer)?)
    }

    /// Forgets ad-hoc rooms idle for long enough (an ended one with them, and its bans; see
    /// [`Meeting::is_forgotten`]), and standing rooms' bans over a day old.
    fn sweep_idle_rooms(&mut self, now: Instant) {
        for meeting in self.meetings.values_mut() {
            meeting.expire_bans(now);
        }
        self.meetings.retain(|_, m| !m.is_forgotten(now));
    }
}

fn settings_from(defaults: &RoomDefaults, max_participants: usize) -> RoomSettings {
    RoomSettings {
        // Blank: untitled (each client names it in its person's language).
        title: Some(defaults.title.trim().to_string()).filter(|t| !t.is_empty()),
        guidelines: defaults.guidelines.clone(),
        waiting_room: defaults.waiting_room,
        mute_on_entry: defaults.mute_on_entry,
        camera_off_on_entry: defaults.camera_off_on_entry,
        members_may_unmute: defaults.members_may_unmute,
        share_seconds: defaults.share_seconds,
        auto_mute_on_expiry: defaults.auto_mute_on_expiry,
        chat_enabled: defaults.chat_enabled,
        // A facilitator's live choice for one meeting; every meeting starts with it off.
        share_earlier_chat: false,
        member_private_messages: defaults.member_private_messages,
        max_participants,
        readings: Vec::new(),
        // Never a default: turning it on would break every link already handed out.
        e2ee: false,
        e2ee_key_id: None,
    }
}

pub fn declared_settings(config: &Config, room: &DeclaredRoom) -> RoomSettings {
    let mut s = settings_from(&config.room_defaults, config.rooms.max_participants);
    if !room.title.trim().is_empty() {
        s.title = Some(room.title.clone());
    }
    s.guidelines = room.guidelines.clone().unwrap_or(s.guidelines);
    s.waiting_room = room.waiting_room.unwrap_or(s.waiting_room);
    s.mute_on_entry = room.mute_on_entry.unwrap_or(s.mute_on_entry);
    s.camera_off_on_entry = room.camera_off_on_entry.unwrap_or(s.camera_off_on_entry);
    s.members_may_unmute = room.members_may_unmute.unwrap_or(s.members_may_unmute);
    s.share_seconds = room.share_seconds.unwrap_or(s.share_seconds);
    s.auto_mute_on_expiry = room.auto_mute_on_expiry.unwrap_or(s.auto_mute_on_expiry);
    s.chat_enabled = room.chat_enabled.unwrap_or(s.chat_enabled);
    s.member_private_messages = room.member_private_messages.unwrap_or(s.member_private_messages);
    s.e2ee = room.e2ee;
    s.readings = room
        .readings
        .iter()
        .map(|r| crate::room::ReadingText { title: r.title.clone(), text: r.text.clone() })
        .collect();
    s
}

/// Each `[[room]]` as the room will hold it passes the room's own rules, the ones a live
/// change by a facilitator meets (title, guidelines and readings lengths, timer), so a file cannot
/// start a meeting with settings no facilitator could set.
pub fn check_declared_rooms(config: &Config) -> Result<(), crate::config::ConfigError> {
    for room in &config.declared_rooms {
        declared_settings(config, room).validate().map_err(|e| {
            crate::config::ConfigError::Invalid(format!("room {:?}: {}", room.id, e))
        })?;
    }
    Ok(())
}

fn decode_hex32(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Compares secrets' hashes without an early exit, so timing reveals nothing.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// For the hub's tests: one media worker whose commands nobody reads.
#[cfg(test)]
fn unread_media() -> (MediaWorkers, Arc<Metrics>) {
    let (commands, media_rx) = mpsc::unbounded_channel();
    std::mem::forget(media_rx);
    let local_addr = std::net::SocketAddr::from(([127, 0, 0, 1], 10000));
    let metrics = Arc::new(Metrics::new(1));
    let handle = crate::media::MediaHandle { commands, local_addr, announced: vec![local_addr] };
    (MediaWorkers::new(vec![handle], metrics.media_workers.to_vec()), metrics)
}

/// For the hub's tests: a join to `room` by `name` with `key`, and the receiving end of its
/// outbox.
#[cfg(test)]
fn test_join_request(room: &str, name: String, key: Option<String>) -> (JoinRequest, mpsc::Receiver<ServerMessage>) {
    let (outbox, rx) = mpsc::channel(OUTBOX_CAPACITY);
    let request = JoinRequest {
        room: room.into(),
        name,
        key,
        token: None,
        accepted_guidelines: true,
        request_id: None,
        addr: None,
        outbox,
        signals: mpsc::unbounded_channel().0,
        overflow: Arc::new(Notify::new()),
    };
    (request, rx)
}

#[cfg(test)]
mod slow_session_tests {
    use std::time::Duration;

    use super::*;

    /// A hub whose media worker is a channel nobody reads.
    fn hub() -> HubHandle {
        let (media, metrics) = super::unread_media();
        let (_events, event_rx) = mpsc::unbounded_channel();
        std::mem::forget(_events);
        spawn(Config::default(), None, Vec::new(), media, event_rx, metrics)
    }

    fn join_request(room: &str, name: &str, outbox: Outbox, overflow: Arc<Notify>) -> JoinRequest {
        JoinRequest {
            room: room.into(),
            name: name.into(),
            key: None,
            token: None,
            accepted_guidelines: true,
            request_id: None,
            addr: None,
            outbox,
            signals: mpsc::unbounded_channel().0,
            overflow,
        }
    }

    #[tokio::test]
    async fn a_session_whose_queue_overflows_is_told_to_close_and_its_place_is_kept() {
        let hub = hub();
        let room =
            hub.ask(|reply| HubCommand::CreateRoom { title: None, e2ee: false, key_id: None, reply }).await.unwrap().unwrap().id;
        // Pat's session reads nothing: a queue of one fills at once.
        let (pat_outbox, mut pat_rx) = mpsc::channel(1);
        let pat_overflow = Arc::new(Notify::new());
        let request = join_request(&room, "Pat", pat_outbox, pat_overflow.clone());
        let pat = hub.ask(|reply| HubCommand::Join { request, reply }).await.unwrap().unwrap();
        // Everyone else keeps up, and their arrivals are news for Pat.
        for i in 0..3 {
            let (outbox, rx) = mpsc::channel(OUTBOX_CAPACITY);
            std::mem::forget(rx);
            let request = join_request(&room, &format!("M{i}"), outbox, Arc::new(Notify::new()));
            hub.ask(|reply| HubCommand::Join { request, reply }).await.unwrap().unwrap();
        }
        tokio::time::timeout(Duration::from_secs(2), pat_overflow.notified())
            .await
            .expect("Pat's session is told its queue overflowed");
        // Pat's place is kept: a resume with the key from `joined` takes it back.
        let Some(ServerMessage::Joined(joined)) = pat_rx.recv().await else { panic!("joined first") };
        let resume_key = joined.resume_key;
        let (outbox, _rx) = mpsc::channel(OUTBOX_CAPACITY);
        let request = ResumeRequest {
            room: room.clone(),
            resume_key,
            request_id: None,
            outbox,
            signals: mpsc::unbounded_channel().0,
            overflow: Arc::new(Notify::new()),
        };
        let resumed = hub.ask(|reply| HubCommand::Resume { request, reply }).await.unwrap();
        assert_eq!(resumed.ok(), Some(pat), "the same participant resumes");
    }
}

#[cfg(test)]
mod sweep_tests {
    use std::time::Duration;

    use super::*;

    /// A hub driven by hand (no task), its media worker a channel nobody reads.
    fn hub() -> Hub {
        let (media, metrics) = super::unread_media();
        Hub { metrics, config: Config::default(), media, meetings: HashMap::new(), store: None, commands: mpsc::unbounded_channel().0.downgrade(), peer_rooms: HashMap::new(), next_key: 1 }
    }

    fn join(hub: &mut Hub, room: &str) -> PeerKey {
        let (request, rx) = super::test_join_request(room, "Sam".into(), None);
        std::mem::forget(rx);
        hub.join(request).unwrap()
    }

    #[test]
    fn rooms_made_and_never_joined_go_after_an_hour_and_used_ones_after_six() {
        let mut hub = hub();
        let unused = hub.create_room(None, false, None).unwrap().id;
        let used = hub.create_room(None, false, None).unwrap().id;
        let sam = join(&mut hub, &used);
        hub.leave(sam);
        let now = Instant::now();
        hub.sweep_idle_rooms(now + Duration::from_secs(30 * 60));
        assert!(hub.meetings.contains_key(&unused) && hub.meetings.contains_key(&used));
        hub.sweep_idle_rooms(now + Duration::from_secs(61 * 60));
        assert!(!hub.meetings.contains_key(&unused), "a room nobody joined is gone after an hour");
        assert!(hub.meetings.contains_key(&used), "a room people met in is kept");
        hub.sweep_idle_rooms(now + Duration::from_secs(6 * 3600 + 60));
        assert!(!hub.meetings.contains_key(&used), "and forgotten 6 h after the last left");
    }

    #[test]
    fn a_refused_join_does_not_count_as_the_room_being_used() {
        let mut hub = hub();
        let room = hub.create_room(None, false, None).unwrap().id;
        let (refused, _rx) = super::test_join_request(&room, "Sam".into(), Some("wrong".into()));
        assert_eq!(hub.join(refused).unwrap_err().code, "bad_key");
        hub.sweep_idle_rooms(Instant::now() + Duration::from_secs(61 * 60));
        assert!(!hub.meetings.contains_key(&room));
    }
}

#[cfg(test)]
mod standing_tests {
    use super::*;

    fn hub(config: Config) -> Hub {
        let (media, metrics) = super::unread_media();
        Hub { metrics, config, media, meetings: HashMap::new(), store: None, commands: mpsc::unbounded_channel().0.downgrade(), peer_rooms: HashMap::new(), next_key: 1 }
    }

    fn standing(id: &str, keys: &[&str]) -> StandingRoom {
        StandingRoom {
            id: id.into(),
            settings: RoomSettings { title: Some("Stored".into()), ..RoomSettings::default() },
            key_hashes: keys.iter().map(|k| Sha256::digest(k.as_bytes()).into()).collect(),
            schedule: None,
            archived: false,
        }
    }

    fn join(hub: &mut Hub, room: &str, key: Option<&str>) -> Result<crate::protocol::Role, Refusal> {
        let (request, mut rx) = super::test_join_request(room, format!("P{}", hub.next_key), key.map(String::from));
        hub.join(request)?;
        match rx.try_recv() {
            Ok(ServerMessage::Joined(joined)) => Ok(joined.you.role),
            _ => panic!("joined first"),
        }
    }

    #[test]
    fn a_config_rooms_readings_follow_its_guidelines_in_the_joined_snapshot() {
        let toml = r#"
            [[room]]
            id = "tuesday"
            guidelines = "Be kind."
            readings = [{ title = "Preamble", text = "One.\n\nTwo." }]
        "#;
        let config = Config::from_toml(toml, "test").unwrap();
        let mut hub = hub(config);
        let room = hub.config.declared_rooms[0].clone();
        hub.add_meeting(room.id.clone(), declared_settings(&hub.config, &room), Vec::new(), false);
        let (request, mut rx) = super::test_join_request("tuesday", "Sam".into(), None);
        hub.join(request).unwrap();
        let Ok(ServerMessage::Joined(joined)) = rx.try_recv() else { panic!("joined first") };
        let titles: Vec<_> = joined.readings.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, ["Our guidelines", "Preamble"]);
        assert_eq!(joined.readings[1].text, "One.\n\nTwo.");
    }

    #[test]
    fn a_config_reading_over_the_cap_is_refused_at_start() {
        let text = "x".repeat(crate::room::MAX_READING_CHARS + 1);
        let toml = format!("[[room]]\nid = \"tuesday\"\nreadings = [{{ title = \"Long\", text = \"{text}\" }}]\n");
        let config = Config::from_toml(&toml, "test").unwrap();
        let error = check_declared_rooms(&config).unwrap_err().to_string();
        assert!(error.contains("tuesday") && error.contains("too long"), "{error}");
    }

    #[test]
    fn a_config_room_of_the_same_id_wins_over_a_stored_meeting() {
        let mut config = Config::default();
        config.declared_rooms.push(DeclaredRoom { id: "tuesday".into(), title: "From the file".into(), ..Default::default() });
        let mut hub = hub(config);
        for room in hub.config.declared_rooms.clone() {
            let settings = declared_settings(&hub.config, &room);
            hub.add_meeting(room.id, settings, Vec::new(), false);
        }
        assert_eq!(hub.put_standing(standing("tuesday", &["k"])).unwrap_err().code, "slug_taken");
        assert_eq!(hub.meetings["tuesday"].base_settings.title.as_deref(), Some("From the file"));
        assert!(hub.meetings["tuesday"].standing.is_none());
    }

    #[test]
    fn any_live_key_gives_the_role_and_a_revoked_one_is_refused_at_the_next_join() {
        let mut hub = hub(Config::default());
        hub.put_standing(standing("tuesday", &["chair-key", "co-key"])).unwrap();
        assert_eq!(join(&mut hub, "tuesday", Some("co-key")).unwrap(), crate::protocol::Role::Facilitator);
        assert_eq!(join(&mut hub, "tuesday", None).unwrap(), crate::protocol::Role::Member);
        hub.put_standing(standing("tuesday", &["chair-key"])).unwrap();
        assert_eq!(join(&mut hub, "tuesday", Some("co-key")).unwrap_err().code, "bad_key");
        assert_eq!(join(&mut hub, "tuesday", Some("chair-key")).unwrap(), crate::protocol::Role::Facilitator);
    }

    #[test]
    fn new_encrypted_links_key_id_reaches_a_live_meeting_at_once_and_only_an_encrypted_one_says_it() {
        let mut hub = hub(Config::default());
        let mut room = standing("tuesday", &["k"]);
        room.settings.e2ee = true;
        hub.put_standing(room.clone()).unwrap();
        let info = |hub: &Hub| wire::status("tuesday", hub.meetings["tuesday"].room.status()).key_id;
        assert_eq!(info(&hub), None, "no links made yet: every key joins");
        assert!(join(&mut hub, "tuesday", None).is_ok());
        room.settings.e2ee_key_id = Some(0x1234);
        hub.put_standing(room.clone()).unwrap();
        assert_eq!(info(&hub), Some(0x1234), "the meeting in progress tells the next arrival");
        let clear = crate::room::Room::new(RoomSettings { e2ee_key_id: Some(7), ..Default::default() });
        assert_eq!(wire::status("clear", clear.status()).key_id, None, "a meeting not encrypted has no key id to say");
    }

    #[test]
    fn an_archived_meeting_takes_no_newcomers_and_a_closed_one_only_facilitators() {
        let mut hub = hub(Config::default());
        let mut room = standing("tuesday", &["k"]);
        let past = crate::schedule::Schedule {
            time_zone: "UTC".into(),
            rules: vec![crate::schedule::Rule::Once { date: "2020-01-01".into(), time: "10:00".into() }],
            duration_minutes: 60,
            opens_minutes_before: Some(5),
        };
        room.schedule = Some(Arc::new(past.compile().unwrap()));
        hub.put_standing(room.clone()).unwrap();
        assert_eq!(join(&mut hub, "tuesday", None).unwrap_err().code, "meeting_closed");
        assert!(join(&mut hub, "tuesday", Some("k")).is_ok(), "a facilitator may open up");
        room.archived = true;
        hub.put_standing(room).unwrap();
        assert_eq!(join(&mut hub, "tuesday", Some("k")).unwrap_err().code, "unknown_room");
    }

    #[test]
    fn a_closed_meeting_says_when_it_opens_and_starts_or_that_it_has_no_more_dates() {
        let mut room = standing("tuesday", &["k"]);
        let once = crate::schedule::Schedule {
            time_zone: "America/New_York".into(),
            rules: vec![crate::schedule::Rule::Once { date: "2026-12-07".into(), time: "19:30".into() }],
            duration_minutes: 60,
            opens_minutes_before: Some(15),
        };
        room.schedule = Some(Arc::new(once.compile().unwrap()));
        let mut hub = hub(Config::default());
        hub.put_standing(room).unwrap();
        let meeting = &hub.meetings["tuesday"];
        let before = meeting.closed_now("2026-12-07T12:00:00Z".parse().unwrap()).unwrap();
        assert_eq!(before.code, "meeting_closed");
        let expected = ("2026-12-08T00:15:00Z".parse().unwrap(), "2026-12-08T00:30:00Z".parse().unwrap());
        assert_eq!(before.opens, Some(expected));
        assert!(meeting.closed_now("2026-12-08T00:20:00Z".parse().unwrap()).is_none(), "open 15 minutes early");
        let after = meeting.closed_now("2026-12-09T00:00:00Z".parse().unwrap()).unwrap();
        assert_eq!((after.code, after.opens), ("meeting_closed", None));
        assert_eq!(after.message, "This meeting has no more dates.");
    }
}

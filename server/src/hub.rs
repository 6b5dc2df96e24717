//! The hub: the one place that knows both rooms and media. A single task owns every meeting;
//! sessions and the HTTP layer send it commands, the media loop sends it events, and it answers
//! with wire messages to sessions and forwarding decisions to the media loop.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::config::Config;
use crate::media::{Forwarding, GroupKey, MediaCommand, MediaEvent, MediaHandle, MediaSignal, PeerKey};
use crate::names::{self, NameError};
use crate::protocol::{Participant, RoomInfo, ServerMessage};

/// How long an ad-hoc room outlives its last participant (a meeting link shared for "now").
const ADHOC_ROOM_IDLE_LIFETIME: Duration = Duration::from_secs(6 * 3600);
/// Messages queued for one session before it counts as too slow and is dropped.
pub const OUTBOX_CAPACITY: usize = 256;

pub type Outbox = mpsc::Sender<ServerMessage>;

pub enum HubCommand {
    CreateRoom { reply: oneshot::Sender<Result<CreatedRoom, HubError>> },
    RoomExists { id: String, reply: oneshot::Sender<bool> },
    Join { request: JoinRequest, reply: oneshot::Sender<Result<PeerKey, HubError>> },
    Offer { peer: PeerKey, sdp: String, signals: mpsc::UnboundedSender<MediaSignal> },
    Answer { peer: PeerKey, sdp: String },
    MediaState { peer: PeerKey, audio: bool, video: bool },
    Leave { peer: PeerKey },
    Shutdown,
}

pub struct JoinRequest {
    pub room: String,
    pub name: String,
    pub key: Option<String>,
    pub request_id: Option<String>,
    pub outbox: Outbox,
}

pub struct CreatedRoom {
    pub id: String,
    /// Shown once to whoever created the room; only its hash is kept.
    pub facilitator_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    #[error("There is no meeting with that link.")]
    UnknownRoom,
    #[error("{0}")]
    InvalidName(NameError),
    #[error("This meeting is full.")]
    RoomFull,
    #[error("This server has as many meetings as it can hold. Please try again later.")]
    ServerFull,
    #[error("The server is restarting.")]
    Stopping,
}

impl HubError {
    pub fn code(&self) -> &'static str {
        match self {
            HubError::UnknownRoom => "unknown_room",
            HubError::InvalidName(_) => "invalid_name",
            HubError::RoomFull => "room_full",
            HubError::ServerFull => "server_full",
            HubError::Stopping => "server_stopping",
        }
    }
}

/// The sender side: cheap to clone, one per session.
#[derive(Clone)]
pub struct HubHandle {
    commands: mpsc::UnboundedSender<HubCommand>,
}

impl HubHandle {
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

struct Meeting {
    id: String,
    title: String,
    key_hash: Option<[u8; 32]>,
    adhoc: bool,
    group: GroupKey,
    members: BTreeMap<PeerKey, Member>,
    empty_since: Instant,
}

struct Member {
    public_id: String,
    name: String,
    facilitator: bool,
    audio: bool,
    video: bool,
    outbox: Outbox,
}

impl Member {
    fn view(&self) -> Participant {
        Participant {
            id: self.public_id.clone(),
            name: self.name.clone(),
            audio: self.audio,
            video: self.video,
        }
    }
}

struct Hub {
    config: Config,
    media: MediaHandle,
    meetings: HashMap<String, Meeting>,
    /// Which meeting each peer is in.
    peer_rooms: HashMap<PeerKey, String>,
    next_key: u64,
}

pub fn spawn(config: Config, media: MediaHandle, events: mpsc::UnboundedReceiver<MediaEvent>) -> HubHandle {
    let (commands, command_rx) = mpsc::unbounded_channel();
    let mut hub = Hub {
        config,
        media,
        meetings: HashMap::new(),
        peer_rooms: HashMap::new(),
        next_key: 1,
    };
    for room in hub.config.declared_rooms.clone() {
        let key_hash = decode_hex32(&room.facilitator_key_sha256);
        let title = if room.title.is_empty() { room.id.clone() } else { room.title.clone() };
        hub.add_meeting(room.id, title, key_hash, false);
    }
    tokio::spawn(hub.run(command_rx, events));
    HubHandle { commands }
}

impl Hub {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<HubCommand>,
        mut events: mpsc::UnboundedReceiver<MediaEvent>,
    ) {
        let mut sweep = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(HubCommand::Shutdown) | None => break,
                    Some(command) => self.handle_command(command),
                },
                Some(event) = events.recv() => self.handle_media_event(event),
                _ = sweep.tick() => self.sweep_idle_rooms(Instant::now()),
            }
        }
        for member in self.meetings.values().flat_map(|m| m.members.values()) {
            let _ = member.outbox.try_send(ServerMessage::Closed {
                code: HubError::Stopping.code().into(),
                message: HubError::Stopping.to_string(),
            });
        }
        tracing::info!("hub stopped");
    }

    fn handle_command(&mut self, command: HubCommand) {
        match command {
            HubCommand::CreateRoom { reply } => {
                let _ = reply.send(self.create_room());
            }
            HubCommand::RoomExists { id, reply } => {
                let _ = reply.send(self.meetings.contains_key(&id));
            }
            HubCommand::Join { request, reply } => {
                let _ = reply.send(self.join(request));
            }
            HubCommand::Offer { peer, sdp, signals } => {
                let Some(meeting) = self.meeting_of(peer) else { return };
                let member = &meeting.members[&peer];
                self.media.send(MediaCommand::Connect {
                    peer,
                    group: meeting.group,
                    label: member.public_id.clone(),
                    offer_sdp: sdp,
                    forwarding: Forwarding { audio: true, video: true },
                    signals,
                });
            }
            HubCommand::Answer { peer, sdp } => {
                self.media.send(MediaCommand::Answer { peer, answer_sdp: sdp })
            }
            HubCommand::MediaState { peer, audio, video } => {
                let Some(meeting) = self.meeting_of_mut(peer) else { return };
                let member = meeting.members.get_mut(&peer).expect("peer_rooms is consistent");
                member.audio = audio;
                member.video = video;
                let update = ServerMessage::ParticipantUpdated { participant: member.view() };
                self.broadcast(peer, update, true);
            }
            HubCommand::Leave { peer } => self.leave(peer),
            HubCommand::Shutdown => {}
        }
    }

    fn handle_media_event(&mut self, event: MediaEvent) {
        match event {
            MediaEvent::Connected { peer } => tracing::debug!(peer = peer.0, "media connected"),
            MediaEvent::Lost { peer } => {
                tracing::info!(peer = peer.0, "media connection lost");
                if let Some(member) = self.meeting_of(peer).and_then(|m| m.members.get(&peer)) {
                    let _ = member.outbox.try_send(ServerMessage::Closed {
                        code: "connection_lost".into(),
                        message: "The media connection was lost.".into(),
                    });
                }
                self.leave(peer);
            }
        }
    }

    fn create_room(&mut self) -> Result<CreatedRoom, HubError> {
        if !self.config.rooms.allow_adhoc {
            return Err(HubError::UnknownRoom);
        }
        if self.meetings.len() >= self.config.rooms.max_rooms {
            return Err(HubError::ServerFull);
        }
        let id = loop {
            let id = crate::ids::random_token(10);
            if !self.meetings.contains_key(&id) {
                break id;
            }
        };
        let facilitator_key = crate::ids::random_token(24);
        let key_hash = Sha256::digest(facilitator_key.as_bytes()).into();
        self.add_meeting(id.clone(), "Meeting".into(), Some(key_hash), true);
        tracing::info!(rooms = self.meetings.len(), "ad-hoc room created");
        Ok(CreatedRoom { id, facilitator_key })
    }

    fn add_meeting(&mut self, id: String, title: String, key_hash: Option<[u8; 32]>, adhoc: bool) {
        let group = GroupKey(self.next_key);
        self.next_key += 1;
        let meeting = Meeting {
            id: id.clone(),
            title,
            key_hash,
            adhoc,
            group,
            members: BTreeMap::new(),
            empty_since: Instant::now(),
        };
        self.meetings.insert(id, meeting);
    }

    fn join(&mut self, request: JoinRequest) -> Result<PeerKey, HubError> {
        let name = names::validate(&request.name).map_err(HubError::InvalidName)?;
        let max = self.config.rooms.max_participants;
        let meeting = self.meetings.get_mut(&request.room).ok_or(HubError::UnknownRoom)?;
        if meeting.members.len() >= max {
            return Err(HubError::RoomFull);
        }
        let facilitator = match (&request.key, &meeting.key_hash) {
            (Some(key), Some(hash)) => {
                constant_time_eq(&Sha256::digest(key.as_bytes()).into(), hash)
            }
            _ => false,
        };
        let key = PeerKey(self.next_key);
        self.next_key += 1;
        let member = Member {
            public_id: crate::ids::random_token(8),
            name,
            facilitator,
            audio: false,
            video: false,
            outbox: request.outbox,
        };
        let joined = ServerMessage::Joined {
            you: member.view(),
            room: RoomInfo { id: meeting.id.clone(), title: meeting.title.clone() },
            participants: meeting.members.values().map(Member::view).collect(),
            request_id: request.request_id,
        };
        let _ = member.outbox.try_send(joined);
        let announce = ServerMessage::ParticipantJoined { participant: member.view() };
        tracing::info!(peer = key.0, facilitator = member.facilitator, "participant joined");
        meeting.members.insert(key, member);
        self.peer_rooms.insert(key, request.room);
        self.broadcast(key, announce, false);
        Ok(key)
    }

    fn leave(&mut self, peer: PeerKey) {
        let Some(room) = self.peer_rooms.remove(&peer) else { return };
        self.media.send(MediaCommand::Disconnect { peer });
        let Some(meeting) = self.meetings.get_mut(&room) else { return };
        let Some(member) = meeting.members.remove(&peer) else { return };
        if meeting.members.is_empty() {
            meeting.empty_since = Instant::now();
        }
        tracing::info!(peer = peer.0, "participant left");
        let left = ServerMessage::ParticipantLeft { id: member.public_id };
        self.broadcast_in(&room, peer, left, false);
    }

    /// Sends to everyone in `from`'s meeting (and to `from` too when `include_self`).
    fn broadcast(&mut self, from: PeerKey, message: ServerMessage, include_self: bool) {
        if let Some(room) = self.peer_rooms.get(&from).cloned() {
            self.broadcast_in(&room, from, message, include_self);
        }
    }

    fn broadcast_in(&mut self, room: &str, from: PeerKey, message: ServerMessage, include_self: bool) {
        let Some(meeting) = self.meetings.get(room) else { return };
        let mut too_slow = Vec::new();
        for (&key, member) in &meeting.members {
            if key == from && !include_self {
                continue;
            }
            if member.outbox.try_send(message.clone()).is_err() {
                too_slow.push(key);
            }
        }
        // A session that cannot keep up is dropped rather than allowed to hold up the others.
        for key in too_slow {
            self.leave(key);
        }
    }

    fn meeting_of(&self, peer: PeerKey) -> Option<&Meeting> {
        self.meetings.get(self.peer_rooms.get(&peer)?)
    }

    fn meeting_of_mut(&mut self, peer: PeerKey) -> Option<&mut Meeting> {
        self.meetings.get_mut(self.peer_rooms.get(&peer)?)
    }

    fn sweep_idle_rooms(&mut self, now: Instant) {
        self.meetings.retain(|_, m| {
            !(m.adhoc && m.members.is_empty() && now.duration_since(m.empty_since) > ADHOC_ROOM_IDLE_LIFETIME)
        });
    }
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

//! One meeting as the hub holds it: the pure `Room`, the connections of the people in it,
//! and the per-meeting salt for address bans. Applying a batch of room effects happens
//! here: forwarding flags to the media loop, events to sessions, disconnections.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::wire::{self, Recipient};
use super::Outbox;
use crate::media::{Forwarding, GroupKey, MediaCommand, MediaHandle, PeerKey};
use crate::protocol::ServerMessage;
use crate::room::{CloseReason, Effect, ParticipantId, Room, RoomSettings};

pub struct Meeting {
    pub id: String,
    pub adhoc: bool,
    pub key_hash: Option<[u8; 32]>,
    pub group: GroupKey,
    /// What a fresh meeting in this room starts with.
    pub base_settings: RoomSettings,
    pub room: Room,
    pub conns: HashMap<ParticipantId, Conn>,
    /// Address bans are kept as salted hashes; a new salt per meeting makes them useless
    /// once it ends.
    salt: [u8; 16],
    pub empty_since: Instant,
}

/// A session's way out, and what the wire adds for it.
pub struct Conn {
    pub outbox: Outbox,
    pub token: String,
    pub request_id: Option<String>,
}

impl Meeting {
    pub fn new(id: String, adhoc: bool, key_hash: Option<[u8; 32]>, group: GroupKey, settings: RoomSettings) -> Meeting {
        Meeting {
            id,
            adhoc,
            key_hash,
            group,
            room: Room::new(settings.clone()),
            base_settings: settings,
            conns: HashMap::new(),
            salt: random_salt(),
            empty_since: Instant::now(),
        }
    }

    /// Forgets everything of the meeting that was (names, chat, bans) once no one is left
    /// or it was ended: the next arrival starts a new meeting.
    pub fn reset_if_over(&mut self, now: Instant) {
        if self.conns.is_empty() || self.room.is_ended() {
            self.room = Room::new(self.base_settings.clone());
            self.salt = random_salt();
            if self.conns.is_empty() {
                self.empty_since = now;
            }
        }
    }

    /// The salted hash that stands for an address in bans; the address itself is not kept.
    pub fn ban_key(&self, addr: IpAddr) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.salt);
        match addr {
            IpAddr::V4(v4) => hasher.update(v4.octets()),
            IpAddr::V6(v6) => hasher.update(v6.octets()),
        }
        hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Carries out a batch of effects, in order.
    pub fn apply(&mut self, effects: Vec<Effect>, media: &MediaHandle) -> Applied {
        let mut applied = Applied::default();
        for effect in effects {
            let audience = self.room.audience(&effect);
            match effect {
                Effect::SetForwarding { who, audio, video } => media.send(MediaCommand::SetForwarding {
                    peer: PeerKey(who.0),
                    forwarding: Forwarding { audio, video },
                }),
                // The client offers once it has `joined`; nothing to do until then.
                Effect::Admitted { .. } => {}
                Effect::Disconnect { who, reason } => {
                    if let Some(conn) = self.conns.remove(&who) {
                        let (code, message) = close_reason(reason);
                        let _ = conn.outbox.try_send(ServerMessage::closed(code, message));
                    }
                    media.send(MediaCommand::Disconnect { peer: PeerKey(who.0) });
                    applied.disconnected.push(who);
                }
                Effect::Send { to, event } => {
                    let Some(conn) = self.conns.get(&to) else { continue };
                    let recipient = Recipient {
                        room_id: &self.id,
                        token: &conn.token,
                        request_id: conn.request_id.clone(),
                    };
                    if let Some(message) = wire::server_message(event, &recipient) {
                        if conn.outbox.try_send(message).is_err() {
                            applied.too_slow.push(to);
                        }
                    }
                }
                Effect::Broadcast { event, .. } | Effect::ToFacilitators { event } => {
                    // Shared events carry nothing per recipient: translate once.
                    let recipient = Recipient { room_id: &self.id, token: "", request_id: None };
                    let Some(message) = wire::server_message(event, &recipient) else { continue };
                    for who in audience {
                        let Some(conn) = self.conns.get(&who) else { continue };
                        if conn.outbox.try_send(message.clone()).is_err() {
                            applied.too_slow.push(who);
                        }
                    }
                }
            }
        }
        applied
    }
}

/// What applying effects left for the hub to clean up.
#[derive(Default)]
pub struct Applied {
    /// Closed by the room (removed, banned, denied, meeting ended): already out of it.
    pub disconnected: Vec<ParticipantId>,
    /// Sessions whose queue is full: the hub makes them leave rather than wait for them.
    pub too_slow: Vec<ParticipantId>,
}

fn close_reason(reason: CloseReason) -> (&'static str, &'static str) {
    match reason {
        CloseReason::Removed => ("removed", "A facilitator removed you from the meeting."),
        CloseReason::Banned => ("banned", "A facilitator removed you from this meeting. You cannot rejoin it."),
        CloseReason::Denied => ("denied", "A facilitator did not let you in this time."),
        CloseReason::MeetingEnded => ("meeting_ended", "The meeting has ended. Thank you for coming."),
    }
}

fn random_salt() -> [u8; 16] {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    salt
}

//! One meeting as the hub holds it: the pure `Room`, the connections of the people in it,
//! and the per-meeting salt for address bans. Applying a batch of room effects happens
//! here: forwarding flags to the media loop, events to sessions, disconnections.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::wire::{self, Recipient};
use super::Outbox;
use crate::media::{Forwarding, GroupKey, MediaCommand, MediaSignal, MediaWorkers, PeerKey, PeerSetup};
use crate::protocol::ServerMessage;
use crate::room::{CloseReason, Effect, ParticipantId, Room, RoomEvent, RoomSettings};

/// How long an ad-hoc room outlives its last participant (a meeting link shared for "now").
pub const ADHOC_ROOM_IDLE_LIFETIME: Duration = Duration::from_secs(6 * 3600);
/// How long an ad-hoc room no one has joined is kept after it was made.
pub const UNUSED_ADHOC_ROOM_LIFETIME: Duration = Duration::from_secs(3600);

pub struct Meeting {
    pub id: String,
    pub adhoc: bool,
    /// SHA-256 of each facilitator secret that gives the role (a stored meeting may have
    /// several; revoking one removes it here before the next join).
    pub key_hashes: Vec<[u8; 32]>,
    /// Set for a meeting from the store: its schedule and whether it is archived.
    pub standing: Option<Standing>,
    pub group: GroupKey,
    /// What a fresh meeting in this room starts with.
    pub base_settings: RoomSettings,
    pub room: Room,
    pub conns: HashMap<ParticipantId, Conn>,
    /// Address bans are kept as salted hashes; the salt is renewed when a meeting starts
    /// with no ban carried over, which makes the old hashes useless.
    salt: [u8; 16],
    /// Since when no one is connected (from creation, for a room no one joined yet).
    pub empty_since: Instant,
    /// Someone has joined (or waited in) this room: an ad-hoc room is kept longer then.
    pub had_people: bool,
    /// Where the TURN credentials handed out with `joined` come from.
    pub turn: std::sync::Arc<crate::config::TurnConfig>,
    /// The floor holder the media worker was last told of (whose video comes first).
    media_floor: Option<ParticipantId>,
}

/// What a meeting from the store adds.
#[derive(Debug, Clone)]
pub struct Standing {
    /// Members enter only while it says open (facilitators any time). `None`: always open.
    pub schedule: Option<std::sync::Arc<crate::schedule::Compiled>>,
    /// An archived meeting takes no new arrivals; whoever is in it carries on.
    pub archived: bool,
}

/// A participant's connection, and what the wire adds for it. It outlives a dropped
/// WebSocket for the grace period, so a `resume` finds the place kept.
pub struct Conn {
    pub outbox: Outbox,
    /// The session's way for media offers and answers.
    pub signals: mpsc::UnboundedSender<MediaSignal>,
    /// Tells the session its outbox overflowed: it closes the WebSocket, the browser
    /// reconnects and resumes (a full outbox cannot carry the news itself).
    pub overflow: std::sync::Arc<tokio::sync::Notify>,
    pub token: String,
    /// The secret a `resume` must present.
    pub resume_key: String,
    pub request_id: Option<String>,
    /// Set while no session is attached: when the WebSocket dropped.
    pub detached_since: Option<Instant>,
}

impl Conn {
    pub fn new(
        outbox: Outbox,
        signals: mpsc::UnboundedSender<MediaSignal>,
        overflow: std::sync::Arc<tokio::sync::Notify>,
        token: String,
        request_id: Option<String>,
    ) -> Conn {
        Conn {
            outbox,
            signals,
            overflow,
            token,
            resume_key: crate::ids::random_token(24),
            request_id,
            detached_since: None,
        }
    }

    /// Queues a message for the session. `false` when its queue is full: it is too slow.
    /// While detached, messages are dropped: a resume starts with a fresh snapshot.
    pub fn send(&self, message: ServerMessage) -> bool {
        if self.detached_since.is_some() {
            return true;
        }
        self.outbox.try_send(message).is_ok()
    }
}

impl Meeting {
    pub fn new(
        id: String,
        adhoc: bool,
        key_hashes: Vec<[u8; 32]>,
        group: GroupKey,
        settings: RoomSettings,
        turn: std::sync::Arc<crate::config::TurnConfig>,
    ) -> Meeting {
        Meeting {
            id,
            adhoc,
            key_hashes,
            standing: None,
            group,
            room: Room::new(settings.clone()),
            base_settings: settings,
            conns: HashMap::new(),
            salt: random_salt(),
            empty_since: Instant::now(),
            had_people: false,
            turn,
            media_floor: None,
        }
    }

    pub fn is_archived(&self) -> bool {
        self.standing.as_ref().is_some_and(|s| s.archived)
    }

    /// A member arriving outside a scheduled meeting's open window is told when it opens
    /// (facilitators may enter any time, to prepare).
    pub fn closed_now(&self, now: jiff::Timestamp) -> Option<super::Refusal> {
        let schedule = self.standing.as_ref()?.schedule.as_ref()?;
        match schedule.openness(now) {
            crate::schedule::Openness::Closed { next } => {
                let mut refusal = super::Refusal::new(
                    "meeting_closed",
                    match next {
                        // The client says it in the member's own zone; the UTC text is for
                        // clients that do not read `opens_at`.
                        Some((opens_at, _)) => format!("This meeting is not open yet. It opens at {opens_at}."),
                        None => "This meeting has no more dates.".to_string(),
                    },
                );
                refusal.opens = next.map(|(opens_at, occurrence)| (opens_at, occurrence.start));
                Some(refusal)
            }
            _ => None,
        }
    }

    /// Once no one is left or it was ended, forgets the meeting that was (names, chat) and
    /// starts a new one for the next arrival, keeping the bans of the last day
    /// ([`crate::room::BAN_LIFETIME`]). An ended ad-hoc meeting is not started again: it
    /// refuses every join (`meeting_ended`) until the hub forgets the room.
    pub fn reset_if_over(&mut self, now: Instant) {
        if self.conns.is_empty() {
            self.empty_since = now;
        }
        if self.adhoc && self.room.is_ended() {
            return;
        }
        if self.conns.is_empty() || self.room.is_ended() {
            self.restart(now);
        }
    }

    /// For the hub's periodic sweep: is this an ad-hoc room to forget? One that had people
    /// goes [`ADHOC_ROOM_IDLE_LIFETIME`] after the last left (the link was shared for a
    /// meeting; people may come back); one nobody ever joined, [`UNUSED_ADHOC_ROOM_LIFETIME`]
    /// after it was made, so a script creating rooms cannot fill the server for long.
    pub fn is_forgotten(&self, now: Instant) -> bool {
        let lifetime = if self.had_people { ADHOC_ROOM_IDLE_LIFETIME } else { UNUSED_ADHOC_ROOM_LIFETIME };
        self.adhoc && self.conns.is_empty() && now.saturating_duration_since(self.empty_since) > lifetime
    }

    /// For the hub's periodic sweep: an empty standing room lets go of bans over a day old
    /// without waiting for its next meeting.
    pub fn expire_bans(&mut self, now: Instant) {
        if !self.adhoc && self.conns.is_empty() && self.room.has_bans() {
            self.restart(now);
        }
    }

    fn restart(&mut self, now: Instant) {
        self.room = self.room.restarted(now, self.base_settings.clone());
        if !self.room.has_bans() {
            self.salt = random_salt();
        }
    }

    /// The participant whose resume key this is, compared without an early exit.
    pub fn find_resumable(&self, resume_key: &str) -> Option<ParticipantId> {
        let wanted = Sha256::digest(resume_key.as_bytes());
        let mut found = None;
        for (pid, conn) in &self.conns {
            let have = Sha256::digest(conn.resume_key.as_bytes());
            let same = have.iter().zip(wanted.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
            if same {
                found = Some(*pid);
            }
        }
        found
    }

    /// When the earliest detached connection's grace period ends.
    pub fn next_grace_end(&self, grace: Duration) -> Option<Instant> {
        self.conns.values().filter_map(|c| c.detached_since).min().map(|t| t + grace)
    }

    /// Connections whose grace period is over at `now`.
    pub fn grace_expired(&self, now: Instant, grace: Duration) -> Vec<ParticipantId> {
        let expired = |c: &Conn| c.detached_since.is_some_and(|t| t + grace <= now);
        self.conns.iter().filter(|(_, c)| expired(c)).map(|(pid, _)| *pid).collect()
    }

    /// The salted hash that stands for an address in bans; the address itself is not kept.
    /// An IPv6 address counts by its /64, as for the per-address limits: one household or
    /// phone gets a whole /64, and a raider could otherwise walk through it.
    pub fn ban_key(&self, addr: IpAddr) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.salt);
        match addr.to_canonical() {
            IpAddr::V4(v4) => hasher.update(v4.octets()),
            IpAddr::V6(v6) => hasher.update(&v6.octets()[..8]),
        }
        hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Carries out a batch of effects, in order.
    pub fn apply(&mut self, effects: Vec<Effect>, media: &mut MediaWorkers) -> Applied {
        let mut applied = Applied::default();
        let mut admitted = Vec::new();
        for effect in effects {
            let audience = self.room.audience(&effect);
            match effect {
                Effect::SetForwarding { who, audio, video, screen } => media.send(
                    self.group,
                    MediaCommand::SetForwarding { peer: PeerKey(who.0), forwarding: Forwarding { audio, video, screen } },
                ),
                // Its media connection is opened once `joined` is queued (below).
                Effect::Admitted { who } => admitted.push(who),
                Effect::Disconnect { who, reason } => {
                    if let Some(conn) = self.conns.remove(&who) {
                        let (code, message) = close_reason(reason);
                        conn.send(ServerMessage::closed(code, message));
                    }
                    media.send(self.group, MediaCommand::Disconnect { peer: PeerKey(who.0) });
                    applied.disconnected.push(who);
                }
                Effect::SaveSettings { who, settings } => applied.save = Some((who, settings)),
                Effect::Send { to, event } => {
                    let Some(conn) = self.conns.get(&to) else { continue };
                    let ice_servers = match event {
                        RoomEvent::Snapshot(_) => crate::turn::ice_servers(&self.turn, std::time::SystemTime::now()),
                        _ => Vec::new(),
                    };
                    let recipient = Recipient {
                        room_id: &self.id,
                        token: &conn.token,
                        resume_key: &conn.resume_key,
                        request_id: conn.request_id.clone(),
                        resumed: false,
                        ice_servers,
                        standing: self.standing.is_some(),
                    };
                    if let Some(message) = wire::server_message(event, &recipient) {
                        if !conn.send(message) {
                            applied.too_slow.push(to);
                        }
                    }
                }
                Effect::Broadcast { event, .. } | Effect::ToFacilitators { event } => {
                    // Shared events carry nothing per recipient: translate once.
                    let recipient = Recipient::anyone(&self.id);
                    let Some(message) = wire::server_message(event, &recipient) else { continue };
                    for who in audience {
                        let Some(conn) = self.conns.get(&who) else { continue };
                        if !conn.send(message.clone()) {
                            applied.too_slow.push(who);
                        }
                    }
                }
            }
        }
        let floor = self.room.floor_holder();
        if floor != self.media_floor {
            self.media_floor = floor;
            let holder = floor.map(|who| PeerKey(who.0));
            media.send(self.group, MediaCommand::SetFloor { group: self.group, holder });
        }
        // The server offers first, right behind `joined` (a session sends its queue before
        // media signals), so a newcomer's one negotiation brings its media both ways.
        for who in admitted {
            let Some(conn) = self.conns.get(&who) else { continue };
            if let Some(setup) = self.peer_setup(who, conn.signals.clone()) {
                media.send(self.group, MediaCommand::Open(setup));
            }
        }
        applied
    }

    /// What the media loop needs to start `who`'s peer; `None` unless admitted.
    pub fn peer_setup(&self, who: ParticipantId, signals: mpsc::UnboundedSender<MediaSignal>) -> Option<PeerSetup> {
        let (audio, video) = self.room.forwarding(who)?;
        let screen = self.room.screen_sharer() == Some(who);
        Some(PeerSetup {
            peer: PeerKey(who.0),
            group: self.group,
            label: self.room.public_id_of(who).map(|p| p.0).unwrap_or_default(),
            forwarding: Forwarding { audio, video, screen },
            signals,
        })
    }
}

/// What applying effects left for the hub to clean up.
#[derive(Default)]
pub struct Applied {
    /// Closed by the room (removed, banned, denied, meeting ended): already out of it.
    pub disconnected: Vec<ParticipantId>,
    /// Sessions whose queue is full: the hub makes them leave rather than wait for them.
    pub too_slow: Vec<ParticipantId>,
    /// A facilitator asked to keep these settings as the meeting's own (the hub stores them).
    pub save: Option<(ParticipantId, RoomSettings)>,
}

fn close_reason(reason: CloseReason) -> (&'static str, &'static str) {
    match reason {
        CloseReason::Removed => ("removed", "A facilitator removed you from the meeting."),
        CloseReason::Banned => ("banned", "A facilitator removed you from this meeting. You cannot rejoin it."),
        CloseReason::DeniedAndBanned => {
            ("banned", "A facilitator did not let you in to this meeting. You cannot join it again.")
        }
        CloseReason::Denied => ("denied", "A facilitator did not let you in this time."),
        CloseReason::MeetingEnded => ("meeting_ended", "The meeting has ended. Thank you for coming."),
    }
}

fn random_salt() -> [u8; 16] {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    salt
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::room::{PublicId, Role, RoomCommand};

    fn meeting(adhoc: bool) -> Meeting {
        let turn = std::sync::Arc::new(crate::config::Config::default().turn);
        Meeting::new("tuesday".into(), adhoc, Vec::new(), GroupKey(1), RoomSettings::default(), turn)
    }

    fn join(m: &mut Meeting, now: Instant, id: u64, role: Role) -> Result<Vec<Effect>, &'static str> {
        let join = RoomCommand::Join {
            public_id: PublicId(format!("pub{id}")),
            name: format!("Name{id}"),
            name_key: format!("name{id}"),
            role,
            token: Some(format!("tok{id}")),
            ban_key: Some(m.ban_key(IpAddr::V4(Ipv4Addr::new(192, 0, 2, id as u8)))),
            accepted_guidelines: true,
        };
        m.room.handle(now, ParticipantId(id), join).map_err(|e| e.code())
    }

    /// Fay bans raider 2 and ends the meeting; the hub settles the empty meeting.
    fn raided_and_ended(adhoc: bool) -> (Meeting, Instant) {
        let now = Instant::now();
        let mut m = meeting(adhoc);
        join(&mut m, now, 1, Role::Facilitator).unwrap();
        join(&mut m, now, 2, Role::Member).unwrap();
        let fay = ParticipantId(1);
        m.room.handle(now, fay, RoomCommand::Remove { who: ParticipantId(2), ban: true }).unwrap();
        m.room.handle(now, fay, RoomCommand::EndMeeting).unwrap();
        m.reset_if_over(now);
        (m, now)
    }

    #[test]
    fn ended_adhoc_meeting_stays_ended_for_everyone() {
        let (mut m, now) = raided_and_ended(true);
        let later = now + Duration::from_secs(3600);
        m.reset_if_over(later);
        m.expire_bans(later);
        assert_eq!(join(&mut m, later, 3, Role::Member).unwrap_err(), "meeting_ended");
        assert_eq!(join(&mut m, later, 4, Role::Facilitator).unwrap_err(), "meeting_ended");
        assert_eq!(m.empty_since, later, "the idle clock that forgets the room runs");
    }

    #[test]
    fn ended_standing_meeting_starts_again_keeping_its_bans_by_token_and_address() {
        let (mut m, now) = raided_and_ended(false);
        let later = now + Duration::from_secs(3600);
        m.expire_bans(later);
        join(&mut m, later, 1, Role::Facilitator).unwrap();
        assert_eq!(join(&mut m, later, 2, Role::Member).unwrap_err(), "banned");
        // A fresh token from the same address: the salt was kept, so the hash matches.
        let same_address = RoomCommand::Join {
            public_id: PublicId("pub9".into()),
            name: "Raider".into(),
            name_key: "raider".into(),
            role: Role::Member,
            token: Some("fresh".into()),
            ban_key: Some(m.ban_key(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)))),
            accepted_guidelines: true,
        };
        // ...which only makes the arrival wait, flagged: an address may be a household's.
        m.room.handle(later, ParticipantId(9), same_address).unwrap();
        assert!(m.room.is_waiting(ParticipantId(9)));
        join(&mut m, later, 3, Role::Member).unwrap();
        assert!(m.room.is_admitted(ParticipantId(3)));
    }

    #[test]
    fn an_ad_hoc_room_nobody_joined_is_forgotten_after_an_hour() {
        let m = meeting(true);
        let made = m.empty_since;
        assert!(!m.is_forgotten(made + Duration::from_secs(59 * 60)));
        assert!(m.is_forgotten(made + Duration::from_secs(61 * 60)));
    }

    #[test]
    fn an_ad_hoc_room_that_had_people_is_kept_six_hours_after_the_last_left() {
        let mut m = meeting(true);
        let now = m.empty_since + Duration::from_secs(50 * 60);
        // What the hub does: the connection is known, the room admits, the person leaves.
        m.had_people = true;
        join(&mut m, now, 1, Role::Member).unwrap();
        m.room.handle(now, ParticipantId(1), RoomCommand::Leave).unwrap();
        m.reset_if_over(now);
        assert!(!m.is_forgotten(now + Duration::from_secs(2 * 3600)));
        assert!(!m.is_forgotten(now + Duration::from_secs(6 * 3600 - 60)));
        assert!(m.is_forgotten(now + Duration::from_secs(6 * 3600 + 60)));
    }

    #[test]
    fn someone_banned_from_the_waiting_room_is_not_told_they_were_removed() {
        let (code, message) = close_reason(CloseReason::DeniedAndBanned);
        assert_eq!(code, "banned", "the code stays stable");
        assert_eq!(message, "A facilitator did not let you in to this meeting. You cannot join it again.");
        assert_eq!(close_reason(CloseReason::Banned).0, "banned");
    }

    #[test]
    fn a_room_from_the_config_is_never_forgotten() {
        let m = meeting(false);
        assert!(!m.is_forgotten(m.empty_since + Duration::from_secs(7 * 24 * 3600)));
    }

    #[test]
    fn an_ipv6_address_is_banned_by_its_slash_64() {
        let m = meeting(false);
        let key = |a: &str| m.ban_key(a.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::3"), key("2001:db8:1:2:ffff::9"), "the same /64");
        assert_ne!(key("2001:db8:1:2::3"), key("2001:db8:1:3::3"), "the next /64");
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"), "an IPv4 address however written");
    }

    #[test]
    fn empty_standing_room_lets_go_of_bans_a_day_old() {
        let (mut m, now) = raided_and_ended(false);
        let salt = m.salt;
        m.expire_bans(now + Duration::from_secs(3600));
        assert!(m.room.has_bans() && m.salt == salt);
        m.expire_bans(now + crate::room::BAN_LIFETIME);
        assert!(!m.room.has_bans());
        assert_ne!(m.salt, salt, "a new salt once no ban needs the old one");
        join(&mut m, now + crate::room::BAN_LIFETIME, 2, Role::Member).unwrap();
    }
}

//! Who is in a room: ids, roles and one participant's moderation state. Imports no tokio,
//! no media, no network.

use std::fmt;
use std::time::Instant;

use super::rate::RateLimiter;

/// Internal id of one connection, assigned by the caller (the hub). Never shown to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ParticipantId(pub u64);

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}", self.0)
    }
}

/// The anonymous id clients see (supplied by the caller on join). Events carry this one, so
/// the hub can forward them without translating and internal ids never leak.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicId(pub String);

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Id of one room chat message, unique within the meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(pub u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Presented the room's facilitator secret (verified by the caller, not here).
    Facilitator,
    /// Promoted by a facilitator. Same powers, but cannot act on a facilitator.
    CoFacilitator,
    Member,
}

impl Role {
    /// Facilitators and co-facilitators: "the facilitators" in every product rule.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Facilitator | Role::CoFacilitator)
    }
}

/// The fixed set of reactions; a closed enum so no free text rides along.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reaction {
    Heart,
    MeToo,
    Clap,
    Wave,
    ThumbsUp,
}

/// A facilitator's decision about one person's self-unmute, overriding the room setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnmutePermission {
    /// Follow the room's `members_may_unmute`.
    #[default]
    FollowRoom,
    Allowed,
    Denied,
}

/// One person, in the waiting room or admitted.
#[derive(Debug, Clone)]
pub(super) struct Participant {
    pub id: ParticipantId,
    pub public_id: PublicId,
    pub name: String,
    pub role: Role,
    /// Kept only so that a ban can record them; dropped with the room.
    pub token: Option<String>,
    pub ban_key: Option<String>,
    /// What names that look like this one share (from `names::look_alike_key`, given by
    /// the caller): a member may not arrive under a staff member's look-alike.
    pub name_key: String,
    /// Arrived from the address of someone banned: waits for staff, who are told.
    pub same_network_as_banned: bool,
    /// Microphone forwarded. The SFU's audio flag always equals this.
    pub mic_on: bool,
    /// Camera forwarded. The SFU's video flag always equals this.
    pub camera_on: bool,
    pub unmute: UnmutePermission,
    /// Set by "stop camera"; the person may not restart it until a facilitator allows it.
    pub camera_stopped: bool,
    /// The first room chat message said after they arrived (were admitted): unless the room
    /// shares earlier chat, their snapshots start here.
    pub chat_from: MessageId,
    pub reactions: RateLimiter,
    pub messages: RateLimiter,
    pub hands: RateLimiter,
    /// Staff adding, editing or removing readings.
    pub reading_edits: RateLimiter,
    /// Staff let this member share their screen (`screen.rs`); for this place only.
    pub screen_allowed: bool,
    /// Starting a screen share.
    pub screen_shares: RateLimiter,
}

impl Participant {
    pub fn new(
        now: Instant,
        id: ParticipantId,
        public_id: PublicId,
        name: String,
        role: Role,
        token: Option<String>,
        ban_key: Option<String>,
        name_key: String,
    ) -> Self {
        Participant {
            id,
            public_id,
            name,
            role,
            token,
            ban_key,
            name_key,
            same_network_as_banned: false,
            mic_on: false,
            camera_on: false,
            unmute: UnmutePermission::FollowRoom,
            camera_stopped: false,
            chat_from: MessageId(0),
            reactions: RateLimiter::reactions(now),
            messages: RateLimiter::messages(now),
            hands: RateLimiter::hands(now),
            reading_edits: RateLimiter::reading_edits(now),
            screen_allowed: false,
            screen_shares: RateLimiter::screen_shares(now),
        }
    }
}

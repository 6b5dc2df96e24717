//! The signaling wire format: one enum per direction, JSON tagged by `type`.
//! Imports nothing from the rest of the crate; `docs/protocol.md` documents every message and
//! the tests at the bottom pin each one's JSON.

use serde::{Deserialize, Serialize};

/// Bumped on any incompatible change; sent in `hello`.
pub const PROTOCOL_VERSION: u32 = 1;

/// A participant's anonymous id, valid for one meeting only.
pub type PublicId = String;

/// Messages a client sends. Staff-only commands are refused for members with `not_permitted`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Enter a room. `key` is the facilitator secret from the link's fragment, if any;
    /// `token` is the per-meeting token this browser was given before, if any.
    Join {
        room: String,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        #[serde(default, skip_serializing_if = "is_false")]
        accepted_guidelines: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
    /// Take back my place after a dropped connection, within the grace period: `resume_key`
    /// is the one the last `joined` or `waiting` gave. Sent instead of `join`.
    Resume {
        room: String,
        resume_key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
    /// The browser's offer. The first starts this participant's media; a later one from the
    /// same peer connection renegotiates it (an ICE restart after a network change, refused
    /// with `negotiation_in_progress` while a server offer awaits its answer), and one from a
    /// new peer connection replaces it.
    Offer { sdp: String },
    /// The browser's answer to a server `offer`.
    Answer { sdp: String },
    /// Turn my mic and/or camera on or off (absent = unchanged). Turning on can be refused
    /// (`cannot_unmute`, `muted_by_facilitator`, `camera_stopped`, `room_suspended`); media is
    /// forwarded only while on.
    MediaState {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audio: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        video: Option<bool>,
    },
    Leave {},
    /// How I show the others (absent = unchanged): `video: false` is "sound only" (no video
    /// sent to me at all); `tiles` replaces the last report of each other participant's tile.
    Receive {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        video: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tiles: Option<Vec<TileReport>>,
    },

    UpdateSettings { settings: SettingsPatch },
    /// Keep the live settings and guidelines as a stored meeting's own.
    SaveSettings {},
    Lock {},
    Unlock {},
    Promote { id: PublicId },
    Demote { id: PublicId },
    Mute { id: PublicId },
    MuteAll {},
    SetUnmutePermission { id: PublicId, permission: UnmutePermission },
    StopCamera { id: PublicId },
    AllowCamera { id: PublicId },
    Remove {
        id: PublicId,
        #[serde(default, skip_serializing_if = "is_false")]
        ban: bool,
    },
    Admit { id: PublicId },
    AdmitAll {},
    Deny {
        id: PublicId,
        #[serde(default, skip_serializing_if = "is_false")]
        ban: bool,
    },
    /// Turn away everyone in the waiting room.
    DenyAll {},
    /// Take back a ban: `id` from `ban_list`.
    LiftBan { id: u64 },

    RaiseHand {},
    LowerHand {},
    CallNext {},
    Call { id: PublicId },
    /// `position` is 1-based, as shown.
    MoveInQueue { id: PublicId, position: usize },
    RemoveFromQueue { id: PublicId },
    ClearQueue {},
    Done {},
    StopShare {},
    AddTime { seconds: u32 },

    Suspend {},
    Restore {},
    EndMeeting {},

    React { reaction: Reaction },
    Chat { text: String },
    DeleteChat { id: u64 },
    MessageFacilitators { text: String },
    RequestCheckIn {},
    PrivateMessage { to: PublicId, text: String },

    AddReading { title: String, text: String },
    EditReading { id: u64, title: String, text: String },
    RemoveReading { id: u64 },
    /// Show a reading to everyone, or move its highlight (`paragraph`, 0-based) or change
    /// the "who is reading" line (absent or empty: none).
    ShowReading {
        id: u64,
        #[serde(default)]
        paragraph: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reader: Option<String>,
    },
    StopReading {},

    /// Share my screen: staff may, a member once staff let them; one screen at a time
    /// (`screen_share_not_allowed`, `screen_share_busy`, `room_suspended`).
    StartScreenShare {},
    /// Stop my own screen share.
    StopScreenShare {},
    /// Let this member share their screen.
    AllowScreenShare { id: PublicId },
    /// Take that back; ends their share if on.
    RevokeScreenShare { id: PublicId },
    /// End this person's screen share (refused with `not_sharing_screen` if it is not on).
    EndScreenShare { id: PublicId },
}

/// The `joined` message: the whole room as its recipient may see it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Joined {
    pub you: Participant,
    /// Keep it for this meeting and send it with a later `join`.
    pub token: String,
    /// Secret for `resume` after a dropped connection; valid while this connection lasts
    /// and for the grace period after.
    pub resume_key: String,
    /// True when this answers a `resume`: the place (role, hand, mute) was kept.
    #[serde(default, skip_serializing_if = "is_false")]
    pub resumed: bool,
    /// TURN servers for the peer connection, when the server has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ice_servers: Vec<IceServer>,
    pub room: RoomStatus,
    /// A meeting the organisation keeps (made on the admin page): its facilitators may
    /// `save_settings`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub standing: bool,
    /// Everyone else, in join order.
    pub participants: Vec<Participant>,
    pub queue: Vec<QueueEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<Floor>,
    pub chat: Vec<ChatMessage>,
    /// Facilitators only: who waits to be admitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting: Vec<Waiter>,
    /// Facilitators only: this meeting's bans.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bans: Vec<Ban>,
    /// Every reading, in order (the guidelines' first when the room has guidelines).
    #[serde(default)]
    pub readings: Vec<Reading>,
    /// The reading staff show to everyone now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown_reading: Option<ShownReading>,
    /// Whose screen is shared now, if anyone's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen_share: Option<PublicId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Messages the server sends.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Hello {
        version: u32,
        server: String,
    },
    /// Admitted: the whole room as you may see it. Boxed: the largest message by far, sent
    /// once per join, it would otherwise set the size of every queued message.
    Joined(Box<Joined>),
    /// Placed in the waiting room; `joined` follows on admission.
    Waiting {
        /// `null`: an untitled meeting (the client names it in its person's language).
        title: Option<String>,
        message: String,
        token: String,
        resume_key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
    ParticipantJoined {
        participant: Participant,
    },
    ParticipantUpdated {
        participant: Participant,
    },
    ParticipantLeft {
        id: PublicId,
        reason: LeaveReason,
    },
    Queue {
        queue: Vec<QueueEntry>,
    },
    FloorGiven {
        floor: Floor,
    },
    FloorTaken {
        id: PublicId,
        reason: FloorEnd,
    },
    TimerExtended {
        floor: Floor,
    },
    TimerWarning {
        id: PublicId,
        seconds_left: u32,
    },
    TimerExpired {
        id: PublicId,
    },
    RoomUpdated {
        room: RoomStatus,
    },
    /// To the facilitator who sent `save_settings`: the meeting's next meetings start with
    /// these settings and guidelines.
    SettingsSaved {},
    WaitingList {
        waiting: Vec<Waiter>,
    },
    /// To staff: this meeting's bans, oldest first, whenever they change.
    BanList {
        bans: Vec<Ban>,
    },
    /// To the person muted by a facilitator, or whose share the timer ended with auto-mute
    /// (`by` is then "the share timer"), in plain words.
    Muted {
        by: String,
        message: String,
    },
    /// To the person whose camera a facilitator stopped.
    CameraStopped {
        by: String,
        message: String,
    },
    Chat {
        message: ChatMessage,
    },
    ChatDeleted {
        id: u64,
    },
    PrivateMessage {
        message: PrivateMessage,
    },
    CheckInRequested {
        id: PublicId,
        name: String,
    },
    Reaction {
        id: PublicId,
        reaction: Reaction,
    },
    /// A reading was added or edited.
    ReadingSaved {
        reading: Reading,
    },
    ReadingRemoved {
        id: u64,
    },
    /// Staff show this reading to everyone, or moved its highlight or reader.
    ReadingShown {
        shown: ShownReading,
    },
    /// No reading is shown any more.
    ReadingStopped {},
    /// `id`'s screen is on (the only one forwarded).
    ScreenShareStarted {
        id: PublicId,
    },
    ScreenShareEnded {
        id: PublicId,
        reason: ScreenEnd,
    },
    /// To the member concerned: staff let them share their screen (`allowed`), or took it
    /// back, in plain words.
    ScreenSharePermission {
        allowed: bool,
        by: String,
        message: String,
    },
    /// What this member receives, whenever it changes: `paused` are the participants whose
    /// video the member's link cannot carry after the sound.
    Reception {
        link: Link,
        paused: Vec<PublicId>,
    },
    /// To a publisher: which of its camera's simulcast layers (rids, lowest first) somebody
    /// receives; the browser may switch the others off. Sent only when a layer goes off or
    /// comes back; a new media connection starts with every layer on.
    CameraLayers {
        active: Vec<String>,
    },
    /// The server's answer to the browser's first offer.
    Answer {
        sdp: String,
    },
    /// A renegotiation: tracks were added or removed. The browser must answer.
    Offer {
        sdp: String,
    },
    /// The server is closing this session (left, removed, banned, denied, meeting ended,
    /// connection lost, server stopping).
    Closed {
        code: String,
        message: String,
    },
    Error {
        code: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        /// `meeting_closed` only: when members may next enter (RFC 3339), so the join screen
        /// can say it in the member's own zone and let them in then. Absent: no more dates.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        opens_at: Option<jiff::Timestamp>,
        /// `meeting_closed` only: when that occurrence of the meeting starts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        starts_at: Option<jiff::Timestamp>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Participant {
    pub id: PublicId,
    pub name: String,
    pub role: Role,
    /// Mic on (and so forwarded).
    pub audio: bool,
    /// Camera on (and so forwarded).
    pub video: bool,
    pub hand_raised: bool,
    pub has_floor: bool,
    /// Whether they may turn their mic on right now.
    pub may_unmute: bool,
    pub unmute_permission: UnmutePermission,
    /// A facilitator muted them and has not yet let them speak again: self-unmute is refused
    /// with `muted_by_facilitator` (the floor still lets them).
    pub muted_by_facilitator: bool,
    pub camera_stopped: bool,
    /// Staff, or a member staff let share their screen.
    pub may_share_screen: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Facilitator,
    CoFacilitator,
    Member,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmutePermission {
    FollowRoom,
    Allowed,
    Denied,
}

/// One other participant's tile as the client renders it: size in device pixels (clamped
/// by the server), and whether it is on screen at all.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TileReport {
    pub id: PublicId,
    pub width: u32,
    pub height: u32,
    pub visible: bool,
}

/// How a member's own link stands, as `reception` tells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// Every video the member shows fits.
    Good,
    /// Some video is paused to keep the sound clear.
    Poor,
    /// The member chose sound only.
    SoundOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reaction {
    Heart,
    MeToo,
    Clap,
    Wave,
    ThumbsUp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    Left,
    Removed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FloorEnd {
    Done,
    Next,
    Stopped,
    TimeUp,
    Left,
}

/// Why a screen share ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScreenEnd {
    Stopped,
    EndedByStaff,
    Revoked,
    Left,
    Removed,
    Dropped,
    Suspended,
}

/// The room's settings and live flags.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RoomStatus {
    pub id: String,
    /// `null`: an untitled meeting (the client names it in its person's language).
    pub title: Option<String>,
    pub guidelines: String,
    pub waiting_room: bool,
    pub mute_on_entry: bool,
    pub camera_off_on_entry: bool,
    pub members_may_unmute: bool,
    pub share_seconds: u32,
    pub auto_mute_on_expiry: bool,
    pub chat_enabled: bool,
    /// Newcomers get the recent chat; off: only what is said after they arrive.
    pub share_earlier_chat: bool,
    pub member_private_messages: bool,
    pub max_participants: usize,
    /// End-to-end encrypted (docs/e2ee.md): a page needs the link's `#e2ee=` key to join, and
    /// chat text is ciphertext. Fixed for the meeting's life.
    pub e2ee: bool,
    /// The key id of an `e2ee` meeting's newest links, when the server knows it: a page whose
    /// key has another one is holding a stale link (docs/e2ee.md "Rotation"). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<u16>,
    pub locked: bool,
    pub suspended: bool,
}

/// An encrypted meeting's key id as staff send it (`POST /api/rooms`, the admin API): a JSON
/// integer from 0 to 65535. `None` for anything else (`invalid_key_id`).
pub fn key_id_from_json(value: &serde_json::Value) -> Option<u16> {
    value.as_u64().and_then(|n| u16::try_from(n).ok())
}

/// The sentence for `invalid_key_id`.
pub const INVALID_KEY_ID: &str =
    "A key id is a whole number from 0 to 65535 (the one derived from the links' key), and only an end-to-end encrypted meeting has one.";

/// A live settings change: absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidelines: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_room: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute_on_entry: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera_off_on_entry: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_may_unmute: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_mute_on_expiry: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_earlier_chat: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_private_messages: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_participants: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct QueueEntry {
    pub id: PublicId,
    pub name: String,
    /// 1-based.
    pub position: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Floor {
    pub id: PublicId,
    pub name: String,
    /// Absent for an untimed share; clients count down from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_left: Option<u32>,
    pub expired: bool,
}

/// An `RTCIceServer` for the browser's peer connection: TURN with a short-lived credential.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    pub username: String,
    pub credential: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Waiter {
    pub id: PublicId,
    pub name: String,
    /// Joins from the same network (address, or IPv6 /64) as someone banned: a household
    /// member, or the raider in a new browser. Staff decide.
    #[serde(default, skip_serializing_if = "is_false")]
    pub same_network_as_banned: bool,
}

/// One ban in the staff's list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Ban {
    pub id: u64,
    /// The name at ban time; absent for a ban from an earlier meeting of a standing room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When, in Unix seconds.
    pub at: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ChatMessage {
    pub id: u64,
    pub from: PublicId,
    pub name: String,
    /// The author's role when they wrote it (clients badge staff).
    pub role: Role,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct PrivateMessage {
    pub from: PublicId,
    pub from_name: String,
    pub from_role: Role,
    /// Absent: to all facilitators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<PublicId>,
    pub text: String,
}

/// A text the group reads together: plain text, paragraphs separated by blank lines.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Reading {
    pub id: u64,
    pub title: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ShownReading {
    pub id: u64,
    /// 0-based index of the highlighted paragraph.
    pub paragraph: usize,
    /// Who is reading, as staff wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ServerMessage {
    pub fn error(code: &str, message: impl Into<String>, request_id: Option<String>) -> Self {
        ServerMessage::Error {
            code: code.to_string(),
            message: message.into(),
            request_id,
            opens_at: None,
            starts_at: None,
        }
    }

    pub fn closed(code: &str, message: impl Into<String>) -> Self {
        ServerMessage::Closed { code: code.to_string(), message: message.into() }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server messages always serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each client message parses from, and prints as, exactly this JSON.
    #[test]
    fn client_messages_have_fixed_json() {
        let id = || "p7f3a".to_string();
        let cases: Vec<(&str, ClientMessage)> = vec![
            (
                r#"{"type":"join","room":"tuesday","name":"Sam","key":"s3cret","token":"t0k","accepted_guidelines":true,"request_id":"1"}"#,
                ClientMessage::Join {
                    room: "tuesday".into(),
                    name: "Sam".into(),
                    key: Some("s3cret".into()),
                    token: Some("t0k".into()),
                    accepted_guidelines: true,
                    request_id: Some("1".into()),
                },
            ),
            (
                r#"{"type":"join","room":"tuesday","name":"Sam"}"#,
                ClientMessage::Join {
                    room: "tuesday".into(),
                    name: "Sam".into(),
                    key: None,
                    token: None,
                    accepted_guidelines: false,
                    request_id: None,
                },
            ),
            (
                r#"{"type":"resume","room":"tuesday","resume_key":"r3s","request_id":"2"}"#,
                ClientMessage::Resume {
                    room: "tuesday".into(),
                    resume_key: "r3s".into(),
                    request_id: Some("2".into()),
                },
            ),
            (r#"{"type":"offer","sdp":"v=0"}"#, ClientMessage::Offer { sdp: "v=0".into() }),
            (r#"{"type":"answer","sdp":"v=0"}"#, ClientMessage::Answer { sdp: "v=0".into() }),
            (
                r#"{"type":"media_state","audio":true,"video":false}"#,
                ClientMessage::MediaState { audio: Some(true), video: Some(false) },
            ),
            (r#"{"type":"media_state","audio":true}"#, ClientMessage::MediaState { audio: Some(true), video: None }),
            (r#"{"type":"receive","video":false}"#, ClientMessage::Receive { video: Some(false), tiles: None }),
            (
                r#"{"type":"receive","tiles":[{"id":"p7f3a","width":640,"height":360,"visible":true}]}"#,
                ClientMessage::Receive {
                    video: None,
                    tiles: Some(vec![TileReport { id: "p7f3a".into(), width: 640, height: 360, visible: true }]),
                },
            ),
            (r#"{"type":"leave"}"#, ClientMessage::Leave {}),
            (
                r#"{"type":"update_settings","settings":{"waiting_room":true,"share_seconds":180}}"#,
                ClientMessage::UpdateSettings {
                    settings: SettingsPatch {
                        waiting_room: Some(true),
                        share_seconds: Some(180),
                        ..SettingsPatch::default()
                    },
                },
            ),
            (
                r#"{"type":"update_settings","settings":{"share_earlier_chat":true}}"#,
                ClientMessage::UpdateSettings {
                    settings: SettingsPatch { share_earlier_chat: Some(true), ..SettingsPatch::default() },
                },
            ),
            (r#"{"type":"lock"}"#, ClientMessage::Lock {}),
            (r#"{"type":"unlock"}"#, ClientMessage::Unlock {}),
            (r#"{"type":"promote","id":"p7f3a"}"#, ClientMessage::Promote { id: id() }),
            (r#"{"type":"demote","id":"p7f3a"}"#, ClientMessage::Demote { id: id() }),
            (r#"{"type":"mute","id":"p7f3a"}"#, ClientMessage::Mute { id: id() }),
            (r#"{"type":"mute_all"}"#, ClientMessage::MuteAll {}),
            (
                r#"{"type":"set_unmute_permission","id":"p7f3a","permission":"allowed"}"#,
                ClientMessage::SetUnmutePermission { id: id(), permission: UnmutePermission::Allowed },
            ),
            (r#"{"type":"stop_camera","id":"p7f3a"}"#, ClientMessage::StopCamera { id: id() }),
            (r#"{"type":"allow_camera","id":"p7f3a"}"#, ClientMessage::AllowCamera { id: id() }),
            (r#"{"type":"remove","id":"p7f3a","ban":true}"#, ClientMessage::Remove { id: id(), ban: true }),
            (r#"{"type":"remove","id":"p7f3a"}"#, ClientMessage::Remove { id: id(), ban: false }),
            (r#"{"type":"admit","id":"p7f3a"}"#, ClientMessage::Admit { id: id() }),
            (r#"{"type":"admit_all"}"#, ClientMessage::AdmitAll {}),
            (r#"{"type":"deny","id":"p7f3a"}"#, ClientMessage::Deny { id: id(), ban: false }),
            (r#"{"type":"deny","id":"p7f3a","ban":true}"#, ClientMessage::Deny { id: id(), ban: true }),
            (r#"{"type":"deny_all"}"#, ClientMessage::DenyAll {}),
            (r#"{"type":"lift_ban","id":3}"#, ClientMessage::LiftBan { id: 3 }),
            (r#"{"type":"raise_hand"}"#, ClientMessage::RaiseHand {}),
            (r#"{"type":"lower_hand"}"#, ClientMessage::LowerHand {}),
            (r#"{"type":"call_next"}"#, ClientMessage::CallNext {}),
            (r#"{"type":"call","id":"p7f3a"}"#, ClientMessage::Call { id: id() }),
            (
                r#"{"type":"move_in_queue","id":"p7f3a","position":1}"#,
                ClientMessage::MoveInQueue { id: id(), position: 1 },
            ),
            (r#"{"type":"remove_from_queue","id":"p7f3a"}"#, ClientMessage::RemoveFromQueue { id: id() }),
            (r#"{"type":"clear_queue"}"#, ClientMessage::ClearQueue {}),
            (r#"{"type":"done"}"#, ClientMessage::Done {}),
            (r#"{"type":"stop_share"}"#, ClientMessage::StopShare {}),
            (r#"{"type":"add_time","seconds":60}"#, ClientMessage::AddTime { seconds: 60 }),
            (r#"{"type":"suspend"}"#, ClientMessage::Suspend {}),
            (r#"{"type":"restore"}"#, ClientMessage::Restore {}),
            (r#"{"type":"end_meeting"}"#, ClientMessage::EndMeeting {}),
            (r#"{"type":"react","reaction":"me_too"}"#, ClientMessage::React { reaction: Reaction::MeToo }),
            (r#"{"type":"chat","text":"hi all"}"#, ClientMessage::Chat { text: "hi all".into() }),
            (r#"{"type":"delete_chat","id":4}"#, ClientMessage::DeleteChat { id: 4 }),
            (
                r#"{"type":"add_reading","title":"Preamble","text":"One.\n\nTwo."}"#,
                ClientMessage::AddReading { title: "Preamble".into(), text: "One.\n\nTwo.".into() },
            ),
            (
                r#"{"type":"edit_reading","id":2,"title":"Preamble","text":"One."}"#,
                ClientMessage::EditReading { id: 2, title: "Preamble".into(), text: "One.".into() },
            ),
            (r#"{"type":"remove_reading","id":2}"#, ClientMessage::RemoveReading { id: 2 }),
            (
                r#"{"type":"show_reading","id":2,"paragraph":3,"reader":"Sam"}"#,
                ClientMessage::ShowReading { id: 2, paragraph: 3, reader: Some("Sam".into()) },
            ),
            (r#"{"type":"show_reading","id":2,"paragraph":0}"#, ClientMessage::ShowReading { id: 2, paragraph: 0, reader: None }),
            (r#"{"type":"stop_reading"}"#, ClientMessage::StopReading {}),
            (r#"{"type":"start_screen_share"}"#, ClientMessage::StartScreenShare {}),
            (r#"{"type":"stop_screen_share"}"#, ClientMessage::StopScreenShare {}),
            (r#"{"type":"allow_screen_share","id":"p7f3a"}"#, ClientMessage::AllowScreenShare { id: id() }),
            (r#"{"type":"revoke_screen_share","id":"p7f3a"}"#, ClientMessage::RevokeScreenShare { id: id() }),
            (r#"{"type":"end_screen_share","id":"p7f3a"}"#, ClientMessage::EndScreenShare { id: id() }),
            (
                r#"{"type":"message_facilitators","text":"can we talk?"}"#,
                ClientMessage::MessageFacilitators { text: "can we talk?".into() },
            ),
            (r#"{"type":"request_check_in"}"#, ClientMessage::RequestCheckIn {}),
            (r#"{"type":"save_settings"}"#, ClientMessage::SaveSettings {}),
            (
                r#"{"type":"private_message","to":"p7f3a","text":"thanks"}"#,
                ClientMessage::PrivateMessage { to: id(), text: "thanks".into() },
            ),
        ];
        for (json, expected) in cases {
            let parsed: ClientMessage =
                serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(parsed, expected, "{json}");
            assert_eq!(serde_json::to_string(&expected).unwrap(), json);
        }
    }

    #[test]
    fn unknown_fields_and_types_are_refused() {
        for bad in [
            r#"{"type":"leave","x":1}"#,
            r#"{"type":"dance"}"#,
            r#"{"type":"join","room":1}"#,
            r#"{"type":"update_settings","settings":{"colour":"red"}}"#,
            r#"{"type":"react","reaction":"eyeroll"}"#,
            r#"{"room":"x"}"#,
        ] {
            assert!(serde_json::from_str::<ClientMessage>(bad).is_err(), "{bad}");
        }
    }

    fn sam() -> Participant {
        Participant {
            id: "p7f3a".into(),
            name: "Sam".into(),
            role: Role::Member,
            audio: false,
            video: true,
            hand_raised: false,
            has_floor: false,
            may_unmute: true,
            unmute_permission: UnmutePermission::FollowRoom,
            muted_by_facilitator: false,
            camera_stopped: false,
            may_share_screen: false,
        }
    }

    const SAM: &str = r#"{"id":"p7f3a","name":"Sam","role":"member","audio":false,"video":true,"hand_raised":false,"has_floor":false,"may_unmute":true,"unmute_permission":"follow_room","muted_by_facilitator":false,"camera_stopped":false,"may_share_screen":false}"#;

    fn tuesday() -> RoomStatus {
        RoomStatus {
            id: "tuesday".into(),
            title: Some("Tuesday evening".into()),
            guidelines: "Be kind.".into(),
            waiting_room: false,
            mute_on_entry: true,
            camera_off_on_entry: true,
            members_may_unmute: true,
            share_seconds: 180,
            auto_mute_on_expiry: false,
            chat_enabled: true,
            share_earlier_chat: false,
            member_private_messages: false,
            max_participants: 50,
            e2ee: false,
            key_id: None,
            locked: false,
            suspended: false,
        }
    }

    const TUESDAY: &str = r#"{"id":"tuesday","title":"Tuesday evening","guidelines":"Be kind.","waiting_room":false,"mute_on_entry":true,"camera_off_on_entry":true,"members_may_unmute":true,"share_seconds":180,"auto_mute_on_expiry":false,"chat_enabled":true,"share_earlier_chat":false,"member_private_messages":false,"max_participants":50,"e2ee":false,"locked":false,"suspended":false}"#;

    fn floor() -> Floor {
        Floor { id: "p7f3a".into(), name: "Sam".into(), seconds_left: Some(180), expired: false }
    }

    fn preamble() -> Reading {
        Reading { id: 1, title: "Preamble".into(), text: "We are glad you are here.\n\nWhat is said here stays here.".into() }
    }

    const FLOOR: &str = r#"{"id":"p7f3a","name":"Sam","seconds_left":180,"expired":false}"#;

    /// Every participant's outbox holds blocks of 32 messages whatever they are: one large
    /// variant would make each slot as big as `joined` (416 bytes before it was boxed).
    #[test]
    fn a_queued_server_message_stays_small() {
        assert!(std::mem::size_of::<ServerMessage>() <= 128, "{}", std::mem::size_of::<ServerMessage>());
    }

    /// Each server message prints as, and parses from, exactly this JSON.
    #[test]
    fn server_messages_have_fixed_json() {
        let chat = ChatMessage { id: 4, from: "p7f3a".into(), name: "Sam".into(), role: Role::Member, text: "hi".into() };
        let ana = || Waiter { id: "w1".into(), name: "Ana".into(), same_network_as_banned: false };
        let sam_banned = || Ban { id: 3, name: Some("Sam".into()), at: 1_718_045_640 };
        let cases: Vec<(String, ServerMessage)> = vec![
            (
                r#"{"type":"hello","version":1,"server":"haven/0.1.0"}"#.into(),
                ServerMessage::Hello { version: 1, server: "haven/0.1.0".into() },
            ),
            (
                format!(
                    r#"{{"type":"joined","you":{SAM},"token":"t0k","resume_key":"r3s","room":{TUESDAY},"standing":true,"participants":[],"queue":[{{"id":"p7f3a","name":"Sam","position":1}}],"floor":{FLOOR},"chat":[{{"id":4,"from":"p7f3a","name":"Sam","role":"member","text":"hi"}}],"waiting":[{{"id":"w1","name":"Ana"}}],"bans":[{{"id":3,"name":"Sam","at":1718045640}}],"readings":[{{"id":1,"title":"Preamble","text":"We are glad you are here.\n\nWhat is said here stays here."}}],"shown_reading":{{"id":1,"paragraph":1,"reader":"Sam"}},"screen_share":"p7f3a","request_id":"1"}}"#
                ),
                ServerMessage::Joined(Box::new(Joined {
                    you: sam(),
                    token: "t0k".into(),
                    resume_key: "r3s".into(),
                    resumed: false,
                    ice_servers: vec![],
                    room: tuesday(),
                    standing: true,
                    participants: vec![],
                    queue: vec![QueueEntry { id: "p7f3a".into(), name: "Sam".into(), position: 1 }],
                    floor: Some(floor()),
                    chat: vec![chat.clone()],
                    waiting: vec![ana()],
                    bans: vec![sam_banned()],
                    readings: vec![preamble()],
                    shown_reading: Some(ShownReading { id: 1, paragraph: 1, reader: Some("Sam".into()) }),
                    screen_share: Some("p7f3a".into()),
                    request_id: Some("1".into()),
                })),
            ),
            // A facilitator's, with no one waiting, no ban, no floor, no TURN: the optional
            // fields are left out, not sent empty.
            (
                format!(
                    r#"{{"type":"joined","you":{SAM},"token":"t0k","resume_key":"r3s","room":{TUESDAY},"participants":[],"queue":[],"chat":[],"readings":[]}}"#
                ),
                ServerMessage::Joined(Box::new(Joined {
                    you: sam(),
                    token: "t0k".into(),
                    resume_key: "r3s".into(),
                    resumed: false,
                    ice_servers: vec![],
                    room: tuesday(),
                    standing: false,
                    participants: vec![],
                    queue: vec![],
                    floor: None,
                    chat: vec![],
                    waiting: vec![],
                    bans: vec![],
                    readings: vec![],
                    shown_reading: None,
                    screen_share: None,
                    request_id: None,
                })),
            ),
            (
                r#"{"type":"waiting","title":"Tuesday evening","message":"Welcome.","token":"t0k","resume_key":"r3s"}"#.into(),
                ServerMessage::Waiting {
                    title: Some("Tuesday evening".into()),
                    message: "Welcome.".into(),
                    token: "t0k".into(),
                    resume_key: "r3s".into(),
                    request_id: None,
                },
            ),
            (
                // An untitled meeting: the client names it in its person's language.
                r#"{"type":"waiting","title":null,"message":"Welcome.","token":"t0k","resume_key":"r3s"}"#.into(),
                ServerMessage::Waiting {
                    title: None,
                    message: "Welcome.".into(),
                    token: "t0k".into(),
                    resume_key: "r3s".into(),
                    request_id: None,
                },
            ),
            (
                format!(r#"{{"type":"room_updated","room":{}}}"#, TUESDAY.replace(r#""Tuesday evening""#, "null")),
                ServerMessage::RoomUpdated { room: RoomStatus { title: None, ..tuesday() } },
            ),
            (
                format!(r#"{{"type":"room_updated","room":{}}}"#, TUESDAY.replace(r#""e2ee":false"#, r#""e2ee":true"#)),
                ServerMessage::RoomUpdated { room: RoomStatus { e2ee: true, ..tuesday() } },
            ),
            (
                // An encrypted meeting whose newest links' key id the server knows.
                format!(
                    r#"{{"type":"room_updated","room":{}}}"#,
                    TUESDAY.replace(r#""e2ee":false"#, r#""e2ee":true,"key_id":4660"#)
                ),
                ServerMessage::RoomUpdated { room: RoomStatus { e2ee: true, key_id: Some(4660), ..tuesday() } },
            ),
            (
                format!(r#"{{"type":"participant_joined","participant":{SAM}}}"#),
                ServerMessage::ParticipantJoined { participant: sam() },
            ),
            (
                format!(r#"{{"type":"participant_updated","participant":{SAM}}}"#),
                ServerMessage::ParticipantUpdated { participant: sam() },
            ),
            (
                r#"{"type":"participant_left","id":"p7f3a","reason":"removed"}"#.into(),
                ServerMessage::ParticipantLeft { id: "p7f3a".into(), reason: LeaveReason::Removed },
            ),
            (
                r#"{"type":"queue","queue":[]}"#.into(),
                ServerMessage::Queue { queue: vec![] },
            ),
            (format!(r#"{{"type":"floor_given","floor":{FLOOR}}}"#), ServerMessage::FloorGiven { floor: floor() }),
            (
                r#"{"type":"floor_taken","id":"p7f3a","reason":"time_up"}"#.into(),
                ServerMessage::FloorTaken { id: "p7f3a".into(), reason: FloorEnd::TimeUp },
            ),
            (format!(r#"{{"type":"timer_extended","floor":{FLOOR}}}"#), ServerMessage::TimerExtended { floor: floor() }),
            (
                r#"{"type":"timer_warning","id":"p7f3a","seconds_left":60}"#.into(),
                ServerMessage::TimerWarning { id: "p7f3a".into(), seconds_left: 60 },
            ),
            (r#"{"type":"timer_expired","id":"p7f3a"}"#.into(), ServerMessage::TimerExpired { id: "p7f3a".into() }),
            (format!(r#"{{"type":"room_updated","room":{TUESDAY}}}"#), ServerMessage::RoomUpdated { room: tuesday() }),
            (r#"{"type":"settings_saved"}"#.into(), ServerMessage::SettingsSaved {}),
            (
                r#"{"type":"waiting_list","waiting":[{"id":"w1","name":"Ana"}]}"#.into(),
                ServerMessage::WaitingList { waiting: vec![ana()] },
            ),
            (
                r#"{"type":"waiting_list","waiting":[{"id":"w2","name":"Kim","same_network_as_banned":true}]}"#.into(),
                ServerMessage::WaitingList {
                    waiting: vec![Waiter { id: "w2".into(), name: "Kim".into(), same_network_as_banned: true }],
                },
            ),
            (
                r#"{"type":"ban_list","bans":[{"id":3,"name":"Sam","at":1718045640},{"id":1,"at":1717990000}]}"#.into(),
                ServerMessage::BanList { bans: vec![sam_banned(), Ban { id: 1, name: None, at: 1_717_990_000 }] },
            ),
            (
                r#"{"type":"muted","by":"a facilitator","message":"A facilitator muted you."}"#.into(),
                ServerMessage::Muted { by: "a facilitator".into(), message: "A facilitator muted you.".into() },
            ),
            (
                r#"{"type":"muted","by":"the share timer","message":"Your time to share is up, so your mic was turned off."}"#.into(),
                ServerMessage::Muted {
                    by: "the share timer".into(),
                    message: "Your time to share is up, so your mic was turned off.".into(),
                },
            ),
            (
                r#"{"type":"camera_stopped","by":"a facilitator","message":"A facilitator turned your camera off."}"#.into(),
                ServerMessage::CameraStopped {
                    by: "a facilitator".into(),
                    message: "A facilitator turned your camera off.".into(),
                },
            ),
            (
                r#"{"type":"chat","message":{"id":4,"from":"p7f3a","name":"Sam","role":"member","text":"hi"}}"#.into(),
                ServerMessage::Chat { message: chat },
            ),
            (
                r#"{"type":"chat","message":{"id":5,"from":"f1","name":"Ana","role":"facilitator","text":"welcome"}}"#.into(),
                ServerMessage::Chat {
                    message: ChatMessage {
                        id: 5,
                        from: "f1".into(),
                        name: "Ana".into(),
                        role: Role::Facilitator,
                        text: "welcome".into(),
                    },
                },
            ),
            (r#"{"type":"chat_deleted","id":4}"#.into(), ServerMessage::ChatDeleted { id: 4 }),
            (
                r#"{"type":"private_message","message":{"from":"p7f3a","from_name":"Sam","from_role":"member","text":"can we talk?"}}"#.into(),
                ServerMessage::PrivateMessage {
                    message: PrivateMessage {
                        from: "p7f3a".into(),
                        from_name: "Sam".into(),
                        from_role: Role::Member,
                        to: None,
                        text: "can we talk?".into(),
                    },
                },
            ),
            (
                r#"{"type":"check_in_requested","id":"p7f3a","name":"Sam"}"#.into(),
                ServerMessage::CheckInRequested { id: "p7f3a".into(), name: "Sam".into() },
            ),
            (
                r#"{"type":"reaction","id":"p7f3a","reaction":"heart"}"#.into(),
                ServerMessage::Reaction { id: "p7f3a".into(), reaction: Reaction::Heart },
            ),
            (
                r#"{"type":"reading_saved","reading":{"id":1,"title":"Preamble","text":"We are glad you are here.\n\nWhat is said here stays here."}}"#.into(),
                ServerMessage::ReadingSaved { reading: preamble() },
            ),
            (r#"{"type":"reading_removed","id":1}"#.into(), ServerMessage::ReadingRemoved { id: 1 }),
            (
                r#"{"type":"reading_shown","shown":{"id":1,"paragraph":0}}"#.into(),
                ServerMessage::ReadingShown { shown: ShownReading { id: 1, paragraph: 0, reader: None } },
            ),
            (r#"{"type":"reading_stopped"}"#.into(), ServerMessage::ReadingStopped {}),
            (r#"{"type":"screen_share_started","id":"p7f3a"}"#.into(), ServerMessage::ScreenShareStarted { id: "p7f3a".into() }),
            (
                r#"{"type":"screen_share_ended","id":"p7f3a","reason":"ended_by_staff"}"#.into(),
                ServerMessage::ScreenShareEnded { id: "p7f3a".into(), reason: ScreenEnd::EndedByStaff },
            ),
            (
                r#"{"type":"screen_share_permission","allowed":true,"by":"Ana","message":"A facilitator let you share your screen."}"#.into(),
                ServerMessage::ScreenSharePermission {
                    allowed: true,
                    by: "Ana".into(),
                    message: "A facilitator let you share your screen.".into(),
                },
            ),
            (
                r#"{"type":"reception","link":"poor","paused":["p7f3a","q2b9c"]}"#.into(),
                ServerMessage::Reception { link: Link::Poor, paused: vec!["p7f3a".into(), "q2b9c".into()] },
            ),
            (r#"{"type":"reception","link":"good","paused":[]}"#.into(), ServerMessage::Reception { link: Link::Good, paused: vec![] }),
            (r#"{"type":"camera_layers","active":["q","h"]}"#.into(), ServerMessage::CameraLayers { active: vec!["q".into(), "h".into()] }),
            (r#"{"type":"answer","sdp":"v=0"}"#.into(), ServerMessage::Answer { sdp: "v=0".into() }),
            (r#"{"type":"offer","sdp":"v=0"}"#.into(), ServerMessage::Offer { sdp: "v=0".into() }),
            (
                r#"{"type":"closed","code":"server_stopping","message":"The server is restarting."}"#.into(),
                ServerMessage::closed("server_stopping", "The server is restarting."),
            ),
            (
                r#"{"type":"error","code":"unknown_room","message":"There is no meeting with that link.","request_id":"1"}"#.into(),
                ServerMessage::error("unknown_room", "There is no meeting with that link.", Some("1".into())),
            ),
            (
                r#"{"type":"error","code":"meeting_closed","message":"This meeting is not open yet.","request_id":"1","opens_at":"2026-12-08T00:15:00Z","starts_at":"2026-12-08T00:30:00Z"}"#.into(),
                ServerMessage::Error {
                    code: "meeting_closed".into(),
                    message: "This meeting is not open yet.".into(),
                    request_id: Some("1".into()),
                    opens_at: Some("2026-12-08T00:15:00Z".parse().unwrap()),
                    starts_at: Some("2026-12-08T00:30:00Z".parse().unwrap()),
                },
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(expected.to_json(), json);
            let parsed: ServerMessage = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed, expected);
        }
    }
}

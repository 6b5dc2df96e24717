//! What the room asks its caller to do, and the room-level events clients render. Imports
//! no tokio, no media, no network.
//!
//! The hub applies effects in order: forwarding changes come first in every batch, so a
//! mute is enforced before anyone is told about it.

use super::{
    BanView, MessageId, ParticipantId, PublicId, Reaction, ReadingId, ReadingView, Role, RoomSettings,
    ShownReading, UnmutePermission,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// One participant (admitted or waiting).
    Send { to: ParticipantId, event: RoomEvent },
    /// Every admitted participant (never the waiting room), optionally but one.
    Broadcast {
        event: RoomEvent,
        except: Option<ParticipantId>,
    },
    /// Every admitted facilitator and co-facilitator.
    ToFacilitators { event: RoomEvent },
    /// The SFU's gate for `who`'s outgoing media. Media starts with all off; only this
    /// effect turns them on. `screen` is true for one participant at most: the sharer.
    SetForwarding {
        who: ParticipantId,
        audio: bool,
        video: bool,
        screen: bool,
    },
    /// `who` left the waiting room for the meeting: media may be negotiated now.
    Admitted { who: ParticipantId },
    /// Close `who`'s connection after sending them `reason`.
    Disconnect {
        who: ParticipantId,
        reason: CloseReason,
    },
    /// `who` (a facilitator) asked to keep these settings for the meeting's next meetings.
    SaveSettings { who: ParticipantId, settings: RoomSettings },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    Removed,
    /// Removed from the meeting with a ban.
    Banned,
    /// Turned away from the waiting room with a ban: never in the meeting, so not "removed"
    /// (the wire code is `banned` all the same).
    DeniedAndBanned,
    /// Turned away from the waiting room.
    Denied,
    MeetingEnded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    Left,
    /// Removed by a facilitator. Whether it was a ban is not told to the room.
    Removed,
}

/// Why a share ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloorEnd {
    /// The holder said they were done.
    Done,
    /// A facilitator called the next person.
    Next,
    /// A facilitator stopped the share (or suspended the room).
    Stopped,
    /// The timer ran out with auto-mute on.
    TimeUp,
    /// The holder left or was removed.
    Left,
}

/// Why a screen share ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenEnd {
    /// The sharer stopped it.
    Stopped,
    /// Staff ended it.
    EndedByStaff,
    /// The sharer may no longer share (permission taken back, or demoted).
    Revoked,
    /// The sharer left (or their grace period ran out).
    Left,
    /// The sharer was removed (with or without a ban).
    Removed,
    /// The sharer's connection dropped; their place is kept, their share is not.
    Dropped,
    /// Staff suspended the room.
    Suspended,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomEvent {
    /// Everything a newly admitted participant needs to render the room.
    Snapshot(Box<RoomSnapshot>),
    /// To someone who arrived in the waiting room.
    Waiting {
        /// `None`: an untitled meeting.
        title: Option<String>,
        message: String,
    },
    ParticipantJoined(ParticipantView),
    /// Role, mic, camera, hand, floor or permissions changed.
    ParticipantUpdated(ParticipantView),
    ParticipantLeft {
        id: PublicId,
        reason: LeaveReason,
    },
    /// The whole queue, first to last.
    QueueChanged {
        queue: Vec<QueueEntry>,
    },
    FloorGiven {
        floor: FloorView,
    },
    FloorTaken {
        holder: PublicId,
        reason: FloorEnd,
    },
    /// A facilitator added time; `floor.seconds_left` is the new remaining time.
    TimerExtended {
        floor: FloorView,
    },
    /// One minute (or `seconds_left`) remains.
    TimerWarning {
        holder: PublicId,
        seconds_left: u32,
    },
    /// The share's time is up (with auto-mute on, `FloorTaken` follows).
    TimerExpired {
        holder: PublicId,
    },
    SettingsChanged(RoomStatus),
    /// To facilitators: who is waiting, in arrival order.
    WaitingListChanged {
        waiting: Vec<WaiterView>,
    },
    /// To facilitators: this meeting's bans, oldest first.
    BansChanged {
        bans: Vec<BanView>,
    },
    /// To the muted person, in plain words.
    YouWereMuted {
        by: String,
        reason: String,
    },
    /// To the person whose camera was stopped, in plain words.
    YourCameraWasStopped {
        by: String,
        reason: String,
    },
    ChatMessage(ChatView),
    ChatDeleted {
        id: MessageId,
    },
    /// To the recipient(s) and echoed to the sender.
    PrivateMessage(PrivateView),
    /// To facilitators: a member asked to be checked in with privately.
    CheckInRequested {
        from: PublicId,
        name: String,
    },
    Reaction {
        from: PublicId,
        reaction: Reaction,
    },
    /// A reading was added or edited (its whole text).
    ReadingSaved(ReadingView),
    ReadingRemoved {
        id: ReadingId,
    },
    /// Staff show this reading to everyone (or moved its highlight or reader).
    ReadingShown(ShownReading),
    /// No reading is shown any more.
    ReadingStopped,
    /// `sharer`'s screen is on: the one the SFU forwards.
    ScreenShareStarted { sharer: PublicId },
    ScreenShareEnded { sharer: PublicId, reason: ScreenEnd },
    /// To the member concerned: staff let them share their screen, or took it back.
    ScreenSharePermission {
        allowed: bool,
        by: String,
        message: String,
    },
    MeetingEnded,
}

/// One admitted participant as every client sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantView {
    pub id: PublicId,
    pub name: String,
    pub role: Role,
    pub mic_on: bool,
    pub camera_on: bool,
    pub hand_raised: bool,
    pub has_floor: bool,
    /// Whether they may turn their mic on right now (room rule, floor, override, suspend).
    pub may_unmute: bool,
    pub unmute_permission: UnmutePermission,
    /// A facilitator muted them and has not let them speak again (the floor still lets them).
    pub muted_by_facilitator: bool,
    pub camera_stopped: bool,
    /// Staff, or a member staff let share their screen (suspend aside).
    pub may_share_screen: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    pub id: PublicId,
    pub name: String,
    /// 1-based, as read aloud by the chair.
    pub position: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloorView {
    pub holder: PublicId,
    pub name: String,
    /// Share length in seconds if timed; clients count down from `seconds_left`.
    pub seconds_left: Option<u32>,
    pub expired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiterView {
    pub id: PublicId,
    pub name: String,
    /// Arrives from the address of someone banned (a household or a shared network, or
    /// the raider with a new browser): staff decide.
    pub same_network_as_banned: bool,
}

/// Settings plus the room's live state flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomStatus {
    pub settings: RoomSettings,
    pub locked: bool,
    pub suspended: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatView {
    pub id: MessageId,
    pub from: PublicId,
    pub name: String,
    /// The author's role when they wrote it: clients badge staff, so a look-alike name
    /// cannot pass for a facilitator's.
    pub role: Role,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateView {
    pub from: PublicId,
    pub from_name: String,
    pub from_role: Role,
    /// `None`: to all facilitators.
    pub to: Option<PublicId>,
    pub text: String,
}

/// The whole visible state for one participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSnapshot {
    pub you: PublicId,
    pub status: RoomStatus,
    /// In join order.
    pub participants: Vec<ParticipantView>,
    pub queue: Vec<QueueEntry>,
    pub floor: Option<FloorView>,
    /// Room chat since `you` arrived (bounded), so a reconnecting phone does not lose the
    /// thread; the recent history from before, too, when the room shares earlier chat.
    pub chat: Vec<ChatView>,
    /// Empty unless `you` are a facilitator.
    pub waiting: Vec<WaiterView>,
    /// Empty unless `you` are a facilitator.
    pub bans: Vec<BanView>,
    /// Every reading, in order.
    pub readings: Vec<ReadingView>,
    /// The reading staff show to everyone now, if any.
    pub shown_reading: Option<ShownReading>,
    /// Whose screen is shared now, if anyone's.
    pub screen_share: Option<PublicId>,
}

//! Everything a participant can ask of the room. Imports no tokio, no media, no network.
//!
//! `who` is always an internal [`ParticipantId`]; the hub maps the public id a client sent
//! with [`super::Room::id_of`]. Facilitator-only commands are marked (staff).

use super::{MessageId, ParticipantId, PublicId, Reaction, ReadingId, ReadingText, Role, SettingsPatch};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomCommand {
    /// Arrive. `role` is `Facilitator` only if the caller verified the secret; any other
    /// claim is treated as `Member` (co-facilitators exist only by promotion).
    Join {
        public_id: PublicId,
        name: String,
        role: Role,
        /// Per-meeting browser token, for bans.
        token: Option<String>,
        /// Address hashed with the meeting's salt by the caller (an IPv6 address by its
        /// /64), for bans.
        ban_key: Option<String>,
        /// `names::look_alike_key` of the name, computed by the caller (the room imports
        /// nothing): a look-alike of a staff member's name is refused.
        name_key: String,
        accepted_guidelines: bool,
    },
    Leave,
    /// Own mic/camera on or off (`None` = unchanged). Turning on is refused when muted
    /// without permission, camera stopped, or the room suspended; off is always allowed.
    SetMediaState {
        audio: Option<bool>,
        video: Option<bool>,
    },

    /// (staff) Change settings live.
    UpdateSettings(SettingsPatch),
    /// (a facilitator, not a co-facilitator) Keep the live settings and guidelines as the
    /// meeting's own for its next meetings: the room hands them to the hub
    /// ([`super::Effect::SaveSettings`]), which keeps them only for a stored meeting.
    SaveSettings,
    /// (staff)
    Lock,
    /// (staff)
    Unlock,
    /// (staff) Member → co-facilitator.
    Promote {
        who: ParticipantId,
    },
    /// (staff) Co-facilitator → member; a facilitator cannot be demoted.
    Demote {
        who: ParticipantId,
    },

    /// (staff) Mute one person; they are told in plain words.
    Mute {
        who: ParticipantId,
    },
    /// (staff) Mute everyone but facilitators and co-facilitators.
    MuteAll,
    /// (staff) Let one person unmute themselves, forbid it, or follow the room setting.
    SetUnmutePermission {
        who: ParticipantId,
        permission: super::UnmutePermission,
    },
    /// (staff) Turn off someone's camera; they cannot restart it until allowed.
    StopCamera {
        who: ParticipantId,
    },
    /// (staff) Let someone whose camera was stopped turn it on again.
    AllowCamera {
        who: ParticipantId,
    },
    /// (staff) Remove someone admitted, optionally banning them for the meeting.
    Remove {
        who: ParticipantId,
        ban: bool,
    },

    /// (staff) Let one person in from the waiting room.
    Admit {
        who: ParticipantId,
    },
    /// (staff) Let everyone in the waiting room in, in arrival order, while there is room.
    AdmitAll,
    /// (staff) Turn someone away from the waiting room, optionally banning them.
    Deny {
        who: ParticipantId,
        ban: bool,
    },
    /// (staff) Turn everyone in the waiting room away (a raid filling it).
    DenyAll,
    /// (staff) Take back one ban from the room's list.
    LiftBan {
        ban: super::BanId,
    },

    RaiseHand,
    LowerHand,
    /// (staff) Give the floor to the first raised hand, ending the current share.
    CallNext,
    /// (staff) Give the floor to a specific person, whether or not their hand is raised.
    Call {
        who: ParticipantId,
    },
    /// (staff) Move a raised hand to `position` (0 = first; larger values mean last).
    MoveInQueue {
        who: ParticipantId,
        position: usize,
    },
    /// (staff) Lower someone's hand.
    RemoveFromQueue {
        who: ParticipantId,
    },
    /// (staff) Lower every hand.
    ClearQueue,
    /// The floor holder ends their own share.
    Done,
    /// (staff) End the current share.
    StopShare,
    /// (staff) Extend the current share (starts a timer if there was none).
    AddTime {
        seconds: u32,
    },

    /// (staff) Lock, mute everyone, stop all cameras, turn chat off.
    Suspend,
    /// (staff) Undo suspend's lock and chat changes exactly.
    Restore,
    /// (staff) End the meeting for everyone and forget its chat and names; it refuses every
    /// later command, joins included.
    EndMeeting,

    React {
        reaction: Reaction,
    },
    /// Room chat.
    Chat {
        text: String,
    },
    /// (staff) Delete any room chat message.
    DeleteChat {
        id: MessageId,
    },
    /// Private message to all facilitators; works even when chat is off.
    MessageFacilitators {
        text: String,
    },
    /// "Please check in with me": a private signal to the facilitators.
    RequestCheckIn,
    /// Private message to one person. Members may only message facilitators unless the
    /// room allows member-to-member messages.
    PrivateMessage {
        to: ParticipantId,
        text: String,
    },

    /// (staff) Add a reading at the end of the list.
    AddReading { reading: ReadingText },
    /// (staff) Replace a reading's title and text.
    EditReading { id: ReadingId, reading: ReadingText },
    /// (staff) Remove a reading; if it is on show, stop showing it.
    RemoveReading { id: ReadingId },
    /// (staff) Show a reading to everyone with `paragraph` (0-based) highlighted and an
    /// optional "who is reading" line; again to move the highlight or change the reader.
    ShowReading {
        id: ReadingId,
        paragraph: usize,
        reader: Option<String>,
    },
    /// (staff) Stop showing a reading.
    StopReading,

    /// Share my screen: staff may, a member once staff let them; one screen at a time.
    StartScreenShare,
    /// The sharer stops their own screen share.
    StopScreenShare,
    /// (staff) Let a member share their screen.
    AllowScreenShare { who: ParticipantId },
    /// (staff) Take that back; ends their screen share if on.
    RevokeScreenShare { who: ParticipantId },
    /// (staff) End `who`'s screen share (named, so a late click ends no one else's).
    EndScreenShare { who: ParticipantId },
}

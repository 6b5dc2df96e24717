//! Why the room refused a command: a stable snake_case code for machines and a plain
//! sentence for people. Imports no tokio, no media, no network.
//!
//! Every error is a user error in Galène's sense: the hub answers the sender with it and
//! the connection stays open; the room's state is exactly as before the command.

/// A refused command. The room's state is unchanged when a command returns one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomError {
    #[error("only a facilitator can do that")]
    NotPermitted,
    #[error("the room is locked")]
    RoomLocked,
    #[error("you cannot rejoin this meeting")]
    Banned,
    #[error("the room is full")]
    RoomFull,
    #[error("that person is not in the meeting")]
    UnknownParticipant,
    #[error("you are still in the waiting room")]
    NotAdmitted,
    #[error("this connection has already joined")]
    AlreadyJoined,
    #[error("chat is turned off")]
    ChatDisabled,
    #[error("too many actions in a short time")]
    RateLimited,
    #[error("the message is too long")]
    MessageTooLong,
    #[error("the message is empty")]
    EmptyMessage,
    #[error("the meeting is end-to-end encrypted and the message is not")]
    MessageNotEncrypted,
    #[error("private messages between members are turned off")]
    PrivateMessagesDisabled,
    #[error("the group's guidelines were not accepted")]
    GuidelinesNotAccepted,
    #[error("that person's hand is not raised")]
    NotInQueue,
    #[error("the hand is already raised")]
    AlreadyInQueue,
    #[error("no one is waiting to share")]
    QueueEmpty,
    #[error("you do not have the floor")]
    NotFloorHolder,
    #[error("no one has the floor")]
    NoFloor,
    #[error("you cannot unmute yourself right now")]
    CannotUnmute,
    #[error("a facilitator muted you")]
    MutedByFacilitator,
    #[error("your camera was stopped by a facilitator")]
    CameraStopped,
    #[error("the room is suspended")]
    RoomSuspended,
    #[error("the room is already suspended")]
    AlreadySuspended,
    #[error("the room is not suspended")]
    NotSuspended,
    #[error("that chat message does not exist")]
    UnknownMessage,
    #[error("invalid value for {0}")]
    InvalidSetting(&'static str),
    /// `max_participants` above the server's cap (`rooms.max_participants`), which the
    /// media layer's limits are sized for.
    #[error("more than the server's {0} participants")]
    AboveParticipantCap(usize),
    #[error("the meeting has ended")]
    MeetingEnded,
    #[error("that ban does not exist")]
    UnknownBan,
    #[error("too many people from one network are waiting")]
    TooManyWaiting,
    #[error("too many people are arriving at once")]
    RoomBusy,
    #[error("the name looks like a facilitator's")]
    NameTakenByStaff,
    #[error("that reading does not exist")]
    UnknownReading,
    #[error("that reading has no such paragraph")]
    UnknownParagraph,
    #[error("the reading's {0} is too long")]
    ReadingTooLong(&'static str),
    #[error("a reading needs a title and a text")]
    EmptyReading,
    #[error("the meeting has as many readings as it can hold")]
    TooManyReadings,
    #[error("a facilitator has not let you share your screen")]
    ScreenShareNotAllowed,
    #[error("someone else is sharing their screen")]
    ScreenShareBusy,
    #[error("that screen is not being shared")]
    NotSharingScreen,
}

impl RoomError {
    /// Stable machine id; the protocol documentation lists each one. Never rename.
    pub fn code(&self) -> &'static str {
        match self {
            RoomError::NotPermitted => "not_permitted",
            RoomError::RoomLocked => "room_locked",
            RoomError::Banned => "banned",
            RoomError::RoomFull => "room_full",
            RoomError::UnknownParticipant => "unknown_participant",
            RoomError::NotAdmitted => "not_admitted",
            RoomError::AlreadyJoined => "already_joined",
            RoomError::ChatDisabled => "chat_disabled",
            RoomError::RateLimited => "rate_limited",
            RoomError::MessageTooLong => "message_too_long",
            RoomError::EmptyMessage => "empty_message",
            RoomError::MessageNotEncrypted => "message_not_encrypted",
            RoomError::PrivateMessagesDisabled => "private_messages_disabled",
            RoomError::GuidelinesNotAccepted => "guidelines_not_accepted",
            RoomError::NotInQueue => "not_in_queue",
            RoomError::AlreadyInQueue => "already_in_queue",
            RoomError::QueueEmpty => "queue_empty",
            RoomError::NotFloorHolder => "not_floor_holder",
            RoomError::NoFloor => "no_floor",
            RoomError::CannotUnmute => "cannot_unmute",
            RoomError::MutedByFacilitator => "muted_by_facilitator",
            RoomError::CameraStopped => "camera_stopped",
            RoomError::RoomSuspended => "room_suspended",
            RoomError::AlreadySuspended => "already_suspended",
            RoomError::NotSuspended => "not_suspended",
            RoomError::UnknownMessage => "unknown_message",
            RoomError::InvalidSetting(_) | RoomError::AboveParticipantCap(_) => "invalid_setting",
            RoomError::MeetingEnded => "meeting_ended",
            RoomError::UnknownBan => "unknown_ban",
            RoomError::TooManyWaiting => "too_many_waiting",
            RoomError::RoomBusy => "room_busy",
            RoomError::NameTakenByStaff => "name_taken_by_staff",
            RoomError::UnknownReading => "unknown_reading",
            RoomError::UnknownParagraph => "unknown_paragraph",
            RoomError::ReadingTooLong(_) => "reading_too_long",
            RoomError::EmptyReading => "empty_reading",
            RoomError::TooManyReadings => "too_many_readings",
            RoomError::ScreenShareNotAllowed => "screen_share_not_allowed",
            RoomError::ScreenShareBusy => "screen_share_busy",
            RoomError::NotSharingScreen => "not_sharing_screen",
        }
    }

    /// A plain sentence to show the person whose action was refused.
    pub fn message(&self) -> String {
        match self {
            RoomError::NotPermitted => "Only a facilitator can do that.".into(),
            RoomError::RoomLocked => {
                "This meeting is locked right now. Please try again later.".into()
            }
            RoomError::Banned => "You cannot rejoin this meeting.".into(),
            RoomError::RoomFull => "This meeting is full.".into(),
            RoomError::UnknownParticipant => "That person is no longer in the meeting.".into(),
            RoomError::NotAdmitted => {
                "You are still in the waiting room. A facilitator will let you in.".into()
            }
            RoomError::AlreadyJoined => "You have already joined this meeting.".into(),
            RoomError::ChatDisabled => "Chat is turned off in this meeting.".into(),
            RoomError::RateLimited => "Please slow down a little and try again.".into(),
            RoomError::MessageTooLong => {
                format!("Messages can be at most {} characters.", super::chat::MAX_MESSAGE_CHARS)
            }
            RoomError::EmptyMessage => "The message is empty.".into(),
            RoomError::MessageNotEncrypted => {
                "This meeting is end-to-end encrypted: open the full link you were given (it ends with #e2ee=…) to write in it.".into()
            }
            RoomError::PrivateMessagesDisabled => {
                "Private messages between members are turned off. You can still message the facilitators.".into()
            }
            RoomError::GuidelinesNotAccepted => {
                "Please read and accept the group's guidelines to join.".into()
            }
            RoomError::NotInQueue => "That hand is not raised.".into(),
            RoomError::AlreadyInQueue => "Your hand is already raised.".into(),
            RoomError::QueueEmpty => "No one has raised a hand.".into(),
            RoomError::NotFloorHolder => "You are not sharing right now.".into(),
            RoomError::NoFloor => "No one is sharing right now.".into(),
            RoomError::CannotUnmute => {
                "You can unmute when a facilitator calls on you. Raise your hand to share.".into()
            }
            RoomError::MutedByFacilitator => {
                "A facilitator muted you. You can unmute when a facilitator lets you speak again or calls on you to share.".into()
            }
            RoomError::CameraStopped => {
                "A facilitator stopped your camera. You can turn it on when they allow it.".into()
            }
            RoomError::RoomSuspended => {
                "The meeting is paused by the facilitators. Please wait a moment.".into()
            }
            RoomError::AlreadySuspended => "The meeting is already paused.".into(),
            RoomError::NotSuspended => "The meeting is not paused.".into(),
            RoomError::UnknownMessage => "That message no longer exists.".into(),
            RoomError::InvalidSetting(field) => format!("That value for {field} is not allowed."),
            RoomError::AboveParticipantCap(cap) => {
                format!("This server allows at most {cap} people in a meeting.")
            }
            RoomError::MeetingEnded => "This meeting has ended.".into(),
            RoomError::UnknownBan => "That ban was already lifted.".into(),
            RoomError::TooManyWaiting => {
                "Several people from your network are already waiting to be let in. Please wait for a facilitator to let them in, then try again.".into()
            }
            RoomError::RoomBusy => {
                "Many people are arriving at once. Please try again in a minute.".into()
            }
            RoomError::NameTakenByStaff => {
                "That name is too close to a facilitator's. Please choose another.".into()
            }
            RoomError::UnknownReading => "That reading is no longer in this meeting.".into(),
            RoomError::UnknownParagraph => "That reading has no such paragraph.".into(),
            RoomError::ReadingTooLong(field) => {
                use super::readings::{MAX_READER_CHARS, MAX_READING_CHARS, MAX_READING_TITLE_CHARS};
                let (what, max) = match *field {
                    "title" => ("A reading's title", MAX_READING_TITLE_CHARS),
                    "reader" => ("The \"who is reading\" line", MAX_READER_CHARS),
                    _ => ("A reading", MAX_READING_CHARS),
                };
                format!("{what} can be at most {max} characters.")
            }
            RoomError::EmptyReading => "A reading needs a title and some text.".into(),
            RoomError::TooManyReadings => format!(
                "A meeting can hold {} readings. Please remove one first.",
                super::readings::MAX_READINGS
            ),
            RoomError::ScreenShareNotAllowed => {
                "A facilitator has not let you share your screen. You can ask them to.".into()
            }
            RoomError::ScreenShareBusy => {
                "Someone else is sharing their screen. One screen can be shared at a time.".into()
            }
            RoomError::NotSharingScreen => "That screen is no longer being shared.".into(),
        }
    }
}

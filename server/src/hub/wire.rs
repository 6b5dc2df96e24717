//! Translation between the room's types and the wire's: room events become server
//! messages, client commands become room commands. The only place that knows both.

use crate::protocol::{self as wire, ClientMessage, Joined, ServerMessage};
use crate::allocator::{View, MAX_TILE_PX};
use crate::media::{MediaCommand, PeerKey};
use crate::room::{self, PublicId, Room, RoomCommand, RoomEvent};

use super::Refusal;

/// What the recipient's own connection adds to a room event.
pub struct Recipient<'a> {
    pub room_id: &'a str,
    pub token: &'a str,
    pub resume_key: &'a str,
    pub request_id: Option<String>,
    /// This `joined` answers a `resume`.
    pub resumed: bool,
    /// TURN servers with fresh credentials, for `joined`.
    pub ice_servers: Vec<wire::IceServer>,
    /// The meeting is a stored one, for `joined`.
    pub standing: bool,
}

impl Recipient<'_> {
    /// For events that are the same for everyone: nothing of the recipient's own.
    pub fn anyone(room_id: &str) -> Recipient<'_> {
        Recipient { room_id, token: "", resume_key: "", request_id: None, resumed: false, ice_servers: Vec::new(), standing: false }
    }
}

/// `None` for events that travel another way (the meeting's end arrives as `closed`).
pub fn server_message(event: RoomEvent, to: &Recipient) -> Option<ServerMessage> {
    Some(match event {
        RoomEvent::Snapshot(snapshot) => {
            let snapshot = *snapshot;
            let (mine, others): (Vec<_>, Vec<_>) =
                snapshot.participants.into_iter().partition(|p| p.id == snapshot.you);
            ServerMessage::Joined(Box::new(Joined {
                you: participant(mine.into_iter().next()?),
                token: to.token.to_string(),
                resume_key: to.resume_key.to_string(),
                resumed: to.resumed,
                ice_servers: to.ice_servers.clone(),
                room: status(to.room_id, snapshot.status),
                standing: to.standing,
                participants: others.into_iter().map(participant).collect(),
                queue: snapshot.queue.into_iter().map(queue_entry).collect(),
                floor: snapshot.floor.map(floor),
                chat: snapshot.chat.into_iter().map(chat).collect(),
                waiting: snapshot.waiting.into_iter().map(waiter).collect(),
                bans: bans(snapshot.bans),
                readings: snapshot.readings.into_iter().map(reading).collect(),
                shown_reading: snapshot.shown_reading.map(shown_reading),
                screen_share: snapshot.screen_share.map(|id| id.0),
                request_id: to.request_id.clone(),
            }))
        }
        RoomEvent::Waiting { title, message } => ServerMessage::Waiting {
            title,
            message,
            token: to.token.to_string(),
            resume_key: to.resume_key.to_string(),
            request_id: to.request_id.clone(),
        },
        RoomEvent::ParticipantJoined(p) => ServerMessage::ParticipantJoined { participant: participant(p) },
        RoomEvent::ParticipantUpdated(p) => ServerMessage::ParticipantUpdated { participant: participant(p) },
        RoomEvent::ParticipantLeft { id, reason } => ServerMessage::ParticipantLeft {
            id: id.0,
            reason: match reason {
                room::LeaveReason::Left => wire::LeaveReason::Left,
                room::LeaveReason::Removed => wire::LeaveReason::Removed,
            },
        },
        RoomEvent::QueueChanged { queue } => {
            ServerMessage::Queue { queue: queue.into_iter().map(queue_entry).collect() }
        }
        RoomEvent::FloorGiven { floor: f } => ServerMessage::FloorGiven { floor: floor(f) },
        RoomEvent::FloorTaken { holder, reason } => {
            ServerMessage::FloorTaken { id: holder.0, reason: floor_end(reason) }
        }
        RoomEvent::TimerExtended { floor: f } => ServerMessage::TimerExtended { floor: floor(f) },
        RoomEvent::TimerWarning { holder, seconds_left } => {
            ServerMessage::TimerWarning { id: holder.0, seconds_left }
        }
        RoomEvent::TimerExpired { holder } => ServerMessage::TimerExpired { id: holder.0 },
        RoomEvent::SettingsChanged(s) => ServerMessage::RoomUpdated { room: status(to.room_id, s) },
        RoomEvent::WaitingListChanged { waiting } => {
            ServerMessage::WaitingList { waiting: waiting.into_iter().map(waiter).collect() }
        }
        RoomEvent::BansChanged { bans: b } => ServerMessage::BanList { bans: bans(b) },
        RoomEvent::YouWereMuted { by, reason } => ServerMessage::Muted { by, message: reason },
        RoomEvent::YourCameraWasStopped { by, reason } => {
            ServerMessage::CameraStopped { by, message: reason }
        }
        RoomEvent::ChatMessage(c) => ServerMessage::Chat { message: chat(c) },
        RoomEvent::ChatDeleted { id } => ServerMessage::ChatDeleted { id: id.0 },
        RoomEvent::PrivateMessage(m) => ServerMessage::PrivateMessage {
            message: wire::PrivateMessage {
                from: m.from.0,
                from_name: m.from_name,
                from_role: role(m.from_role),
                to: m.to.map(|t| t.0),
                text: m.text,
            },
        },
        RoomEvent::CheckInRequested { from, name } => ServerMessage::CheckInRequested { id: from.0, name },
        RoomEvent::Reaction { from, reaction } => {
            ServerMessage::Reaction { id: from.0, reaction: reaction_to_wire(reaction) }
        }
        RoomEvent::ReadingSaved(r) => ServerMessage::ReadingSaved { reading: reading(r) },
        RoomEvent::ReadingRemoved { id } => ServerMessage::ReadingRemoved { id: id.0 },
        RoomEvent::ReadingShown(s) => ServerMessage::ReadingShown { shown: shown_reading(s) },
        RoomEvent::ReadingStopped => ServerMessage::ReadingStopped {},
        RoomEvent::ScreenShareStarted { sharer } => ServerMessage::ScreenShareStarted { id: sharer.0 },
        RoomEvent::ScreenShareEnded { sharer, reason } => {
            ServerMessage::ScreenShareEnded { id: sharer.0, reason: screen_end(reason) }
        }
        RoomEvent::ScreenSharePermission { allowed, by, message } => {
            ServerMessage::ScreenSharePermission { allowed, by, message }
        }
        RoomEvent::MeetingEnded => return None,
    })
}

/// Why a command could not be mapped: it names someone who is not here.
pub struct UnknownId;

/// The room command for a client message; `Ok(None)` for messages the room does not handle
/// (join, SDP, leave), which the hub treats itself.
pub fn room_command(room: &Room, message: ClientMessage) -> Result<Option<RoomCommand>, UnknownId> {
    let who = |id: &str| room.id_of(&PublicId(id.to_string())).ok_or(UnknownId);
    Ok(Some(match message {
        ClientMessage::Join { .. }
        | ClientMessage::Resume { .. }
        | ClientMessage::Offer { .. }
        | ClientMessage::Answer { .. }
        | ClientMessage::Leave {}
        | ClientMessage::Receive { .. } => return Ok(None),
        ClientMessage::MediaState { audio, video } => RoomCommand::SetMediaState { audio, video },
        ClientMessage::UpdateSettings { settings: s } => RoomCommand::UpdateSettings(room::SettingsPatch {
            title: s.title,
            guidelines: s.guidelines,
            waiting_room: s.waiting_room,
            mute_on_entry: s.mute_on_entry,
            camera_off_on_entry: s.camera_off_on_entry,
            members_may_unmute: s.members_may_unmute,
            share_seconds: s.share_seconds,
            auto_mute_on_expiry: s.auto_mute_on_expiry,
            chat_enabled: s.chat_enabled,
            share_earlier_chat: s.share_earlier_chat,
            member_private_messages: s.member_private_messages,
            max_participants: s.max_participants,
        }),
        ClientMessage::SaveSettings {} => RoomCommand::SaveSettings,
        ClientMessage::Lock {} => RoomCommand::Lock,
        ClientMessage::Unlock {} => RoomCommand::Unlock,
        ClientMessage::Promote { id } => RoomCommand::Promote { who: who(&id)? },
        ClientMessage::Demote { id } => RoomCommand::Demote { who: who(&id)? },
        ClientMessage::Mute { id } => RoomCommand::Mute { who: who(&id)? },
        ClientMessage::MuteAll {} => RoomCommand::MuteAll,
        ClientMessage::SetUnmutePermission { id, permission } => RoomCommand::SetUnmutePermission {
            who: who(&id)?,
            permission: match permission {
                wire::UnmutePermission::FollowRoom => room::UnmutePermission::FollowRoom,
                wire::UnmutePermission::Allowed => room::UnmutePermission::Allowed,
                wire::UnmutePermission::Denied => room::UnmutePermission::Denied,
            },
        },
        ClientMessage::StopCamera { id } => RoomCommand::StopCamera { who: who(&id)? },
        ClientMessage::AllowCamera { id } => RoomCommand::AllowCamera { who: who(&id)? },
        ClientMessage::Remove { id, ban } => RoomCommand::Remove { who: who(&id)?, ban },
        ClientMessage::Admit { id } => RoomCommand::Admit { who: who(&id)? },
        ClientMessage::AdmitAll {} => RoomCommand::AdmitAll,
        ClientMessage::Deny { id, ban } => RoomCommand::Deny { who: who(&id)?, ban },
        ClientMessage::DenyAll {} => RoomCommand::DenyAll,
        ClientMessage::LiftBan { id } => RoomCommand::LiftBan { ban: room::BanId(id) },
        ClientMessage::RaiseHand {} => RoomCommand::RaiseHand,
        ClientMessage::LowerHand {} => RoomCommand::LowerHand,
        ClientMessage::CallNext {} => RoomCommand::CallNext,
        ClientMessage::Call { id } => RoomCommand::Call { who: who(&id)? },
        ClientMessage::MoveInQueue { id, position } => RoomCommand::MoveInQueue {
            who: who(&id)?,
            // The wire counts from 1, as people do; the room from 0.
            position: position.saturating_sub(1),
        },
        ClientMessage::RemoveFromQueue { id } => RoomCommand::RemoveFromQueue { who: who(&id)? },
        ClientMessage::ClearQueue {} => RoomCommand::ClearQueue,
        ClientMessage::Done {} => RoomCommand::Done,
        ClientMessage::StopShare {} => RoomCommand::StopShare,
        ClientMessage::AddTime { seconds } => RoomCommand::AddTime { seconds },
        ClientMessage::Suspend {} => RoomCommand::Suspend,
        ClientMessage::Restore {} => RoomCommand::Restore,
        ClientMessage::EndMeeting {} => RoomCommand::EndMeeting,
        ClientMessage::React { reaction } => RoomCommand::React { reaction: reaction_from_wire(reaction) },
        ClientMessage::Chat { text } => RoomCommand::Chat { text },
        ClientMessage::DeleteChat { id } => RoomCommand::DeleteChat { id: room::MessageId(id) },
        ClientMessage::MessageFacilitators { text } => RoomCommand::MessageFacilitators { text },
        ClientMessage::RequestCheckIn {} => RoomCommand::RequestCheckIn,
        ClientMessage::PrivateMessage { to, text } => RoomCommand::PrivateMessage { to: who(&to)?, text },
        ClientMessage::AddReading { title, text } => {
            RoomCommand::AddReading { reading: room::ReadingText { title, text } }
        }
        ClientMessage::EditReading { id, title, text } => RoomCommand::EditReading {
            id: room::ReadingId(id),
            reading: room::ReadingText { title, text },
        },
        ClientMessage::RemoveReading { id } => RoomCommand::RemoveReading { id: room::ReadingId(id) },
        ClientMessage::ShowReading { id, paragraph, reader } => {
            RoomCommand::ShowReading { id: room::ReadingId(id), paragraph, reader }
        }
        ClientMessage::StopReading {} => RoomCommand::StopReading,
        ClientMessage::StartScreenShare {} => RoomCommand::StartScreenShare,
        ClientMessage::StopScreenShare {} => RoomCommand::StopScreenShare,
        ClientMessage::AllowScreenShare { id } => RoomCommand::AllowScreenShare { who: who(&id)? },
        ClientMessage::RevokeScreenShare { id } => RoomCommand::RevokeScreenShare { who: who(&id)? },
        ClientMessage::EndScreenShare { id } => RoomCommand::EndScreenShare { who: who(&id)? },
    }))
}

pub fn status(room_id: &str, s: room::RoomStatus) -> wire::RoomStatus {
    let settings = s.settings;
    wire::RoomStatus {
        id: room_id.to_string(),
        title: settings.title,
        guidelines: settings.guidelines,
        waiting_room: settings.waiting_room,
        mute_on_entry: settings.mute_on_entry,
        camera_off_on_entry: settings.camera_off_on_entry,
        members_may_unmute: settings.members_may_unmute,
        share_seconds: settings.share_seconds,
        auto_mute_on_expiry: settings.auto_mute_on_expiry,
        chat_enabled: settings.chat_enabled,
        share_earlier_chat: settings.share_earlier_chat,
        member_private_messages: settings.member_private_messages,
        max_participants: settings.max_participants,
        e2ee: settings.e2ee,
        // Only where it means something: an encrypted meeting's links.
        key_id: settings.e2ee_key_id.filter(|_| settings.e2ee),
        locked: s.locked,
        suspended: s.suspended,
    }
}

fn participant(p: room::ParticipantView) -> wire::Participant {
    wire::Participant {
        id: p.id.0,
        name: p.name,
        role: role(p.role),
        audio: p.mic_on,
        video: p.camera_on,
        hand_raised: p.hand_raised,
        has_floor: p.has_floor,
        may_unmute: p.may_unmute,
        unmute_permission: match p.unmute_permission {
            room::UnmutePermission::FollowRoom => wire::UnmutePermission::FollowRoom,
            room::UnmutePermission::Allowed => wire::UnmutePermission::Allowed,
            room::UnmutePermission::Denied => wire::UnmutePermission::Denied,
        },
        muted_by_facilitator: p.muted_by_facilitator,
        camera_stopped: p.camera_stopped,
        may_share_screen: p.may_share_screen,
    }
}

fn role(r: room::Role) -> wire::Role {
    match r {
        room::Role::Facilitator => wire::Role::Facilitator,
        room::Role::CoFacilitator => wire::Role::CoFacilitator,
        room::Role::Member => wire::Role::Member,
    }
}

/// The room keeps when a ban was made on its own clock; people read the time of day.
fn bans(list: Vec<room::BanView>) -> Vec<wire::Ban> {
    let (now, wall) = (std::time::Instant::now(), std::time::SystemTime::now());
    let unix = |at: std::time::Instant| {
        let then = wall.checked_sub(now.saturating_duration_since(at)).unwrap_or(wall);
        then.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    };
    list.into_iter().map(|b| wire::Ban { id: b.id.0, name: b.name, at: unix(b.at) }).collect()
}

fn queue_entry(q: room::QueueEntry) -> wire::QueueEntry {
    wire::QueueEntry { id: q.id.0, name: q.name, position: q.position }
}

fn floor(f: room::FloorView) -> wire::Floor {
    wire::Floor { id: f.holder.0, name: f.name, seconds_left: f.seconds_left, expired: f.expired }
}

fn waiter(w: room::WaiterView) -> wire::Waiter {
    wire::Waiter { id: w.id.0, name: w.name, same_network_as_banned: w.same_network_as_banned }
}

fn chat(c: room::ChatView) -> wire::ChatMessage {
    wire::ChatMessage { id: c.id.0, from: c.from.0, name: c.name, role: role(c.role), text: c.text }
}

fn reading(r: room::ReadingView) -> wire::Reading {
    wire::Reading { id: r.id.0, title: r.title, text: r.text }
}

fn shown_reading(s: room::ShownReading) -> wire::ShownReading {
    wire::ShownReading { id: s.id.0, paragraph: s.paragraph, reader: s.reader }
}

fn floor_end(reason: room::FloorEnd) -> wire::FloorEnd {
    match reason {
        room::FloorEnd::Done => wire::FloorEnd::Done,
        room::FloorEnd::Next => wire::FloorEnd::Next,
        room::FloorEnd::Stopped => wire::FloorEnd::Stopped,
        room::FloorEnd::TimeUp => wire::FloorEnd::TimeUp,
        room::FloorEnd::Left => wire::FloorEnd::Left,
    }
}

fn screen_end(reason: room::ScreenEnd) -> wire::ScreenEnd {
    match reason {
        room::ScreenEnd::Stopped => wire::ScreenEnd::Stopped,
        room::ScreenEnd::EndedByStaff => wire::ScreenEnd::EndedByStaff,
        room::ScreenEnd::Revoked => wire::ScreenEnd::Revoked,
        room::ScreenEnd::Left => wire::ScreenEnd::Left,
        room::ScreenEnd::Removed => wire::ScreenEnd::Removed,
        room::ScreenEnd::Dropped => wire::ScreenEnd::Dropped,
        room::ScreenEnd::Suspended => wire::ScreenEnd::Suspended,
    }
}

fn reaction_to_wire(r: room::Reaction) -> wire::Reaction {
    match r {
        room::Reaction::Heart => wire::Reaction::Heart,
        room::Reaction::MeToo => wire::Reaction::MeToo,
        room::Reaction::Clap => wire::Reaction::Clap,
        room::Reaction::Wave => wire::Reaction::Wave,
        room::Reaction::ThumbsUp => wire::Reaction::ThumbsUp,
    }
}

fn reaction_from_wire(r: wire::Reaction) -> room::Reaction {
    match r {
        wire::Reaction::Heart => room::Reaction::Heart,
        wire::Reaction::MeToo => room::Reaction::MeToo,
        wire::Reaction::Clap => room::Reaction::Clap,
        wire::Reaction::Wave => room::Reaction::Wave,
        wire::Reaction::ThumbsUp => room::Reaction::ThumbsUp,
    }
}

/// The media command for `who`'s `receive`: its tiles' public ids become the publishers'
/// peer keys. Refused whole when a tile names someone who is not another admitted
/// participant (`unknown_track`), or lists more tiles than the meeting can have people.
pub fn reception(
    room: &Room,
    who: room::ParticipantId,
    video: Option<bool>,
    tiles: Option<Vec<wire::TileReport>>,
) -> Result<MediaCommand, Refusal> {
    if !room.is_admitted(who) {
        return Err(Refusal::new("not_admitted", "You are still in the waiting room."));
    }
    let tiles = match tiles {
        None => None,
        Some(tiles) if tiles.len() > room.settings().max_participants => {
            return Err(Refusal::new("bad_message", "More tiles than the meeting has people."));
        }
        Some(tiles) => Some(
            tiles
                .into_iter()
                .map(|tile| {
                    let publisher = room
                        .id_of(&PublicId(tile.id))
                        .filter(|&id| id != who && room.is_admitted(id))
                        .ok_or_else(|| Refusal::new("unknown_track", "That tile is not someone in this meeting."))?;
                    let view = if tile.visible {
                        View::Shown { width: tile.width.min(MAX_TILE_PX), height: tile.height.min(MAX_TILE_PX) }
                    } else {
                        View::Hidden
                    };
                    Ok((PeerKey(publisher.0), view))
                })
                .collect::<Result<Vec<_>, Refusal>>()?,
        ),
    };
    Ok(MediaCommand::SetReception { peer: PeerKey(who.0), sound_only: video.map(|on| !on), tiles })
}

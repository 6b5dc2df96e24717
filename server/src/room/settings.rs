//! Room settings, live changes to them, lock/unlock and suspend/restore. Imports no tokio,
//! no media, no network.

use super::{ReadingText, Room, RoomError};

/// Longest share a facilitator can set or extend to, in seconds (an hour).
pub const MAX_SHARE_SECONDS: u32 = 3600;
const MAX_TITLE_CHARS: usize = 200;
const MAX_GUIDELINES_CHARS: usize = 10_000;

/// Per-room settings. Defaults are the product's safe defaults; the config layer may
/// override them per room, and facilitators may change them live with a [`SettingsPatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSettings {
    /// `None`: an untitled meeting; each client names it in its person's language.
    pub title: Option<String>,
    /// Shown before joining; when not empty, a join must carry `accepted_guidelines`.
    pub guidelines: String,
    /// Members wait to be admitted by a facilitator. Off by default so a meeting without a
    /// facilitator present still works; groups that need it turn it on in config.
    pub waiting_room: bool,
    pub mute_on_entry: bool,
    pub camera_off_on_entry: bool,
    /// Members may unmute themselves; when off, only the floor or a facilitator's
    /// per-person permission lets them.
    pub members_may_unmute: bool,
    /// Length of a share in seconds, 0 = no timer.
    pub share_seconds: u32,
    /// At the end of a share's time, take the floor back and mute.
    pub auto_mute_on_expiry: bool,
    pub chat_enabled: bool,
    /// Newcomers get the recent chat history. Off by default: a member who arrives late
    /// sees only what is said after they arrive (admission from the waiting room is the
    /// arrival).
    pub share_earlier_chat: bool,
    /// Member-to-member private messages (messages to facilitators are always allowed).
    pub member_private_messages: bool,
    /// Admitted people, facilitators included (facilitators are let in even when full).
    pub max_participants: usize,
    /// The readings a meeting starts with (after the guidelines'). [`super::Room::new`]
    /// moves them into the live list, so a room's own settings hold none.
    pub readings: Vec<ReadingText>,
    /// End-to-end encrypted (docs/e2ee.md): the pages hold a key this server never sees, and
    /// chat text must be their ciphertext. Fixed for the room's life: no patch changes it (a
    /// stored meeting's change applies at its next start).
    pub e2ee: bool,
    /// The key id (docs/e2ee.md, 16 bits, not secret) of the meeting's newest links, when
    /// known: a page whose key has another one is told its link is stale and does not join.
    /// Not in any patch: staff set it by making links (admin page, `POST /api/rooms`).
    pub e2ee_key_id: Option<u16>,
}

impl Default for RoomSettings {
    fn default() -> Self {
        RoomSettings {
            title: None,
            guidelines: String::new(),
            waiting_room: false,
            mute_on_entry: true,
            camera_off_on_entry: true,
            members_may_unmute: true,
            share_seconds: 0,
            auto_mute_on_expiry: false,
            chat_enabled: true,
            share_earlier_chat: false,
            member_private_messages: false,
            max_participants: 100,
            readings: Vec::new(),
            e2ee: false,
            e2ee_key_id: None,
        }
    }
}

impl RoomSettings {
    /// For the config layer: reject values the room cannot work with.
    pub fn validate(&self) -> Result<(), RoomError> {
        if let Some(title) = &self.title {
            if title.trim().is_empty() || title.chars().count() > MAX_TITLE_CHARS {
                return Err(RoomError::InvalidSetting("title"));
            }
        }
        if self.guidelines.chars().count() > MAX_GUIDELINES_CHARS {
            return Err(RoomError::InvalidSetting("guidelines"));
        }
        if self.share_seconds > MAX_SHARE_SECONDS {
            return Err(RoomError::InvalidSetting("share_seconds"));
        }
        if self.max_participants == 0 {
            return Err(RoomError::InvalidSetting("max_participants"));
        }
        let with_guidelines = self.readings.len() + usize::from(!self.guidelines.trim().is_empty());
        if with_guidelines > super::MAX_READINGS {
            return Err(RoomError::TooManyReadings);
        }
        self.readings.iter().try_for_each(super::readings::check_reading)
    }
}

/// A live change by a facilitator: `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsPatch {
    /// A blank title makes the meeting untitled.
    pub title: Option<String>,
    pub guidelines: Option<String>,
    pub waiting_room: Option<bool>,
    pub mute_on_entry: Option<bool>,
    pub camera_off_on_entry: Option<bool>,
    pub members_may_unmute: Option<bool>,
    pub share_seconds: Option<u32>,
    pub auto_mute_on_expiry: Option<bool>,
    pub chat_enabled: Option<bool>,
    pub share_earlier_chat: Option<bool>,
    pub member_private_messages: Option<bool>,
    pub max_participants: Option<usize>,
}

impl SettingsPatch {
    fn applied_to(&self, s: &RoomSettings) -> RoomSettings {
        let mut s = s.clone();
        let p = self.clone();
        if let Some(title) = p.title {
            s.title = Some(title).filter(|t| !t.trim().is_empty());
        }
        s.guidelines = p.guidelines.unwrap_or(s.guidelines);
        s.waiting_room = p.waiting_room.unwrap_or(s.waiting_room);
        s.mute_on_entry = p.mute_on_entry.unwrap_or(s.mute_on_entry);
        s.camera_off_on_entry = p.camera_off_on_entry.unwrap_or(s.camera_off_on_entry);
        s.members_may_unmute = p.members_may_unmute.unwrap_or(s.members_may_unmute);
        s.share_seconds = p.share_seconds.unwrap_or(s.share_seconds);
        s.auto_mute_on_expiry = p.auto_mute_on_expiry.unwrap_or(s.auto_mute_on_expiry);
        s.chat_enabled = p.chat_enabled.unwrap_or(s.chat_enabled);
        s.share_earlier_chat = p.share_earlier_chat.unwrap_or(s.share_earlier_chat);
        s.member_private_messages = p
            .member_private_messages
            .unwrap_or(s.member_private_messages);
        s.max_participants = p.max_participants.unwrap_or(s.max_participants);
        s
    }
}

/// What suspend changed, so restore can put exactly that back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Suspended {
    locked: bool,
    chat_enabled: bool,
}

impl Room {
    pub(super) fn update_settings(&mut self, patch: &SettingsPatch, out: &mut Vec<super::Effect>) -> Result<(), RoomError> {
        let next = patch.applied_to(&self.settings);
        next.validate()?;
        if next.max_participants > self.participant_cap {
            return Err(RoomError::AboveParticipantCap(self.participant_cap));
        }
        // The guidelines' reading follows them (announced like a staff edit of it).
        let reading = self.readings.follow_guidelines(&self.settings.guidelines, &next.guidelines)?;
        out.extend(reading.map(|event| super::Effect::Broadcast { event, except: None }));
        // Lowering max_participants evicts no one and turning the waiting room off admits
        // no one: both only affect arrivals from now on.
        self.settings = next;
        Ok(())
    }

    /// Staff made new encrypted links: arrivals from now on are checked against their key
    /// id. No one present is told (they hold the key they hold) and nothing else changes.
    pub fn set_e2ee_key_id(&mut self, key_id: Option<u16>) {
        self.settings.e2ee_key_id = key_id;
    }

    pub(super) fn set_locked(&mut self, locked: bool) {
        self.locked = locked;
    }

    /// The raid button: lock, silence and blind every member, stop chat, take the floor.
    /// While suspended no member may unmute or start a camera, whatever the settings say,
    /// so the settings themselves need not change and restore has less to undo.
    pub(super) fn suspend(&mut self, out: &mut Vec<super::Effect>) -> Result<(), RoomError> {
        if self.suspended.is_some() {
            return Err(RoomError::AlreadySuspended);
        }
        self.suspended = Some(Suspended {
            locked: self.locked,
            chat_enabled: self.settings.chat_enabled,
        });
        self.locked = true;
        self.settings.chat_enabled = false;
        self.end_floor(super::FloorEnd::Stopped, out);
        // Any screen, staff's too: a raider's is the likeliest. Restore brings none back.
        self.end_screen(super::ScreenEnd::Suspended, out);
        // During a raid the room is cleared: no reading stays open on everyone's screen.
        self.stop_reading();
        for p in self.participants.iter_mut().filter(|p| !p.role.is_staff()) {
            p.mic_on = false;
            p.camera_on = false;
        }
        Ok(())
    }

    /// Puts back the lock and chat as they were before suspend. Mics and cameras stay off:
    /// each member turns their own back on.
    pub(super) fn restore(&mut self) -> Result<(), RoomError> {
        let saved = self.suspended.take().ok_or(RoomError::NotSuspended)?;
        self.locked = saved.locked;
        self.settings.chat_enabled = saved.chat_enabled;
        Ok(())
    }
}

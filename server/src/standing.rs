//! Stored meetings into running ones: a store record becomes the hub's [`StandingRoom`]
//! (settings over `[room_defaults]`, live key hashes, compiled schedule). Imports config,
//! store, schedule, hub (its types only) and room (`RoomSettings` only).

use std::sync::Arc;

use crate::config::{Config, DeclaredRoom};
use crate::hub::StandingRoom;
use crate::room::RoomSettings;
use crate::store::{MeetingEdit, MeetingRecord, MeetingSettings, Reading, StandingRecord, Store, StoreError};

/// The room settings a stored meeting starts each meeting with: its own choices over
/// `[room_defaults]`, as a `[[room]]`'s are.
pub fn settings(config: &Config, meeting: &MeetingRecord) -> RoomSettings {
    let s = &meeting.settings;
    let as_declared = DeclaredRoom {
        id: meeting.slug.clone(),
        title: meeting.title.clone(),
        facilitator_key_sha256: String::new(),
        guidelines: Some(meeting.guidelines.clone()),
        waiting_room: s.waiting_room,
        mute_on_entry: s.mute_on_entry,
        camera_off_on_entry: s.camera_off_on_entry,
        members_may_unmute: s.members_may_unmute,
        share_seconds: s.share_seconds,
        auto_mute_on_expiry: s.auto_mute_on_expiry,
        chat_enabled: s.chat_enabled,
        member_private_messages: s.member_private_messages,
        e2ee: s.e2ee.unwrap_or(false),
        readings: meeting
            .readings
            .iter()
            .map(|r| crate::config::Reading { title: r.title.clone(), text: r.text.clone() })
            .collect(),
    };
    let mut settings = crate::hub::declared_settings(config, &as_declared);
    settings.e2ee_key_id = meeting.e2ee_key_id;
    settings
}

/// A facilitator's live settings as a stored meeting's own (`save_settings`): its
/// guidelines, readings and every setting the admin page sets. The title (the directory's),
/// chat history for newcomers and the size cap stay as the admin left them.
pub fn kept(live: &RoomSettings) -> MeetingEdit {
    MeetingEdit {
        guidelines: Some(live.guidelines.clone()),
        readings: Some(live.readings.iter().map(|r| Reading { title: r.title.clone(), text: r.text.clone() }).collect()),
        settings: Some(MeetingSettings {
            waiting_room: Some(live.waiting_room),
            mute_on_entry: Some(live.mute_on_entry),
            camera_off_on_entry: Some(live.camera_off_on_entry),
            members_may_unmute: Some(live.members_may_unmute),
            share_seconds: Some(live.share_seconds),
            auto_mute_on_expiry: Some(live.auto_mute_on_expiry),
            chat_enabled: Some(live.chat_enabled),
            member_private_messages: Some(live.member_private_messages),
            // Staff's choice, on the admin page; a live meeting cannot change it.
            e2ee: None,
        }),
        ..MeetingEdit::default()
    }
}

pub fn room(config: &Config, record: StandingRecord) -> StandingRoom {
    let schedule = record.meeting.schedule.as_ref().and_then(|s| match s.compile() {
        Ok(compiled) => Some(Arc::new(compiled)),
        Err(e) => {
            // Checked when saved; only a time zone dropped from a later tz database gets here.
            tracing::warn!(meeting = %record.meeting.slug, error = %e, "stored schedule no longer valid; the meeting is always open");
            None
        }
    });
    StandingRoom {
        id: record.meeting.slug.clone(),
        settings: settings(config, &record.meeting),
        key_hashes: record.key_hashes,
        schedule,
        archived: record.meeting.archived,
    }
}

/// Every stored meeting, for the hub at start-up. Blocking.
pub fn load(config: &Config, store: &Store) -> Result<Vec<StandingRoom>, StoreError> {
    let records = store.run_blocking(|db| db.standing())?;
    Ok(records.into_iter().map(|r| room(config, r)).collect())
}

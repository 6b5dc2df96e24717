//! The records the store keeps and the queries on them. Times are Unix seconds.

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::{Db, StoreError};
use crate::schedule::Schedule;

/// Room settings a meeting overrides; an unset one follows `[room_defaults]` (as a
/// `[[room]]`'s do), so an operator's change of defaults reaches every meeting that did not
/// choose otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_room: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mute_on_entry: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub camera_off_on_entry: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members_may_unmute: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_mute_on_expiry: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_private_messages: Option<bool>,
    /// End-to-end encrypted (docs/e2ee.md); unset is off, whatever `[room_defaults]` says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e2ee: Option<bool>,
}

impl MeetingSettings {
    /// End-to-end encrypted: its links carry a key the server never has, so nothing public
    /// (directory, feeds) can give a working join link.
    pub fn is_e2ee(&self) -> bool {
        self.e2ee == Some(true)
    }

    /// Each setting `over` names replaces this one's.
    pub fn merge(&mut self, over: &MeetingSettings) {
        macro_rules! take {
            ($($f:ident),*) => { $( if over.$f.is_some() { self.$f = over.$f; } )* };
        }
        take!(waiting_room, mute_on_entry, camera_off_on_entry, members_may_unmute, share_seconds, auto_mute_on_expiry, chat_enabled, member_private_messages, e2ee);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeetingRecord {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub language: String,
    /// Meeting Guide type codes (`crate::meeting_types`), checked by the admin API.
    pub types: Vec<String>,
    /// An approximate place ("Chicago, IL, USA") for the Meeting Guide feed; may be empty.
    pub location: String,
    pub guidelines: String,
    /// Read together in each meeting, after the guidelines; checked by the admin API.
    pub readings: Vec<Reading>,
    pub settings: MeetingSettings,
    pub schedule: Option<Schedule>,
    pub listed: bool,
    pub archived: bool,
    /// The key id of the newest encrypted links the admin page made (docs/e2ee.md
    /// "Rotation"): pages with another one are told their link is stale. Not the key.
    pub e2ee_key_id: Option<u16>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct NewMeeting {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub language: String,
    pub types: Vec<String>,
    pub location: String,
    pub guidelines: String,
    pub readings: Vec<Reading>,
    pub settings: MeetingSettings,
    pub schedule: Option<Schedule>,
    pub listed: bool,
}

/// One of a meeting's readings: a title and plain text, paragraphs between blank lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reading {
    pub title: String,
    pub text: String,
}

/// `None` leaves a field as it is; `schedule: Some(None)` removes the schedule.
#[derive(Debug, Clone, Default)]
pub struct MeetingEdit {
    pub title: Option<String>,
    pub description: Option<String>,
    pub language: Option<String>,
    pub types: Option<Vec<String>>,
    pub location: Option<String>,
    pub guidelines: Option<String>,
    pub readings: Option<Vec<Reading>>,
    pub settings: Option<MeetingSettings>,
    pub schedule: Option<Option<Schedule>>,
    pub listed: Option<bool>,
    pub archived: Option<bool>,
}

/// A facilitator link as the admin sees it: never the secret, never its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRecord {
    pub id: i64,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// What the hub needs of a stored meeting.
#[derive(Debug, Clone)]
pub struct StandingRecord {
    pub meeting: MeetingRecord,
    /// SHA-256 of every facilitator key not revoked.
    pub key_hashes: Vec<[u8; 32]>,
}

const MEETING_COLUMNS: &str = "m.id, m.slug, m.title, m.description, m.language, m.guidelines, m.settings, \
     m.listed, m.archived, m.created_at, m.updated_at, s.spec, m.types, m.readings, m.location, m.e2ee_key_id";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

type MeetingRow = (i64, MeetingRecord, String, Option<String>, String, String);

fn meeting_from_row(row: &Row<'_>) -> rusqlite::Result<MeetingRow> {
    Ok((
        row.get(0)?,
        MeetingRecord {
            slug: row.get(1)?,
            title: row.get(2)?,
            description: row.get(3)?,
            language: row.get(4)?,
            types: Vec::new(),
            location: row.get(14)?,
            guidelines: row.get(5)?,
            readings: Vec::new(),
            settings: MeetingSettings::default(),
            schedule: None,
            listed: row.get(7)?,
            archived: row.get(8)?,
            e2ee_key_id: row.get(15)?,
            created_at: row.get(9)?,
            updated_at: row.get(10)?,
        },
        row.get(6)?,
        row.get(11)?,
        row.get(12)?,
        row.get(13)?,
    ))
}

fn finish(parts: MeetingRow) -> Result<(i64, MeetingRecord), StoreError> {
    let (id, mut meeting, settings, schedule, types, readings) = parts;
    meeting.types = serde_json::from_str(&types).map_err(|e| corrupt("types", e))?;
    meeting.readings = serde_json::from_str(&readings).map_err(|e| corrupt("readings", e))?;
    meeting.settings = serde_json::from_str(&settings).map_err(|e| corrupt("settings", e))?;
    meeting.schedule = schedule
        .map(|s| serde_json::from_str(&s).map_err(|e| corrupt("schedule", e)))
        .transpose()?;
    Ok((id, meeting))
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

impl Db {
    fn meeting_row(&self, slug: &str) -> Result<(i64, MeetingRecord), StoreError> {
        let sql = format!("SELECT {MEETING_COLUMNS} FROM meetings m LEFT JOIN schedules s ON s.meeting_id = m.id WHERE m.slug = ?1");
        let parts = self.conn.query_row(&sql, [slug], meeting_from_row).optional()?;
        finish(parts.ok_or(StoreError::UnknownMeeting)?)
    }

    pub fn meeting(&self, slug: &str) -> Result<MeetingRecord, StoreError> {
        Ok(self.meeting_row(slug)?.1)
    }

    /// Every meeting, archived ones included, by slug.
    pub fn meetings(&self) -> Result<Vec<MeetingRecord>, StoreError> {
        let sql = format!("SELECT {MEETING_COLUMNS} FROM meetings m LEFT JOIN schedules s ON s.meeting_id = m.id ORDER BY m.slug");
        let mut statement = self.conn.prepare(&sql)?;
        let rows = statement.query_map([], meeting_from_row)?;
        rows.map(|r| Ok(finish(r?)?.1)).collect()
    }

    pub fn create_meeting(&mut self, new: &NewMeeting, now: i64) -> Result<MeetingRecord, StoreError> {
        let settings = serde_json::to_string(&new.settings).map_err(|e| corrupt("settings", e))?;
        let types = serde_json::to_string(&new.types).map_err(|e| corrupt("types", e))?;
        let readings = serde_json::to_string(&new.readings).map_err(|e| corrupt("readings", e))?;
        let tx = self.conn.transaction()?;
        let inserted = tx.execute(
            "INSERT INTO meetings (slug, title, description, language, guidelines, settings, listed, created_at, updated_at, types, readings, location) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11)",
            params![new.slug, new.title, new.description, new.language, new.guidelines, settings, new.listed, now, types, readings, new.location],
        );
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(StoreError::SlugTaken),
            other => other?,
        };
        let id = tx.last_insert_rowid();
        if let Some(schedule) = &new.schedule {
            let spec = serde_json::to_string(schedule).map_err(|e| corrupt("schedule", e))?;
            tx.execute("INSERT INTO schedules (meeting_id, spec) VALUES (?1, ?2)", params![id, spec])?;
        }
        tx.commit()?;
        self.meeting(&new.slug)
    }

    pub fn edit_meeting(&mut self, slug: &str, edit: &MeetingEdit, now: i64) -> Result<MeetingRecord, StoreError> {
        let (id, mut m) = self.meeting_row(slug)?;
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = &edit.$f { m.$f = v.clone(); } )* };
        }
        set!(title, description, language, types, location, guidelines, readings, listed, archived);
        if let Some(settings) = &edit.settings {
            m.settings.merge(settings);
        }
        let settings = serde_json::to_string(&m.settings).map_err(|e| corrupt("settings", e))?;
        let types = serde_json::to_string(&m.types).map_err(|e| corrupt("types", e))?;
        let readings = serde_json::to_string(&m.readings).map_err(|e| corrupt("readings", e))?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE meetings SET title = ?2, description = ?3, language = ?4, guidelines = ?5, settings = ?6, \
             listed = ?7, archived = ?8, updated_at = ?9, types = ?10, readings = ?11, location = ?12 WHERE id = ?1",
            params![id, m.title, m.description, m.language, m.guidelines, settings, m.listed, m.archived, now, types, readings, m.location],
        )?;
        match &edit.schedule {
            Some(Some(schedule)) => {
                let spec = serde_json::to_string(schedule).map_err(|e| corrupt("schedule", e))?;
                tx.execute(
                    "INSERT INTO schedules (meeting_id, spec) VALUES (?1, ?2) \
                     ON CONFLICT(meeting_id) DO UPDATE SET spec = excluded.spec",
                    params![id, spec],
                )?;
            }
            Some(None) => {
                tx.execute("DELETE FROM schedules WHERE meeting_id = ?1", [id])?;
            }
            None => {}
        }
        tx.commit()?;
        self.meeting(slug)
    }

    /// Records the key id of the meeting's newest encrypted links (`None`: forget it).
    pub fn set_e2ee_key_id(&mut self, slug: &str, key_id: Option<u16>, now: i64) -> Result<MeetingRecord, StoreError> {
        let changed = self.conn.execute(
            "UPDATE meetings SET e2ee_key_id = ?2, updated_at = ?3 WHERE slug = ?1",
            params![slug, key_id, now],
        )?;
        if changed == 0 {
            return Err(StoreError::UnknownMeeting);
        }
        self.meeting(slug)
    }

    /// Every meeting with its live key hashes: what the hub loads at start.
    pub fn standing(&self) -> Result<Vec<StandingRecord>, StoreError> {
        self.meetings()?.into_iter().map(|m| self.standing_one_of(m)).collect()
    }

    pub fn standing_one(&self, slug: &str) -> Result<StandingRecord, StoreError> {
        self.standing_one_of(self.meeting(slug)?)
    }

    fn standing_one_of(&self, meeting: MeetingRecord) -> Result<StandingRecord, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT k.key_sha256 FROM facilitator_keys k JOIN meetings m ON m.id = k.meeting_id \
             WHERE m.slug = ?1 AND k.revoked_at IS NULL ORDER BY k.id",
        )?;
        let hashes = statement
            .query_map([&meeting.slug], |row| row.get::<_, Vec<u8>>(0))?
            .map(|h| h?.try_into().map_err(|_| corrupt("key hash", "not 32 bytes")))
            .collect::<Result<Vec<[u8; 32]>, StoreError>>()?;
        Ok(StandingRecord { meeting, key_hashes: hashes })
    }

    /// Every facilitator link of a meeting, revoked ones included, oldest first.
    pub fn keys(&self, slug: &str) -> Result<Vec<KeyRecord>, StoreError> {
        let (id, _) = self.meeting_row(slug)?;
        let mut statement = self.conn.prepare(
            "SELECT id, label, created_at, revoked_at FROM facilitator_keys WHERE meeting_id = ?1 ORDER BY id",
        )?;
        let rows = statement.query_map([id], |row| {
            Ok(KeyRecord { id: row.get(0)?, label: row.get(1)?, created_at: row.get(2)?, revoked_at: row.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn add_key(&mut self, slug: &str, label: &str, hash: &[u8; 32], now: i64) -> Result<KeyRecord, StoreError> {
        let (meeting_id, _) = self.meeting_row(slug)?;
        self.conn.execute(
            "INSERT INTO facilitator_keys (meeting_id, label, key_sha256, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![meeting_id, label, hash.as_slice(), now],
        )?;
        Ok(KeyRecord { id: self.conn.last_insert_rowid(), label: label.to_string(), created_at: now, revoked_at: None })
    }

    /// Revokes a live key; a key already revoked, or of another meeting, is unknown.
    pub fn revoke_key(&mut self, slug: &str, key_id: i64, now: i64) -> Result<KeyRecord, StoreError> {
        let (meeting_id, _) = self.meeting_row(slug)?;
        let label: String = self
            .conn
            .query_row(
                "UPDATE facilitator_keys SET revoked_at = ?3 WHERE id = ?1 AND meeting_id = ?2 AND revoked_at IS NULL \
                 RETURNING label",
                params![key_id, meeting_id, now],
                |row| row.get(0),
            )
            .optional()?
            .ok_or(StoreError::UnknownKey)?;
        let created_at = self.conn.query_row("SELECT created_at FROM facilitator_keys WHERE id = ?1", [key_id], |r| r.get(0))?;
        Ok(KeyRecord { id: key_id, label, created_at, revoked_at: Some(now) })
    }

    /// Revokes `key_id` and issues a new key with the same label, in one transaction.
    pub fn rotate_key(&mut self, slug: &str, key_id: i64, hash: &[u8; 32], now: i64) -> Result<KeyRecord, StoreError> {
        let tx = self.conn.transaction()?;
        let found: Option<(i64, String)> = tx
            .query_row(
                "UPDATE facilitator_keys SET revoked_at = ?3 WHERE id = ?1 AND revoked_at IS NULL \
                 AND meeting_id = (SELECT id FROM meetings WHERE slug = ?2) RETURNING meeting_id, label",
                params![key_id, slug, now],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((meeting_id, label)) = found else {
            // Unknown meeting or unknown key: say which.
            drop(tx);
            self.meeting_row(slug)?;
            return Err(StoreError::UnknownKey);
        };
        tx.execute(
            "INSERT INTO facilitator_keys (meeting_id, label, key_sha256, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![meeting_id, label, hash.as_slice(), now],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(KeyRecord { id, label, created_at: now, revoked_at: None })
    }

    pub fn admin_count(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM admins", [], |r| r.get(0))?)
    }

    /// `password_hash` is an Argon2id PHC string.
    pub fn create_admin(&mut self, name: &str, password_hash: &str, now: i64) -> Result<i64, StoreError> {
        let inserted = self.conn.execute(
            "INSERT INTO admins (name, password_hash, created_at) VALUES (?1, ?2, ?3)",
            params![name, password_hash, now],
        );
        match inserted {
            Err(e) if is_unique_violation(&e) => Err(StoreError::AdminExists),
            other => {
                other?;
                Ok(self.conn.last_insert_rowid())
            }
        }
    }

    /// The admin's id and PHC string.
    pub fn admin_password(&self, name: &str) -> Result<Option<(i64, String)>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT id, password_hash FROM admins WHERE name = ?1", [name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    pub fn create_session(&mut self, token_hash: &[u8; 32], admin_id: i64, expires_at: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO admin_sessions (token_sha256, admin_id, expires_at) VALUES (?1, ?2, ?3)",
            params![token_hash.as_slice(), admin_id, expires_at],
        )?;
        Ok(())
    }

    /// The admin a live session belongs to; expired sessions are deleted on the way.
    pub fn session_admin(&mut self, token_hash: &[u8; 32], now: i64) -> Result<Option<i64>, StoreError> {
        self.conn.execute("DELETE FROM admin_sessions WHERE expires_at <= ?1", [now])?;
        Ok(self
            .conn
            .query_row("SELECT admin_id FROM admin_sessions WHERE token_sha256 = ?1", [token_hash.as_slice()], |r| r.get(0))
            .optional()?)
    }

    pub fn delete_session(&mut self, token_hash: &[u8; 32]) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM admin_sessions WHERE token_sha256 = ?1", [token_hash.as_slice()])?;
        Ok(())
    }
}

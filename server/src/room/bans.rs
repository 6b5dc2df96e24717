//! Bans: who was removed with a ban, how an arrival matches one, and staff lifting one.
//! Imports no tokio, no media, no network.
//!
//! A ban holds the browser's token and the address hashed with the meeting's salt. They are
//! not worth the same: a token is this browser (a hard refusal, `banned`), while an address
//! may be a household, a clinic's Wi-Fi or a carrier's shared address, so an address match
//! only sends the arrival to the waiting room, flagged for staff to decide.

use std::time::{Duration, Instant};

use super::participant::Participant;
use super::{Room, RoomError};

/// How long a ban outlives the meeting it was made in, when the room starts again (a
/// standing meeting): a raider banned at the end of tonight's meeting is still out if the
/// group meets again within the day. Within one meeting a ban never lapses.
pub const BAN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Names one ban in the staff's list, for `LiftBan`. Unique within the room's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BanId(pub u64);

/// One ban as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanView {
    pub id: BanId,
    /// The display name at ban time; `None` for a ban carried over from an earlier meeting,
    /// whose names were forgotten with it.
    pub name: Option<String>,
    pub at: Instant,
}

/// How an arrival matches the bans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BanMatch {
    None,
    /// This browser was banned: refused.
    Token,
    /// Someone on the same network was: to the waiting room, flagged.
    Address,
}

#[derive(Debug, Clone)]
struct Ban {
    id: BanId,
    name: Option<String>,
    at: Instant,
    token: Option<String>,
    key: Option<String>,
}

/// Held only in memory, in the room's value.
#[derive(Debug, Default)]
pub(super) struct Bans {
    list: Vec<Ban>,
    next_id: u64,
}

impl Bans {
    pub fn check(&self, token: Option<&str>, key: Option<&str>) -> BanMatch {
        if token.is_some_and(|t| self.list.iter().any(|b| b.token.as_deref() == Some(t))) {
            return BanMatch::Token;
        }
        if key.is_some_and(|k| self.list.iter().any(|b| b.key.as_deref() == Some(k))) {
            return BanMatch::Address;
        }
        BanMatch::None
    }

    pub fn add(&mut self, now: Instant, p: &Participant) {
        if p.token.is_none() && p.ban_key.is_none() {
            return;
        }
        self.next_id += 1;
        self.list.push(Ban {
            id: BanId(self.next_id),
            name: Some(p.name.clone()),
            at: now,
            token: p.token.clone(),
            key: p.ban_key.clone(),
        });
    }

    fn lift(&mut self, id: BanId) -> bool {
        let before = self.list.len();
        self.list.retain(|b| b.id != id);
        self.list.len() != before
    }

    /// The bans made less than [`BAN_LIFETIME`] before `now`, without the names: those
    /// belonged to the meeting that ended.
    pub fn recent(&self, now: Instant) -> Bans {
        let young = |b: &&Ban| now.saturating_duration_since(b.at) < BAN_LIFETIME;
        let list = self
            .list
            .iter()
            .filter(young)
            .map(|b| Ban {
                name: None,
                ..b.clone()
            })
            .collect();
        Bans {
            list,
            next_id: self.next_id,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn view(&self) -> Vec<BanView> {
        let list = self.list.iter();
        list.map(|b| BanView {
            id: b.id,
            name: b.name.clone(),
            at: b.at,
        })
        .collect()
    }
}

impl Room {
    /// Staff take a ban back (a mistaken removal, or the household member who was flagged):
    /// the token and the address are no longer matched. Nobody is let in by it.
    pub(super) fn lift_ban(&mut self, id: BanId) -> Result<(), RoomError> {
        if self.bans.lift(id) {
            Ok(())
        } else {
            Err(RoomError::UnknownBan)
        }
    }
}

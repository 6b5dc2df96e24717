//! Per-address limits on connections, join attempts and meetings started, shared by every
//! session. An address is kept only as a hash with a random salt made at start-up, in memory,
//! and forgotten a minute after its last connection closes (an hour after it last started a
//! meeting). An IPv6 address counts by its /64: one household or phone gets a whole /64 and
//! can pick any address in it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::LimitsConfig;
use crate::room::RateLimiter;

/// Entries idle this long with no open connection are dropped.
const FORGET_AFTER: Duration = Duration::from_secs(60);
/// ...unless they started a meeting this recently (the creation limit is per hour).
const FORGET_CREATOR_AFTER: Duration = Duration::from_secs(3600);
/// Above this many entries, a new connection first sweeps the forgettable ones.
const SWEEP_ABOVE: usize = 1024;

type AddressKey = [u8; 16];

pub struct AddressLimits {
    salt: [u8; 16],
    max_connections: usize,
    joins_per_minute: u32,
    rooms_per_hour: u32,
    logins_per_hour: u32,
    entries: Mutex<HashMap<AddressKey, Entry>>,
}

struct Entry {
    connections: usize,
    joins: RateLimiter,
    last_seen: Instant,
    creations: RateLimiter,
    last_created: Option<Instant>,
    logins: RateLimiter,
}

/// An open connection counted against its address; released on drop.
pub struct ConnectionSlot {
    limits: Arc<AddressLimits>,
    key: AddressKey,
}

impl AddressLimits {
    pub fn new(config: &LimitsConfig) -> Arc<AddressLimits> {
        let mut salt = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut salt);
        Arc::new(AddressLimits {
            salt,
            max_connections: config.max_connections_per_address,
            joins_per_minute: config.joins_per_address_per_minute,
            rooms_per_hour: config.rooms_per_address_per_hour,
            logins_per_hour: config.admin_logins_per_address_per_hour,
            entries: Mutex::new(HashMap::new()),
        })
    }

    fn key(&self, addr: IpAddr) -> AddressKey {
        let mut hasher = Sha256::new();
        hasher.update(self.salt);
        match addr.to_canonical() {
            IpAddr::V4(v4) => hasher.update(v4.octets()),
            // The /64: the rest of the address is the device's to choose.
            IpAddr::V6(v6) => hasher.update(&v6.octets()[..8]),
        }
        hasher.finalize()[..16].try_into().expect("16 of 32 bytes")
    }

    /// Counts a new connection from `addr`; `None` when the address has too many open.
    pub fn connect(self: &Arc<Self>, addr: IpAddr, now: Instant) -> Option<ConnectionSlot> {
        let key = self.key(addr);
        self.with_entry(key, now, |entry| {
            if entry.connections >= self.max_connections {
                return None;
            }
            entry.connections += 1;
            Some(ConnectionSlot { limits: Arc::clone(self), key })
        })
    }

    /// Counts a meeting started from `addr`; `false` when it has started its hour's share.
    pub fn try_create_room(&self, addr: IpAddr, now: Instant) -> bool {
        self.with_entry(self.key(addr), now, |entry| {
            if !entry.creations.try_take(now) {
                return false;
            }
            entry.last_created = Some(now);
            true
        })
    }

    /// Counts an admin sign-in attempt from `addr`; `false` when it has made its hour's share.
    /// (The entry is then kept an hour, like a meeting creator's.)
    pub fn try_login(&self, addr: IpAddr, now: Instant) -> bool {
        self.with_entry(self.key(addr), now, |entry| {
            entry.last_created = Some(now);
            entry.logins.try_take(now)
        })
    }

    /// Runs `f` on the address's entry (made if new, marked seen), sweeping forgettable
    /// entries first when there are many.
    fn with_entry<T>(&self, key: AddressKey, now: Instant, f: impl FnOnce(&mut Entry) -> T) -> T {
        let mut entries = self.entries.lock().expect("limits lock");
        if entries.len() > SWEEP_ABOVE {
            entries.retain(|_, e| !e.forgettable(now));
        }
        let entry = entries.entry(key).or_insert_with(|| self.new_entry(now));
        entry.last_seen = now;
        f(entry)
    }

    fn new_entry(&self, now: Instant) -> Entry {
        let refill = Duration::from_secs(60) / self.joins_per_minute;
        let creation_refill = Duration::from_secs(3600) / self.rooms_per_hour;
        Entry {
            connections: 0,
            joins: RateLimiter::new(now, self.joins_per_minute, refill),
            last_seen: now,
            creations: RateLimiter::new(now, self.rooms_per_hour, creation_refill),
            last_created: None,
            logins: RateLimiter::new(now, self.logins_per_hour, Duration::from_secs(3600) / self.logins_per_hour),
        }
    }
}

impl Entry {
    fn forgettable(&self, now: Instant) -> bool {
        self.connections == 0
            && now.duration_since(self.last_seen) >= FORGET_AFTER
            && self.last_created.is_none_or(|t| now.duration_since(t) >= FORGET_CREATOR_AFTER)
    }
}

impl ConnectionSlot {
    /// Takes one join attempt from this connection's address; `false` when it has made too
    /// many this minute.
    pub fn try_join(&self, now: Instant) -> bool {
        let mut entries = self.limits.entries.lock().expect("limits lock");
        entries.get_mut(&self.key).is_some_and(|e| e.joins.try_take(now))
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut entries = self.limits.entries.lock().expect("limits lock");
        if let Some(entry) = entries.get_mut(&self.key) {
            entry.connections = entry.connections.saturating_sub(1);
            entry.last_seen = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_connections: usize, joins: u32) -> Arc<AddressLimits> {
        AddressLimits::new(&LimitsConfig {
            max_message_bytes: 65536,
            max_sdp_message_bytes: 1 << 20,
            max_connections_per_address: max_connections,
            joins_per_address_per_minute: joins,
            messages_per_second: 20,
            rooms_per_address_per_hour: 3,
            admin_logins_per_address_per_hour: 3,
        })
    }

    #[test]
    fn an_address_gets_its_connections_back_when_they_close() {
        let limits = limits(2, 10);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let now = Instant::now();
        let first = limits.connect(a, now).unwrap();
        let _second = limits.connect(a, now).unwrap();
        assert!(limits.connect(a, now).is_none(), "a third connection is one too many");
        assert!(limits.connect(b, now).is_some(), "another address is not affected");
        drop(first);
        assert!(limits.connect(a, now).is_some());
    }

    #[test]
    fn meetings_started_are_counted_per_address_per_hour() {
        let limits = limits(10, 10);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let now = Instant::now();
        assert!((0..3).all(|_| limits.try_create_room(a, now)));
        assert!(!limits.try_create_room(a, now), "a fourth meeting in the hour is refused");
        assert!(limits.try_create_room(b, now), "another address is not affected");
        // Not forgotten a minute later, as a connection-only entry would be.
        let later = now + Duration::from_secs(120);
        limits.entries.lock().unwrap().retain(|_, e| !e.forgettable(later));
        assert!(!limits.try_create_room(a, later));
        assert!(limits.try_create_room(a, now + Duration::from_secs(1201)), "an hour's share comes back");
    }

    #[test]
    fn an_ipv6_address_counts_by_its_slash_64() {
        let limits = limits(2, 10);
        let now = Instant::now();
        let _one = limits.connect("2001:db8:1:2::1".parse().unwrap(), now).unwrap();
        let _two = limits.connect("2001:db8:1:2:ffff::9".parse().unwrap(), now).unwrap();
        assert!(limits.connect("2001:db8:1:2::3".parse().unwrap(), now).is_none(), "the same /64");
        assert!(limits.connect("2001:db8:1:3::1".parse().unwrap(), now).is_some(), "the next /64");
    }

    #[test]
    fn join_attempts_are_counted_per_address_across_connections() {
        let limits = limits(10, 3);
        let addr: IpAddr = "2001:db8::1".parse().unwrap();
        let now = Instant::now();
        let one = limits.connect(addr, now).unwrap();
        assert!(one.try_join(now) && one.try_join(now));
        let two = limits.connect(addr, now).unwrap();
        assert!(two.try_join(now));
        assert!(!two.try_join(now), "a new connection does not reset the count");
        assert!(one.try_join(now + Duration::from_secs(21)), "a minute's share comes back");
    }

    #[test]
    fn admin_sign_ins_are_limited_per_address() {
        let limits = limits(5, 10);
        let now = Instant::now();
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        assert!((0..3).all(|_| limits.try_login(a, now)));
        assert!(!limits.try_login(a, now), "the fourth try in the hour is refused");
        assert!(limits.try_login(b, now), "another address has its own share");
        assert!(limits.try_login(a, now + Duration::from_secs(1200)), "one try back every 20 minutes");
    }
}

//! Which SRTP profile each connection negotiated, for the result line: the benchmark compares
//! SFUs at the same cipher (BENCHMARK.md), and Janus's libsrtp costs 3× more with AES-CM than
//! with GCM. str0m 0.25 does not expose the profile; it logs it at debug level when DTLS hands
//! over the keys, so a minimal tracing subscriber listens for that one event and counts.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

/// str0m's message (src/lib.rs), followed by the profile's name.
const KEYED: &str = "DTLS set SRTP keying material and profile: ";

static PROFILES: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

/// Starts counting; call once, before any connection.
pub fn listen() {
    tracing::subscriber::set_global_default(KeyingListener).expect("no other tracing subscriber in the generator");
}

/// Connections so far by negotiated profile (e.g. `SRTP_AEAD_AES_256_GCM`).
pub fn negotiated() -> BTreeMap<String, u64> {
    PROFILES.lock().expect("profile counts").clone()
}

struct KeyingListener;

impl KeyingListener {
    /// Only debug events of str0m's top module (`src/lib.rs`, where the keys are handed over;
    /// a submodule's events have targets like `str0m::session`) are looked at: the rest never
    /// reach `event`, so the media path pays nothing.
    fn wanted(meta: &Metadata<'_>) -> bool {
        meta.is_event() && *meta.level() == Level::DEBUG && meta.target() == "str0m"
    }
}

impl Subscriber for KeyingListener {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if Self::wanted(meta) { Interest::always() } else { Interest::never() }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        Self::wanted(meta)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::DEBUG)
    }

    fn event(&self, event: &Event<'_>) {
        let mut message = Message(None);
        event.record(&mut message);
        if let Some(profile) = message.0.as_deref().and_then(|m| m.strip_prefix(KEYED)) {
            *PROFILES.lock().expect("profile counts").entry(profile.to_string()).or_default() += 1;
        }
    }

    // No spans are enabled, so none are ever made.
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

struct Message(Option<String>);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

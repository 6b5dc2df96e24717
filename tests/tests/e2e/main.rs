//! Haven's end-to-end tests in one test binary: webrtc-rs clients and raw WebSockets against
//! a real server started in this process (and, for `disk`, the real binary).
//!
//! One binary rather than one per file: each would link webrtc-rs and the server again, which
//! cost minutes and gigabytes of `target/` on 2-core CI machines. `privacy.rs` stays a binary
//! of its own because it installs the process's global log subscriber to capture every line.

mod bandwidth;
mod check_config;
mod concurrency;
mod disk;
mod headers;
mod hostile_sdp;
mod idle;
mod limits;
mod live_tracks;
mod media_port;
mod media_workers;
mod meeting;
mod metrics;
mod moderation;
mod origin;
mod proxy;
mod raid_proof;
mod readings;
mod reconnect;
mod room_creation;
mod screen_share;
mod screen_track;
mod shutdown;
mod signaling;
mod slow_session;
mod standing;
mod store_faults;
mod tls;
mod turn;
mod wildcard_bind;

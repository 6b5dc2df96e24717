//! Aggregate counters for Prometheus (`GET /metrics` when `server.metrics` is on): how many
//! meetings and people, how much media was forwarded or dropped, how long joins take. Never
//! anything per person or per room: no ids, names or addresses, not even as labels.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the join latency histogram, in seconds.
const JOIN_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Default)]
pub struct Metrics {
    pub rooms: AtomicU64,
    pub active_meetings: AtomicU64,
    pub participants: AtomicU64,
    /// Written by the media loop only (a store per loop turn, not an atomic add per packet).
    pub forwarded_frames: AtomicU64,
    pub forwarded_bytes: AtomicU64,
    pub dropped_frames: AtomicU64,
    pub peers: AtomicU64,
    /// CPU time of the media thread, microseconds; stored by that thread once a second.
    pub media_loop_cpu_micros: AtomicU64,
    joins: [AtomicU64; JOIN_BUCKETS.len()],
    joins_total: AtomicU64,
    join_micros_sum: AtomicU64,
}

impl Metrics {
    /// A join request answered (admitted or put in the waiting room) after `took`.
    pub fn observe_join(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        for (bucket, bound) in self.joins.iter().zip(JOIN_BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.joins_total.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.join_micros_sum.fetch_add(micros, Ordering::Relaxed);
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        };
        metric("haven_rooms", "gauge", "Rooms the server knows (declared or ad hoc).", get(&self.rooms));
        metric("haven_active_meetings", "gauge", "Rooms with someone in them.", get(&self.active_meetings));
        metric("haven_participants", "gauge", "People in meetings or waiting rooms.", get(&self.participants));
        metric("haven_media_peers", "gauge", "Media connections in the SFU.", get(&self.peers));
        metric(
            "haven_forwarded_frames_total",
            "counter",
            "Media frames (an audio packet, a video frame) written to subscribers.",
            get(&self.forwarded_frames),
        );
        metric(
            "haven_forwarded_bytes_total",
            "counter",
            "Media payload bytes written to subscribers (before RTP and SRTP overhead).",
            get(&self.forwarded_bytes),
        );
        metric(
            "haven_dropped_frames_total",
            "counter",
            "Media frames not forwarded to a subscriber (it waits for a keyframe, or refused the write).",
            get(&self.dropped_frames),
        );
        let name = "haven_media_loop_cpu_seconds_total";
        let _ = writeln!(
            out,
            "# HELP {name} CPU time of the media thread, which forwards all media on one core: \
             its rate near 1 means the server carries all it can.\n# TYPE {name} counter\n{name} {}",
            get(&self.media_loop_cpu_micros) as f64 / 1e6
        );
        let name = "haven_join_seconds";
        let _ = writeln!(out, "# HELP {name} Time from a join request to its answer.\n# TYPE {name} histogram");
        for (bucket, bound) in self.joins.iter().zip(JOIN_BUCKETS) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {}", get(bucket));
        }
        let total = get(&self.joins_total);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
        let _ = writeln!(out, "{name}_sum {}", get(&self.join_micros_sum) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {total}");
        out
    }
}

/// CPU time the calling thread has used (`CLOCK_THREAD_CPUTIME_ID`); zero if it cannot be read.
pub fn thread_cpu_time() -> Duration {
    let mut time = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec it is given.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(time.tv_sec as u64, time.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_join_counts_in_every_bucket_at_or_above_its_time() {
        let m = Metrics::default();
        m.observe_join(Duration::from_millis(7));
        let text = m.render();
        assert!(text.contains("haven_join_seconds_bucket{le=\"0.005\"} 0"), "{text}");
        assert!(text.contains("haven_join_seconds_bucket{le=\"0.01\"} 1"), "{text}");
        assert!(text.contains("haven_join_seconds_bucket{le=\"+Inf\"} 1"), "{text}");
        assert!(text.contains("haven_join_seconds_count 1"), "{text}");
        assert!(text.contains("# TYPE haven_forwarded_frames_total counter\nhaven_forwarded_frames_total 0"));
    }

    #[test]
    fn the_media_loop_cpu_is_in_seconds_and_a_thread_cpu_clock_moves_with_work() {
        let m = Metrics::default();
        m.media_loop_cpu_micros.store(2_500_000, Ordering::Relaxed);
        assert!(m.render().contains("\nhaven_media_loop_cpu_seconds_total 2.5\n"), "{}", m.render());
        let before = thread_cpu_time();
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(20) {
            std::hint::black_box(spin.elapsed());
        }
        assert!(thread_cpu_time() > before, "a busy thread's CPU clock advanced");
    }
}

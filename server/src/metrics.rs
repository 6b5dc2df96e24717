//! Aggregate counters for Prometheus (`GET /metrics` when `server.metrics` is on): how many
//! meetings and people, how much media was forwarded or dropped, how long joins take. Never
//! anything per person or per room: no ids, names or addresses, not even as labels.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Upper bounds of the join latency histogram, in seconds.
const JOIN_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

pub struct Metrics {
    pub rooms: AtomicU64,
    pub active_meetings: AtomicU64,
    pub participants: AtomicU64,
    /// One slot per media worker, written by that worker only (a store per loop turn, not an
    /// atomic add per packet); `/metrics` adds them up.
    pub media_workers: Box<[Arc<MediaWorkerMetrics>]>,
    joins: [AtomicU64; JOIN_BUCKETS.len()],
    joins_total: AtomicU64,
    join_micros_sum: AtomicU64,
}

#[derive(Default)]
pub struct MediaWorkerMetrics {
    pub forwarded_frames: AtomicU64,
    pub forwarded_bytes: AtomicU64,
    pub dropped_frames: AtomicU64,
    /// Copies (one packet to one subscriber) sent through `Rtc::forward_rtp`.
    pub fast_copies: AtomicU64,
    /// Copies written through str0m's send queue (`media.fast_path` off, or refused).
    pub queued_copies: AtomicU64,
    pub peers: AtomicU64,
    /// CPU time of the worker's thread, microseconds; stored by that thread once a second.
    pub cpu_micros: AtomicU64,
}

impl Metrics {
    pub fn new(media_workers: usize) -> Metrics {
        Metrics {
            rooms: AtomicU64::new(0),
            active_meetings: AtomicU64::new(0),
            participants: AtomicU64::new(0),
            media_workers: (0..media_workers).map(|_| Arc::default()).collect(),
            joins: Default::default(),
            joins_total: AtomicU64::new(0),
            join_micros_sum: AtomicU64::new(0),
        }
    }

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
        let workers = |field: fn(&MediaWorkerMetrics) -> &AtomicU64| -> u64 {
            self.media_workers.iter().map(|w| get(field(w.as_ref()))).sum()
        };
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        };
        metric("haven_rooms", "gauge", "Rooms the server knows (declared or ad hoc).", get(&self.rooms));
        metric("haven_active_meetings", "gauge", "Rooms with someone in them.", get(&self.active_meetings));
        metric("haven_participants", "gauge", "People in meetings or waiting rooms.", get(&self.participants));
        metric("haven_media_peers", "gauge", "Media connections in the SFU.", workers(|w| &w.peers));
        metric(
            "haven_forwarded_frames_total",
            "counter",
            "Media frames (an audio packet, a video frame) written to subscribers.",
            workers(|w| &w.forwarded_frames),
        );
        metric(
            "haven_forwarded_bytes_total",
            "counter",
            "Media payload bytes written to subscribers (before RTP and SRTP overhead).",
            workers(|w| &w.forwarded_bytes),
        );
        metric(
            "haven_fast_path_copies_total",
            "counter",
            "Packets sent to a subscriber at once through the forwarding fast path (media.fast_path).",
            workers(|w| &w.fast_copies),
        );
        metric(
            "haven_queued_copies_total",
            "counter",
            "Packets written to a subscriber through str0m's send queue (fast path off, or not ready).",
            workers(|w| &w.queued_copies),
        );
        metric(
            "haven_dropped_frames_total",
            "counter",
            "Media frames not forwarded to a subscriber (it waits for a keyframe, or refused the write).",
            workers(|w| &w.dropped_frames),
        );
        let name = "haven_media_loop_cpu_seconds_total";
        let _ = writeln!(
            out,
            "# HELP {name} CPU time of each media worker thread, which forwards its meetings' media \
             on one core: a rate near 1 means that worker carries all it can.\n# TYPE {name} counter"
        );
        for (i, worker) in self.media_workers.iter().enumerate() {
            let _ = writeln!(out, "{name}{{worker=\"{i}\"}} {}", get(&worker.cpu_micros) as f64 / 1e6);
        }
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
        let m = Metrics::new(1);
        m.observe_join(Duration::from_millis(7));
        let text = m.render();
        assert!(text.contains("haven_join_seconds_bucket{le=\"0.005\"} 0"), "{text}");
        assert!(text.contains("haven_join_seconds_bucket{le=\"0.01\"} 1"), "{text}");
        assert!(text.contains("haven_join_seconds_bucket{le=\"+Inf\"} 1"), "{text}");
        assert!(text.contains("haven_join_seconds_count 1"), "{text}");
        assert!(text.contains("# TYPE haven_forwarded_frames_total counter\nhaven_forwarded_frames_total 0\n"));
    }

    #[test]
    fn media_workers_add_up() {
        let m = Metrics::new(2);
        m.media_workers[0].forwarded_frames.store(3, Ordering::Relaxed);
        m.media_workers[1].forwarded_frames.store(4, Ordering::Relaxed);
        m.media_workers[1].peers.store(2, Ordering::Relaxed);
        let text = m.render();
        assert!(text.contains("\nhaven_forwarded_frames_total 7\n"), "{text}");
        assert!(text.contains("\nhaven_media_peers 2\n"), "{text}");
    }

    #[test]
    fn the_media_loop_cpu_is_in_seconds_and_a_thread_cpu_clock_moves_with_work() {
        let m = Metrics::new(2);
        m.media_workers[1].cpu_micros.store(2_500_000, Ordering::Relaxed);
        let text = m.render();
        assert!(text.contains("\nhaven_media_loop_cpu_seconds_total{worker=\"0\"} 0\n"), "{text}");
        assert!(text.contains("\nhaven_media_loop_cpu_seconds_total{worker=\"1\"} 2.5\n"), "{text}");
        let before = thread_cpu_time();
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(20) {
            std::hint::black_box(spin.elapsed());
        }
        assert!(thread_cpu_time() > before, "a busy thread's CPU clock advanced");
    }
}

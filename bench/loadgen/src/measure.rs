//! What a run measures: frames sent and received inside the measuring window, one-way delay
//! per received frame, datagrams the SFU sent us, join times; and the SFU's CPU and memory
//! from /proc.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::payload::Probe;

/// The generator's clock: probes carry microseconds since this instant.
pub struct Clock {
    epoch: Instant,
    /// Set once everyone joined and the warm-up passed.
    window: OnceLock<(Instant, Instant)>,
}

impl Clock {
    pub fn new() -> Clock {
        Clock { epoch: Instant::now(), window: OnceLock::new() }
    }

    pub fn micros(&self, at: Instant) -> u64 {
        at.duration_since(self.epoch).as_micros() as u64
    }

    pub fn open_window(&self, start: Instant, length: Duration) {
        let _ = self.window.set((start, start + length));
    }

    pub fn window(&self) -> Option<(Instant, Instant)> {
        self.window.get().copied()
    }

    /// Whether `at` falls inside the measuring window.
    pub fn in_window(&self, at: Instant) -> bool {
        self.window().is_some_and(|(start, end)| at >= start && at < end)
    }

    fn sent_in_window(&self, probe: &Probe) -> bool {
        self.window().is_some_and(|(start, end)| {
            let sent = self.micros(start)..self.micros(end);
            sent.contains(&probe.sent_us)
        })
    }
}

/// A frame later than this fails the pass rule's p99 (BENCHMARK.md: p99 < 20 ms).
pub const LATE: Duration = Duration::from_millis(20);

/// One participant's tallies; summed over all at the end.
#[derive(Default, Clone)]
pub struct Tally {
    /// Frames this participant published with a send time inside the window, per kind.
    pub audio_sent: u64,
    pub video_sent: u64,
    /// Keyframes among `video_sent` (each answers a keyframe request from the SFU); with
    /// simulcast, on any layer.
    pub keyframes_sent: u64,
    /// The same per simulcast layer (q, h, f; without simulcast all on the first).
    pub keyframes_by_layer: [u64; 3],
    /// Frames received whose send time falls inside the window (received up to the drain).
    pub audio_received: u64,
    pub video_received: u64,
    /// `video_received` by the layer it came on: with simulcast a frame time is sent on every
    /// layer and a subscriber gets one of them, so `video_sent` counts frame times and this
    /// says which layer the SFU chose.
    pub video_received_by_layer: [u64; 3],
    /// Video frame times received twice (with simulcast, at a switch up the SFU may forward
    /// a frame of the old layer and the new layer's keyframe of the same time): counted once.
    pub video_duplicates: u64,
    /// (publisher, frame number) of the video frames counted, to find those duplicates.
    video_seen: std::collections::HashSet<(u32, u32)>,
    /// One-way delay of each of those frames, microseconds: send time to the kernel's arrival
    /// time at the receiving socket (see `arrival`).
    pub delays_us: Vec<u32>,
    /// For each of those frames, how long its last datagram waited in the socket for the
    /// generator to read it: the generator's own lag, kept out of `delays_us`.
    pub read_waits_us: Vec<u32>,
    /// How late the generator sent each of its frames in the window against their pacing
    /// (a late sender sends a catch-up clump), microseconds.
    pub send_late_us: Vec<u32>,
    /// Datagrams the SFU sent this participant during the window (RTP, RTCP, STUN).
    pub datagrams_in: u64,
    /// WebSocket open → first media frame received.
    pub join: Option<Duration>,
    /// Soak: sessions run (joined, or tried to).
    pub sessions: u64,
    pub errors: Vec<String>,
    /// Frames later than `LATE`, by the second of the window they were sent in: places a
    /// burst of delay in time (at the window's start, or in the middle of steady state).
    pub late_by_second: Vec<u32>,
    /// Frames received in the window per publisher (for `--verbose`).
    pub per_publisher: std::collections::BTreeMap<u32, u64>,
}

impl Tally {
    /// A frame whose last datagram reached the socket at `arrived` and was read at `now`.
    pub fn received(&mut self, clock: &Clock, probe: Probe, video: bool, arrived: Instant, now: Instant) {
        if !clock.sent_in_window(&probe) {
            return;
        }
        if video {
            if !self.video_seen.insert((probe.publisher, probe.seq)) {
                self.video_duplicates += 1;
                return;
            }
            self.video_received += 1;
            if let Some(n) = self.video_received_by_layer.get_mut(usize::from(probe.layer)) {
                *n += 1;
            }
        } else {
            self.audio_received += 1;
        }
        *self.per_publisher.entry(probe.publisher).or_default() += 1;
        let delay = clock.micros(arrived).saturating_sub(probe.sent_us);
        self.delays_us.push(micros_u32(delay));
        self.read_waits_us.push(micros_u32(now.saturating_duration_since(arrived).as_micros() as u64));
        if delay > LATE.as_micros() as u64 {
            let start = clock.window().map_or(0, |(start, _)| clock.micros(start));
            let second = ((probe.sent_us - start) / 1_000_000) as usize;
            if self.late_by_second.len() <= second {
                self.late_by_second.resize(second + 1, 0);
            }
            self.late_by_second[second] += 1;
        }
    }

    /// A frame due at `due` goes out at `now`.
    pub fn sent_late(&mut self, clock: &Clock, now: Instant, due: Instant) {
        if clock.in_window(now) {
            self.send_late_us.push(micros_u32(now.saturating_duration_since(due).as_micros() as u64));
        }
    }

    pub fn merge(&mut self, other: Tally) {
        self.audio_sent += other.audio_sent;
        self.video_sent += other.video_sent;
        self.keyframes_sent += other.keyframes_sent;
        self.video_duplicates += other.video_duplicates;
        for l in 0..3 {
            self.keyframes_by_layer[l] += other.keyframes_by_layer[l];
            self.video_received_by_layer[l] += other.video_received_by_layer[l];
        }
        self.audio_received += other.audio_received;
        self.video_received += other.video_received;
        self.delays_us.extend(other.delays_us);
        self.read_waits_us.extend(other.read_waits_us);
        self.send_late_us.extend(other.send_late_us);
        if self.late_by_second.len() < other.late_by_second.len() {
            self.late_by_second.resize(other.late_by_second.len(), 0);
        }
        for (mine, theirs) in self.late_by_second.iter_mut().zip(other.late_by_second) {
            *mine += theirs;
        }
        self.datagrams_in += other.datagrams_in;
        self.sessions += other.sessions;
        self.errors.extend(other.errors);
    }
}

fn micros_u32(us: u64) -> u32 {
    us.min(u64::from(u32::MAX)) as u32
}

/// Nearest-rank percentile of `sorted`.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// A process's CPU time and resident memory, read from /proc.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSample {
    pub cpu_seconds: f64,
    /// The kernel's part of `cpu_seconds` (system time: on loopback, most of the network stack).
    pub sys_seconds: f64,
    pub rss_kib: u64,
    pub fds: usize,
}

pub fn sample(pid: &str) -> std::io::Result<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    let clock_ticks = 100.0; // USER_HZ on Linux
    let cpu_seconds = (ticks(11) + ticks(12)) as f64 / clock_ticks;
    let sys_seconds = ticks(12) as f64 / clock_ticks;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    Ok(ProcSample { cpu_seconds, sys_seconds, rss_kib, fds })
}

/// Nanoseconds a process's threads spent runnable but waiting for a CPU, summed over its
/// threads (the second field of each /proc/PID/task/TID/schedstat). A stall while this grows
/// is the scheduler's (another process on the SFU's core), not the SFU's own work.
pub fn runqueue_wait_ns(pid: &str) -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) else { continue };
        total += runqueue_wait_in(&text).unwrap_or(0);
    }
    Some(total)
}

/// The same from one thread's schedstat text: time on a CPU, time waiting for one (both in
/// nanoseconds), timeslices run.
fn runqueue_wait_in(schedstat: &str) -> Option<u64> {
    schedstat.split_whitespace().nth(1)?.parse().ok()
}

/// Datagrams the kernel dropped for a full socket buffer, machine-wide (`RcvbufErrors` plus
/// `SndbufErrors` of /proc/net/snmp): on loopback both ends' drops show here, so a burst of
/// loss can be told apart from one inside the SFU.
pub fn udp_buffer_drops() -> Option<u64> {
    udp_buffer_drops_in(&std::fs::read_to_string("/proc/net/snmp").ok()?)
}

/// The same from the text of /proc/net/snmp: its `Udp:` lines are field names, then values.
fn udp_buffer_drops_in(snmp: &str) -> Option<u64> {
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let (names, values) = (udp.next()?, udp.next()?);
    let field = |name: &str| {
        let at = names.split_whitespace().position(|n| n == name)?;
        values.split_whitespace().nth(at)?.parse::<u64>().ok()
    };
    Some(field("RcvbufErrors")? + field("SndbufErrors")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_drops_are_receive_plus_send_buffer_errors() {
        let snmp = "Ip: Forwarding DefaultTTL\nIp: 1 64\n\
            Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors\n\
            Udp: 7163 86 2185 7382 2180 5 0\n\
            UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n\
            UdpLite: 0 0 0 0 9 9\n";
        assert_eq!(udp_buffer_drops_in(snmp), Some(2185));
        assert_eq!(udp_buffer_drops_in("Udp: InDatagrams\nUdp: 1\n"), None);
        assert!(udp_buffer_drops().is_some(), "this machine's /proc/net/snmp reads");
    }

    #[test]
    fn late_frames_are_counted_by_the_second_they_were_sent_in() {
        let clock = Clock::new();
        let start = Instant::now();
        clock.open_window(start, Duration::from_secs(10));
        let base = clock.micros(start);
        let mut tally = Tally::default();
        let probe = |sent_us| Probe { publisher: 1, seq: 0, sent_us, layer: 0 };
        // Sent 2.5 s into the window: on time, then 30 ms late.
        let at = |ms| start + Duration::from_millis(ms);
        tally.received(&clock, probe(base + 2_500_000), false, at(2_505), at(2_505));
        tally.received(&clock, probe(base + 2_500_000), false, at(2_530), at(2_540));
        assert_eq!(tally.late_by_second, vec![0, 0, 1]);
        let mut other = Tally::default();
        other.received(&clock, probe(base + 4_000_000), true, at(4_100), at(4_100));
        tally.merge(other);
        assert_eq!(tally.late_by_second, vec![0, 0, 1, 0, 1]);
        // The delay runs to the kernel's arrival; the generator's read wait is kept apart.
        assert_eq!(tally.delays_us, vec![5_000, 30_000, 100_000]);
        assert_eq!(tally.read_waits_us, vec![0, 10_000, 0]);
    }

    #[test]
    fn runqueue_wait_is_the_second_schedstat_field() {
        assert_eq!(runqueue_wait_in("1480993 102912 2\n"), Some(102_912));
        assert_eq!(runqueue_wait_in("1480993\n"), None);
        assert!(runqueue_wait_ns("self").is_some(), "this machine's schedstat reads");
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile::<u32>(&[], 50.0), None);
    }

    #[test]
    fn reads_its_own_process() {
        let s = sample("self").unwrap();
        assert!(s.rss_kib > 0 && s.fds > 0);
    }
}

//! `haven-loadgen`: a synthetic meeting against Haven or Janus VideoRoom, measured.
//!
//! N participants join one after another; the first `--video` publish a camera, the first
//! `--audio` a microphone; everyone subscribes to everyone. `--meetings K` runs K such
//! meetings at once (their joins interleaved), each in its own room. After all media is up
//! and a warm-up, a measuring window counts frames sent and received, one-way delay, the
//! SFU's CPU and memory (from /proc); one JSON line goes to stdout. `--churn SECONDS` instead
//! runs a soak: participants leave and rejoin for that long.

mod arrival;
mod conn;
mod haven;
mod janus;
mod measure;
mod participant;
mod payload;
mod relay;
mod srtp_profile;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::{Parser, ValueEnum};
use serde_json::json;
use tokio::sync::{mpsc, watch};

use measure::{percentile, runqueue_wait_ns, sample, udp_buffer_drops, Clock, ProcSample, Tally};
use participant::{Adapter, Role, Shared};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Sfu {
    Haven,
    Janus,
    /// bench/relay.c: plain UDP, `--url` is its address (127.0.0.1:40000).
    Relay,
}

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, value_enum)]
    sfu: Sfu,
    /// Signaling WebSocket, e.g. ws://127.0.0.1:8080/ws or ws://127.0.0.1:8188
    #[arg(long)]
    url: String,
    /// Haven room id, or Janus VideoRoom room number.
    #[arg(long)]
    room: String,
    /// People in each meeting.
    #[arg(long)]
    participants: u32,
    /// Meetings of this shape at once: rooms `<room>-0`, `<room>-1`, ... (Janus: room numbers
    /// `<room>`, `<room>` + 1, ...). `--video`, `--audio` and `--measured` count per meeting.
    #[arg(long, default_value_t = 1)]
    meetings: u32,
    /// How many (the first ones) publish video.
    #[arg(long, default_value_t = 0)]
    video: u32,
    /// How many (the first ones) publish audio.
    #[arg(long, default_value_t = 0)]
    audio: u32,
    /// PID of the SFU process, for CPU and memory.
    #[arg(long)]
    sfu_pid: String,
    #[arg(long, default_value_t = 100)]
    join_gap_ms: u64,
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    #[arg(long, default_value_t = 20)]
    measure: u64,
    /// A label copied into the result line (the load shape).
    #[arg(long, default_value = "")]
    label: String,
    /// Soak: participants leave and rejoin for this many seconds (no measuring window).
    #[arg(long)]
    churn: Option<u64>,
    #[arg(long, default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Only this many participants decrypt and measure what they receive (0: all), spread
    /// evenly over the join order (the first, then every N/K-th): an SFU that fans out in
    /// join order then shows its middle as well as its ends. The others count packets, so the
    /// generator stays cheaper than the SFU it loads.
    #[arg(long, default_value_t = 0)]
    measured: u32,
    /// Per participant, on stderr: frames received from each publisher.
    #[arg(long)]
    verbose: bool,
    /// Haven: publishers answer Haven's simulcast offer and send the camera as three layers
    /// with rids q, h, f (~150, ~450, ~1200 kbit/s at 30 frames/s, each frame on every layer),
    /// and a keyframe on the layer a PLI asks for. Off: one stream of ~800 kbit/s.
    #[arg(long)]
    simulcast: bool,
    /// Haven: every participant reports every other's tile at WIDTHxHEIGHT device pixels
    /// (`receive {tiles}`) after joining and whenever someone joins: 160x90 caps each video at
    /// the low layer, 640x360 allows the top one. Absent: no report (unknown size: top layer).
    #[arg(long, value_parser = parse_tile)]
    tile: Option<(u32, u32)>,
}

fn parse_tile(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s.split_once(['x', 'X']).ok_or("WIDTHxHEIGHT, e.g. 160x90")?;
    Ok((w.parse().map_err(|e| format!("{e}"))?, h.parse().map_err(|e| format!("{e}"))?))
}

fn main() -> Result<()> {
    let args = Args::parse();
    if (args.simulcast || args.tile.is_some()) && !matches!(args.sfu, Sfu::Haven) {
        anyhow::bail!("--simulcast and --tile are for Haven only");
    }
    str0m::crypto::from_feature_flags().install_process_default();
    srtp_profile::listen();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    // One thread: participants are local tasks (the adapters' futures need not be Send).
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        match args.sfu {
            Sfu::Haven => drive::<haven::Haven>(args).await,
            Sfu::Janus => drive::<janus::Janus>(args).await,
            // Relay participants have no signaling: the adapter type goes unused.
            Sfu::Relay => drive::<haven::Haven>(args).await,
        }
    })
}

fn role(args: &Args, index: u32) -> Role {
    let stride = (args.participants / args.measured.max(1)).max(1);
    let measured = args.measured == 0 || (index % stride == 0 && index / stride < args.measured);
    Role { index, audio: index < args.audio, video: index < args.video, measured }
}

/// Meeting `m`'s room: `room` itself when there is one meeting.
fn room_of(room: &str, m: u32, meetings: u32) -> String {
    match room.parse::<u64>() {
        _ if meetings == 1 => room.to_string(),
        Ok(number) => (number + u64::from(m)).to_string(),
        Err(_) => format!("{room}-{m}"),
    }
}

async fn drive<A: Adapter + 'static>(args: Args) -> Result<()> {
    let publishers = args.audio.max(args.video);
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let clock = Arc::new(Clock::new());
    let meetings: Vec<Arc<Shared>> = (0..args.meetings)
        .map(|m| {
            Arc::new(Shared {
                clock: clock.clone(),
                bind: args.bind,
                url: args.url.clone(),
                room: room_of(&args.room, m, args.meetings),
                ready: ready_tx.clone(),
                others_publish: Box::new(move |i| publishers > u32::from(i < publishers)),
                simulcast: args.simulcast,
                tile: args.tile,
            })
        })
        .collect();
    let everyone = args.participants * args.meetings;
    let (stop_tx, stop_rx) = watch::channel(false);
    let idle = sample(&args.sfu_pid)?;

    // Joins interleave over the meetings, so they all grow together.
    let mut tasks = Vec::new();
    for (index, shared) in (0..args.participants).flat_map(|i| meetings.iter().map(move |m| (i, m))) {
        let (shared, stop, role) = (shared.clone(), stop_rx.clone(), role(&args, index));
        let churn = args.churn;
        let relay = matches!(args.sfu, Sfu::Relay).then(|| args.url.parse()).transpose()?;
        tasks.push(tokio::task::spawn_local(async move {
            let mut tally = Tally::default();
            match churn {
                None if relay.is_some() => {
                    if let Err(e) = relay::run(shared, role, stop, relay.unwrap(), &mut tally).await {
                        tally.errors.push(format!("{e:#}"));
                    }
                }
                None => {
                    if let Err(e) = participant::run::<A>(shared, role, stop, None, &mut tally).await {
                        tally.errors.push(format!("{e:#}"));
                    }
                }
                Some(_) => churn_loop::<A>(shared, role, stop, &mut tally).await,
            }
            tally
        }));
        tokio::time::sleep(Duration::from_millis(args.join_gap_ms)).await;
    }

    // Everyone's media up, or a deadline; then warm up.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut ready = 0;
    while ready < everyone {
        match tokio::time::timeout_at(deadline.into(), ready_rx.recv()).await {
            Ok(Some(_)) => ready += 1,
            _ => break,
        }
    }
    tokio::time::sleep(Duration::from_secs(args.warmup)).await;

    if let Some(seconds) = args.churn {
        return soak(&args, idle, seconds, ready, stop_tx, tasks).await;
    }

    let gen_start = sample("self")?;
    let sfu_start = sample(&args.sfu_pid)?;
    let drops_start = udp_buffer_drops();
    let waits_start = (runqueue_wait_ns(&args.sfu_pid), runqueue_wait_ns("self"));
    let start = Instant::now();
    clock.open_window(start, Duration::from_secs(args.measure));
    tokio::time::sleep(Duration::from_secs(args.measure)).await;
    let sfu_end = sample(&args.sfu_pid)?;
    let drops = udp_buffer_drops().zip(drops_start).map(|(end, start)| end.saturating_sub(start));
    let waited_ms = |end: Option<u64>, start: Option<u64>| end.zip(start).map(|(e, s)| e.saturating_sub(s) as f64 / 1e6);
    let sfu_waited_ms = waited_ms(runqueue_wait_ns(&args.sfu_pid), waits_start.0);
    let gen_waited_ms = waited_ms(runqueue_wait_ns("self"), waits_start.1);
    let gen_end = sample("self")?;
    let window = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await; // frames still in flight
    let _ = stop_tx.send(true);

    let mut total = Tally::default();
    let mut joins = Vec::new();
    // Frames that should arrive: each one sent, at every measured participant of its meeting
    // but its sender.
    let measured = (0..args.participants).filter(|&i| role(&args, i).measured).count() as f64;
    let (mut audio_expected, mut video_expected) = (0.0, 0.0);
    for (n, task) in tasks.into_iter().enumerate() {
        let tally = task.await?;
        let index = n as u32 / args.meetings;
        let receivers = measured - f64::from(u8::from(role(&args, index).measured));
        audio_expected += tally.audio_sent as f64 * receivers;
        video_expected += tally.video_sent as f64 * receivers;
        if args.verbose {
            eprintln!("participant {index} of meeting {}: sent a{} v{} (keyframes by layer {:?}), received {:?}, video by layer {:?} {:?}", n as u32 % args.meetings, tally.audio_sent, tally.video_sent, tally.keyframes_by_layer, tally.per_publisher, tally.video_received_by_layer, tally.errors);
        }
        joins.extend(tally.join);
        total.merge(tally);
    }
    joins.sort();
    total.delays_us.sort_unstable();
    total.read_waits_us.sort_unstable();
    total.send_late_us.sort_unstable();
    let ratio = |got: u64, expected: f64| if expected == 0.0 { None } else { Some(got as f64 / expected) };
    let sfu_cpu = sfu_end.cpu_seconds - sfu_start.cpu_seconds;
    let gen_cpu = (gen_end.cpu_seconds - gen_start.cpu_seconds) / window;
    let egress = total.datagrams_in as f64;
    let ms = |us: Option<u32>| us.map(|v| f64::from(v) / 1000.0);
    let line = json!({
        "sfu": format!("{:?}", args.sfu).to_lowercase(),
        "label": args.label,
        "participants": everyone,
        "meetings": args.meetings,
        "video": args.video,
        "audio": args.audio,
        "ready": ready,
        "window_s": window,
        "sfu_cpu_pct": 100.0 * sfu_cpu / window,
        "sfu_sys_pct": 100.0 * (sfu_end.sys_seconds - sfu_start.sys_seconds) / window,
        "generator_cpu_pct": 100.0 * gen_cpu,
        "valid": gen_cpu <= 0.8 && ready == everyone,
        "egress_pps": egress / window,
        "udp_buffer_drops": drops,
        "sfu_runqueue_wait_ms": sfu_waited_ms,
        "generator_runqueue_wait_ms": gen_waited_ms,
        "late_frames_by_second": total.late_by_second,
        "keyframes_sent": total.keyframes_sent,
        "simulcast": args.simulcast,
        "tile": args.tile.map(|(w, h)| format!("{w}x{h}")),
        "keyframes_by_layer": total.keyframes_by_layer,
        "video_duplicates": total.video_duplicates,
        // Video frames received per layer (q, h, f) over all received: which layer the SFU
        // sent the measured participants.
        "video_layer_shares": total.video_received_by_layer.map(|n| if total.video_received == 0 { 0.0 } else { n as f64 / total.video_received as f64 }),
        "cpu_s_per_m_egress": if egress > 0.0 { sfu_cpu / egress * 1e6 } else { f64::NAN },
        "measured": measured * f64::from(args.meetings),
        "audio_delivered": ratio(total.audio_received, audio_expected),
        "video_delivered": ratio(total.video_received, video_expected),
        "delay_p50_ms": ms(percentile(&total.delays_us, 50.0)),
        "delay_p99_ms": ms(percentile(&total.delays_us, 99.0)),
        "generator_read_wait_p50_ms": ms(percentile(&total.read_waits_us, 50.0)),
        "generator_read_wait_p99_ms": ms(percentile(&total.read_waits_us, 99.0)),
        "generator_send_late_p99_ms": ms(percentile(&total.send_late_us, 99.0)),
        "generator_send_late_max_ms": ms(total.send_late_us.last().copied()),
        "join_p50_ms": percentile(&joins, 50.0).map(|d| d.as_secs_f64() * 1000.0),
        "join_p95_ms": percentile(&joins, 95.0).map(|d| d.as_secs_f64() * 1000.0),
        "rss_idle_kib": idle.rss_kib,
        "rss_kib": sfu_end.rss_kib,
        "rss_per_participant_kib": (sfu_end.rss_kib as f64 - idle.rss_kib as f64) / f64::from(everyone),
        "errors": total.errors.len(),
        "first_errors": total.errors.iter().take(5).collect::<Vec<_>>(),
        "srtp_profiles": srtp_profile::negotiated(),
    });
    println!("{line}");
    Ok(())
}

/// Sessions of 20–90 s with 1–3 s pauses, until stopped.
async fn churn_loop<A: Adapter>(shared: Arc<Shared>, role: Role, stop: watch::Receiver<bool>, tally: &mut Tally) {
    let mut seed = 0x9e37_79b9_u64.wrapping_mul(u64::from(role.index) + 1);
    let mut next = move |lo: u64, hi: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        lo + seed % (hi - lo)
    };
    while !*stop.borrow() {
        let lifetime = Duration::from_secs(next(20, 90));
        let mut session = Tally::default();
        let result = participant::run::<A>(shared.clone(), role, stop.clone(), Some(lifetime), &mut session).await;
        tally.sessions += 1;
        if let Err(e) = result {
            tally.errors.push(format!("{e:#}"));
        }
        tokio::time::sleep(Duration::from_millis(next(1000, 3000))).await;
    }
}

async fn soak(
    args: &Args,
    idle: ProcSample,
    seconds: u64,
    ready: u32,
    stop_tx: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<Tally>>,
) -> Result<()> {
    let start = sample(&args.sfu_pid)?;
    let began = Instant::now();
    let mut peak_rss = start.rss_kib;
    while began.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(5)).await;
        peak_rss = peak_rss.max(sample(&args.sfu_pid)?.rss_kib);
    }
    let loaded = sample(&args.sfu_pid)?;
    let _ = stop_tx.send(true);
    let mut total = Tally::default();
    for task in tasks {
        total.merge(task.await?);
    }
    // Let the server notice the last leaves and drop their state.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = sample(&args.sfu_pid)?;
    let line = json!({
        "sfu": format!("{:?}", args.sfu).to_lowercase(),
        "label": "soak",
        "participants": args.participants,
        "seconds": seconds,
        "initially_ready": ready,
        "sessions": total.sessions,
        "session_errors": total.errors.len(),
        "first_errors": total.errors.iter().take(5).collect::<Vec<_>>(),
        "rss_idle_kib": idle.rss_kib,
        "rss_start_kib": start.rss_kib,
        "rss_peak_kib": peak_rss,
        "rss_loaded_end_kib": loaded.rss_kib,
        "rss_after_kib": after.rss_kib,
        "fds_idle": idle.fds,
        "fds_start": start.fds,
        "fds_loaded_end": loaded.fds,
        "fds_after": after.fds,
        "cpu_s": after.cpu_seconds - idle.cpu_seconds,
    });
    println!("{line}");
    Ok(())
}

//! `Rtc::forward_rtp` against `StreamTx::write_rtp` + `poll_output`: one packet (1100 B, VP8,
//! nackable) to each of 50 send streams of one connected `Rtc`, as an SFU forwards a
//! publisher's packet to 50 subscribers' streams (here all on one peer, the worst case for
//! the poll's per-stream walks). Reported per iteration of 50 copies: divide by 50.
//!
//! `FORWARD_RTP_CPU_TIME=1` measures the benchmark thread's CPU time instead of wall time
//! (`CLOCK_THREAD_CPUTIME_ID`): on cores shared with other work, wall time also counts the
//! time the thread waits for a core.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use str0m::format::Codec;
use str0m::media::{MediaKind, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{RtpWrite, Ssrc, FORWARD_RTP_BUFFER_LEN};
use str0m::{Candidate, Input, Output, Rtc};

const STREAMS: u32 = 50;

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec to write to; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// `iters` runs of `routine`, timed by wall clock or, with `FORWARD_RTP_CPU_TIME`, by the
/// thread's CPU time.
fn timed<T>(iters: u64, mut routine: impl FnMut() -> T) -> Duration {
    if std::env::var_os("FORWARD_RTP_CPU_TIME").is_some() {
        let start = thread_cpu_time();
        for _ in 0..iters {
            criterion::black_box(routine());
        }
        thread_cpu_time() - start
    } else {
        let start = Instant::now();
        for _ in 0..iters {
            criterion::black_box(routine());
        }
        start.elapsed()
    }
}
const STEP: Duration = Duration::from_millis(1);

struct Bench {
    l: Rtc,
    r: Rtc,
    now: Instant,
    pt: Pt,
    ssrcs: Vec<Ssrc>,
    seq: u64,
}

struct Datagram {
    source: SocketAddr,
    destination: SocketAddr,
    contents: Vec<u8>,
}

fn drain(rtc: &mut Rtc, out: &mut Vec<Datagram>) {
    loop {
        match rtc.poll_output().unwrap() {
            Output::Timeout(_) => break,
            Output::Transmit(t) => {
                out.push(Datagram { source: t.source, destination: t.destination, contents: t.contents.to_vec() })
            }
            Output::Event(_) => {}
        }
    }
}

fn deliver(rtc: &mut Rtc, now: Instant, d: Datagram) {
    let contents = (&d.contents[..]).try_into().unwrap();
    let receive = Receive { proto: Protocol::Udp, source: d.source, destination: d.destination, contents };
    rtc.handle_input(Input::Receive(now, receive)).unwrap();
}

impl Bench {
    fn connected() -> Bench {
        let now = Instant::now();
        let mut l = Rtc::builder().set_rtp_mode(true).build(now);
        let mut r = Rtc::builder().set_rtp_mode(true).build(now);
        let pt = l.codec_config().find(|p| p.spec().codec == Codec::Vp8).unwrap().pt();
        let host_l = Candidate::host((Ipv4Addr::new(1, 1, 1, 1), 1000).into(), "udp").unwrap();
        let host_r = Candidate::host((Ipv4Addr::new(2, 2, 2, 2), 2000).into(), "udp").unwrap();
        l.add_local_candidate(host_l.clone());
        l.add_remote_candidate(host_r.clone());
        r.add_local_candidate(host_r);
        r.add_remote_candidate(host_l);
        let finger_l = l.direct_api().local_dtls_fingerprint().clone();
        let finger_r = r.direct_api().local_dtls_fingerprint().clone();
        l.direct_api().set_remote_fingerprint(finger_r);
        r.direct_api().set_remote_fingerprint(finger_l);
        let creds_l = l.direct_api().local_ice_credentials();
        let creds_r = r.direct_api().local_ice_credentials();
        l.direct_api().set_remote_ice_credentials(creds_r);
        r.direct_api().set_remote_ice_credentials(creds_l);
        l.direct_api().set_ice_controlling(true);
        r.direct_api().set_ice_controlling(false);
        l.direct_api().start_dtls(true).unwrap();
        r.direct_api().start_dtls(false).unwrap();
        let mut ssrcs = vec![];
        for i in 0..STREAMS {
            let mid: Mid = format!("v{i}").as_str().into();
            let (ssrc, rtx) = (Ssrc::from(1000 + 2 * i), Ssrc::from(1001 + 2 * i));
            l.direct_api().declare_media(mid, MediaKind::Video);
            l.direct_api().declare_stream_tx(ssrc, Some(rtx), mid, None);
            r.direct_api().declare_media(mid, MediaKind::Video);
            r.direct_api().expect_stream_rx(ssrc, Some(rtx), mid, None);
            ssrcs.push(ssrc);
        }
        let mut bench = Bench { l, r, now, pt, ssrcs, seq: 0 };
        for _ in 0..3000 {
            bench.progress();
            if bench.l.is_connected() && bench.r.is_connected() {
                break;
            }
        }
        assert!(bench.l.is_connected(), "connected");
        for _ in 0..20 {
            bench.progress();
        }
        bench
    }

    fn progress(&mut self) {
        self.now += STEP;
        let now = self.now;
        let (mut to_r, mut to_l) = (vec![], vec![]);
        self.l.handle_input(Input::Timeout(now)).unwrap();
        drain(&mut self.l, &mut to_r);
        self.r.handle_input(Input::Timeout(now)).unwrap();
        drain(&mut self.r, &mut to_l);
        while !to_r.is_empty() || !to_l.is_empty() {
            for d in std::mem::take(&mut to_r) {
                deliver(&mut self.r, now, d);
                drain(&mut self.r, &mut to_l);
            }
            for d in std::mem::take(&mut to_l) {
                deliver(&mut self.l, now, d);
                drain(&mut self.l, &mut to_r);
            }
        }
    }

    fn write(&self, payload: &Arc<[u8]>) -> RtpWrite {
        let time = (self.seq * 3000) as u32;
        RtpWrite::new(self.pt, self.seq.into(), time, self.now, payload.clone()).nackable(true)
    }
}

fn forward(c: &mut Criterion) {
    let payload: Arc<[u8]> = vec![0x10; 1100].into();
    let mut group = c.benchmark_group("one packet to 50 send streams");
    group.throughput(Throughput::Elements(STREAMS as u64));

    let mut b = Bench::connected();
    let mut out = vec![0; FORWARD_RTP_BUFFER_LEN];
    group.bench_function("forward_rtp", |bench| {
        bench.iter_custom(|iters| timed(iters, || {
            // As a forwarding loop: one input's time, then every copy.
            b.now += Duration::from_micros(100);
            b.seq += 1;
            let mut bytes = 0;
            for i in 0..b.ssrcs.len() {
                let ssrc = b.ssrcs[i];
                let rtp = b.write(&payload);
                let forwarded = b.l.forward_rtp(b.now, ssrc, rtp, &mut out).expect("fast path");
                bytes += forwarded.len;
            }
            bytes
        }))
    });

    let mut b = Bench::connected();
    group.bench_function("write_rtp + poll_output", |bench| {
        bench.iter_custom(|iters| timed(iters, || {
            b.now += Duration::from_micros(100);
            b.seq += 1;
            for i in 0..b.ssrcs.len() {
                let ssrc = b.ssrcs[i];
                let rtp = b.write(&payload);
                b.l.direct_api().stream_tx(&ssrc).unwrap().write_rtp(rtp);
            }
            b.l.handle_input(Input::Timeout(b.now)).unwrap();
            let mut bytes = 0;
            loop {
                match b.l.poll_output().unwrap() {
                    Output::Timeout(_) => break,
                    Output::Transmit(t) => bytes += t.contents.len(),
                    Output::Event(_) => {}
                }
            }
            bytes
        }))
    });
    group.finish();
}

criterion_group!(benches, forward);
criterion_main!(benches);

//! The raw UDP relay's participant (bench/relay.c): plain datagrams, no ICE, DTLS or SRTP,
//! the same packet sizes and rates as the real participants, so the relay's cost per packet
//! is the ceiling the SFUs are compared with. Every datagram carries its own probe, and is
//! counted as a frame.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::time::sleep_until;

use crate::arrival;
use crate::measure::Tally;
use crate::participant::{Role, Shared, AUDIO_INTERVAL, VIDEO_INTERVAL};
use crate::payload::{self, Probe};

/// A video frame is three datagrams of this size (~800 kbit/s at 30 frames/s).
const VIDEO_DATAGRAM_BYTES: usize = 1100;

pub async fn run(shared: Arc<Shared>, role: Role, mut stop: watch::Receiver<bool>, relay: SocketAddr, tally: &mut Tally) -> Result<()> {
    let opened = Instant::now();
    let socket = UdpSocket::bind((shared.bind, 0)).await?;
    socket.connect(relay).await?;
    if role.measured {
        arrival::enable(&socket)?;
    }
    // The relay learns who we are from our first datagram.
    socket.send(b"hello").await?;
    let _ = shared.ready.send(role.index);
    let mut buf = vec![0u8; 2048];
    let (mut next_audio, mut next_video) = (Instant::now(), Instant::now());
    let mut seq = 0u32;
    loop {
        let mut wake = Instant::now() + std::time::Duration::from_secs(1);
        if role.audio {
            wake = wake.min(next_audio);
        }
        if role.video {
            wake = wake.min(next_video);
        }
        tokio::select! {
            r = arrival::recv(&socket, &mut buf) => {
                let (n, _, arrived) = r?;
                let now = Instant::now();
                if shared.clock.in_window(now) { tally.datagrams_in += 1; }
                tally.join.get_or_insert(now - opened);
                if let Some(probe) = payload::find(&buf[..n]).filter(|_| role.measured) {
                    tally.received(&shared.clock, probe, n > payload::AUDIO_BYTES, arrived, now);
                }
            }
            _ = sleep_until(wake.into()) => {
                let now = Instant::now();
                let mut probe = || { seq += 1; Probe { publisher: role.index, seq, sent_us: shared.clock.micros(now), layer: 0 } };
                let in_window = shared.clock.in_window(now);
                while role.audio && now >= next_audio {
                    let _ = socket.try_send(&payload::audio(probe()));
                    tally.audio_sent += u64::from(in_window);
                    next_audio += AUDIO_INTERVAL;
                }
                while role.video && now >= next_video {
                    for _ in 0..3 {
                        let mut datagram = payload::audio(probe());
                        datagram.resize(VIDEO_DATAGRAM_BYTES, 0x5a);
                        let _ = socket.try_send(&datagram);
                        tally.video_sent += u64::from(in_window);
                    }
                    next_video += VIDEO_INTERVAL;
                }
            }
            _ = stop.changed() => return Ok(()),
        }
    }
}

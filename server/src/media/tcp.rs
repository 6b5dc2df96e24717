//! ICE-TCP (RFC 6544) for networks that block UDP: one listening TCP port beside the UDP
//! one, each connection carrying STUN, DTLS, RTP and RTCP packets framed by a 2-byte length
//! (RFC 4571). Connections are plain byte pipes here; the run loop routes their packets to
//! peers exactly as it routes UDP datagrams.
//!
//! Anyone can open connections to the media port, so each costs little and none lasts
//! without purpose: a few per address, a first packet within seconds, and the run loop closes
//! a connection whose first packet is not a valid connectivity check for one of its peers
//! (by dropping its writer). Accept errors (out of file descriptors) back off instead of
//! spinning the media thread.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Larger frames are not media (an MTU-sized packet is ~1200 bytes): the connection is closed.
const MAX_FRAME: usize = 2048;
/// Browsers send a consent check every ~5 s; a connection silent this long is dead.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Packets queued for one connection before new ones are dropped, as a full link would.
const WRITE_QUEUE: usize = 512;
/// Open ICE-TCP connections at once; more are refused.
const MAX_CONNECTIONS: usize = 2000;
/// Open ICE-TCP connections from one address (a browser opens one per server candidate; a
/// household or an office shares an address).
const MAX_PER_ADDRESS: usize = 16;
/// A new connection's first packet (a browser's connectivity check) must come this soon.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(5);
/// Waits after a failed accept (out of file descriptors, say), doubling up to the second.
const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(1));

pub(super) enum TcpEvent {
    Opened { source: SocketAddr, writer: mpsc::Sender<Vec<u8>> },
    /// `local`: the address the connection was made to (one of the host's, for a wildcard bind).
    Packet { source: SocketAddr, local: SocketAddr, data: Vec<u8> },
    Closed { source: SocketAddr },
}

/// Open connections, in all and per address.
#[derive(Default)]
struct Open {
    total: usize,
    /// By network: an IPv4 address, or an IPv6 /64 (whose owner may use any address in it).
    by_address: HashMap<IpAddr, usize>,
}

/// The network an address stands for, as the per-address limits count it.
fn network_of(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        v4 => v4,
    }
}

/// A connection's place in [`Open`], given back when dropped.
struct Place {
    open: Arc<Mutex<Open>>,
    address: IpAddr,
}

impl Place {
    fn take(open: &Arc<Mutex<Open>>, address: IpAddr) -> Option<Place> {
        let mut counts = open.lock().unwrap_or_else(|e| e.into_inner());
        let here = counts.by_address.get(&address).copied().unwrap_or(0);
        if counts.total >= MAX_CONNECTIONS || here >= MAX_PER_ADDRESS {
            return None;
        }
        counts.total += 1;
        counts.by_address.insert(address, here + 1);
        Some(Place { open: open.clone(), address })
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut counts = self.open.lock().unwrap_or_else(|e| e.into_inner());
        counts.total -= 1;
        if let Some(n) = counts.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                counts.by_address.remove(&self.address);
            }
        }
    }
}

/// Accepts connections for the life of the run loop. Spawned on the loop's own runtime.
pub(super) async fn accept(listener: TcpListener, events: mpsc::Sender<TcpEvent>) {
    let open = Arc::new(Mutex::new(Open::default()));
    let mut backoff = ACCEPT_BACKOFF.0;
    loop {
        let (stream, source) = match listener.accept().await {
            Ok(accepted) => {
                backoff = ACCEPT_BACKOFF.0;
                accepted
            }
            Err(_) => {
                // Retrying at once would spin the media thread until a descriptor frees up.
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(ACCEPT_BACKOFF.1);
                continue;
            }
        };
        let source = super::recv::canonical(source);
        // Refused: dropping the stream closes it.
        let Some(place) = Place::take(&open, network_of(source.ip())) else { continue };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(stream, source, events.clone(), place));
    }
}

async fn serve(stream: TcpStream, source: SocketAddr, events: mpsc::Sender<TcpEvent>, _place: Place) {
    let Ok(local) = stream.local_addr().map(super::recv::canonical) else { return };
    let (mut reader, writer) = stream.into_split();
    let (frames, frames_rx) = mpsc::channel(WRITE_QUEUE);
    if events.send(TcpEvent::Opened { source, writer: frames }).await.is_err() {
        return;
    }
    // The writer ends when the run loop drops its sender: that closes the connection too.
    let mut writing = tokio::spawn(write_frames(BufWriter::new(writer), frames_rx));
    let reading = async {
        let mut timeout = FIRST_FRAME_TIMEOUT;
        while let Ok(Ok(data)) = tokio::time::timeout(timeout, read_frame(&mut reader)).await {
            timeout = READ_TIMEOUT;
            if events.send(TcpEvent::Packet { source, local, data }).await.is_err() {
                break;
            }
        }
    };
    tokio::select! {
        _ = reading => writing.abort(),
        _ = &mut writing => {}
    }
    let _ = events.send(TcpEvent::Closed { source }).await;
}

async fn read_frame(reader: &mut tokio::net::tcp::OwnedReadHalf) -> std::io::Result<Vec<u8>> {
    let len = usize::from(reader.read_u16().await?);
    if len == 0 || len > MAX_FRAME {
        return Err(std::io::ErrorKind::InvalidData.into());
    }
    let mut data = vec![0u8; len];
    reader.read_exact(&mut data).await?;
    Ok(data)
}

async fn write_frames(
    mut writer: BufWriter<tokio::net::tcp::OwnedWriteHalf>,
    mut frames: mpsc::Receiver<Vec<u8>>,
) {
    while let Some(frame) = frames.recv().await {
        if writer.write_all(&frame).await.is_err() {
            return;
        }
        // Flush once the queue is drained: one syscall for a burst of packets.
        if frames.is_empty() && writer.flush().await.is_err() {
            return;
        }
    }
}

/// A packet framed for the wire: its length, then the packet.
pub(super) fn frame(packet: &[u8]) -> Option<Vec<u8>> {
    let len = u16::try_from(packet.len()).ok()?;
    let mut framed = Vec::with_capacity(packet.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(packet);
    Some(framed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_network_shares_one_count_of_connections() {
        let open = Arc::new(Mutex::new(Open::default()));
        let net = |a: &str| network_of(a.parse().unwrap());
        let places: Vec<Place> =
            (0..MAX_PER_ADDRESS).map(|i| Place::take(&open, net(&format!("2001:db8:1:2::{:x}", i + 1))).unwrap()).collect();
        assert!(Place::take(&open, net("2001:db8:1:2:ffff::1")).is_none(), "the same /64");
        assert!(Place::take(&open, net("2001:db8:1:3::1")).is_some(), "the next /64");
        assert_eq!(net("::ffff:192.0.2.1"), net("192.0.2.1"));
        drop(places);
        assert!(Place::take(&open, net("2001:db8:1:2::1")).is_some(), "places come back");
    }

    #[test]
    fn a_frame_is_its_big_endian_length_then_the_packet() {
        assert_eq!(frame(&[7, 8, 9]), Some(vec![0, 3, 7, 8, 9]));
        assert_eq!(frame(&vec![0; 70_000]), None);
    }
}

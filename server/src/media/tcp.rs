//! ICE-TCP (RFC 6544) for networks that block UDP: one listening TCP port beside the UDP
//! one, each connection carrying STUN, DTLS, RTP and RTCP packets framed by a 2-byte length
//! (RFC 4571). Connections are plain byte pipes here; the run loop routes their packets to
//! peers exactly as it routes UDP datagrams.

use std::net::SocketAddr;
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

pub(super) enum TcpEvent {
    Opened { source: SocketAddr, writer: mpsc::Sender<Vec<u8>> },
    /// `local`: the address the connection was made to (one of the host's, for a wildcard bind).
    Packet { source: SocketAddr, local: SocketAddr, data: Vec<u8> },
    Closed { source: SocketAddr },
}

/// Accepts connections for the life of the run loop. Spawned on the loop's own runtime.
pub(super) async fn accept(listener: TcpListener, events: mpsc::Sender<TcpEvent>) {
    let open = std::sync::Arc::new(());
    loop {
        let Ok((stream, source)) = listener.accept().await else { continue };
        let source = super::recv::canonical(source);
        // Each connection holds a clone: the count of clones is the count of connections.
        if std::sync::Arc::strong_count(&open) > MAX_CONNECTIONS {
            continue;
        }
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(stream, source, events.clone(), open.clone()));
    }
}

async fn serve(stream: TcpStream, source: SocketAddr, events: mpsc::Sender<TcpEvent>, _open: std::sync::Arc<()>) {
    let Ok(local) = stream.local_addr().map(super::recv::canonical) else { return };
    let (mut reader, writer) = stream.into_split();
    let (frames, frames_rx) = mpsc::channel(WRITE_QUEUE);
    if events.send(TcpEvent::Opened { source, writer: frames }).await.is_err() {
        return;
    }
    let writing = tokio::spawn(write_frames(BufWriter::new(writer), frames_rx));
    while let Ok(Ok(data)) = tokio::time::timeout(READ_TIMEOUT, read_frame(&mut reader)).await {
        if events.send(TcpEvent::Packet { source, local, data }).await.is_err() {
            break;
        }
    }
    writing.abort();
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
    fn a_frame_is_its_big_endian_length_then_the_packet() {
        assert_eq!(frame(&[7, 8, 9]), Some(vec![0, 3, 7, 8, 9]));
        assert_eq!(frame(&vec![0; 70_000]), None);
    }
}

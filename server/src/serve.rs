//! The HTTP(S) accept loop for plain HTTP and HTTPS alike: `TCP_NODELAY`, the peer's address
//! for the routes (`ConnectInfo`), deadlines for a TLS handshake and for each request's headers,
//! graceful shutdown. Imports `tls` for the handshake only; knows nothing of the routes.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::{Extension, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::tls::Tls;

/// A connection that has not sent a whole request head by then, the first or the next one on
/// a kept-alive connection, is closed: otherwise anyone could hold file descriptors and
/// memory open by connecting and saying nothing (slowloris). A browser sends its request at
/// once; an idle kept-alive connection it closes by itself is just reopened.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A TLS handshake that has not finished by then is dropped, for the same reason.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` on `listener`, over TLS when `tls` is given, until `shutdown` resolves; then
/// stops accepting, lets each connection finish the request it is on, and returns when all
/// have. Upgraded connections (WebSockets) are no longer this loop's once upgraded.
pub async fn serve(listener: TcpListener, tls: Option<Tls>, app: Router, shutdown: impl Future<Output = ()>) {
    let (stop, stopping) = watch::channel(false);
    // Each connection's task holds a receiver: `closed()` resolves once every one has ended.
    let (open, open_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait rather than spin.
                Err(e) => {
                    tracing::debug!(error = %e, "accepting an HTTP connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Signaling is small messages written back to back (`joined`, then the first offer):
        // with Nagle's algorithm the second waits for the client's delayed ACK (40 ms and more
        // on Linux), on the way to a newcomer's first picture.
        let _ = tcp.set_nodelay(true);
        let connection = connection(tcp, remote, tls.clone(), app.clone(), stopping.clone());
        let held = open_rx.clone();
        tokio::spawn(async move {
            connection.await;
            drop(held);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(open_rx);
    open.closed().await;
}

async fn connection(tcp: TcpStream, remote: SocketAddr, tls: Option<Tls>, app: Router, mut stopping: watch::Receiver<bool>) {
    let service = TowerToHyperService::new(app.layer(Extension(ConnectInfo(remote))));
    let Some(tls) = tls else {
        return http1(TokioIo::new(tcp), service, stopping).await;
    };
    let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(tcp));
    let stream = tokio::select! {
        // A handshake has no request to finish: a stopping server drops it at once.
        _ = stopping.wait_for(|stop| *stop) => return,
        done = handshake => match done {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => return,
        },
    };
    http1(TokioIo::new(stream), service, stopping).await;
}

async fn http1<I>(io: I, service: TowerToHyperService<Router>, mut stopping: watch::Receiver<bool>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    let mut conn = pin!(builder.serve_connection(io, service).with_upgrades());
    tokio::select! {
        _ = conn.as_mut() => return,
        // Also when the sender is gone (the accept loop was aborted at the shutdown deadline).
        _ = stopping.wait_for(|stop| *stop) => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}

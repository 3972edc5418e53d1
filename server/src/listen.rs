//! The accept loop. `axum::serve` sets no timer on hyper, so hyper's header
//! read timeout never fires and a client sending a byte a second holds its
//! connection (and its task) for as long as it likes. Here every connection
//! is HTTP/1 with a timer: the request line and headers must arrive within
//! `HTTP_HEADER_READ_TIMEOUT_SECS`, or the connection is closed. HTTP/2 is
//! not offered: its connection preface and streams have no such timeout,
//! and the service sits behind a proxy that speaks HTTP/1.1 to it.
//!
//! hyper starts that clock whenever it waits for a request head, so an idle
//! keep-alive connection is closed after the same time: the setting is the
//! idle timeout too (the README says to keep it above a balancer's).

use axum::Router;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use std::{net::SocketAddr, time::Duration};
use tokio::{net::TcpListener, sync::watch};

/// How long open connections may take to finish after shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);

/// Waits for `shutdown`; the guard `wait_for` returns is not `Send`, so it
/// is dropped here rather than held by the accept loop.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// The router with the connection's peer address in every request, as
/// axum's `ConnectInfo` (the limiter of rejected deliveries keys on it).
fn with_peer<B>(
    router: Router,
    peer: SocketAddr,
) -> tower::util::MapRequest<Router, impl FnMut(axum::http::Request<B>) -> axum::http::Request<B> + Clone>
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    tower::ServiceExt::map_request(router, move |mut req: axum::http::Request<B>| {
        req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        req
    })
}

/// Serves `router` on `listener` until `shutdown` turns true, then lets
/// open connections finish (for [`DRAIN`] at most).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder.http1().timer(TokioTimer::new()).header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, usually: pause rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stopped(&mut shutdown) => break,
        };
        let (socket, peer) = socket;
        if let Err(e) = socket.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY on a connection");
        }
        let service = TowerToHyperService::new(with_peer(router.clone(), peer));
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(socket), service).into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after {DRAIN:?}; closing them");
    }
    Ok(())
}

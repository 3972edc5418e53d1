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
use std::time::Duration;
use tokio::{net::TcpListener, sync::watch};

/// How long open connections may take to finish after shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);

/// Waits for `shutdown`; the guard `wait_for` returns is not `Send`, so it
/// is dropped here rather than held by the accept loop.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
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
                Ok((socket, _)) => socket,
                Err(e) => {
                    // Out of file descriptors, usually: pause rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stopped(&mut shutdown) => break,
        };
        let service = TowerToHyperService::new(router.clone());
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

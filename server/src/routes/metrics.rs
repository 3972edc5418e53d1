//! `GET /metrics`: Prometheus text. On BIND_ADDR it needs the admin token;
//! with METRICS_BIND_ADDR it moves to a listener of its own, without one.

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
    routing::get,
};
use tokio::{net::TcpListener, sync::watch};

use crate::{AppState, bearer::require_admin, error::ApiError};

const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The route on the main listener, unless metrics have their own.
pub fn on_main_listener(state: &AppState) -> Router<AppState> {
    match state.settings.telemetry.metrics_bind_addr {
        Some(_) => Router::new(),
        None => Router::new().route("/metrics", get(behind_admin_token)),
    }
}

async fn behind_admin_token(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    page(&state).await
}

async fn open(State(state): State<AppState>) -> Result<Response, ApiError> {
    page(&state).await
}

async fn page(state: &AppState) -> Result<Response, ApiError> {
    let config = jobs::metrics::ScrapeConfig {
        queues: jobs::registry::all().names(),
        calls_per_hour: state.settings.drchrono_calls_per_hour,
    };
    let body = jobs::metrics::render(&state.pool, &config).await?;
    Ok(([(CONTENT_TYPE, TEXT_FORMAT)], body).into_response())
}

/// Serves `/metrics` alone on `listener` (METRICS_BIND_ADDR) until
/// `shutdown`, with the main listener's header read timeout.
pub async fn serve(state: AppState, listener: TcpListener, shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    let header_read_timeout = state.settings.limits.header_read_timeout();
    let app = Router::new().route("/metrics", get(open)).with_state(state);
    crate::listen::serve(listener, app, header_read_timeout, shutdown)
        .await
        .map_err(|e| anyhow::anyhow!("metrics listener failed: {e}"))
}

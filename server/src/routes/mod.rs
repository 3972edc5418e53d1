//! The HTTP surface. Handlers validate, store and enqueue; they do no other work.

mod deepcura;
mod drchrono;
mod drchrono_auth;
mod drchrono_events;
mod health;
pub mod metrics;
mod partner;
mod partner_events;
mod writes;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};

use crate::AppState;

pub fn router(state: AppState) -> Router {
    let limit = state.settings.webhook_max_body_bytes;
    Router::new()
        .route("/webhooks/drchrono", get(drchrono::verify).post(drchrono::deliver))
        .route("/api/webhook", get(drchrono::verify).post(drchrono::deliver))
        .route("/webhooks/deepcura", post(deepcura::deliver))
        .route("/admin/deepcura/unlinked", get(deepcura::unlinked))
        .route("/", get(health::health))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/oauth/callback", get(crate::connect::callback::callback))
        .merge(partner::routes())
        .merge(metrics::on_main_listener(&state))
        .layer(axum::middleware::from_fn(crate::telemetry::http::trace_request))
        .merge(writes::routes())
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

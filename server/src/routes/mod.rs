//! The HTTP surface. Handlers validate, store and enqueue, or read the
//! mirror; they do no other work and never call DrChrono.

mod deepcura;
mod drchrono;
mod drchrono_auth;
mod health;
mod limits;
pub mod metrics;
mod partner;
mod partner_events;
mod patient_search;
pub mod rejections;
mod writes;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::StatusCode,
    middleware,
    routing::{get, post},
};
use tower_http::timeout::TimeoutLayer;

use crate::{AppState, group_commit::GroupCommit};

/// The inbox's name for DrChrono's deliveries.
pub const DRCHRONO_SOURCE: &str = "drchrono";

/// Every route, inside the limits (outermost first): the request id, the
/// concurrency limit, the limiter of repeated authentication failures, the
/// request timeout, the body size cap.
pub fn router(state: AppState) -> Router {
    let limit = state.settings.webhook_max_body_bytes;
    let slots = limits::Slots::new(state.settings.limits.max_concurrent_requests());
    let timeout = state.settings.limits.request_timeout();
    let rejections = rejections::Rejections::new(state.settings.limits.rejected_per_minute());
    let commits = GroupCommit::start(state.pool.clone(), state.settings.clone());
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
        .merge(patient_search::routes())
        .merge(crate::console::routes())
        .merge(metrics::on_main_listener(&state))
        .layer(axum::Extension(commits))
        .layer(axum::middleware::from_fn(crate::telemetry::http::trace_request))
        .merge(writes::routes())
        .layer(DefaultBodyLimit::max(limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(middleware::from_fn_with_state(rejections, rejections::attach))
        .layer(middleware::from_fn_with_state(slots, limits::in_a_slot))
        .layer(middleware::from_fn(crate::request_id::assign))
        .with_state(state)
}

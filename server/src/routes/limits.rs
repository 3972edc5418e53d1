//! The limits every request passes: at most `HTTP_MAX_CONCURRENT_REQUESTS`
//! at once, and `HTTP_REQUEST_TIMEOUT_SECS` to send the body and be answered.
//!
//! Past the concurrency limit a request is refused at once with 503 and
//! `Retry-After`, not queued: a queue would only grow while the database
//! pool is the bottleneck, and every sender here (DrChrono, Deep Cura,
//! partners) retries a 503. The timeout answers 408 and drops the
//! handler's work; an open transaction is rolled back with it, so nothing
//! half-stored is acknowledged.

use axum::{
    Json,
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Seconds an overloaded sender is asked to wait: requests here take
/// milliseconds, so a slot frees up quickly.
pub const OVERLOAD_RETRY_AFTER_SECS: u32 = 1;

/// The slots of concurrent requests, shared by every route of the router.
#[derive(Clone)]
pub struct Slots(Arc<Semaphore>);

impl Slots {
    pub fn new(max: usize) -> Self {
        Self(Arc::new(Semaphore::new(max)))
    }
}

/// Liveness probes take no slot: an overloaded process is alive, and a
/// liveness 503 would get it restarted, losing the work it is doing.
/// Readiness (`/ready`) does take one, so a balancer stops sending to it.
const LIVENESS: [&str; 2] = ["/", "/health"];

/// Runs the request in a free slot, or answers 503 with `Retry-After`.
pub async fn in_a_slot(State(slots): State<Slots>, req: Request, next: Next) -> Response {
    if LIVENESS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let Ok(_slot) = slots.0.clone().try_acquire_owned() else {
        tracing::warn!("request refused: HTTP_MAX_CONCURRENT_REQUESTS reached");
        let body = json!({
            "error": "Service Unavailable",
            "message": "too many requests at once; retry later",
            "request_id": crate::request_id::current(),
        });
        let resp = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
        return crate::error::retry_after(resp, OVERLOAD_RETRY_AFTER_SECS);
    };
    next.run(req).await
}

//! The server span of each HTTP request: `{method} {route}`, continuing
//! the caller's trace when it sends a W3C `traceparent` header.
//!
//! The route is the matched template (`/webhooks/drchrono`), never the raw
//! path or query. Probes (`/`, `/health`, `/ready`, `/metrics`) get no span:
//! they come every few seconds and would bury the traces that matter.

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

const PROBES: [&str; 4] = ["/", "/health", "/ready", "/metrics"];

pub async fn trace_request(request: Request, next: Next) -> Response {
    if PROBES.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_string();
    let method = request.method().as_str().to_string();
    let name = format!("{method} {route}");
    let span = tracing::info_span!(
        "http_request",
        http.request.method = method,
        http.route = route,
        http.response.status_code = tracing::field::Empty,
        otel.name = name.as_str(),
        otel.kind = "server",
    );
    if let Some(remote) = job_runner::telemetry::context_from_headers(request.headers()) {
        let _ = span.set_parent(remote);
    }
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.set_status(opentelemetry::trace::Status::error(format!("HTTP {}", status.as_u16())));
    }
    response
}

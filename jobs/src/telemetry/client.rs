//! Client spans for calls to DrChrono, and the `traceparent` they send, so
//! the far side can join the trace (the sandbox records it).

use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The span of one outgoing HTTP request. `path` is the request path without
/// its query (ids are fine; query strings can carry dates and names).
pub fn client_span(method: &'static str, server: &str, path: &str) -> Span {
    let name = format!("{method} {}", route_template(path));
    let span = tracing::info_span!(
        "http_client",
        http.request.method = method,
        url.path = path,
        http.response.status_code = tracing::field::Empty,
        otel.name = name.as_str(),
        otel.kind = "client",
    );
    span.set_attribute("server.address", server.to_string());
    span
}

/// Records the answer's status on a [`client_span`].
pub fn record_status(span: &Span, status: u16) {
    span.record("http.response.status_code", status);
    if status >= 500 {
        span.set_status(opentelemetry::trace::Status::error(format!("HTTP {status}")));
    }
}

/// `/api/patients/1001` becomes `/api/patients/{id}`: one span name per
/// endpoint, not one per record.
fn route_template(path: &str) -> String {
    path.split('/')
        .map(|seg| if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) { "{id}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn numeric_segments_become_a_template() {
        assert_eq!(super::route_template("/api/patients/1001"), "/api/patients/{id}");
        assert_eq!(super::route_template("/api/patients/"), "/api/patients/");
        assert_eq!(super::route_template("/o/token/"), "/o/token/");
    }
}

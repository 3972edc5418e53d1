//! The messaging spans of the OpenTelemetry semantic conventions: a
//! producer span `send {queue}` where a job is enqueued, and a consumer
//! span `process {queue}` around each attempt.
//!
//! The tracing span names stay short (`enqueue`, `job`) and their fields
//! are ids, so log lines stay readable; the convention's attributes go
//! straight to OpenTelemetry.

use opentelemetry::{Context, trace::TraceContextExt};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// `messaging.system`: the queue is apalis's job table in Postgres.
pub const MESSAGING_SYSTEM: &str = "apalis";

fn set_messaging(span: &Span, queue: &'static str, operation: &'static str) {
    span.set_attribute("messaging.system", MESSAGING_SYSTEM);
    span.set_attribute("messaging.operation.type", operation);
    span.set_attribute("messaging.operation.name", operation);
    span.set_attribute("messaging.destination.name", queue);
}

/// The producer span of enqueuing `messages` jobs on `queue`; `job_id` when
/// there is one job.
pub fn send_span(queue: &'static str, job_id: Option<&str>, messages: usize) -> Span {
    let name = format!("send {queue}");
    let span = tracing::info_span!(
        "enqueue",
        job.name = queue,
        job.id = job_id,
        otel.name = name.as_str(),
        otel.kind = "producer",
    );
    set_messaging(&span, queue, "send");
    match job_id {
        Some(id) => span.set_attribute("messaging.message.id", id.to_string()),
        None => span.set_attribute("messaging.batch.message_count", messages as i64),
    }
    span
}

/// The consumer span of one attempt of job `job_id` on `queue`.
///
/// The first attempt continues the producer's trace (`producer` is the
/// context stored with the job). A later attempt starts a trace of its own,
/// linked to the producer's, so each retry reads as one trace instead of
/// growing the first one for hours.
pub fn process_span(queue: &'static str, job_id: &str, attempt: usize, producer: Option<Context>) -> Span {
    let name = format!("process {queue}");
    let span = tracing::info_span!(
        "job",
        job.id = job_id,
        job.name = queue,
        job.attempt = attempt,
        otel.name = name.as_str(),
        otel.kind = "consumer",
    );
    // Errors mean no OpenTelemetry layer is installed: nothing to link.
    match producer {
        Some(cx) if attempt <= 1 => {
            let _ = span.set_parent(cx);
        }
        Some(cx) => {
            let _ = span.set_parent(Context::new());
            span.add_link(cx.span().span_context().clone());
        }
        None => {
            let _ = span.set_parent(Context::new());
        }
    }
    set_messaging(&span, queue, "process");
    span.set_attribute("messaging.message.id", job_id.to_string());
    span
}

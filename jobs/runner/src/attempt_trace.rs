//! How an attempt joins a trace: its `process {queue}` span continues the
//! trace stored with the job on the first attempt and starts a linked one
//! on a retry; `job_attempts.trace_id` then names the attempt's own trace.

use apalis::prelude::MetadataStore;
use sqlx::PgPool;
use tracing::Span;

use crate::telemetry;

/// The pool the runner writes attempt trace ids with (the job's own
/// context is generic and may not have one).
#[derive(Clone)]
pub(crate) struct TracePool(pub PgPool);

/// The span of attempt `attempt` (1 for the first) of job `job_id`.
pub(crate) fn attempt_span(queue: &'static str, job_id: &str, attempt: usize, meta: &MetadataStore) -> Span {
    let producer = meta.get("traceparent").and_then(telemetry::parse_traceparent);
    telemetry::process_span(queue, job_id, attempt, producer)
}

/// The `job_hardening` triggers copy the job's `metadata -> 'trace_id'` into
/// each `job_attempts` row. It holds the producer's trace id, which is this
/// attempt's only on a first attempt that continued it; otherwise (a retry,
/// or a job enqueued outside any trace) it is rewritten while the attempt
/// runs. Outside any trace nothing is written. The write does not wait for
/// its WAL flush: the attempt's result, written after it, flushes it, and a
/// crash before that loses only the attempt's trace id, not the job.
pub(crate) async fn record_trace_id(pool: &PgPool, job_id: &str, span: &Span, meta: &MetadataStore) {
    let Some(trace_id) = telemetry::trace_id(span) else { return };
    if meta.get("trace_id") == Some(trace_id.as_str()) {
        return;
    }
    let written = sqlx::query(
        "UPDATE apalis.jobs SET metadata = coalesce(metadata, ''::hstore) || hstore('trace_id', $2) \
         FROM (SELECT set_config('synchronous_commit', 'off', true)) AS no_flush_wait WHERE id = $1",
    )
    .bind(job_id)
    .bind(&trace_id)
    .execute(pool)
    .await;
    if let Err(e) = written {
        tracing::warn!(
            error = %crate::describe_db_error(&e),
            "could not record the attempt's trace id; job_attempts will show the producer's"
        );
    }
}

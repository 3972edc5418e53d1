//! Enqueuing jobs of several types in one statement, each in its own
//! producer's trace: the webhook group commit writes the jobs of many
//! deliveries (each with its own request span) in one insert.

use sqlx::PgExecutor;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::{
    enqueue::{active_key_conflict, metadata_of, new_job},
    job::BackgroundJob,
    state::ACTIVE_STATUS_IN,
    telemetry,
};

/// One job ready to insert, whatever its type. Its `send {queue}` span is a
/// child of the span it was made in, and ends when the row is dropped.
pub struct JobRow {
    pub id: String,
    pub job_type: &'static str,
    /// The key as stored (see [`crate::job::stored_key`]).
    pub key: Option<String>,
    payload: Vec<u8>,
    max_attempts: i32,
    priority: i32,
    traceparent: Option<String>,
    _span: tracing::Span,
}

impl JobRow {
    /// `job` as a row whose producer span is a child of `parent`.
    pub fn new<J: BackgroundJob>(job: &J, parent: &tracing::Span) -> Result<Self, sqlx::Error> {
        let row = new_job(job).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let span = telemetry::send_span(J::NAME, Some(&row.id), 1);
        let _ = span.set_parent(parent.context());
        Ok(Self {
            traceparent: telemetry::traceparent(&span),
            id: row.id,
            job_type: J::NAME,
            key: row.key,
            payload: row.payload,
            max_attempts: J::MAX_ATTEMPTS,
            priority: J::PRIORITY,
            _span: span,
        })
    }
}

/// Inserts `rows` in one statement; returns the ids inserted. A row whose
/// key an active job holds, in the table or earlier in `rows`, is left out,
/// as [`crate::enqueue`] leaves it out.
pub async fn enqueue_rows<'e>(db: impl PgExecutor<'e>, rows: &[JobRow]) -> Result<Vec<String>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, \
         priority, idempotency_key, metadata) \
         SELECT t.id, t.job_type, t.job, 'Pending', 0, t.max_attempts, now(), t.priority, t.key, \
                {} \
         FROM unnest($1::text[], $2::text[], $3::bytea[], $4::integer[], $5::integer[], $6::text[], $7::text[]) \
              WITH ORDINALITY AS t(id, job_type, job, max_attempts, priority, key, traceparent, n) \
         ORDER BY t.n{}",
        metadata_of("t.traceparent"),
        active_key_conflict()
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.job_type).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.payload.as_slice()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.max_attempts).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.priority).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.key.as_deref()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.traceparent.as_deref()).collect::<Vec<_>>())
        .fetch_all(db)
        .await
}

/// For each `(job_type, stored key)`, the id of the active job holding it,
/// if any: what a row that [`enqueue_rows`] left out is a duplicate of.
/// One index probe per key whatever the statistics say (a join would be
/// planned as a scan of the whole job table while it is new).
pub async fn active_jobs_with_keys<'e>(
    db: impl PgExecutor<'e>,
    keys: &[(&str, &str)],
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    // The literal status list lets the probe use the partial unique index.
    let sql = format!(
        "SELECT k.job_type, k.key, j.id \
         FROM unnest($1::text[], $2::text[]) AS k(job_type, key) \
         CROSS JOIN LATERAL (SELECT id FROM apalis.jobs \
           WHERE job_type = k.job_type AND idempotency_key = k.key AND {ACTIVE_STATUS_IN} LIMIT 1) AS j"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(keys.iter().map(|k| k.0).collect::<Vec<_>>())
        .bind(keys.iter().map(|k| k.1).collect::<Vec<_>>())
        .fetch_all(db)
        .await
}

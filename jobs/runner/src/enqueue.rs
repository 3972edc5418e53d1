//! Enqueuing jobs inside the caller's transaction.
//!
//! apalis's own `push` uses its pool, so a webhook's inbox row and its job
//! could not commit together; this writes the same row shape apalis reads.
//!
//! Each insert runs in a `send {queue}` producer span, whose W3C
//! `traceparent` is stored in the job's metadata (with its `trace_id`), so
//! the job's attempts join the producer's trace.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::{job::BackgroundJob, state::ACTIVE_STATUS_IN, telemetry};

/// The row values of one job, computed once so single and bulk inserts agree.
pub(crate) struct NewJob {
    pub(crate) id: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) key: Option<String>,
}

pub(crate) fn new_job<J: BackgroundJob>(job: &J) -> Result<NewJob, serde_json::Error> {
    Ok(NewJob {
        id: ulid::Ulid::generate().to_string(),
        payload: serde_json::to_vec(job)?,
        key: job.dedup_key().map(|k| crate::job::stored_key(&k).into_owned()),
    })
}

/// A job whose key an active job holds is not inserted.
pub(crate) fn active_key_conflict() -> String {
    format!(" ON CONFLICT (job_type, idempotency_key) WHERE {ACTIVE_STATUS_IN} DO NOTHING RETURNING id")
}

/// The insert [`enqueue`] runs, with SQL expressions for the job's id, type,
/// payload and key in place of its parameters, no trace and the defaults of
/// [`BackgroundJob`]: for a pgbench script that must write the same row
/// (the ingest benchmark's one-transaction-per-delivery reference).
pub fn enqueue_statement(id: &str, job_type: &str, payload: &str, key: &str) -> String {
    format!(
        "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, \
         priority, metadata, idempotency_key) \
         VALUES ({id}, {job_type}, {payload}, 'Pending', 0, 5, now(), 0, NULL, {key}){}",
        active_key_conflict()
    )
}

/// The job table's name, for schema audits that list its indexes and triggers.
pub const JOB_TABLE: &str = "apalis.jobs";

/// Enqueues `job` to run now. Returns its id, or `None` when an active job
/// already holds the same dedup key.
pub async fn enqueue<'e, J: BackgroundJob>(db: impl PgExecutor<'e>, job: &J) -> Result<Option<String>, sqlx::Error> {
    enqueue_at(db, job, None, None).await
}

/// The job's metadata: its producer's `traceparent` (the SQL expression
/// `traceparent`) and that trace's id (which `job_attempts.trace_id`
/// copies); NULL outside any trace.
pub(crate) fn metadata_of(traceparent: &str) -> String {
    format!(
        "CASE WHEN {traceparent}::text IS NULL THEN NULL \
         ELSE hstore(ARRAY['traceparent', 'trace_id'], \
                     ARRAY[{traceparent}::text, split_part({traceparent}::text, '-', 2)]) END"
    )
}

/// Enqueues `job` to run at `run_at` (now when `None`). Its trace continues
/// `traceparent` when one is given (a W3C value from elsewhere), else the
/// current span's.
pub async fn enqueue_at<'e, J: BackgroundJob>(
    db: impl PgExecutor<'e>,
    job: &J,
    run_at: Option<DateTime<Utc>>,
    traceparent: Option<&str>,
) -> Result<Option<String>, sqlx::Error> {
    let row = new_job(job).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let span = telemetry::send_span(J::NAME, Some(&row.id), 1);
    if let Some(parent) = traceparent.and_then(telemetry::parse_traceparent) {
        let _ = span.set_parent(parent);
    }
    let sql = format!(
        "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, \
         priority, metadata, idempotency_key) \
         VALUES ($1, $2, $3, 'Pending', 0, $4, coalesce($5, now()), $6, {}, $8){}",
        metadata_of("$7"),
        active_key_conflict()
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(row.id)
        .bind(J::NAME)
        .bind(row.payload)
        .bind(J::MAX_ATTEMPTS)
        .bind(run_at)
        .bind(J::PRIORITY)
        .bind(telemetry::traceparent(&span))
        .bind(row.key)
        .fetch_optional(db)
        .instrument(span)
        .await
}

/// Enqueues many jobs of one type in one statement; returns the ids inserted
/// (jobs whose key is already active, in the table or earlier in the batch, are left out).
/// One `send {queue}` span covers the batch; every job continues its trace.
pub async fn enqueue_many<'e, J: BackgroundJob>(
    db: impl PgExecutor<'e>,
    jobs: &[J],
) -> Result<Vec<String>, sqlx::Error> {
    let rows = jobs.iter().map(new_job).collect::<Result<Vec<_>, _>>().map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let (mut ids, mut payloads, mut keys) = (Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        ids.push(r.id);
        payloads.push(r.payload);
        keys.push(r.key);
    }
    let span = telemetry::send_span(J::NAME, None, ids.len());
    let sql = format!(
        "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, \
         priority, idempotency_key, metadata) \
         SELECT t.id, $2, t.job, 'Pending', 0, $4, now(), $5, t.key, {} \
         FROM unnest($1::text[], $3::bytea[], $6::text[]) AS t(id, job, key){}",
        metadata_of("$7"),
        active_key_conflict()
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(ids)
        .bind(J::NAME)
        .bind(payloads)
        .bind(J::MAX_ATTEMPTS)
        .bind(J::PRIORITY)
        .bind(keys)
        .bind(telemetry::traceparent(&span))
        .fetch_all(db)
        .instrument(span)
        .await
}

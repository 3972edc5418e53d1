//! Enqueuing jobs inside the caller's transaction.
//!
//! apalis's own `push` uses its pool, so a webhook's inbox row and its job
//! could not commit together; this writes the same row shape apalis reads.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use super::job::BackgroundJob;

/// The row values of one job, computed once so single and bulk inserts agree.
struct NewJob {
    id: String,
    payload: Vec<u8>,
    key: Option<String>,
}

fn new_job<J: BackgroundJob>(job: &J) -> Result<NewJob, serde_json::Error> {
    Ok(NewJob {
        id: ulid::Ulid::generate().to_string(),
        payload: serde_json::to_vec(job)?,
        key: job.dedup_key(),
    })
}

const ACTIVE_KEY_CONFLICT: &str = " ON CONFLICT (job_type, idempotency_key) \
     WHERE status IN ('Pending', 'Queued', 'Running', 'Failed') DO NOTHING RETURNING id";

/// Enqueues `job` to run now. Returns its id, or `None` when an active job
/// already holds the same dedup key.
pub async fn enqueue<'e, J: BackgroundJob>(
    db: impl PgExecutor<'e>,
    job: &J,
) -> Result<Option<String>, sqlx::Error> {
    enqueue_at(db, job, None, None).await
}

/// Enqueues `job` to run at `run_at` (now when `None`), with an optional
/// W3C trace id so the job's spans join the producer's trace.
pub async fn enqueue_at<'e, J: BackgroundJob>(
    db: impl PgExecutor<'e>,
    job: &J,
    run_at: Option<DateTime<Utc>>,
    trace_id: Option<&str>,
) -> Result<Option<String>, sqlx::Error> {
    let row = new_job(job).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let sql = format!(
        "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, \
         priority, metadata, idempotency_key) \
         VALUES ($1, $2, $3, 'Pending', 0, $4, coalesce($5, now()), $6, \
         CASE WHEN $7::text IS NULL THEN NULL ELSE hstore('trace_id', $7::text) END, $8){ACTIVE_KEY_CONFLICT}"
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(row.id)
        .bind(J::NAME)
        .bind(row.payload)
        .bind(J::MAX_ATTEMPTS)
        .bind(run_at)
        .bind(J::PRIORITY)
        .bind(trace_id)
        .bind(row.key)
        .fetch_optional(db)
        .await
}

/// Enqueues many jobs of one type in one statement; returns the ids inserted
/// (jobs whose key is already active, in the table or earlier in the batch, are left out).
pub async fn enqueue_many<'e, J: BackgroundJob>(
    db: impl PgExecutor<'e>,
    jobs: &[J],
) -> Result<Vec<String>, sqlx::Error> {
    let rows = jobs
        .iter()
        .map(new_job)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let (mut ids, mut payloads, mut keys) = (Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        ids.push(r.id);
        payloads.push(r.payload);
        keys.push(r.key);
    }
    let sql = format!(
        "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, \
         priority, idempotency_key) \
         SELECT t.id, $2, t.job, 'Pending', 0, $4, now(), $5, t.key \
         FROM unnest($1::text[], $3::bytea[], $6::text[]) AS t(id, job, key){ACTIVE_KEY_CONFLICT}"
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(ids)
        .bind(J::NAME)
        .bind(payloads)
        .bind(J::MAX_ATTEMPTS)
        .bind(J::PRIORITY)
        .bind(keys)
        .fetch_all(db)
        .await
}

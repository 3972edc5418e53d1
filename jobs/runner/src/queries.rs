//! Typed reads of the job table for the rest of the service: a job's
//! report, the active job holding a key, counts by state, readiness, and
//! waiting for the queues to drain. Callers name states as [`JobState`];
//! the table's spelling stays in this crate.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgExecutor, PgPool};
use std::time::{Duration, Instant};

use crate::JobState;

/// One job as the table holds it, with its arguments decoded as JSON.
#[derive(Debug, Clone)]
pub struct JobReport {
    pub id: String,
    pub queue: String,
    pub state: JobState,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub idempotency_key: Option<String>,
    /// The arguments (ids only, by construction of every job type).
    pub args: Value,
    /// `{"Ok": outcome}` after a success, `{"Err": {"class", "message", ...}}` after a failure.
    pub last_result: Option<Value>,
    /// The producer's W3C `traceparent`, when it was enqueued inside a trace.
    pub traceparent: Option<String>,
}

type ReportRow = (
    String,
    String,
    String,
    i32,
    i32,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
    Value,
    Option<Value>,
    Option<String>,
);

const REPORT_COLUMNS: &str = "id, job_type, status, attempts, max_attempts, run_at, done_at, idempotency_key, \
     convert_from(job, 'UTF8')::jsonb, last_result, metadata -> 'traceparent'";

fn report_of(row: ReportRow) -> Result<JobReport, sqlx::Error> {
    let (id, queue, status, attempts, max_attempts, run_at, done_at, idempotency_key, args, last_result, traceparent) =
        row;
    let state = JobState::from_db_status(&status)
        .ok_or_else(|| sqlx::Error::Protocol(format!("job {id} has an unknown status {status:?}")))?;
    Ok(JobReport {
        id,
        queue,
        state,
        attempts,
        max_attempts,
        run_at,
        done_at,
        idempotency_key,
        args,
        last_result,
        traceparent,
    })
}

/// Job `id`, or `None` when there is none (never enqueued, or pruned).
pub async fn report<'e>(db: impl PgExecutor<'e>, id: &str) -> Result<Option<JobReport>, sqlx::Error> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM apalis.jobs WHERE id = $1");
    let row: Option<ReportRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(db).await?;
    row.map(report_of).transpose()
}

/// Every job of `queue`, oldest first.
pub async fn reports_of<'e>(db: impl PgExecutor<'e>, queue: &str) -> Result<Vec<JobReport>, sqlx::Error> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM apalis.jobs WHERE job_type = $1 ORDER BY id");
    let rows: Vec<ReportRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(queue).fetch_all(db).await?;
    rows.into_iter().map(report_of).collect()
}

/// The state of job `id`, or `None` when there is none.
pub async fn state<'e>(db: impl PgExecutor<'e>, id: &str) -> Result<Option<JobState>, sqlx::Error> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM apalis.jobs WHERE id = $1").bind(id).fetch_optional(db).await?;
    Ok(status.as_deref().and_then(JobState::from_db_status))
}

/// The id of the active job of `queue` holding dedup key `key`, if any:
/// what a producer reports when its enqueue was a no-op.
pub async fn active_job_with_key<'e>(
    db: impl PgExecutor<'e>,
    queue: &str,
    key: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM apalis.jobs WHERE job_type = $1 AND idempotency_key = $2 AND status = ANY($3) LIMIT 1",
    )
    .bind(queue)
    .bind(crate::job::stored_key(key))
    .bind(JobState::db_statuses(&JobState::ACTIVE))
    .fetch_optional(db)
    .await
}

/// Jobs in any of `states`, of `queue` or of every queue.
pub async fn count<'e>(db: impl PgExecutor<'e>, queue: Option<&str>, states: &[JobState]) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM apalis.jobs WHERE ($1::text IS NULL OR job_type = $1) AND status = ANY($2)",
    )
    .bind(queue)
    .bind(JobState::db_statuses(states))
    .fetch_one(db)
    .await
}

/// Active jobs due to run within `within` (all active jobs when `None`).
pub async fn count_active_due<'e>(db: impl PgExecutor<'e>, within: Option<Duration>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM apalis.jobs WHERE status = ANY($1) \
         AND ($2::float8 IS NULL OR run_at < now() + make_interval(secs => $2))",
    )
    .bind(JobState::db_statuses(&JobState::ACTIVE))
    .bind(within.map(|d| d.as_secs_f64()))
    .fetch_one(db)
    .await
}

/// Makes every job deferred (`wait_until`) with a message containing
/// `reason` due now; returns how many. For a wait whose cause is gone before
/// its time, such as a re-authorization: the jobs run at the next poll
/// instead of at the end of their wait. No attempt is used.
pub async fn run_deferred_now<'e>(db: impl PgExecutor<'e>, reason: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE apalis.jobs SET run_at = now() \
          WHERE status = ANY($1) AND run_at > now() \
            AND last_result -> 'Err' ->> 'class' = 'wait_until' \
            AND strpos(last_result -> 'Err' ->> 'message', $2) > 0",
    )
    .bind(JobState::db_statuses(&[JobState::Pending]))
    .bind(reason)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// The queues did not drain in time.
#[derive(Debug, thiserror::Error)]
pub enum DrainError {
    #[error("{active} job(s) still active after {limit:?}; `cargo xtask jobs list --state pending` shows them")]
    StillActive { active: i64, limit: Duration },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Waits until no active job is due within `due_within` (every active job
/// when `None`; a job deferred further out is not waited for), polling every
/// 50 ms, for at most `limit`.
pub async fn wait_until_drained(
    pool: &PgPool,
    due_within: Option<Duration>,
    limit: Duration,
) -> Result<(), DrainError> {
    let start = Instant::now();
    loop {
        let active = count_active_due(pool, due_within).await?;
        if active == 0 {
            return Ok(());
        }
        if start.elapsed() > limit {
            return Err(DrainError::StillActive { active, limit });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Answers when the job tables exist (the migrations ran).
pub async fn schema_ready(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::raw_sql("SELECT 1 FROM apalis.jobs LIMIT 0; SELECT 1 FROM job_attempts LIMIT 0").execute(pool).await?;
    Ok(())
}

/// Deletes up to `limit` jobs that finished (done, dead, cancelled or discarded) more than
/// `older_than_days` ago, with their attempt history; returns how many.
pub async fn prune_finished<'e>(db: impl PgExecutor<'e>, older_than_days: i32, limit: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "WITH gone AS (DELETE FROM apalis.jobs WHERE id IN ( \
           SELECT id FROM apalis.jobs WHERE status = ANY($3) \
           AND done_at < now() - make_interval(days => $1) LIMIT $2) RETURNING id), \
         attempts AS (DELETE FROM job_attempts WHERE job_id IN (SELECT id FROM gone)) \
         SELECT count(*) FROM gone",
    )
    .bind(older_than_days)
    .bind(limit)
    .bind(JobState::db_statuses(&[JobState::Done, JobState::Dead, JobState::Cancelled, JobState::Discarded]))
    .fetch_one(db)
    .await
}

/// Creates or updates apalis's own tables (`apalis.jobs`, `apalis.workers`).
/// The hardening on top of them is in the project's migrations, which run
/// after these and share sqlx's `_sqlx_migrations` table.
pub async fn migrate_queue(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    let mut apalis = apalis_postgres::PostgresStorage::migrations();
    apalis.set_ignore_missing(true);
    apalis.run(pool).await
}

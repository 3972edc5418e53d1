//! Job inspection for `cargo xtask jobs`: per-queue stats, filtered lists
//! and one job's whole story. Everything is read from `job_overview` and
//! `job_attempts`; arguments are ids only by construction.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

use super::JobFilter;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct QueueStats {
    pub queue: String,
    pub pending: i64,
    pub running: i64,
    pub retrying: i64,
    pub dead: i64,
    pub done: i64,
    /// Seconds the oldest due pending job has waited.
    pub oldest_pending_secs: Option<f64>,
    pub attempts_last_hour: i64,
    pub failures_last_hour: i64,
    /// Paused by an operator: no worker claims its jobs.
    pub paused: bool,
}

pub async fn stats(pool: &PgPool) -> Result<Vec<QueueStats>, sqlx::Error> {
    sqlx::query_as(
        "WITH j AS (SELECT job_type AS queue, status, run_at FROM apalis.jobs), \
              a AS (SELECT queue, count(*) AS attempts, count(*) FILTER (WHERE outcome <> 'succeeded') AS failures \
                    FROM job_attempts WHERE finished_at > now() - interval '1 hour' GROUP BY queue), \
              q AS (SELECT queue FROM j UNION SELECT queue FROM a UNION SELECT queue FROM paused_queues) \
         SELECT q.queue, \
                count(*) FILTER (WHERE j.status IN ('Pending', 'Queued')) AS pending, \
                count(*) FILTER (WHERE j.status = 'Running') AS running, \
                count(*) FILTER (WHERE j.status = 'Failed') AS retrying, \
                count(*) FILTER (WHERE j.status = 'Killed') AS dead, \
                count(*) FILTER (WHERE j.status = 'Done') AS done, \
                extract(epoch FROM now() - min(j.run_at) FILTER (WHERE j.status = 'Pending' AND j.run_at <= now()))::float8 \
                    AS oldest_pending_secs, \
                coalesce(max(a.attempts), 0) AS attempts_last_hour, coalesce(max(a.failures), 0) AS failures_last_hour, \
                EXISTS (SELECT 1 FROM paused_queues p WHERE p.queue = q.queue) AS paused \
         FROM q LEFT JOIN j ON j.queue = q.queue LEFT JOIN a ON a.queue = q.queue \
         GROUP BY q.queue ORDER BY q.queue",
    )
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub queue: String,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub enqueued_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_error_class: Option<String>,
    pub record_type: Option<String>,
    pub record_id: Option<i64>,
}

/// Newest first. `state` is one of pending, running, retrying, done, dead, cancelled, discarded.
pub async fn list(
    pool: &PgPool,
    filter: &JobFilter,
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<JobRow>, sqlx::Error> {
    let sql = format!(
        "SELECT id, queue, state, attempts, max_attempts, enqueued_at, last_attempt_at, last_error_class, \
                record_type, record_id \
         FROM job_overview WHERE {} AND ($5::text IS NULL OR state = $5) \
         ORDER BY coalesce(last_attempt_at, enqueued_at) DESC NULLS LAST, id DESC LIMIT $6",
        JobFilter::WHERE
    );
    filter.bind(sqlx::query_as(sqlx::AssertSqlSafe(sql))).bind(state).bind(limit).fetch_all(pool).await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Attempt {
    pub attempt: i32,
    pub outcome: String,
    pub error_class: Option<String>,
    pub message: Option<String>,
    pub worker_id: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub trace_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct JobDetail {
    pub id: String,
    pub queue: String,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub enqueued_at: Option<DateTime<Utc>>,
    pub run_at: DateTime<Utc>,
    pub record_type: Option<String>,
    pub record_id: Option<i64>,
    pub trace: Option<String>,
    pub args: Value,
    /// Who discarded it, when and why, while it is discarded.
    pub discarded_by: Option<String>,
    pub discarded_at: Option<DateTime<Utc>>,
    pub discard_reason: Option<String>,
    #[sqlx(skip)]
    pub history: Vec<Attempt>,
}

pub async fn show(pool: &PgPool, id: &str) -> Result<Option<JobDetail>, sqlx::Error> {
    let detail: Option<JobDetail> = sqlx::query_as(
        "SELECT id, queue, state, attempts, max_attempts, enqueued_at, run_at, record_type, record_id, trace, args, \
                discarded_by, discarded_at, discard_reason \
         FROM job_overview WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(mut detail) = detail else { return Ok(None) };
    detail.history = attempts(pool, id).await?;
    Ok(Some(detail))
}

/// Every attempt of job `id`, first to last.
pub async fn attempts(pool: &PgPool, id: &str) -> Result<Vec<Attempt>, sqlx::Error> {
    sqlx::query_as(
        "SELECT attempt, outcome, error_class, message, worker_id, started_at, finished_at, trace_id \
         FROM job_attempts WHERE job_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(pool)
    .await
}

//! After the requests: what the jobs they enqueued did. A payload fault must
//! fail once as `permanent` or `bad_payload`; a job that failed more than
//! once, or with `retryable`, `timeout` or `panic`, or was orphaned, is a
//! poison job: it would retry for hours on input that can never succeed.

use std::time::Duration;

use sqlx::PgPool;

#[derive(Debug, Default)]
pub struct JobFigures {
    /// Jobs in the table (every queue).
    pub jobs: i64,
    pub attempts: i64,
    /// `queue job: classes (message head)` of each poison job; messages carry ids only.
    pub poison: Vec<String>,
}

/// Waits up to `limit` for the jobs to drain, then reads the job tables.
pub async fn drain_and_check(pool: &PgPool, limit: Duration) -> anyhow::Result<JobFigures> {
    job_runner::queries::wait_until_drained(pool, Some(Duration::from_secs(1)), limit).await?;
    check(pool).await
}

const POISON: &str = "\
    SELECT queue || ' ' || job_id || ': ' || string_agg(coalesce(error_class, outcome), ',' ORDER BY id) \
           || ' (' || left(coalesce(max(message), '-'), 160) || ')' \
    FROM job_attempts GROUP BY queue, job_id \
    HAVING count(*) FILTER (WHERE outcome = 'failed') > 1 \
        OR bool_or(error_class IN ('retryable', 'timeout', 'panic')) \
        OR bool_or(outcome = 'orphaned') \
    ORDER BY min(id)";

pub async fn check(pool: &PgPool) -> anyhow::Result<JobFigures> {
    let jobs = job_runner::queries::count(pool, None, &job_runner::JobState::ALL).await?;
    let attempts = sqlx::query_scalar("SELECT count(*) FROM job_attempts").fetch_one(pool).await?;
    let poison = sqlx::query_scalar(POISON).fetch_all(pool).await?;
    Ok(JobFigures { jobs, attempts, poison })
}

//! Polling until the database shows an expected state. Deadlines are
//! generous: they catch a hang, they do not measure speed.

use sqlx::PgPool;
use std::time::{Duration, Instant};

/// Polls `sql` (one scalar) every 50 ms until `done` holds; panics after `limit`.
pub async fn until<T>(pool: &PgPool, sql: &'static str, limit: Duration, done: impl Fn(&T) -> bool) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin + std::fmt::Debug,
{
    let start = Instant::now();
    loop {
        let v: T = sqlx::query_scalar(sql).fetch_one(pool).await.expect("poll query");
        if done(&v) {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting on `{sql}`; last value {v:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until job `id` has `status`.
pub async fn job_status(pool: &PgPool, id: &str, status: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        let s: String = sqlx::query_scalar("SELECT status FROM apalis.jobs WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .expect("job exists");
        if s == status {
            return;
        }
        assert!(start.elapsed() < limit, "job {id} is {s}, expected {status} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The error class and message of a job's only attempt.
pub async fn only_attempt_error(pool: &PgPool, job_id: &str) -> (String, String) {
    sqlx::query_as("SELECT error_class, message FROM job_attempts WHERE job_id = $1")
        .bind(job_id)
        .fetch_one(pool)
        .await
        .expect("exactly one attempt recorded")
}

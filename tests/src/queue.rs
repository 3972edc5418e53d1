//! The job table as tests see it, through the runner's typed queries:
//! waiting for a job's state, draining, and the counts tests assert.

use job_runner::{JobState, queries};
use sqlx::PgPool;
use std::time::{Duration, Instant};

/// Waits until job `id` is in `state`; panics after `limit`.
pub async fn wait_for_state(pool: &PgPool, id: &str, state: JobState, limit: Duration) {
    let start = Instant::now();
    loop {
        let now = queries::state(pool, id).await.expect("job state query");
        let now = now.unwrap_or_else(|| panic!("job {id} does not exist"));
        if now == state {
            return;
        }
        assert!(start.elapsed() < limit, "job {id} is {now}, expected {state} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Job `id`, which must exist.
pub async fn report(pool: &PgPool, id: &str) -> queries::JobReport {
    queries::report(pool, id).await.expect("job report query").unwrap_or_else(|| panic!("job {id} does not exist"))
}

/// Every job of `queue`, oldest first.
pub async fn of_queue(pool: &PgPool, queue: &str) -> Vec<queries::JobReport> {
    queries::reports_of(pool, queue).await.expect("job reports query")
}

/// Jobs in `states`, of `queue` or of every queue.
pub async fn count(pool: &PgPool, queue: Option<&str>, states: &[JobState]) -> i64 {
    queries::count(pool, queue, states).await.expect("job count query")
}

/// Jobs that have not succeeded, of every queue.
pub async fn count_not_done(pool: &PgPool) -> i64 {
    let not_done: Vec<JobState> = JobState::ALL.into_iter().filter(|s| *s != JobState::Done).collect();
    count(pool, None, &not_done).await
}

/// Every job in the table.
pub async fn count_all(pool: &PgPool) -> i64 {
    count(pool, None, &JobState::ALL).await
}

/// Every attempt of job `id`, first to last.
pub async fn attempts(pool: &PgPool, id: &str) -> Vec<job_runner::ops::Attempt> {
    job_runner::ops::attempts(pool, id).await.expect("attempts query")
}

/// The error class and message of a job's only attempt.
pub async fn only_attempt_error(pool: &PgPool, id: &str) -> (String, String) {
    let mut attempts = attempts(pool, id).await;
    assert_eq!(attempts.len(), 1, "job {id} should have exactly one attempt");
    let a = attempts.remove(0);
    (a.error_class.unwrap_or_default(), a.message.unwrap_or_default())
}

/// Waits until `n` attempts (of any job) are recorded; panics after `limit`.
pub async fn wait_for_attempts(pool: &PgPool, n: i64, limit: Duration) {
    crate::wait::until::<i64>(pool, "SELECT count(*) FROM job_attempts", limit, |c| *c >= n).await;
}

/// Makes job `id` due now (skips its backoff or deferral).
pub async fn make_due(pool: &PgPool, id: &str) {
    assert!(job_runner::testing::make_due(pool, id).await.expect("make due"), "job {id} does not exist");
}

/// Dead jobs as `queue id (class: message)`, for a failure message.
async fn dead_jobs(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT queue || ' ' || id || ' (' || coalesce(error_class, '-') || ': ' || coalesce(message, '-') || ')' \
         FROM dead_jobs ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .expect("dead jobs query")
}

/// Waits until no job due within a second is active; then, unless
/// `allow_dead`, fails the test if any job died.
pub async fn drain(pool: &PgPool, allow_dead: bool) {
    queries::wait_until_drained(pool, Some(Duration::from_secs(1)), Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("jobs did not drain: {e}"));
    if !allow_dead {
        let dead = dead_jobs(pool).await;
        assert!(dead.is_empty(), "jobs died that the test did not expect: {dead:#?}");
    }
}

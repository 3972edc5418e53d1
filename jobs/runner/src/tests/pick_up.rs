//! The one-statement claim takes what apalis's `get_jobs` took, in its
//! order, and a stopping worker hands back what it claimed but never started.

use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection, PgPool};
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use super::db::FreshDb;
use crate::{BackgroundJob, JobError, JobOutcome, JobState, Registry, RunnerConfig, claim::claim};

/// Inserts a job of `queue` as the table would hold it.
async fn insert(pool: &PgPool, queue: &str, status: &str, attempts: i32, priority: i32, due_in_secs: i32) -> String {
    let id = ulid::Ulid::generate().to_string();
    sqlx::query(
        "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, priority) \
         VALUES ($1, $2, convert_to('{}', 'UTF8'), $3, $4, 3, now() + make_interval(secs => $5), $6)",
    )
    .bind(&id)
    .bind(queue)
    .bind(status)
    .bind(attempts)
    .bind(f64::from(due_in_secs))
    .bind(priority)
    .execute(pool)
    .await
    .expect("insert job");
    id
}

/// The claiming worker's row, which `lock_by` references.
async fn register_worker(pool: &PgPool) {
    sqlx::query("INSERT INTO apalis.workers (id, worker_type, storage_name) VALUES ('worker-1', 'q', 'test')")
        .execute(pool)
        .await
        .expect("insert worker");
}

async fn claimed_ids(db: impl sqlx::PgExecutor<'_>, batch: usize) -> Vec<String> {
    let tasks = claim(db, "worker-1", "q", batch).await.expect("claim");
    tasks.iter().map(|t| t.task_id().expect("claimed tasks have ids").to_string()).collect()
}

async fn status_and_lock(pool: &PgPool, id: &str) -> (String, Option<String>, bool) {
    sqlx::query_as("SELECT status, lock_by, lock_at IS NOT NULL FROM apalis.jobs WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("job row")
}

#[tokio::test]
async fn a_claim_takes_due_claimable_jobs_by_priority_then_due_time_up_to_its_batch() {
    let db = FreshDb::new().await;
    register_worker(&db.pool).await;
    let p = &db.pool;
    let a = insert(p, "q", "Pending", 0, 0, -3).await;
    let urgent = insert(p, "q", "Pending", 0, 5, -1).await;
    let oldest = insert(p, "q", "Pending", 0, 0, -5).await;
    let retry = insert(p, "q", "Failed", 2, 0, -4).await;
    let used_up = insert(p, "q", "Failed", 3, 9, -10).await;
    let later = insert(p, "q", "Pending", 0, 9, 60).await;
    for status in ["Queued", "Running", "Done", "Killed", "Cancelled", "Discarded"] {
        insert(p, "q", status, 0, 9, -10).await;
    }
    insert(p, "other", "Pending", 0, 9, -10).await;

    assert_eq!(claimed_ids(p, 3).await, [urgent.clone(), oldest, retry], "priority first, then the longest due");
    assert_eq!(status_and_lock(p, &urgent).await, ("Queued".into(), Some("worker-1".into()), true));
    assert_eq!(claimed_ids(p, 10).await, [a], "the rest, up to the batch");
    assert!(claimed_ids(p, 10).await.is_empty(), "nothing else is claimable");
    assert_eq!(status_and_lock(p, &used_up).await.0, "Failed", "attempts used up: never claimed again");
    assert_eq!(status_and_lock(p, &later).await.0, "Pending", "not due yet");
    db.pool.close().await;
}

#[tokio::test]
async fn a_claim_skips_rows_another_claim_holds_and_commits_on_its_own() {
    let db = FreshDb::new().await;
    register_worker(&db.pool).await;
    let held = insert(&db.pool, "q", "Pending", 0, 1, -1).await;
    let free = insert(&db.pool, "q", "Pending", 0, 0, -1).await;
    let mut other = db.pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM apalis.jobs WHERE id = $1 FOR UPDATE").bind(&held).execute(&mut *other).await.unwrap();

    let mut conn: PgConnection = db.pool.acquire().await.unwrap().detach();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut conn).await.unwrap();
    assert_eq!(
        claimed_ids(&mut conn, 10).await,
        std::slice::from_ref(&free),
        "the locked row is skipped, not waited for"
    );
    // Seen as claimed from elsewhere while the claiming connection sits idle: the claim committed by itself.
    assert_eq!(status_and_lock(&db.pool, &free).await.0, "Queued");
    let state: String = sqlx::query_scalar("SELECT state FROM pg_stat_activity WHERE pid = $1")
        .bind(pid)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(state, "idle", "no transaction left open");

    other.rollback().await.unwrap();
    assert_eq!(claimed_ids(&mut conn, 10).await, [held]);
    conn.close().await.unwrap();
    db.pool.close().await;
}

#[tokio::test]
async fn a_paused_queue_is_not_claimed() {
    let db = FreshDb::new().await;
    register_worker(&db.pool).await;
    let id = insert(&db.pool, "q", "Pending", 0, 0, -1).await;
    sqlx::query("INSERT INTO paused_queues (queue, paused_by) VALUES ('q', 'test')").execute(&db.pool).await.unwrap();
    assert!(claimed_ids(&db.pool, 10).await.is_empty());
    assert_eq!(status_and_lock(&db.pool, &id).await, ("Pending".into(), None, false));
    db.pool.close().await;
}

/// Runs one at a time, so a claimed batch waits in the worker's buffer.
#[derive(Serialize, Deserialize)]
struct OneAtATime;

impl BackgroundJob for OneAtATime {
    const NAME: &'static str = "test_one_at_a_time";
    const CONCURRENCY: usize = 1;
    type Context = Arc<AtomicUsize>;

    async fn run(self, started: Self::Context) -> Result<JobOutcome, JobError> {
        started.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(JobOutcome::applied(0))
    }
}

async fn count(pool: &PgPool, states: &[JobState]) -> i64 {
    crate::queries::count(pool, Some(OneAtATime::NAME), states).await.unwrap()
}

#[tokio::test]
async fn a_stopping_worker_hands_back_the_jobs_it_claimed_but_never_started() {
    let db = FreshDb::new().await;
    crate::enqueue_many(&db.pool, &[OneAtATime, OneAtATime, OneAtATime, OneAtATime]).await.unwrap();
    let started = Arc::new(AtomicUsize::new(0));
    let config = RunnerConfig { batch_size: 10, poll_interval: Duration::from_millis(100), ..RunnerConfig::default() };
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let registry = Registry::new().register::<OneAtATime>();
    let runner = tokio::spawn(registry.run(db.pool.clone(), started.clone(), config, shutdown));
    let t0 = Instant::now();
    while started.load(Ordering::SeqCst) == 0 {
        assert!(t0.elapsed() < Duration::from_secs(20), "no job started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(count(&db.pool, &[JobState::Pending]).await, 0, "one claim took the whole batch");
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(20), runner).await.expect("the runner stops").unwrap();

    let ran = started.load(Ordering::SeqCst) as i64;
    assert_eq!(count(&db.pool, &[JobState::Done]).await, ran, "what started finished");
    assert_eq!(count(&db.pool, &[JobState::Pending]).await, 4 - ran, "the rest are handed back");
    let (attempts, history): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT coalesce(sum(attempts), 0) FROM apalis.jobs WHERE status = 'Pending')::bigint, \
                (SELECT count(*) FROM job_attempts WHERE outcome <> 'succeeded')",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((attempts, history), (0, 0), "handing back uses no attempt");
    db.pool.close().await;
}

//! `cargo xtask jobs pause|resume`: a paused queue's jobs wait, on every
//! runner on the database, while other queues run; enqueues go on; running
//! jobs finish; a resume lets the backlog run.

use integration_tests::db::fresh_db;
use integration_tests::operator::{ACTOR, actions, queue_metric};
use integration_tests::process::WorkerProcess;
use integration_tests::queue;
use integration_tests::test_jobs::{LongRunning, Noop, Sleepy, fast_config, registry, start};
use job_runner::ops::{self, PauseOutcome};
use job_runner::{JobState, RunnerConfig, enqueue};
use sqlx::PgPool;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);
const PAUSED: &str = "drchrono_sync_queue_paused";

async fn pause(pool: &PgPool, queue: &str) -> PauseOutcome {
    ops::pause_queue(pool, queue, ACTOR, &registry().names()).await.unwrap()
}

async fn resume(pool: &PgPool, queue: &str) -> PauseOutcome {
    ops::resume_queue(pool, queue, ACTOR, &registry().names()).await.unwrap()
}

async fn noops(pool: &PgPool, tags: &[&str]) -> Vec<String> {
    let mut ids = Vec::new();
    for tag in tags {
        let id = enqueue(pool, &Noop { tag: tag.to_string(), key: None }).await.unwrap();
        ids.push(id.expect("a paused queue still takes enqueues"));
    }
    ids
}

/// Runs a `Sleepy` on its own queue to its end: the paused queue's workers,
/// woken by their jobs' inserts, have polled many times meanwhile.
async fn another_queue_runs(pool: &PgPool) {
    let id = enqueue(pool, &Sleepy { ms: 300 }).await.unwrap().unwrap();
    queue::wait_for_state(pool, &id, JobState::Done, LIMIT).await;
}

/// Waits until the process `process_id` has a worker registered: it is
/// fetching, so a pause that held only for this process would show.
async fn wait_registered(pool: &PgPool, process_id: &str) {
    let start = std::time::Instant::now();
    loop {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM apalis.workers WHERE starts_with(id, $1)")
            .bind(process_id)
            .fetch_one(pool)
            .await
            .unwrap();
        if n > 0 {
            return;
        }
        assert!(start.elapsed() < LIMIT, "process {process_id} registered no worker within {LIMIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn assert_untouched(pool: &PgPool, ids: &[String]) {
    for id in ids {
        assert_eq!(queue::report(pool, id).await.state, JobState::Pending, "job {id} of the paused queue waits");
        assert!(queue::attempts(pool, id).await.is_empty(), "job {id} was never tried");
    }
}

#[tokio::test]
async fn a_paused_queue_waits_while_others_run_and_runs_after_resume() {
    let db = fresh_db().await;
    let w = start(&db.pool, fast_config());
    assert_eq!(pause(&db.pool, "test_noop").await, PauseOutcome::Paused);
    assert_eq!(pause(&db.pool, "test_noop").await, PauseOutcome::AlreadyPaused);
    assert!(ops::is_paused(&db.pool, "test_noop").await.unwrap());
    assert!(!ops::is_paused(&db.pool, "test_sleepy").await.unwrap());

    let held = noops(&db.pool, &["held-1", "held-2"]).await;
    another_queue_runs(&db.pool).await;
    assert_untouched(&db.pool, &held).await;
    assert_eq!(w.ctx.ran(), ["sleepy"]);
    let stats = ops::stats(&db.pool).await.unwrap();
    let noop = stats.iter().find(|s| s.queue == "test_noop").unwrap();
    assert_eq!((noop.paused, noop.pending), (true, 2));
    assert!(!stats.iter().find(|s| s.queue == "test_sleepy").unwrap().paused);
    assert_eq!(queue_metric(&db.pool, PAUSED, "test_noop").await, 1.0, "alerts can tell a pause from an outage");

    assert_eq!(resume(&db.pool, "test_noop").await, PauseOutcome::Resumed);
    for id in &held {
        queue::wait_for_state(&db.pool, id, JobState::Done, LIMIT).await;
    }
    assert!(ops::paused_queues(&db.pool).await.unwrap().is_empty());
    assert_eq!(queue_metric(&db.pool, PAUSED, "test_noop").await, 0.0);
    assert_eq!(resume(&db.pool, "test_noop").await, PauseOutcome::NotPaused);

    let outcomes: Vec<(String, String)> = actions(&db.pool).await.into_iter().map(|r| (r.0, r.4)).collect();
    let expected = [
        ("pause_queue", "paused"),
        ("pause_queue", "already paused"),
        ("resume_queue", "resumed"),
        ("resume_queue", "was not paused"),
    ];
    assert_eq!(outcomes, expected.map(|(a, o)| (a.to_string(), o.to_string())));
}

#[tokio::test]
async fn a_pause_holds_for_a_second_runner_process_too() {
    let db = fresh_db().await;
    let here = RunnerConfig { queues: Some(vec!["test_sleepy".into()]), ..fast_config() };
    let _sleepy_runner = start(&db.pool, here);
    let other = WorkerProcess::spawn(env!("CARGO_BIN_EXE_test-worker"), &db.url, "test_noop").await;
    wait_registered(&db.pool, &other.process_id).await;

    pause(&db.pool, "test_noop").await;
    let held = noops(&db.pool, &["a", "b", "c"]).await;
    another_queue_runs(&db.pool).await;
    assert_untouched(&db.pool, &held).await;

    resume(&db.pool, "test_noop").await;
    for id in &held {
        queue::wait_for_state(&db.pool, id, JobState::Done, LIMIT).await;
        let worker = queue::attempts(&db.pool, id).await.remove(0).worker_id.unwrap_or_default();
        assert!(worker.starts_with(&other.process_id), "run by the other process after resume: {worker}");
    }
}

#[tokio::test]
async fn a_job_running_when_its_queue_is_paused_finishes() {
    let db = fresh_db().await;
    sqlx::raw_sql("CREATE TABLE test_marks (tag text NOT NULL)").execute(&db.pool).await.unwrap();
    let _w = start(&db.pool, fast_config());
    let id = enqueue(&db.pool, &LongRunning { secs: 1, tag: "long".into() }).await.unwrap().unwrap();
    queue::wait_for_state(&db.pool, &id, JobState::Running, LIMIT).await;
    pause(&db.pool, "test_long").await;
    queue::wait_for_state(&db.pool, &id, JobState::Done, LIMIT).await;
}

#[tokio::test]
async fn an_unknown_queue_is_refused_with_the_known_ones_and_audited() {
    let db = fresh_db().await;
    let PauseOutcome::UnknownQueue { known } = pause(&db.pool, "test_nope").await else {
        panic!("an unknown queue is refused");
    };
    assert!(known.contains(&"test_noop".to_string()) && known.contains(&"test_sleepy".to_string()), "{known:?}");
    assert!(ops::paused_queues(&db.pool).await.unwrap().is_empty());
    let rows = actions(&db.pool).await;
    assert_eq!((rows[0].0.as_str(), rows[0].4.as_str()), ("pause_queue", "refused: unknown queue"));
    assert_eq!(rows[0].5["queue"], "test_nope");
}

#[tokio::test]
async fn the_scheduler_records_its_ticks_while_their_queue_is_paused() {
    let db = fresh_db().await;
    pause(&db.pool, "test_noop").await;
    let _runner = start(&db.pool, fast_config());
    let _scheduler = WorkerProcess::spawn(env!("CARGO_BIN_EXE_test-scheduler"), &db.url, "* * * * * *").await;
    let first_tick = "SELECT coalesce((SELECT job_ids[1] FROM scheduler_ticks WHERE schedule = 'test_tick' \
                      AND cardinality(job_ids) = 1 ORDER BY tick_at LIMIT 1), '')";
    let job = integration_tests::wait::until::<String>(&db.pool, first_tick, LIMIT, |id| !id.is_empty()).await;
    another_queue_runs(&db.pool).await;
    assert_untouched(&db.pool, std::slice::from_ref(&job)).await;

    resume(&db.pool, "test_noop").await;
    queue::wait_for_state(&db.pool, &job, JobState::Done, LIMIT).await;
}

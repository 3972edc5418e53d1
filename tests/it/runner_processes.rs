//! Dead workers, poison jobs, outages and unique worker ids (defects 2, 3, 4),
//! with real processes killed by SIGKILL and a real connection cut.

use integration_tests::queue;
use integration_tests::{
    db::fresh_db,
    process::WorkerProcess,
    proxy::PgProxy,
    test_jobs::{Crash, LongRunning, Noop, fast_config, start},
};
use job_runner::JobState;
use job_runner::enqueue;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(40);

async fn spawn_worker(url: &str, queues: &str) -> WorkerProcess {
    WorkerProcess::spawn(env!("CARGO_BIN_EXE_test-worker"), url, queues).await
}

async fn create_marks(pool: &sqlx::PgPool) {
    sqlx::raw_sql("CREATE TABLE test_marks (tag text NOT NULL)").execute(pool).await.unwrap();
}

async fn attempts_of(pool: &sqlx::PgPool, id: &str) -> Vec<(String, String)> {
    queue::attempts(pool, id).await.into_iter().map(|a| (a.outcome, a.worker_id.unwrap_or_default())).collect()
}

#[tokio::test]
async fn a_job_left_by_a_killed_worker_is_rescued_and_finished_by_another() {
    let db = fresh_db().await;
    create_marks(&db.pool).await;
    let mut first = spawn_worker(&db.url, "test_long").await;
    let id = enqueue(&db.pool, &LongRunning { secs: 3, tag: "once".into() }).await.unwrap().unwrap();
    queue::wait_for_state(&db.pool, &id, JobState::Running, LIMIT).await;
    first.kill().await;

    let second = spawn_worker(&db.url, "test_long").await;
    assert_ne!(first.process_id, second.process_id, "each process has its own worker id");
    queue::wait_for_state(&db.pool, &id, JobState::Done, LIMIT).await;

    let history = attempts_of(&db.pool, &id).await;
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0].0, "orphaned");
    assert!(history[0].1.starts_with(&first.process_id), "{history:?}");
    assert_eq!(history[1].0, "succeeded");
    assert!(history[1].1.starts_with(&second.process_id), "{history:?}");
    let marks: i64 = sqlx::query_scalar("SELECT count(*) FROM test_marks").fetch_one(&db.pool).await.unwrap();
    assert_eq!(marks, 1);
}

#[tokio::test]
async fn a_job_that_kills_its_process_ends_dead_after_max_attempts() {
    let db = fresh_db().await;
    let id = enqueue(&db.pool, &Crash).await.unwrap().unwrap();
    // A process on another queue: its reaper rescues the crashed workers' jobs.
    let _rescuer = spawn_worker(&db.url, "test_noop").await;
    let mut worker = spawn_worker(&db.url, "test_crash").await;
    let mut crashes = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let status = queue::report(&db.pool, &id).await.state;
        if status == JobState::Dead {
            break;
        }
        assert!(crashes <= 3 && std::time::Instant::now() < deadline, "still {status} after {crashes} crashes");
        // Skip the rescue backoff instead of sleeping through it.
        if status == JobState::Pending {
            queue::make_due(&db.pool, &id).await;
        }
        tokio::select! {
            crashed = worker.wait_crash() => {
                assert!(crashed);
                crashes += 1;
                worker = spawn_worker(&db.url, "test_crash").await;
            }
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
    assert_eq!(crashes, 3, "max attempts is 3");
    let history = attempts_of(&db.pool, &id).await;
    assert_eq!(history.iter().filter(|(o, _)| o == "orphaned").count(), 3, "{history:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let dead = queue::report(&db.pool, &id).await;
    assert_eq!(dead.state, JobState::Dead, "dead stays dead");
    assert_eq!(dead.last_result.unwrap()["Err"]["class"], "worker_lost", "the rescue's class is a stored field");
}

#[tokio::test]
async fn workers_come_back_after_a_database_outage_and_log_it_sparingly() {
    let db = fresh_db().await;
    let proxy = PgProxy::start(&db.url).await;
    let worker = spawn_worker(&proxy.url_for(&db.url), "test_noop").await;
    let before = enqueue(&db.pool, &Noop { tag: "before".into(), key: None }).await.unwrap().unwrap();
    queue::wait_for_state(&db.pool, &before, JobState::Done, LIMIT).await;

    proxy.cut();
    let outage = Duration::from_secs(4);
    tokio::time::sleep(outage).await;
    proxy.restore();

    let after = enqueue(&db.pool, &Noop { tag: "after".into(), key: None }).await.unwrap().unwrap();
    queue::wait_for_state(&db.pool, &after, JobState::Done, LIMIT).await;
    let logged = worker.stderr_lines().iter().filter(|l| l.contains("job worker stopped")).count();
    assert!(logged >= 1, "the outage was not reported");
    assert!(logged <= outage.as_secs() as usize + 2, "{logged} outage lines in {outage:?}");
}

#[tokio::test]
async fn a_long_job_on_a_busy_worker_is_not_taken_for_an_orphan() {
    let db = fresh_db().await;
    create_marks(&db.pool).await;
    let _a = start(&db.pool, fast_config());
    let id = enqueue(&db.pool, &LongRunning { secs: 6, tag: "long".into() }).await.unwrap().unwrap();
    queue::wait_for_state(&db.pool, &id, JobState::Running, LIMIT).await;
    // A second replica would rescue the job if the first stopped heartbeating (orphan after 2 s).
    let _b = start(&db.pool, fast_config());
    queue::wait_for_state(&db.pool, &id, JobState::Done, LIMIT).await;
    let history = attempts_of(&db.pool, &id).await;
    assert_eq!(history.len(), 1, "rescued while running: {history:?}");
}

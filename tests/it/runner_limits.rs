//! Dedup, concurrency, timeout, panics and pick-up (defects 7, 10 and 11).

use chrono::Utc;
use integration_tests::queue;
use integration_tests::{
    db::fresh_db,
    test_jobs::{Noop, Panics, Sleepy, fast_config, start},
    wait,
};
use job_runner::JobState;
use job_runner::{enqueue, enqueue_at, enqueue_many};
use std::{sync::atomic::Ordering, time::Duration};

const LIMIT: Duration = Duration::from_secs(20);

fn keyed(tag: &str, key: &str) -> Noop {
    Noop { tag: tag.into(), key: Some(key.into()) }
}

#[tokio::test]
async fn one_active_job_per_key_then_the_key_is_free_again() {
    let db = fresh_db().await;
    let first = enqueue(&db.pool, &keyed("a", "patient:1")).await.unwrap();
    assert!(first.is_some());
    assert_eq!(enqueue(&db.pool, &keyed("b", "patient:1")).await.unwrap(), None, "pending: redelivery is a no-op");
    assert!(enqueue(&db.pool, &keyed("c", "patient:2")).await.unwrap().is_some(), "another key enqueues");
    let batch = enqueue_many(&db.pool, &[keyed("d", "patient:3"), keyed("e", "patient:3")]).await.unwrap();
    assert_eq!(batch.len(), 1, "duplicates inside one batch collapse too");

    let w = start(&db.pool, fast_config());
    queue::wait_for_state(&db.pool, first.as_deref().unwrap(), JobState::Done, LIMIT).await;
    let again = enqueue(&db.pool, &keyed("f", "patient:1")).await.unwrap();
    assert!(again.is_some(), "once done, the same key enqueues again");
    queue::wait_for_state(&db.pool, again.as_deref().unwrap(), JobState::Done, LIMIT).await;
    let mut ran = w.ctx.ran();
    ran.sort();
    assert_eq!(ran, vec!["a", "c", "d", "f"]);
}

#[tokio::test]
async fn a_running_job_also_blocks_its_key() {
    let db = fresh_db().await;
    let id = enqueue(&db.pool, &keyed("a", "k")).await.unwrap().unwrap();
    job_runner::testing::force_state(&db.pool, &id, JobState::Running).await.unwrap();
    assert_eq!(enqueue(&db.pool, &keyed("b", "k")).await.unwrap(), None);
}

#[tokio::test]
async fn a_queue_never_runs_more_than_its_concurrency_and_does_run_in_parallel() {
    let db = fresh_db().await;
    enqueue_many(&db.pool, &(0..9).map(|_| Sleepy { ms: 300 }).collect::<Vec<_>>()).await.unwrap();
    let w = start(&db.pool, fast_config());
    wait::until::<i64>(&db.pool, "SELECT count(*) FROM job_overview WHERE state = 'done'", LIMIT, |n| *n == 9).await;
    let max = w.ctx.max_in_flight.load(Ordering::SeqCst);
    assert!(max <= 3, "Sleepy allows 3 at once, saw {max}");
    assert!(max >= 2, "attempts should overlap, saw {max}");
}

#[tokio::test]
async fn an_attempt_past_its_timeout_fails_as_timeout() {
    let db = fresh_db().await;
    let _w = start(&db.pool, fast_config());
    let id = enqueue(&db.pool, &Sleepy { ms: 10_000 }).await.unwrap().unwrap();
    queue::wait_for_attempts(&db.pool, 1, LIMIT).await;
    assert_eq!(queue::attempts(&db.pool, &id).await[0].error_class.as_deref(), Some("timeout"));
}

#[tokio::test]
async fn a_panicking_handler_fails_its_job_and_the_worker_lives_on() {
    let db = fresh_db().await;
    let w = start(&db.pool, fast_config());
    let bad = enqueue(&db.pool, &Panics).await.unwrap().unwrap();
    queue::wait_for_state(&db.pool, &bad, JobState::Dead, LIMIT).await;
    let good = enqueue(&db.pool, &Noop { tag: "after-panic".into(), key: None }).await.unwrap().unwrap();
    queue::wait_for_state(&db.pool, &good, JobState::Done, LIMIT).await;
    assert_eq!(w.ctx.ran(), vec!["after-panic"]);
    let (class, message) = queue::only_attempt_error(&db.pool, &bad).await;
    assert_eq!((class.as_str(), message.as_str()), ("panic", "handler bug for job test_panics"));
}

#[tokio::test]
async fn an_idle_worker_is_woken_by_notify_not_by_its_poll() {
    let db = fresh_db().await;
    let mut config = fast_config();
    config.poll_interval = Duration::from_secs(30);
    let _w = start(&db.pool, config);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let id = enqueue(&db.pool, &Noop { tag: "n".into(), key: None }).await.unwrap().unwrap();
    // The 30 s poll cannot be what runs it within 10 s.
    queue::wait_for_state(&db.pool, &id, JobState::Done, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn a_delayed_job_runs_at_its_time_not_before() {
    let db = fresh_db().await;
    let _w = start(&db.pool, fast_config());
    let at = Utc::now() + chrono::Duration::milliseconds(1500);
    let id = enqueue_at(&db.pool, &Noop { tag: "later".into(), key: None }, Some(at), None).await.unwrap().unwrap();
    queue::wait_for_state(&db.pool, &id, JobState::Done, LIMIT).await;
    let started = queue::attempts(&db.pool, &id).await[0].started_at;
    assert!(started >= at, "started {started} before its time {at}");
}

#[tokio::test]
async fn a_process_holds_one_listen_connection_whatever_its_queue_count() {
    let db = fresh_db().await;
    let _w = start(&db.pool, fast_config());
    let listeners = wait::until::<i64>(
        &db.pool,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        LIMIT,
        |n| *n >= 1,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((listeners, later), (1, 1), "eight queues share one listener");
}

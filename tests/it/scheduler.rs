//! The cron scheduler across real processes (DESIGN.md, defect 8): N
//! replicas give one job per tick, a replica back from downtime fires only
//! the latest missed tick, and a database outage does not kill the loop.

use ::scheduler::{Cron, Tick};
use chrono::{DateTime, Duration as Span, Utc};
use integration_tests::queue;
use integration_tests::{db::fresh_db, process::WorkerProcess, proxy::PgProxy};
use sqlx::PgPool;
use std::time::Duration;

const EVERY_2S: &str = "*/2 * * * * *";

async fn spawn_scheduler(url: &str, cron: &str) -> WorkerProcess {
    WorkerProcess::spawn(env!("CARGO_BIN_EXE_test-scheduler"), url, cron).await
}

fn key(at: DateTime<Utc>) -> String {
    Tick { schedule: "test_tick", at }.key()
}

/// Every fired tick of `test_tick`: time, firing process, jobs.
async fn ticks(pool: &PgPool) -> Vec<(DateTime<Utc>, String, Vec<String>)> {
    sqlx::query_as(
        "SELECT tick_at, fired_by, job_ids FROM scheduler_ticks WHERE schedule = 'test_tick' ORDER BY tick_at",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Every `test_noop` job: id and dedup key.
async fn jobs(pool: &PgPool) -> Vec<(String, Option<String>)> {
    let mut jobs: Vec<_> =
        queue::of_queue(pool, "test_noop").await.into_iter().map(|j| (j.id, j.idempotency_key)).collect();
    jobs.sort_by(|a, b| a.1.cmp(&b.1));
    jobs
}

/// Each tick row names exactly one job, keyed by its tick, and no job is
/// left over: one job per tick, none twice.
async fn assert_one_job_per_tick(pool: &PgPool, rows: &[(DateTime<Utc>, String, Vec<String>)]) {
    let jobs = jobs(pool).await;
    assert_eq!(jobs.len(), rows.len(), "jobs {jobs:?} for ticks {rows:?}");
    for (at, _, ids) in rows {
        assert_eq!(ids.len(), 1, "tick {at} has jobs {ids:?}");
        let job = jobs.iter().find(|(id, _)| *id == ids[0]).expect("the tick's job exists");
        assert_eq!(job.1.as_deref(), Some(key(*at).as_str()));
    }
}

/// Waits until `test_tick` has more than `n` rows.
async fn wait_rows_over(pool: &PgPool, n: usize, limit: Duration) {
    let start = std::time::Instant::now();
    while ticks(pool).await.len() <= n {
        assert!(start.elapsed() < limit, "no new tick within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn three_scheduler_processes_fire_each_tick_exactly_once() {
    let db = fresh_db().await;
    // A worker finishes each job at once, so the runner's "one active job
    // per key" cannot be what stops a second job: only the tick's row can.
    let mut worker = WorkerProcess::spawn(env!("CARGO_BIN_EXE_test-worker"), &db.url, "test_noop").await;
    let before_spawn = Utc::now();
    let (mut a, mut b, mut c) = tokio::join!(
        spawn_scheduler(&db.url, EVERY_2S),
        spawn_scheduler(&db.url, EVERY_2S),
        spawn_scheduler(&db.url, EVERY_2S),
    );
    // A first start fires the latest tick; once that row is in, a scheduler
    // loop is surely running, however slowly the processes came up.
    wait_rows_over(&db.pool, 0, Duration::from_secs(60)).await;
    let started = Utc::now();
    let cron: Cron = EVERY_2S.parse().unwrap();
    // The next three ticks. The wait for the last is generous: a loaded
    // machine may fire a tick late, never twice.
    let first = cron.next_after(started).unwrap();
    let expected: Vec<_> = (0..3).map(|i| first + Span::seconds(2 * i)).collect();
    let last = expected[2];
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !ticks(&db.pool).await.iter().any(|r| r.0 >= last) {
        assert!(std::time::Instant::now() < deadline, "tick {last} not fired within a minute");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for p in [&mut a, &mut b, &mut c, &mut worker] {
        p.kill().await;
    }

    let rows = ticks(&db.pool).await;
    let fired: Vec<_> = rows.iter().map(|r| r.0).collect();
    for t in &expected {
        assert!(fired.contains(t), "tick {t} not fired; fired {fired:?}");
    }
    // No gaps and nothing extra: consecutive ticks, the first one no older
    // than the latest before the processes started (a first start fires it).
    for pair in fired.windows(2) {
        assert_eq!(pair[1] - pair[0], Span::seconds(2), "{fired:?}");
    }
    assert!(fired[0] >= cron.latest_at_or_before(before_spawn).unwrap(), "{fired:?}");
    assert_one_job_per_tick(&db.pool, &rows).await;
    let firers: std::collections::BTreeSet<_> = rows.iter().map(|r| r.1.as_str()).collect();
    eprintln!("{} ticks fired by {} of 3 processes", rows.len(), firers.len());
}

#[tokio::test]
async fn a_scheduler_back_from_downtime_fires_only_the_latest_missed_tick() {
    let db = fresh_db().await;
    // Every minute, so no new tick is due while the test looks.
    let cron: Cron = "0 * * * * *".parse().unwrap();
    let latest = cron.latest_at_or_before(Utc::now()).unwrap();
    // Down for three ticks: the last fired one was three minutes before.
    let stale = latest - Span::minutes(3);
    sqlx::query("INSERT INTO scheduler_ticks (schedule, tick_at, fired_by) VALUES ('test_tick', $1, 'earlier')")
        .bind(stale)
        .execute(&db.pool)
        .await
        .unwrap();

    let mut p = spawn_scheduler(&db.url, "0 * * * * *").await;
    let spawned = Utc::now();
    wait_rows_over(&db.pool, 1, Duration::from_secs(10)).await;
    // Time for a storm, if there were one.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    p.kill().await;
    let ended = Utc::now();

    let rows = ticks(&db.pool).await;
    assert_eq!(rows[0].0, stale);
    let fired: Vec<_> = rows[1..].iter().map(|r| r.0).collect();
    // The latest missed tick fired at once, not at the next tick; when the
    // test crossed a minute boundary the newer tick is the latest one.
    let soon_after = cron.latest_at_or_before(spawned + Span::seconds(1)).unwrap();
    assert!(fired[0] >= latest && fired[0] <= soon_after, "{fired:?}");
    if cron.latest_at_or_before(ended).unwrap() == latest {
        assert_eq!(fired, vec![latest], "exactly the latest missed tick, once");
    }
    assert_one_job_per_tick(&db.pool, &rows[1..]).await;

    // The tick stays fired after its job is done: a replica starting now
    // does not fire it again.
    job_runner::testing::finish_all(&db.pool).await.unwrap();
    let mut again = spawn_scheduler(&db.url, "0 * * * * *").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    again.kill().await;
    if cron.latest_at_or_before(Utc::now()).unwrap() == latest {
        assert_eq!(ticks(&db.pool).await.len(), 2, "a fired tick never fires again");
        assert_eq!(jobs(&db.pool).await.len(), 1, "a done job's tick is not enqueued again");
    }
    for older in [stale + Span::minutes(1), stale + Span::minutes(2)] {
        let keyed = jobs(&db.pool).await.into_iter().filter(|j| j.1.as_deref() == Some(key(older).as_str()));
        assert_eq!(keyed.count(), 0, "older missed tick {older} was enqueued");
    }
}

#[tokio::test]
async fn a_database_outage_is_logged_once_and_the_loop_recovers() {
    let db = fresh_db().await;
    let proxy = PgProxy::start(&db.url).await;
    let mut p = spawn_scheduler(&proxy.url_for(&db.url), EVERY_2S).await;
    wait_rows_over(&db.pool, 0, Duration::from_secs(10)).await;

    proxy.cut();
    let cut_at = Utc::now();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let before = ticks(&db.pool).await.len();
    proxy.restore();
    // Backoff is at most 4 s by now, then the latest missed tick fires.
    wait_rows_over(&db.pool, before, Duration::from_secs(15)).await;

    let rows = ticks(&db.pool).await;
    let after_cut: Vec<_> = rows.iter().filter(|r| r.0 > cut_at).collect();
    let (first, _, _) = after_cut[0];
    let fired_at: DateTime<Utc> =
        sqlx::query_scalar("SELECT fired_at FROM scheduler_ticks WHERE schedule = 'test_tick' AND tick_at = $1")
            .bind(first)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let cron: Cron = EVERY_2S.parse().unwrap();
    assert!(*first >= cut_at + Span::seconds(4), "a tick inside the outage cannot have fired: {first}");
    // `fired_at` is the transaction's start, a few ms after the loop read the clock.
    let latest = cron.latest_at_or_before(fired_at - Span::milliseconds(50)).unwrap();
    assert!(*first >= latest, "recovery fires the latest missed tick ({latest}), not {first}");
    assert_one_job_per_tick(&db.pool, &rows).await;

    let lines = p.stderr_lines();
    let failures = lines.iter().filter(|l| l.contains("scheduler tick failed")).count();
    assert_eq!(failures, 1, "one error line per minute of outage, not one per retry: {lines:#?}");
    assert!(lines.iter().any(|l| l.contains("scheduler recovered")), "{lines:#?}");
    p.kill().await;
}

//! Lists walked into the tables, and convergence under every fault mode.

use integration_tests::app::{TestApp, spawn_app, spawn_app_with};
use integration_tests::db;
use integration_tests::queue;
use job_runner::JobState;
use job_runner::enqueue;
use jobs::{catalog::SyncRecords, domain::RecordKind};
use sandbox::{Faults, Kind, RateLimit};
use serde_json::Value;
use std::time::{Duration, Instant};

async fn sync_everything(app: &TestApp) {
    for kind in RecordKind::ALL {
        enqueue(app.pool(), &SyncRecords::all(kind)).await.unwrap();
    }
}

/// Waits for every job to finish, skipping scheduled waits (backoff, 429
/// deferrals) instead of sleeping through them.
async fn drain_fast(app: &TestApp) {
    let start = Instant::now();
    loop {
        job_runner::testing::make_all_due(app.pool()).await.unwrap();
        let active = queue::count(app.pool(), None, &JobState::ACTIVE).await;
        if active == 0 {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(90), "{active} jobs still active");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every mirrored row's raw JSON, per table, in id order.
async fn snapshot(app: &TestApp) -> Vec<(String, Vec<(i64, Value)>)> {
    let mut out = Vec::new();
    for kind in RecordKind::ALL {
        let sql = format!("SELECT id, raw FROM {} ORDER BY id", kind.table());
        let rows: Vec<(i64, Value)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(app.pool()).await.unwrap();
        out.push((kind.table().to_string(), rows));
    }
    out
}

#[tokio::test]
async fn a_walk_lands_every_record_at_the_minimum_call_count() {
    let app = spawn_app_with(true, 60).await;
    app.sandbox.reset_counters();
    enqueue(app.pool(), &SyncRecords::all(RecordKind::Patient)).await.unwrap();
    enqueue(app.pool(), &SyncRecords::all(RecordKind::Appointment)).await.unwrap();
    drain_fast(&app).await;
    let patients: i64 = sqlx::query_scalar("SELECT count(*) FROM patients").fetch_one(app.pool()).await.unwrap();
    let appointments: i64 =
        sqlx::query_scalar("SELECT count(*) FROM appointments").fetch_one(app.pool()).await.unwrap();
    assert_eq!(patients as usize, app.sandbox.ids(Kind::Patient).len());
    assert_eq!(appointments as usize, app.sandbox.ids(Kind::Appointment).len());
    let batch = 2 + app.sandbox.config().bulk_polls_in_progress as u64;
    assert_eq!(app.sandbox.calls_to("/api/patients"), batch, "one batch: the POST, polls, one page of 1,000");
    assert_eq!(app.sandbox.calls_to("/api/patients_list"), batch, "a whole walk of patients reads a batch");
    let appt_pages = (appointments as u64).div_ceil(sandbox::BULK_MAX_PAGE_SIZE as u64);
    assert_eq!(app.sandbox.calls_to("/api/appointments_list"), appt_pages, "pages of 1,000, as the spec allows");
    assert_eq!(app.sandbox.calls_to("/api/appointments"), appt_pages);
}

/// A server that caps pages below what was asked costs more pages, never an
/// error: the walk follows `next` whatever size comes back.
#[tokio::test]
async fn a_server_that_caps_pages_lower_costs_more_pages_and_loses_nothing() {
    let app = spawn_app_with(true, 60).await;
    app.sandbox.set_faults(sandbox::Faults { page_cap: Some(7), ..Default::default() });
    app.sandbox.reset_counters();
    enqueue(app.pool(), &SyncRecords::all(RecordKind::Appointment)).await.unwrap();
    drain_fast(&app).await;
    let appointments: i64 =
        sqlx::query_scalar("SELECT count(*) FROM appointments").fetch_one(app.pool()).await.unwrap();
    assert_eq!(appointments as usize, app.sandbox.ids(Kind::Appointment).len());
    assert_eq!(app.sandbox.calls_to("/api/appointments_list"), (appointments as u64).div_ceil(7));
}

#[tokio::test]
async fn every_fault_mode_at_once_converges_to_the_fault_free_tables() {
    let clean = spawn_app_with(true, 40).await;
    sync_everything(&clean).await;
    drain_fast(&clean).await;
    let expected = snapshot(&clean).await;
    assert!(expected.iter().all(|(_, rows)| !rows.is_empty()), "every table has rows");

    let storm = spawn_app_with(false, 40).await;
    storm.sandbox.expire_access_token();
    storm.sandbox.set_faults(Faults {
        rate_limited: Some(RateLimit { retry_after_header: true, seconds: 1 }),
        html_once: true,
        fail_page: Some(2),
        slow: Some(Duration::from_millis(20)),
        invalid_grant: false,
        page_cap: Some(20),
        omit_updated_at: false,
    });
    storm.start_workers();
    sync_everything(&storm).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    storm.sandbox.set_faults(Faults {
        rate_limited: Some(RateLimit { retry_after_header: false, seconds: 1 }),
        fail_page: Some(3),
        html_once: true,
        slow: Some(Duration::from_millis(20)),
        invalid_grant: false,
        page_cap: Some(20),
        omit_updated_at: false,
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    storm.sandbox.set_faults(Faults {
        fail_page: Some(1),
        slow: Some(Duration::from_millis(20)),
        ..Default::default()
    });
    drain_fast(&storm).await;

    let dead = queue::count(storm.pool(), None, &[JobState::Dead]).await;
    assert_eq!(dead, 0, "no job died in the storm");
    let deferred: i64 = sqlx::query_scalar("SELECT count(*) FROM job_attempts WHERE outcome = 'deferred'")
        .fetch_one(storm.pool())
        .await
        .unwrap();
    assert!(deferred > 0, "the 429s deferred jobs");
    assert!(storm.sandbox.refreshes() >= 1, "the expired token was refreshed");
    assert_eq!(snapshot(&storm).await, expected);
}

#[tokio::test]
async fn a_resync_of_unchanged_data_writes_nothing() {
    let app = spawn_app().await;
    enqueue(app.pool(), &SyncRecords::all(RecordKind::Patient)).await.unwrap();
    drain_fast(&app).await;
    let before: i64 = db::count_rows(app.pool(), "change_log").await;
    enqueue(app.pool(), &SyncRecords::all(RecordKind::Patient)).await.unwrap();
    drain_fast(&app).await;
    let after: i64 = db::count_rows(app.pool(), "change_log").await;
    assert_eq!(before, after, "identical rows are not rewritten");
}

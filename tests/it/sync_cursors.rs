//! Cursors move only when a walk completes; each walk leaves a sync_runs row.

use integration_tests::db::fresh_db;
use integration_tests::queue;
use job_runner::JobState;
use job_runner::{RunnerConfig, enqueue};
use jobs::{JobContext, JobSettings, catalog::SyncRecords, domain::RecordKind};
use sandbox::{Faults, Kind, Sandbox, SandboxConfig};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

fn cursor_walk() -> SyncRecords {
    SyncRecords { cursor: Some("appointments".into()), ..SyncRecords::all(RecordKind::Appointment) }
}

async fn runs(pool: &sqlx::PgPool) -> Vec<(String, i64, i64)> {
    sqlx::query_as("SELECT outcome, seen, pages FROM sync_runs ORDER BY id").fetch_all(pool).await.unwrap()
}

#[tokio::test]
async fn a_walk_that_fails_halfway_leaves_its_cursor_and_the_retry_completes_it() {
    let db = fresh_db().await;
    let sandbox = Sandbox::spawn(SandboxConfig { patients: 30, ..Default::default() }).await.unwrap();
    let drchrono = jobs::drchrono::ClientSettings {
        api_base: sandbox.base_url(),
        access_token: Some(sandbox.current_tokens().0),
        // No page re-requests: one 500 fails the walk, as a longer outage would.
        page_retry_delays: vec![],
        ..Default::default()
    };
    let settings = JobSettings { drchrono, ..Default::default() };
    let ctx = JobContext::new(db.pool.clone(), settings);
    let (_stop, rx) = tokio::sync::watch::channel(false);
    let config = RunnerConfig {
        heartbeat_interval: Duration::from_secs(1),
        missed_heartbeats: 2,
        poll_interval: Duration::from_millis(100),
        ..Default::default()
    };
    tokio::spawn(jobs::registry::all().run(db.pool.clone(), ctx, config, rx));

    // Pages of 20 (DrChrono may cap below the 250 asked for), the fourth failing.
    sandbox.set_faults(Faults { fail_page: Some(3), page_cap: Some(20), ..Default::default() });
    let id = enqueue(&db.pool, &cursor_walk()).await.unwrap().unwrap();
    queue::wait_for_attempts(&db.pool, 1, LIMIT).await;
    let cursor: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT resume_from FROM sync_cursors").fetch_optional(&db.pool).await.unwrap();
    assert_eq!(cursor, None, "a failed walk does not move the cursor");
    assert_eq!(runs(&db.pool).await, vec![("failed".to_string(), 60, 3)], "three pages of 20 applied, then the 500");

    queue::make_due(&db.pool, &id).await;
    queue::wait_for_state(&db.pool, &id, JobState::Done, LIMIT).await;
    let total = sandbox.ids(Kind::Appointment).len() as i64;
    let runs = runs(&db.pool).await;
    assert_eq!(runs[1].0, "completed");
    assert_eq!(runs[1].1, total, "the retry walks everything");
    let (resume_from, newest): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "SELECT (SELECT resume_from FROM sync_cursors), (SELECT max(source_updated_at) FROM appointments)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(resume_from, newest - jobs::domain::sync_state::OVERLAP);

    // The next walk asks only for what changed since the cursor.
    sandbox.reset_counters();
    let changed = sandbox.ids(Kind::Appointment)[0];
    sandbox.modify(Kind::Appointment, changed, |a| {
        a.insert("status".into(), "Confirmed".into());
    });
    let again = enqueue(&db.pool, &cursor_walk()).await.unwrap().unwrap();
    queue::wait_for_state(&db.pool, &again, JobState::Done, LIMIT).await;
    assert_eq!(sandbox.calls(), 1, "an incremental walk of one change is one page");
    let status: String = sqlx::query_scalar("SELECT status FROM appointments WHERE id = $1")
        .bind(changed)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(status, "Confirmed");
}

//! The lookups of a webhook batch probe indexes even with the plan Postgres
//! caches for a prepared statement on a new, never-analyzed database. A
//! join planned while the tables were empty scanned the whole inbox at
//! every batch, and kept doing so as the inbox grew.

use integration_tests::db::fresh_db;
use jobs::inbox::{Admission, Delivery, Outcome, admit_drchrono_all};
use serde_json::json;
use sqlx::PgConnection;
use tracing::Span;

/// A `PATIENT_MODIFY` body for patient `id`, changed at `updated_at`.
fn body(id: i64, updated_at: &str) -> Vec<u8> {
    let object = json!({ "id": id, "updated_at": updated_at, "first_name": "Test", "last_name": "Patient" });
    serde_json::to_vec(&json!({ "receiver": { "id": 4242 }, "object": object })).unwrap()
}

fn delivery<'a>(delivery_id: &'a str, body: &'a [u8]) -> Delivery<'a> {
    Delivery {
        source: "drchrono",
        delivery_id: Some(delivery_id),
        event: Some("PATIENT_MODIFY"),
        object_id: None,
        record_kind: None,
        patient_id: None,
        object_updated_at: None,
        time_zone: "America/New_York",
        headers: json!({ "x-drchrono-event": "PATIENT_MODIFY" }),
        body,
        verified: true,
        replay_of: None,
    }
}

async fn admit(tx: &mut PgConnection, deliveries: Vec<Delivery<'_>>) -> Vec<Admission> {
    let spans = vec![Span::none(); deliveries.len()];
    admit_drchrono_all(tx, deliveries, &spans).await.expect("the batch is admitted")
}

/// Sequential scans of `schema.table` by this connection not yet reported
/// to the server's statistics: compare two readings in one transaction.
async fn seq_scans(tx: &mut PgConnection, schema: &str, table: &str) -> i64 {
    sqlx::query_scalar("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE schemaname = $1 AND relname = $2")
        .bind(schema)
        .bind(table)
        .fetch_one(tx)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_batch_finds_earlier_copies_and_active_jobs_by_index_with_generic_plans() {
    let db = fresh_db().await;
    let (first, second, third) =
        (body(1001, "2026-12-07T10:00:00"), body(1002, "2026-12-07T10:00:00"), body(1003, "2026-12-07T10:00:00"));
    let mut tx = db.pool.begin().await.unwrap();
    let earlier = admit(&mut tx, vec![delivery("d-1", &first), delivery("d-2", &second)]).await;
    tx.commit().await.unwrap();

    let mut tx = db.pool.begin().await.unwrap();
    sqlx::raw_sql("SET LOCAL plan_cache_mode = force_generic_plan").execute(&mut *tx).await.unwrap();
    // A copy of d-1, a new delivery of d-2's change (its job is still
    // pending), and a new one.
    let batch = vec![delivery("d-1", &first), delivery("d-2b", &second), delivery("d-3", &third)];
    let before = (seq_scans(&mut tx, "public", "webhook_deliveries").await, seq_scans(&mut tx, "apalis", "jobs").await);
    let admitted = admit(&mut tx, batch).await;
    let after = (seq_scans(&mut tx, "public", "webhook_deliveries").await, seq_scans(&mut tx, "apalis", "jobs").await);

    let outcomes: Vec<(Outcome, Option<&str>)> = admitted.iter().map(|a| (a.outcome, a.job_id.as_deref())).collect();
    assert_eq!(outcomes[0], (Outcome::Duplicate, earlier[0].job_id.as_deref()), "a copy points at its first's job");
    assert_eq!(
        outcomes[1],
        (Outcome::Duplicate, earlier[1].job_id.as_deref()),
        "a change already queued is a duplicate"
    );
    assert_eq!(outcomes[2].0, Outcome::Accepted);
    assert_eq!(after.0 - before.0, 0, "the inbox was scanned whole");
    assert_eq!(after.1 - before.1, 0, "the job table was scanned whole");
    tx.rollback().await.unwrap();
}

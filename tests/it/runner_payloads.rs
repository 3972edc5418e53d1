//! Bad payloads fail one job only; queue names are stable (defects 5 and 6).

use integration_tests::queue;
use integration_tests::{
    db::fresh_db,
    test_jobs::{Noop, fast_config, registry, start},
};
use job_runner::JobState;
use job_runner::{BackgroundJob, enqueue};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

async fn insert_raw(pool: &sqlx::PgPool, id: &str, queue: &str, payload: &[u8]) -> Result<(), sqlx::Error> {
    job_runner::testing::insert_raw(pool, id, queue, payload, 5).await
}

#[tokio::test]
async fn a_payload_of_the_wrong_shape_fails_its_job_and_the_queue_runs_on() {
    let db = fresh_db().await;
    let bad = ulid::Ulid::generate().to_string();
    insert_raw(&db.pool, &bad, Noop::NAME, br#"{"not_a_tag": 1}"#).await.unwrap();
    let w = start(&db.pool, fast_config());
    queue::wait_for_state(&db.pool, &bad, JobState::Dead, LIMIT).await;

    let good = enqueue(&db.pool, &Noop { tag: "after-bad".into(), key: None }).await.unwrap().unwrap();
    queue::wait_for_state(&db.pool, &good, JobState::Done, LIMIT).await;
    assert_eq!(w.ctx.ran(), vec!["after-bad".to_string()]);

    let (class, message) = queue::only_attempt_error(&db.pool, &bad).await;
    assert_eq!(class, "bad_payload");
    assert_eq!(message, "arguments do not decode as test_noop: missing field `tag`");
}

#[tokio::test]
async fn bytes_that_are_not_json_never_enter_the_queue() {
    let db = fresh_db().await;
    let err = insert_raw(&db.pool, &ulid::Ulid::generate().to_string(), Noop::NAME, b"\xff\xfe not json")
        .await
        .expect_err("the table refuses non-JSON payloads");
    assert!(err.to_string().contains("invalid"), "{err}");
}

#[tokio::test]
async fn queue_names_are_the_stable_snake_case_job_names() {
    let names = registry().names();
    for name in &names {
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{name} is not snake_case"
        );
    }
    let prod = jobs::registry::all().names();
    let expected = [
        "upsert_record",
        "fetch_record",
        "sync_records",
        "sync_patient_lists",
        "cleanup",
        "decrypt_gridhook",
        "link_note",
        "apply_partner_appointment_event",
        "archive_pdf",
        "push_appointment",
        "push_patient",
    ];
    assert_eq!(prod, expected);

    let db = fresh_db().await;
    enqueue(&db.pool, &Noop { tag: "t".into(), key: None }).await.unwrap();
    assert_eq!(queue::count_all(&db.pool).await, 1);
    assert_eq!(
        queue::of_queue(&db.pool, "test_noop").await.len(),
        1,
        "the row's queue is the job's NAME, not a Rust type path"
    );
}

/// A dedup key past an index entry's size limit (a sender's value can be
/// that long) still enqueues and still deduplicates: the table holds its
/// SHA-256, not a database error.
#[tokio::test]
async fn a_dedup_key_too_long_for_the_index_still_enqueues_once() {
    let db = fresh_db().await;
    let key = "k".repeat(10_000);
    let job = Noop { tag: "long-key".into(), key: Some(key.clone()) };
    let first = enqueue(&db.pool, &job).await.expect("a long key enqueues").expect("inserted");
    assert_eq!(enqueue(&db.pool, &job).await.unwrap(), None, "the same key is a duplicate");
    let holder = job_runner::queries::active_job_with_key(&db.pool, Noop::NAME, &key).await.unwrap();
    assert_eq!(holder, Some(first), "the producer finds the job holding its long key");
}

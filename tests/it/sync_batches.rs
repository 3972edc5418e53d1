//! Whole walks of patients and notes through DrChrono's bulk batches: the
//! wait for a batch is a durable job wait, a forgotten batch is started
//! again without losing what was listed, and the verbose-only fields a
//! batch brings (insurance) or a verbose walk brings (an allergy's
//! description) survive plain lists and webhooks.

use integration_tests::app::{TestApp, spawn_app_with};
use job_runner::enqueue;
use jobs::{catalog::SyncRecords, domain::RecordKind};
use sandbox::Kind;
use serde_json::Value;

async fn run(app: &TestApp, job: &SyncRecords) -> String {
    let id = enqueue(app.pool(), job).await.unwrap().expect("enqueued");
    app.drain_jobs().await;
    id
}

async fn outcomes(app: &TestApp, kind: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT outcome FROM sync_runs WHERE kind = $1 ORDER BY id")
        .bind(kind)
        .fetch_all(app.pool())
        .await
        .unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(app.pool()).await.unwrap()
}

#[tokio::test]
async fn a_whole_patient_walk_waits_for_its_batch_as_a_job_wait_and_brings_insurance() {
    let app = spawn_app_with(true, 20).await;
    app.sandbox.set_bulk_polls_in_progress(3);
    app.sandbox.reset_counters();
    let job = run(&app, &SyncRecords::all(RecordKind::Patient)).await;
    assert_eq!(outcomes(&app, "patient").await, ["deferred", "deferred", "deferred", "completed"]);
    let attempts = count(
        &app,
        &format!("SELECT count(*) FROM job_attempts WHERE job_id = '{job}' AND error_class = 'wait_until'"),
    )
    .await;
    assert_eq!(attempts, 3, "each poll that found the batch in progress was a wait, not a failure");
    assert_eq!(app.sandbox.calls_to("/api/patients_list"), 1 + 3 + 1, "the POST, three polls, one page");
    assert_eq!(app.sandbox.bulk_batches_started(), 1, "the waits polled the same batch");
    assert_eq!(count(&app, "SELECT count(*) FROM drchrono_batches").await, 0, "a finished walk leaves no batch");
    let insured =
        count(&app, "SELECT count(*) FROM patients WHERE raw->'primary_insurance'->>'insurance_company' <> ''").await;
    assert_eq!(insured, 20, "the batch is verbose: insurance arrives with it");
}

#[tokio::test]
async fn a_forgotten_batch_is_started_again_and_what_was_listed_still_counts() {
    let app = spawn_app_with(false, 20).await;
    app.sandbox.set_faults(sandbox::Faults { page_cap: Some(7), ..Default::default() });
    let job = enqueue(app.pool(), &SyncRecords::all(RecordKind::Patient)).await.unwrap().unwrap();
    let first = app.sandbox.ids(Kind::Patient)[0];
    // The walk's first run read page 1 of a batch DrChrono has since forgotten.
    sqlx::query(
        "INSERT INTO drchrono_batches (walk_key, path, uuid, walk_started, next_page, listed) \
         VALUES ($1, '/api/patients_list', 'forgotten', now() - interval '1 minute', 2, ARRAY[$2::bigint])",
    )
    .bind(&job)
    .bind(first)
    .execute(app.pool())
    .await
    .unwrap();
    app.start_workers();
    app.drain_jobs().await;
    assert_eq!(app.sandbox.bulk_batches_started(), 1, "a new batch replaced the forgotten one");
    assert_eq!(count(&app, "SELECT count(*) FROM patients").await, 20);
    assert_eq!(count(&app, "SELECT count(*) FROM patients WHERE removed_at IS NOT NULL").await, 0);
    assert_eq!(outcomes(&app, "patient").await.last().map(String::as_str), Some("completed"));
}

#[tokio::test]
async fn verbose_only_fields_survive_a_plain_webhook_and_a_plain_walk() {
    let app = spawn_app_with(true, 10).await;
    run(&app, &SyncRecords { full: true, ..SyncRecords::all(RecordKind::Patient) }).await;
    run(&app, &SyncRecords { verbose: true, ..SyncRecords::all(RecordKind::Allergy) }).await;
    let described = "SELECT count(*) FROM allergies WHERE description IS NOT NULL AND raw ? 'description'";
    let allergies = count(&app, "SELECT count(*) FROM allergies").await;
    assert!(allergies > 0);
    assert_eq!(count(&app, described).await, allergies, "a verbose walk brings every description");
    let changes_before = count(&app, "SELECT count(*) FROM change_log").await;

    // A webhook carries the plain patient; a plain walk, the plain allergies.
    let patient = app.sandbox.patient_ids()[0];
    let plain: Value = app.sandbox.patient(patient).unwrap();
    assert!(plain.get("primary_insurance").is_none(), "the webhook's object has no insurance");
    app.drchrono().send("PATIENT_MODIFY", &plain).await.unwrap();
    app.drain_jobs().await;
    app.sandbox.reset_counters();
    run(&app, &SyncRecords::all(RecordKind::Allergy)).await;
    let insurer: Option<String> =
        sqlx::query_scalar("SELECT raw->'primary_insurance'->>'insurance_company' FROM patients WHERE id = $1")
            .bind(patient)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert!(insurer.is_some_and(|i| !i.is_empty()), "the stored insurance is kept");
    assert_eq!(count(&app, described).await, allergies, "the stored descriptions are kept");
    assert_eq!(count(&app, "SELECT count(*) FROM change_log").await, changes_before, "and nothing reads as changed");
    assert_eq!(app.sandbox.calls_to("/api/allergies"), 1, "every allergy described: no follow-up walk");
}

#[tokio::test]
async fn a_plain_allergy_walk_fetches_the_missing_descriptions_at_the_fewest_calls() {
    let app = spawn_app_with(true, 10).await;
    app.sandbox.reset_counters();
    run(&app, &SyncRecords::all(RecordKind::Allergy)).await;
    let allergies = count(&app, "SELECT count(*) FROM allergies").await;
    let patients = count(&app, "SELECT count(DISTINCT patient_id) FROM allergies").await;
    assert_eq!(count(&app, "SELECT count(*) FROM allergies WHERE description IS NULL").await, 0);
    let plain_pages = (allergies as u64).div_ceil(250);
    let verbose_walk = (allergies as u64).div_ceil(25);
    let follow_up = (patients as u64).min(verbose_walk);
    assert_eq!(app.sandbox.calls_to("/api/allergies"), plain_pages + follow_up);
}

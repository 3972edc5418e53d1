//! Deep Cura Gridhooks: stored encrypted, decrypted by `decrypt_gridhook`,
//! linked to their clinical note by `link_note` whichever arrives first.

mod bad_input;
mod manual_link;
mod versions;

use chrono::NaiveDate;
use integration_tests::app::{TestApp, spawn_app, spawn_app_configured};
use job_runner::enqueue;
use jobs::{
    catalog::SyncRecords,
    deepcura::{Scheme, open_raw, open_text},
    domain::RecordKind,
};
use sandbox::GridhookScheme;
use serde_json::{Value, json};

/// (link_status, clinical_note_id, link_method, link_candidates) of a session.
type LinkRow = (String, Option<i64>, Option<String>, Vec<i64>);

async fn link_of(app: &TestApp, session: &str) -> LinkRow {
    sqlx::query_as(
        "SELECT link_status, clinical_note_id, link_method, link_candidates FROM deepcura_notes WHERE session_id = $1",
    )
    .bind(session)
    .fetch_one(app.pool())
    .await
    .expect("the Gridhook's note is stored")
}

/// Adds a visit at `hour` on `day` for the sandbox's first patient; returns (appointment, note).
fn new_visit(app: &TestApp, day: NaiveDate, hour: u32) -> (i64, i64) {
    let patient = app.sandbox.patient_ids()[0];
    app.sandbox.add_visit(patient, day.and_hms_opt(hour, 0, 0).unwrap()).expect("patient has visits to copy")
}

/// DrChrono delivers the note (locking it), and its upsert runs.
async fn deliver_note(app: &TestApp, note: i64) {
    let object = app.sandbox.lock_note(note, true).unwrap();
    assert_eq!(app.drchrono().send("CLINICAL_NOTE_LOCK", &object).await.unwrap().status(), 200);
    app.drain_jobs().await;
}

async fn send_gridhook(app: &TestApp, scheme: GridhookScheme, gridhook: &Value) -> Value {
    let resp = app.deepcura(scheme).send(gridhook).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    app.drain_jobs().await;
    body
}

#[tokio::test]
async fn a_gridhook_after_its_note_links_at_once_and_is_stored_sealed() {
    let app = spawn_app().await;
    let (appointment, note) = new_visit(&app, NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(), 9);
    deliver_note(&app, note).await;
    let gridhook = app.sandbox.gridhook_for(appointment).unwrap();
    let answer = send_gridhook(&app, GridhookScheme::Sha256Iv, &gridhook).await;
    assert_eq!(answer["status"], "accepted");
    assert!(answer["job_id"].as_str().is_some_and(|j| !j.is_empty()), "{answer}");

    let session = gridhook["session_id"].as_str().unwrap();
    assert_eq!(link_of(&app, session).await, ("linked".into(), Some(note), Some("appointment".into()), vec![note]));
    let (id, plan, codes, sealed): (i64, Option<String>, Value, Vec<u8>) =
        sqlx::query_as("SELECT id, soap_plan, icd10_codes, raw_sealed FROM deepcura_notes WHERE session_id = $1")
            .bind(session)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(plan, None, "the note's text is never stored in the clear");
    let key = integration_tests::app::test_keys();
    let text = open_text(&mut app.pool().acquire().await.unwrap(), id, &key).await.unwrap().unwrap();
    assert_eq!(text.plan.as_deref(), gridhook["soap"]["plan"].as_str(), "an explicit unseal reads it");
    assert_eq!(text.transcript.as_deref(), gridhook["transcript"].as_str());
    assert_eq!(codes, gridhook["icd10_codes"]);
    assert!(!sealed.windows(5).any(|w| w == b"Cough"), "the raw JSON is sealed, not plain");
    let raw: Value =
        serde_json::from_str(&open_raw(&mut app.pool().acquire().await.unwrap(), id, &key).await.unwrap().unwrap())
            .unwrap();
    assert_eq!(raw, gridhook, "every field, unknown ones included, is kept");

    let body: Vec<u8> = sqlx::query_scalar("SELECT body FROM webhook_deliveries WHERE source = 'deepcura'")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&body).contains(session), "the inbox keeps the delivery encrypted");
    let logged: Vec<(String, Vec<String>)> = sqlx::query_as(
        "SELECT actor, changed_fields FROM change_log WHERE table_name = 'deepcura_notes' AND record_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert_eq!(logged.len(), 2, "stored, then linked: {logged:?}");
    assert!(logged[0].0.starts_with("job:decrypt_gridhook:delivery:"), "{}", logged[0].0);
    assert_eq!(logged[1].0, "job:link_note");
    assert!(logged[1].1.contains(&"clinical_note_id".to_string()), "{:?}", logged[1].1);
    let linked: Option<i64> = sqlx::query_scalar("SELECT clinical_note_id FROM deepcura_notes WHERE id = $1")
        .bind(id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(linked, Some(note));
    assert!(!logged[1].1.iter().any(|f| f == "raw_sealed" || f == "transcript"));
}

#[tokio::test]
async fn a_gridhook_before_its_note_links_when_reconciliation_brings_the_note() {
    let app = spawn_app_configured(true, 20, |s, _| s.deepcura_scheme = Scheme::LegacyScrypt).await;
    let (appointment, note) = new_visit(&app, NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(), 10);
    let gridhook = app.sandbox.gridhook_for(appointment).unwrap();
    let resp = app.deepcura(GridhookScheme::LegacyScrypt).send_with_bearer(&gridhook).await.unwrap();
    assert_eq!(resp.status(), 200, "the shared secret also works as a bearer token");
    app.drain_jobs().await;
    let session = gridhook["session_id"].as_str().unwrap();
    assert_eq!(link_of(&app, session).await, ("unlinked".into(), None, None, vec![]));
    let listed = app.admin_get("/admin/deepcura/unlinked").await;
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["notes"][0]["session_id"], session);
    assert_eq!(listed["notes"][0]["link_status"], "unlinked");
    assert!(listed["notes"][0].get("transcript").is_none(), "the review list holds ids, not note text");

    enqueue(app.pool(), &SyncRecords::all(RecordKind::ClinicalNote)).await.unwrap();
    app.drain_jobs().await;
    assert_eq!(link_of(&app, session).await, ("linked".into(), Some(note), Some("appointment".into()), vec![note]));
    assert_eq!(app.admin_get("/admin/deepcura/unlinked").await["count"], 0);
}

#[tokio::test]
async fn two_notes_for_one_patient_and_day_leave_the_gridhook_ambiguous_with_both() {
    let app = spawn_app().await;
    let day = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
    let (morning_visit, morning) = new_visit(&app, day, 9);
    let (_, afternoon) = new_visit(&app, day, 15);
    deliver_note(&app, morning).await;
    let mut gridhook = app.sandbox.gridhook_for(morning_visit).unwrap();
    gridhook.as_object_mut().unwrap().remove("appointment_id");
    send_gridhook(&app, GridhookScheme::Sha256Iv, &gridhook).await;
    let session = gridhook["session_id"].as_str().unwrap();
    let by_day = Some("patient_date".to_string());
    assert_eq!(link_of(&app, session).await, ("linked".into(), Some(morning), by_day, vec![morning]));

    deliver_note(&app, afternoon).await;
    assert_eq!(link_of(&app, session).await, ("ambiguous".into(), None, None, vec![morning, afternoon]));
    let listed = app.admin_get("/admin/deepcura/unlinked?status=ambiguous").await;
    assert_eq!(listed["notes"][0]["link_candidates"], json!([morning, afternoon]));

    // An operator settles it; later arrivals for that day leave the choice alone.
    sqlx::query(
        "UPDATE deepcura_notes SET link_status = 'linked', clinical_note_id = $2, link_method = 'manual', \
         link_candidates = '{}', synced_by = 'operator:test' WHERE session_id = $1",
    )
    .bind(session)
    .bind(afternoon)
    .execute(app.pool())
    .await
    .unwrap();
    let (_, evening) = new_visit(&app, day, 18);
    deliver_note(&app, evening).await;
    let manual = Some("manual".to_string());
    assert_eq!(link_of(&app, session).await, ("linked".into(), Some(afternoon), manual, vec![]));
}

#[tokio::test]
async fn a_session_delivered_again_updates_its_one_note() {
    let app = spawn_app().await;
    let (appointment, _) = new_visit(&app, NaiveDate::from_ymd_opt(2026, 3, 5).unwrap(), 11);
    let mut gridhook = app.sandbox.gridhook_for(appointment).unwrap();
    send_gridhook(&app, GridhookScheme::Sha256Iv, &gridhook).await;
    send_gridhook(&app, GridhookScheme::Sha256Iv, &gridhook).await;
    gridhook["soap"]["plan"] = json!("Revised plan.");
    send_gridhook(&app, GridhookScheme::Sha256Iv, &gridhook).await;

    let rows: Vec<(i64, i64)> =
        sqlx::query_as("SELECT id, delivery_id FROM deepcura_notes").fetch_all(app.pool()).await.unwrap();
    let last: i64 = sqlx::query_scalar("SELECT max(id) FROM webhook_deliveries").fetch_one(app.pool()).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.1).collect::<Vec<_>>(), vec![last], "one note, from the newest delivery");
    let key = integration_tests::app::test_keys();
    let text = open_text(&mut app.pool().acquire().await.unwrap(), rows[0].0, &key).await.unwrap().unwrap();
    assert_eq!(text.plan.as_deref(), Some("Revised plan."));
    let writes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM change_log WHERE table_name = 'deepcura_notes' AND actor LIKE 'job:decrypt_gridhook%'",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(writes, 2, "the identical re-delivery wrote nothing");
    let pointed: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT deepcura_note_id) FROM webhook_deliveries WHERE deepcura_note_id IS NOT NULL",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(pointed, 1, "all three deliveries point at the one note");
}

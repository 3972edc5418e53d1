//! What bad input from a caller with valid credentials gets: a NUL
//! character anywhere in a JSON body is a 400 naming the field (Postgres
//! cannot store it), and a signed body's own event wins over the header.

use integration_tests::app::{ADMIN_TOKEN, DEEPCURA_SECRET, TestApp, WEBHOOK_SECRET, spawn_app};
use integration_tests::{partner, queue};
use sandbox::GridhookScheme;
use serde_json::{Value, json};

/// (outcome, reason, event, record_kind) of the latest delivery from `source`.
async fn last_delivery(app: &TestApp, source: &str) -> (String, Option<String>, Option<String>, Option<String>) {
    sqlx::query_as(
        "SELECT outcome, reason, event, record_kind FROM webhook_deliveries WHERE source = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(source)
    .fetch_one(app.pool())
    .await
    .unwrap()
}

async fn message(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    (status, body["message"].as_str().unwrap_or_default().to_string())
}

/// After a refused delivery, nothing was enqueued on `queue_name`.
async fn nothing_enqueued(app: &TestApp, queue_name: &str) {
    app.drain_jobs().await;
    assert!(queue::of_queue(app.pool(), queue_name).await.is_empty(), "{queue_name}: nothing enqueued");
}

#[tokio::test]
async fn a_nul_in_a_drchrono_delivery_is_a_400_naming_the_field_and_recorded_as_malformed() {
    let app = spawn_app().await;
    let mut patient = app.sandbox.patient(app.sandbox.patient_ids()[0]).unwrap();
    patient["first_name"] = json!("An\u{0}n");

    let (status, said) = message(app.drchrono().send("PATIENT_MODIFY", &patient).await.unwrap()).await;
    assert_eq!((status, said.contains("$.object.first_name")), (400, true), "{said}");
    let (outcome, reason, ..) = last_delivery(&app, "drchrono").await;
    assert_eq!(outcome, "malformed");
    assert!(reason.is_some_and(|r| r.contains("NUL")), "the inbox says why");
    nothing_enqueued(&app, "upsert_record").await;
}

#[tokio::test]
async fn a_nul_in_a_partner_event_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let id = app.sandbox.patient_ids()[0];
    let mut event = partner::event(&id.to_string(), "appointment.updated", "2025-01-10T12:30:00Z");
    event["notes"] = json!("bring\u{0} records");
    let (status, said) = message(app.post_partner_raw(partner::FEED, serde_json::to_vec(&event).unwrap()).await).await;
    assert_eq!((status, said.contains("$.notes")), (400, true), "{said}");
    nothing_enqueued(&app, "apply_partner_appointment_event").await;
}

#[tokio::test]
async fn a_nul_in_a_patient_write_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let write = json!({"first_name": "A\u{0}", "last_name": "B", "gender": "Female", "date_of_birth": "1990-01-01"});
    let resp = app.http.post(app.url("/api/patients")).bearer_auth(ADMIN_TOKEN).json(&write).send().await.unwrap();
    let (status, said) = message(resp).await;
    assert_eq!((status, said.contains("$.first_name")), (400, true), "{said}");
    nothing_enqueued(&app, "push_patient").await;
}

#[tokio::test]
async fn a_nul_in_a_gridhook_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let gridhook = json!({ "encrypted_payload": "AAAA\u{0}" });
    let resp = app.deepcura(GridhookScheme::Sha256Iv).send_body(&gridhook, Some(DEEPCURA_SECRET)).await.unwrap();
    let (status, said) = message(resp).await;
    assert_eq!((status, said.contains("$.encrypted_payload")), (400, true), "{said}");
    nothing_enqueued(&app, "decrypt_gridhook").await;
}

#[tokio::test]
async fn a_signed_body_replayed_under_another_event_header_keeps_its_own_event() {
    let app = spawn_app().await;
    let id = app.sandbox.patient_ids()[0];
    let body = serde_json::to_vec(&json!({ "event": "PATIENT_MODIFY", "object_id": id })).unwrap();
    let resp = app
        .http
        .post(app.url("/webhooks/drchrono"))
        .header("Content-Type", "application/json")
        .header("X-drchrono-signature", WEBHOOK_SECRET)
        .header("X-drchrono-event", "APPOINTMENT_DELETE")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (outcome, _, event, kind) = last_delivery(&app, "drchrono").await;
    assert_eq!(
        (outcome.as_str(), event.as_deref(), kind.as_deref()),
        ("accepted", Some("PATIENT_MODIFY"), Some("patient"))
    );
    app.drain_jobs().await;
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM patients WHERE id = $1").bind(id).fetch_one(app.pool()).await.unwrap();
    assert_eq!(stored, 1, "the patient was fetched, no appointment deleted");
}

/// A record fetched from DrChrono with a NUL in it cannot be stored: the
/// job fails once as a bad payload naming the cause, not eight times as
/// retryable with the same database error.
#[tokio::test]
async fn a_data_exception_in_a_job_fails_it_once_as_a_bad_payload() {
    let app = spawn_app().await;
    let id = app.sandbox.patient_ids()[0];
    app.sandbox.modify(sandbox::Kind::Patient, id, |p| {
        p.insert("first_name".into(), json!("An\u{0}n"));
    });
    let resp = app.drchrono().send_legacy("PATIENT_MODIFY", id).await.unwrap();
    assert_eq!(resp.status(), 200, "an id-only delivery carries no NUL itself");
    let job: String = resp.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string();
    app.drain_jobs_allowing_dead().await;
    let (class, message) = queue::only_attempt_error(app.pool(), &job).await;
    assert_eq!(class, "bad_payload");
    assert!(message.contains("22P05") && message.contains("NUL") && !message.contains("An"), "{message}");
}

/// One object dated far ahead is taken as `FUTURE_SKEW` ahead: its row does
/// not look newer than every later version for decades, and a walk that
/// lists it does not move its cursor past the walk's own time.
#[tokio::test]
async fn an_updated_at_far_in_the_future_is_capped() {
    let app = spawn_app().await;
    let id = app.sandbox.patient_ids()[0];
    let mut patient = app.sandbox.patient(id).unwrap();
    patient["updated_at"] = json!("2099-01-01T00:00:00");
    assert_eq!(app.drchrono().send("PATIENT_MODIFY", &patient).await.unwrap().status(), 200);
    app.drain_jobs().await;
    let within: bool = sqlx::query_scalar("SELECT source_updated_at <= now() + $2 FROM patients WHERE id = $1")
        .bind(id)
        .bind(jobs::domain::FUTURE_SKEW)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert!(within, "stored at most FUTURE_SKEW ahead");

    app.sandbox.modify(sandbox::Kind::Patient, id, |p| {
        p.insert("updated_at".into(), json!("2099-01-01T00:00:00"));
    });
    let walk = jobs::catalog::SyncRecords {
        cursor: Some("patients".into()),
        since: Some("2000-01-01".into()),
        ..jobs::catalog::SyncRecords::all(jobs::domain::RecordKind::Patient)
    };
    job_runner::enqueue(app.pool(), &walk).await.unwrap();
    app.drain_jobs().await;
    let behind: bool = sqlx::query_scalar("SELECT resume_from <= now() FROM sync_cursors WHERE name = 'patients'")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert!(behind, "the cursor stays behind the walk's own time");
}

/// A delivery without `updated_at` cannot show it is newer than a stored
/// row that has one, so it does not overwrite it.
#[tokio::test]
async fn a_delivery_without_updated_at_never_overwrites_a_stamped_row() {
    let app = spawn_app().await;
    let id = app.sandbox.patient_ids()[0];
    let patient = app.sandbox.patient(id).unwrap();
    // The stored row came from a walk: no delivery of its own to prefer.
    let walk = jobs::catalog::SyncRecords::all(jobs::domain::RecordKind::Patient);
    job_runner::enqueue(app.pool(), &walk).await.unwrap();
    app.drain_jobs().await;
    let mut stale = patient.clone();
    stale.as_object_mut().unwrap().remove("updated_at");
    stale["city"] = json!("Nowhere");
    let resp: Value = app.drchrono().send("PATIENT_MODIFY", &stale).await.unwrap().json().await.unwrap();
    app.drain_jobs().await;
    let city: Option<String> =
        sqlx::query_scalar("SELECT city FROM patients WHERE id = $1").bind(id).fetch_one(app.pool()).await.unwrap();
    assert_eq!(city.as_deref(), patient["city"].as_str(), "the stamped row stands");
    let job = resp["job_id"].as_str().unwrap();
    let report = queue::report(app.pool(), job).await;
    assert!(format!("{report:?}").contains("no updated_at"), "the job says why: {report:?}");
}

/// A NUL in a path id or a query filter reaches a text bind unless it is
/// refused first: Postgres would answer 22021 and the service a 500.
#[tokio::test]
async fn a_nul_in_an_operator_query_or_path_id_is_a_400() {
    let app = spawn_app().await;
    for path in ["/api/jobs/%00", "/api/jobs/a%00b", "/events?appointment_id=a%00", "/events?patient_id=%00"] {
        let resp = app.http.get(app.url(path)).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
        let (status, said) = message(resp).await;
        assert_eq!((status, said.contains("NUL")), (400, true), "{path}: {said}");
    }
}

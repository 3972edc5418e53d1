//! The partner appointment feed keeps the older receiver's documented
//! behaviour: valid, missing field, invalid event type, bad timestamp, null
//! field, empty id and duplicate, each with its exact status and body.

use integration_tests::queue;
use integration_tests::{
    app::{TestApp, spawn_app_with},
    partner::{answer, documented_example, event},
};
use serde_json::{Value, json};

async fn app() -> TestApp {
    spawn_app_with(false, 1).await
}

async fn counts(app: &TestApp) -> (i64, i64) {
    sqlx::query_as("SELECT (SELECT count(*) FROM appointment_events), (SELECT count(*) FROM job_overview)")
        .fetch_one(app.pool())
        .await
        .unwrap()
}

/// Posts `body`, expects a 400 "Validation failed" listing exactly `violations`, and nothing stored.
async fn assert_rejected(app: &TestApp, body: &Value, violations: &[(&str, &str)]) {
    let (status, rid, answer) = answer(app.post_partner(body).await).await;
    let message: Vec<String> = violations.iter().map(|(f, m)| format!("{f}: {m}")).collect();
    let listed: Vec<Value> = violations.iter().map(|(f, m)| json!({"field": f, "message": m})).collect();
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer,
        json!({"error": "Validation failed", "message": message.join("; "), "violations": listed, "request_id": rid})
    );
    assert_eq!(counts(app).await, (0, 0), "a rejected event stores and enqueues nothing");
}

fn without(field: &str) -> Value {
    let mut body = documented_example();
    body.as_object_mut().unwrap().remove(field);
    body
}

fn with(field: &str, value: Value) -> Value {
    let mut body = documented_example();
    body[field] = value;
    body
}

#[tokio::test]
async fn a_valid_event_is_200_stored_with_its_raw_body_and_request_id_and_its_job_enqueued() {
    let app = app().await;
    let raw = serde_json::to_vec(&documented_example()).unwrap();
    let resp = app.post_partner_raw("/webhook/appointments", raw.clone()).await;
    let (status, rid, answer) = answer(resp).await;
    assert_eq!(status, 200, "{answer}");
    let event_id = answer["event_id"].as_i64().expect("event_id is a number");
    assert_eq!(
        answer,
        json!({"status": "accepted", "message": "Appointment event received and stored", "event_id": event_id,
               "appointment_id": "A12345", "request_id": rid})
    );
    let row: (String, String, String, String, Option<String>, String, Vec<u8>, String) = sqlx::query_as(
        "SELECT event_type, appointment_id, patient_id, timestamp_sent, notes, request_id, body, job_id \
         FROM appointment_events WHERE id = $1 AND received_at > now() - interval '1 hour' \
         AND occurred_at = '2025-01-10T12:30:00Z'",
    )
    .bind(event_id)
    .fetch_one(app.pool())
    .await
    .unwrap();
    let (event_type, appointment, patient, timestamp, notes, stored_rid, body, job_id) = row;
    assert_eq!(
        (event_type.as_str(), appointment.as_str(), patient.as_str(), timestamp.as_str()),
        ("appointment.scheduled", "A12345", "P8765", "2025-01-10T12:30:00Z")
    );
    assert_eq!(notes.as_deref(), Some("Annual physical examination"));
    assert_eq!((stored_rid, body), (rid, raw));
    let job = queue::report(app.pool(), &job_id).await;
    assert_eq!(job.queue, "apply_partner_appointment_event");
    assert_eq!(job.args, json!({"event_id": event_id}));
}

#[tokio::test]
async fn a_missing_field_is_400_naming_it() {
    let app = app().await;
    assert_rejected(&app, &without("patient_id"), &[("patient_id", "is required")]).await;
    let only_type = json!({"event_type": "appointment.updated"});
    let missing = [("appointment_id", "is required"), ("patient_id", "is required"), ("timestamp", "is required")];
    assert_rejected(&app, &only_type, &missing).await;
}

#[tokio::test]
async fn an_invalid_event_type_is_400() {
    let app = app().await;
    let rule = "must be one of appointment.scheduled, appointment.cancelled, appointment.updated";
    assert_rejected(&app, &with("event_type", json!("appointment.deleted")), &[("event_type", rule)]).await;
}

#[tokio::test]
async fn a_bad_timestamp_is_400() {
    let app = app().await;
    let rule = "must be an ISO 8601 date-time with a time zone, such as 2025-01-10T12:30:00Z";
    for bad in ["not-a-timestamp", "2025-01-10T12:30:00", "2025-02-30T12:30:00Z", "10/01/2025 12:30"] {
        assert_rejected(&app, &with("timestamp", json!(bad)), &[("timestamp", rule)]).await;
    }
}

#[tokio::test]
async fn a_null_field_is_400() {
    let app = app().await;
    assert_rejected(&app, &with("patient_id", Value::Null), &[("patient_id", "must not be null")]).await;
    assert_rejected(&app, &with("event_type", Value::Null), &[("event_type", "must not be null")]).await;
}

#[tokio::test]
async fn an_empty_id_is_400() {
    let app = app().await;
    let rule = "must not be empty or whitespace";
    assert_rejected(&app, &with("appointment_id", json!("   ")), &[("appointment_id", rule)]).await;
    assert_rejected(&app, &with("patient_id", json!("")), &[("patient_id", rule)]).await;
}

#[tokio::test]
async fn a_wrong_type_is_400() {
    let app = app().await;
    let rule = "must be of type string";
    assert_rejected(&app, &with("appointment_id", json!(12345)), &[("appointment_id", rule)]).await;
    assert_rejected(&app, &json!(["not", "an", "object"]), &[("body", "must be a JSON object")]).await;
}

#[tokio::test]
async fn every_violation_is_listed_with_its_field() {
    let app = app().await;
    let body = json!({"event_type": "appointment.moved", "appointment_id": "", "timestamp": "soon", "notes": 3});
    let violations = [
        ("event_type", "must be one of appointment.scheduled, appointment.cancelled, appointment.updated"),
        ("appointment_id", "must not be empty or whitespace"),
        ("patient_id", "is required"),
        ("timestamp", "must be an ISO 8601 date-time with a time zone, such as 2025-01-10T12:30:00Z"),
        ("notes", "must be of type null or string"),
    ];
    assert_rejected(&app, &body, &violations).await;
}

#[tokio::test]
async fn invalid_json_is_400() {
    let app = app().await;
    for raw in ["{not json", "", "{\"event_type\": "] {
        let (status, rid, answer) = answer(app.post_partner_raw("/webhook/appointments", raw).await).await;
        assert_eq!(status, 400);
        assert_eq!(
            answer,
            json!({"error": "Invalid JSON", "message": "Request body must be valid JSON", "request_id": rid})
        );
    }
    assert_eq!(counts(&app).await, (0, 0));
}

#[tokio::test]
async fn a_duplicate_is_409_and_stores_nothing_more() {
    let app = app().await;
    let (status, ..) = answer(app.post_partner(&documented_example()).await).await;
    assert_eq!(status, 200);
    let (status, rid, answer_) = answer(app.post_partner(&documented_example()).await).await;
    assert_eq!(status, 409);
    let message = "Event for appointment A12345 at 2025-01-10T12:30:00Z already exists";
    assert_eq!(answer_, json!({"error": "Duplicate event", "message": message, "request_id": rid}));

    // The same instant written in another zone is the same event.
    let shifted = event("A12345", "appointment.cancelled", "2025-01-10T07:30:00-05:00");
    let (status, _, answer_) = answer(app.post_partner(&shifted).await).await;
    assert_eq!(
        (status, answer_["message"].as_str()),
        (409, Some("Event for appointment A12345 at 2025-01-10T07:30:00-05:00 already exists"))
    );
    assert_eq!(counts(&app).await, (1, 1));

    let later = event("A12345", "appointment.cancelled", "2025-01-10T12:31:00Z");
    let other = event("A12346", "appointment.scheduled", "2025-01-10T12:30:00Z");
    for body in [later, other] {
        assert_eq!(answer(app.post_partner(&body).await).await.0, 200);
    }
    assert_eq!(counts(&app).await, (3, 3));
}

#[tokio::test]
async fn the_alias_path_is_the_same_feed() {
    let app = app().await;
    let raw = serde_json::to_vec(&documented_example()).unwrap();
    let (status, ..) = answer(app.post_partner_raw("/webhooks/appointments", raw.clone()).await).await;
    assert_eq!(status, 200);
    let (status, ..) = answer(app.post_partner_raw("/webhook/appointments", raw).await).await;
    assert_eq!(status, 409, "one store behind both paths");
}

#[tokio::test]
async fn the_root_path_stays_a_health_check() {
    let app = app().await;
    let resp = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"status": "ok"}));
}

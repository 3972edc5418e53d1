//! Every DrChrono event in its real shape → the right table, with no API call.

use integration_tests::app::{spawn_app, spawn_app_with};
use integration_tests::queue;
use sandbox::{EVENTS, Kind};
use serde_json::{Value, json};
use sqlx::postgres::PgListener;

fn table_of(event: &str) -> Option<&'static str> {
    let e = event;
    Some(match () {
        _ if e.starts_with("PATIENT_PROBLEM") => "problems",
        _ if e.starts_with("PATIENT_ALLERGY") => "allergies",
        _ if e.starts_with("PATIENT_MEDICATION") => "medications",
        _ if e.starts_with("PATIENT_FLAG") => return None,
        _ if e.starts_with("PATIENT_") => "patients",
        _ if e.starts_with("APPOINTMENT_") => "appointments",
        _ if e.starts_with("CLINICAL_NOTE_") => "clinical_notes",
        _ if e.starts_with("TASK_") => "tasks",
        _ if e.starts_with("LAB_ORDER_") => "lab_orders",
        _ if e.starts_with("LINE_ITEM_") => "line_items",
        _ => return None,
    })
}

/// The record an event lands: the object itself, or for a deleted
/// transaction the line item it belonged to.
fn landed_id(event: &str, object: &Value) -> i64 {
    let field = if event == "LINE_ITEM_TRANSACTION_DELETE" { "line_item" } else { "id" };
    jobs::domain::id_of(object.get(field)).expect("object id")
}

fn id(object: &Value) -> i64 {
    landed_id("", object)
}

#[tokio::test]
async fn every_event_type_lands_in_its_table_with_zero_api_calls() {
    let app = spawn_app().await;
    app.sandbox.reset_counters();
    let mut expected = Vec::new();
    for event in EVENTS {
        let object = app.sandbox.delivery_object(event);
        let resp = app.drchrono().send(event, &object).await.unwrap();
        assert_eq!(resp.status(), 200, "{event}");
        expected.push((event, table_of(event), landed_id(event, &object)));
    }
    app.drain_jobs().await;
    for (event, table, object_id) in &expected {
        let outcome: String =
            sqlx::query_scalar("SELECT outcome FROM webhook_deliveries WHERE event = $1 ORDER BY id DESC LIMIT 1")
                .bind(event)
                .fetch_one(app.pool())
                .await
                .unwrap();
        match table {
            Some(table) => {
                assert_ne!(outcome, "not_modelled", "{event}");
                let sql = format!("SELECT count(*) FROM {table} WHERE id = $1");
                let n: i64 =
                    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(object_id).fetch_one(app.pool()).await.unwrap();
                assert_eq!(n, 1, "{event} did not land in {table}");
            }
            None => assert_eq!(outcome, "not_modelled", "{event}"),
        }
    }
    let not_modelled: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE outcome = 'not_modelled'")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(not_modelled, expected.iter().filter(|(_, t, _)| t.is_none()).count() as i64);
    // A deleted transaction carries no line item: its item is fetched, once.
    assert_eq!(app.sandbox.calls_to("/api/line_items"), 1, "the deleted transaction's line item is fetched");
    assert_eq!(app.sandbox.calls(), 1, "full-object deliveries cost no API call");
    assert_eq!(queue::count_not_done(app.pool()).await, 0);
}

#[tokio::test]
async fn an_appointment_delete_is_soft_and_keeps_history() {
    let app = spawn_app().await;
    let appt_id = app.sandbox.ids(Kind::Appointment)[0];
    let appt = app.sandbox.record(Kind::Appointment, appt_id).unwrap();
    app.drchrono().send("APPOINTMENT_CREATE", &appt).await.unwrap();
    app.drain_jobs().await;
    let deleted = app.sandbox.delete_appointment(appt_id).unwrap();
    app.drchrono().send("APPOINTMENT_DELETE", &deleted).await.unwrap();
    app.drain_jobs().await;
    let gone: bool = sqlx::query_scalar("SELECT deleted FROM appointments WHERE id = $1")
        .bind(appt_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert!(gone, "the row stays, marked deleted");
    let ops: Vec<String> = sqlx::query_scalar(
        "SELECT op FROM change_log WHERE table_name = 'appointments' AND record_id = $1 ORDER BY id",
    )
    .bind(appt_id)
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert_eq!(ops, vec!["insert", "update"]);
}

#[tokio::test]
async fn note_lock_and_unlock_are_recorded() {
    let app = spawn_app().await;
    let note_id = app.sandbox.ids(Kind::ClinicalNote)[0];
    for (event, locked) in [("CLINICAL_NOTE_LOCK", true), ("CLINICAL_NOTE_UNLOCK", false)] {
        let note = app.sandbox.lock_note(note_id, locked).unwrap();
        app.drchrono().send(event, &note).await.unwrap();
        app.drain_jobs().await;
        let stored: bool = sqlx::query_scalar("SELECT locked FROM clinical_notes WHERE id = $1")
            .bind(note_id)
            .fetch_one(app.pool())
            .await
            .unwrap();
        assert_eq!(stored, locked, "{event}");
    }
}

#[tokio::test]
async fn ten_quick_modifications_apply_once_with_the_newest() {
    let app = spawn_app_with(false, 5).await;
    let patient_id = app.sandbox.patient_ids()[0];
    let mut last = Value::Null;
    for i in 0..10 {
        last = app
            .sandbox
            .modify_patient(patient_id, |p| {
                p.insert("patient_status".into(), json!(format!("S{i}")));
            })
            .unwrap();
        app.drchrono().send("PATIENT_MODIFY", &last).await.unwrap();
    }
    app.start_workers();
    app.drain_jobs().await;
    let status: String = sqlx::query_scalar("SELECT patient_status FROM patients WHERE id = $1")
        .bind(patient_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(status, last["patient_status"].as_str().unwrap());
    let writes: i64 = sqlx::query_scalar("SELECT count(*) FROM change_log WHERE record_id = $1")
        .bind(patient_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(writes, 1, "ten queued modifications write the row once");
}

#[tokio::test]
async fn changes_are_logged_with_their_actor_and_announced_without_phi() {
    let app = spawn_app().await;
    let mut listener = PgListener::connect_with(app.pool()).await.unwrap();
    listener.listen("drchrono_sync_changes").await.unwrap();
    let patient = app.sandbox.patient(app.sandbox.patient_ids()[4]).unwrap();
    let resp: Value = app.drchrono().send("PATIENT_CREATE", &patient).await.unwrap().json().await.unwrap();
    let note = tokio::time::timeout(std::time::Duration::from_secs(20), listener.recv()).await.unwrap().unwrap();
    let payload: Value = serde_json::from_str(note.payload()).unwrap();
    assert_eq!(payload, json!({"table": "patients", "id": id(&patient), "op": "insert"}));
    let (actor, fields, hashes, values): (String, Vec<String>, Value, Option<Value>) =
        sqlx::query_as("SELECT actor, changed_fields, new_hashes, new_values FROM change_log WHERE record_id = $1")
            .bind(id(&patient))
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(actor, format!("job:upsert_record:delivery:{}", resp["delivery_id"]));
    assert!(fields.contains(&"first_name".to_string()), "{fields:?}");
    assert_eq!(values, None, "no copy of the chart in the audit");
    // The keyed hash proves the value without keeping it.
    let key = jobs::drchrono::TokenKey::from_bytes(integration_tests::app::TEST_TOKEN_KEY).derive("change_log");
    let expected: Option<String> =
        sqlx::query_scalar("SELECT encode(sha256($1 || convert_to($2::jsonb::text, 'UTF8')), 'hex')")
            .bind(key.as_slice())
            .bind(&patient["first_name"])
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(hashes["first_name"].as_str(), expected.as_deref());
    let first_name = patient["first_name"].as_str().unwrap();
    assert!(!hashes.to_string().contains(first_name), "the hash is not the value");
}

#[tokio::test]
async fn drchrono_times_parse_in_all_three_forms_and_across_dst() {
    let app = spawn_app_with(false, 1).await;
    let cases = [
        ("2025-01-10T12:30:00", "2025-01-10 17:30:00+00"),
        ("2025-01-10 12:30:00", "2025-01-10 17:30:00+00"),
        ("2025-07-10", "2025-07-10 04:00:00+00"),
        ("2025-01-10T12:30:00Z", "2025-01-10 12:30:00+00"),
        ("2025-03-09T02:30:00", "2025-03-09 07:30:00+00"),
        ("yesterday", ""),
    ];
    for (input, want) in cases {
        let got: Option<String> = sqlx::query_scalar(
            "SELECT to_char(drchrono_time($1, 'America/New_York') AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"+00\"')",
        )
        .bind(input)
        .fetch_one(app.pool())
        .await
        .unwrap();
        assert_eq!(got.unwrap_or_default(), want, "{input}");
    }
}

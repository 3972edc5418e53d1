//! What a stored partner event does: the appointment it names gets the
//! partner's status and a DrChrono refetch; any other event is unmatched.

use integration_tests::queue;
use integration_tests::{
    app::{TestApp, spawn_app},
    partner::{answer, event},
};
use sandbox::Kind;
use serde_json::Value;

/// An appointment DrChrono delivered, stored through the DrChrono webhook; returns its id.
async fn held_appointment(app: &TestApp) -> i64 {
    let id = app.sandbox.ids(Kind::Appointment)[0];
    let appointment = app.sandbox.record(Kind::Appointment, id).unwrap();
    app.drchrono().send("APPOINTMENT_CREATE", &appointment).await.unwrap();
    app.drain_jobs().await;
    id
}

async fn post(app: &TestApp, appointment_id: &str, event_type: &str, timestamp: &str) -> i64 {
    let (status, _, answer) = answer(app.post_partner(&event(appointment_id, event_type, timestamp)).await).await;
    assert_eq!(status, 200, "{answer}");
    answer["event_id"].as_i64().unwrap()
}

async fn partner_columns(app: &TestApp, id: i64) -> (Option<String>, Option<i64>, Option<String>, Value) {
    sqlx::query_as("SELECT partner_status, partner_event_id, status, raw FROM appointments WHERE id = $1")
        .bind(id)
        .fetch_one(app.pool())
        .await
        .unwrap()
}

async fn match_of(app: &TestApp, event_id: i64) -> (String, Option<i64>) {
    sqlx::query_as("SELECT match_status, matched_appointment_id FROM appointment_events WHERE id = $1")
        .bind(event_id)
        .fetch_one(app.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_cancellation_marks_a_held_appointment_cancelled_by_partner_and_refetches_it() {
    let app = spawn_app().await;
    let id = held_appointment(&app).await;
    let (_, _, drchrono_status, raw_before) = partner_columns(&app, id).await;
    app.sandbox.reset_counters();

    let event_id = post(&app, &id.to_string(), "appointment.cancelled", "2025-01-10T12:30:00Z").await;
    app.drain_jobs().await;

    let (partner_status, partner_event, status, raw) = partner_columns(&app, id).await;
    assert_eq!((partner_status.as_deref(), partner_event), (Some("cancelled"), Some(event_id)));
    assert_eq!((status, raw), (drchrono_status, raw_before), "DrChrono's own fields are untouched");
    assert_eq!(match_of(&app, event_id).await, ("applied".into(), Some(id)));
    assert_eq!(app.sandbox.calls_to("/api/appointments"), 1, "one refetch of the appointment");
    let actors: Vec<String> = sqlx::query_scalar(
        "SELECT actor FROM change_log WHERE table_name = 'appointments' AND record_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(app.pool())
    .await
    .unwrap();
    let partner_actor = format!("job:apply_partner_appointment_event:event:{event_id}");
    assert!(actors.contains(&partner_actor), "{actors:?}");
    assert_eq!(queue::count_not_done(app.pool()).await, 0);
}

#[tokio::test]
async fn an_older_partner_event_never_overwrites_a_newer_status() {
    let app = spawn_app().await;
    let id = held_appointment(&app).await;
    let newer = post(&app, &id.to_string(), "appointment.updated", "2025-01-10T13:00:00Z").await;
    app.drain_jobs().await;
    let older = post(&app, &id.to_string(), "appointment.cancelled", "2025-01-10T12:00:00Z").await;
    app.drain_jobs().await;
    let (partner_status, partner_event, ..) = partner_columns(&app, id).await;
    assert_eq!((partner_status.as_deref(), partner_event), (Some("updated"), Some(newer)));
    assert_eq!(match_of(&app, older).await, ("superseded".into(), Some(id)));
}

#[tokio::test]
async fn an_event_for_an_appointment_not_held_is_unmatched_and_costs_no_call() {
    let app = spawn_app().await;
    held_appointment(&app).await;
    app.sandbox.reset_counters();
    let unknown_numeric = post(&app, "999999999", "appointment.scheduled", "2025-01-10T12:30:00Z").await;
    let partner_own = post(&app, "A12345", "appointment.scheduled", "2025-01-10T12:30:00Z").await;
    app.drain_jobs().await;
    assert_eq!(match_of(&app, unknown_numeric).await, ("unmatched".into(), None));
    assert_eq!(match_of(&app, partner_own).await, ("unmatched".into(), None));
    assert_eq!(app.sandbox.calls(), 0);
    let touched: i64 = sqlx::query_scalar("SELECT count(*) FROM appointments WHERE partner_status IS NOT NULL")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(touched, 0);
}

#[tokio::test]
async fn an_event_that_came_before_its_appointment_is_applied_when_the_appointment_arrives() {
    let app = spawn_app().await;
    let id = app.sandbox.ids(Kind::Appointment)[0];
    let event_id = post(&app, &id.to_string(), "appointment.cancelled", "2025-01-10T12:30:00Z").await;
    app.drain_jobs().await;
    assert_eq!(match_of(&app, event_id).await, ("unmatched".into(), None));

    held_appointment(&app).await;
    assert_eq!(match_of(&app, event_id).await, ("applied".into(), Some(id)));
    assert_eq!(partner_columns(&app, id).await.0.as_deref(), Some("cancelled"));
}

#[tokio::test]
async fn a_linked_partner_id_matches_its_appointment() {
    let app = spawn_app().await;
    let id = held_appointment(&app).await;
    sqlx::query("INSERT INTO partner_appointment_links (partner_appointment_id, appointment_id) VALUES ('A12345', $1)")
        .bind(id)
        .execute(app.pool())
        .await
        .unwrap();
    let event_id = post(&app, "A12345", "appointment.scheduled", "2025-01-10T12:30:00Z").await;
    app.drain_jobs().await;
    assert_eq!(match_of(&app, event_id).await, ("applied".into(), Some(id)));
    assert_eq!(partner_columns(&app, id).await.0.as_deref(), Some("scheduled"));
}

#[tokio::test]
async fn the_job_row_carries_the_event_id_not_the_notes() {
    let app = spawn_app().await;
    let event_id = post(&app, "A1", "appointment.scheduled", "2025-01-10T12:30:00Z").await;
    app.drain_jobs().await;
    let job = queue::of_queue(app.pool(), "apply_partner_appointment_event").await.remove(0);
    let stored = format!("{} {}", job.args, job.last_result.unwrap());
    assert!(stored.contains(&format!("\"event_id\":{event_id}")), "{stored}");
    assert!(!stored.contains("Annual physical") && !stored.contains("P8765"), "{stored}");
}

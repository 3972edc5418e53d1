//! The write API end to end: validation, 202 and the job, the push to the
//! sandbox DrChrono, the upsert and its actor, Idempotency-Key, and a round
//! trip that ends with identical rows on both sides.

use integration_tests::app::{ADMIN_TOKEN, PARTNER_TOKEN, TestApp, spawn_app};
use integration_tests::queue;
use reqwest::Method;
use sandbox::Kind;
use serde_json::{Value, json};

/// Sends a write with `token`; the status and JSON body.
async fn write(app: &TestApp, method: Method, path: &str, body: &Value, key: Option<&str>) -> (u16, Value) {
    let mut request = app.http.request(method, app.url(path)).bearer_auth(ADMIN_TOKEN).json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let resp = request.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

async fn job(app: &TestApp, id: &str) -> Value {
    let resp = app.http.get(app.url(&format!("/api/jobs/{id}"))).bearer_auth(PARTNER_TOKEN).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

fn appointment_body(app: &TestApp, patient: i64, at: &str) -> Value {
    let doctor = app.sandbox.record(Kind::Patient, patient).unwrap()["doctor"].clone();
    json!({"patient": patient, "doctor": doctor, "office": 1, "scheduled_time": at, "duration": 30, "reason": "Check"})
}

/// The stored row's raw JSON and its `synced_by`.
async fn row(app: &TestApp, table: &str, id: i64) -> (Value, String) {
    let sql = format!("SELECT raw, synced_by FROM {table} WHERE id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(app.pool()).await.unwrap()
}

#[tokio::test]
async fn a_create_then_an_update_then_a_webhook_leave_identical_rows_on_both_sides() {
    let app = spawn_app().await;
    let patient = app.sandbox.ids(Kind::Patient)[0];
    // Appointment: create, then update.
    let (status, accepted) =
        write(&app, Method::POST, "/api/appointments", &appointment_body(&app, patient, "2031-05-06T10:30:00"), None)
            .await;
    assert_eq!(status, 202, "{accepted}");
    let job_id = accepted["job_id"].as_str().unwrap().to_string();
    app.drain_jobs().await;
    let done = job(&app, &job_id).await;
    assert_eq!((done["state"].as_str(), done["resolution"].as_str()), (Some("done"), Some("created")), "{done}");
    let appointment = done["drchrono_id"].as_i64().unwrap();
    let path = format!("/api/appointments/{appointment}");
    let (status, _) = write(&app, Method::PATCH, &path, &json!({"status": "Confirmed", "duration": 45}), None).await;
    assert_eq!(status, 202);
    // Patient: create, then update.
    let new_patient = json!({"doctor": 314159, "first_name": "Quillon", "last_name": "Larkspur", "gender": "Female",
                             "date_of_birth": "1984-07-09", "cell_phone": "(503) 555-0142"});
    let (status, accepted) = write(&app, Method::POST, "/api/patients", &new_patient, None).await;
    assert_eq!(status, 202);
    app.drain_jobs().await;
    let created_patient = job(&app, accepted["job_id"].as_str().unwrap()).await["drchrono_id"].as_i64().unwrap();
    let (status, _) =
        write(&app, Method::PATCH, &format!("/api/patients/{created_patient}"), &json!({"city": "Salem"}), None).await;
    assert_eq!(status, 202);
    app.drain_jobs().await;

    // DrChrono then sends its webhooks for both records.
    for (event, kind, id) in
        [("APPOINTMENT_MODIFY", Kind::Appointment, appointment), ("PATIENT_MODIFY", Kind::Patient, created_patient)]
    {
        let object = app.sandbox.record(kind, id).unwrap();
        assert_eq!(app.drchrono().send(event, &object).await.unwrap().status(), 200);
    }
    app.drain_jobs().await;

    let drchrono_appointment = app.sandbox.record(Kind::Appointment, appointment).unwrap();
    assert_eq!(drchrono_appointment["status"], "Confirmed");
    let (raw, actor) = row(&app, "appointments", appointment).await;
    assert_eq!(raw, drchrono_appointment);
    assert!(actor.starts_with("api:admin:job:"), "{actor}");
    let drchrono_patient = app.sandbox.record(Kind::Patient, created_patient).unwrap();
    assert_eq!(drchrono_patient["city"], "Salem");
    let (raw, _) = row(&app, "patients", created_patient).await;
    assert_eq!(raw, drchrono_patient);
    let (mobile, duration): (String, i32) = sqlx::query_as(
        "SELECT p.phone_mobile_e164, a.duration_minutes FROM patients p, appointments a WHERE p.id = $1 AND a.id = $2",
    )
    .bind(created_patient)
    .bind(appointment)
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!((mobile.as_str(), duration), ("+15035550142", 45));
    let actors: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT actor FROM change_log WHERE table_name = 'appointments' AND record_id = $1 ORDER BY actor",
    )
    .bind(appointment)
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert!(actors.iter().all(|a| a.starts_with("api:admin:job:")), "the webhook changed nothing: {actors:?}");
}

#[tokio::test]
async fn the_same_idempotency_key_gives_one_drchrono_call() {
    let app = spawn_app().await;
    let patient = app.sandbox.ids(Kind::Patient)[2];
    let body = appointment_body(&app, patient, "2031-06-01T09:00:00");
    let (first_status, first) = write(&app, Method::POST, "/api/appointments", &body, Some("booking-42")).await;
    let (second_status, second) = write(&app, Method::POST, "/api/appointments", &body, Some("booking-42")).await;
    assert_eq!((first_status, second_status), (202, 202));
    assert_eq!(first["job_id"], second["job_id"]);
    assert_eq!(second["replayed"], true);
    app.drain_jobs().await;
    let (third_status, third) = write(&app, Method::POST, "/api/appointments", &body, Some("booking-42")).await;
    assert_eq!((third_status, &third["job_id"]), (202, &first["job_id"]), "a finished request is still the first");
    app.drain_jobs().await;
    assert_eq!(app.sandbox.writes(), 1);
    let mut changed = body.clone();
    changed["duration"] = json!(60);
    let (status, reused) = write(&app, Method::POST, "/api/appointments", &changed, Some("booking-42")).await;
    assert_eq!(status, 422, "{reused}");
    let requests: i64 = sqlx::query_scalar("SELECT count(*) FROM write_requests").fetch_one(app.pool()).await.unwrap();
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn an_invalid_request_lists_every_problem_and_stores_nothing() {
    let app = spawn_app().await;
    let body = json!({"patient": "Zephyrine", "scheduled_time": "tomorrow", "duration": 0, "colour": "red"});
    let (status, answer) = write(&app, Method::POST, "/api/appointments", &body, None).await;
    assert_eq!(status, 400);
    let fields: Vec<&str> =
        answer["violations"].as_array().unwrap().iter().map(|v| v["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["colour", "patient", "doctor", "office", "scheduled_time", "duration"]);
    assert!(!answer.to_string().contains("Zephyrine"), "values are never echoed");
    let (status, _) = write(&app, Method::PATCH, "/api/patients/abc", &json!({"city": "X"}), None).await;
    assert_eq!(status, 400);
    let resp = app.http.post(app.url("/api/patients")).bearer_auth("wrong").json(&json!({})).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let requests: i64 = sqlx::query_scalar("SELECT count(*) FROM write_requests").fetch_one(app.pool()).await.unwrap();
    assert_eq!(requests, 0);
}

#[tokio::test]
async fn a_write_drchrono_refuses_fails_once_naming_the_fields() {
    let app = spawn_app().await;
    let body = json!({"patient": 99_999_999, "doctor": 314159, "office": 1, "scheduled_time": "2031-05-06T10:30:00", "duration": 30});
    let (status, accepted) = write(&app, Method::POST, "/api/appointments", &body, None).await;
    assert_eq!(status, 202);
    app.drain_jobs_allowing_dead().await;
    let dead = job(&app, accepted["job_id"].as_str().unwrap()).await;
    assert_eq!((dead["state"].as_str(), dead["attempts"].as_i64()), (Some("dead"), Some(1)), "{dead}");
    let message = queue::attempts(app.pool(), accepted["job_id"].as_str().unwrap()).await[0].message.clone().unwrap();
    assert!(message.contains("patient") && !message.contains("99999999"), "{message}");
}

/// Once doctors and offices are synced (`sync_lookups`), a write naming a
/// doctor, office or exam room DrChrono does not have is refused before any
/// call, each problem named.
#[tokio::test]
async fn writes_are_checked_against_the_synced_doctors_offices_and_exam_rooms() {
    let app = spawn_app().await;
    for kind in [jobs::domain::RecordKind::Doctor, jobs::domain::RecordKind::Office] {
        job_runner::enqueue(app.pool(), &jobs::catalog::SyncRecords::all(kind)).await.unwrap();
    }
    app.drain_jobs().await;
    let rooms: Value =
        sqlx::query_scalar("SELECT exam_rooms FROM offices ORDER BY id LIMIT 1").fetch_one(app.pool()).await.unwrap();
    assert_eq!(rooms.as_array().map(Vec::len), Some(4), "exam rooms arrive with their office");
    let office = app.sandbox.ids(Kind::Office)[0];
    let patient = app.sandbox.patient_ids()[0];
    app.sandbox.reset_counters();

    let mut body = appointment_body(&app, patient, "2031-05-06T10:30:00");
    body["doctor"] = json!(7);
    body["exam_room"] = json!(2);
    let (status, answer) = write(&app, Method::POST, "/api/appointments", &body, None).await;
    assert_eq!(status, 400, "{answer}");
    let fields: Vec<&str> =
        answer["violations"].as_array().unwrap().iter().map(|v| v["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["doctor", "office"], "office 1 is not one of the practice's");

    let mut body = appointment_body(&app, patient, "2031-05-06T10:30:00");
    body["office"] = json!(office);
    body["exam_room"] = json!(9);
    let (status, answer) = write(&app, Method::POST, "/api/appointments", &body, None).await;
    assert_eq!((status, answer["violations"][0]["field"].as_str()), (400, Some("exam_room")));
    assert_eq!(app.sandbox.calls(), 0, "refused before any call");

    body["exam_room"] = json!(2);
    let (status, _) = write(&app, Method::POST, "/api/appointments", &body, None).await;
    assert_eq!(status, 202);
}

//! No duplicate record after a crash: a real worker process (the service's
//! own workers) aborts right after DrChrono's 201 and before our commit; the
//! retry finds what the POST made (an appointment by patient, doctor and
//! time; a patient by doctor, name, birth date and creation time) and adopts
//! it instead of POSTing again. An older namesake is not adopted.

use integration_tests::queue;
use integration_tests::{
    app::{ADMIN_TOKEN, TestApp, spawn_app_with},
    process::WorkerProcess,
};
use job_runner::JobState;
use jobs::faults::{self, FaultPoint};
use sandbox::Kind;
use serde_json::{Value, json};
use std::time::Duration;

/// A worker process of the service's own for `queue`, configured like the
/// test's app, that aborts right after DrChrono's 201.
async fn crashing_worker(app: &TestApp, queue: &str) -> WorkerProcess {
    let mut env = app.worker_env();
    env.push(("JOB_QUEUES", queue.into()));
    env.push((faults::VAR, FaultPoint::AfterDrChronoCreate.name().into()));
    WorkerProcess::spawn_with_env(env!("CARGO_BIN_EXE_service-worker"), &app.db.url, queue, &env).await
}

/// POSTs `body` to the write API as the admin; returns the job id.
async fn request_create(app: &TestApp, path: &str, body: &Value) -> String {
    let resp = app.http.post(app.url(path)).bearer_auth(ADMIN_TOKEN).json(body).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    resp.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string()
}

/// The sandbox's records of `kind` that `matches`.
fn sandbox_ids(app: &TestApp, kind: Kind, matches: impl Fn(&Value) -> bool) -> Vec<i64> {
    app.sandbox.ids(kind).into_iter().filter(|id| app.sandbox.record(kind, *id).is_some_and(|r| matches(&r))).collect()
}

fn named(app: &TestApp, first: &str, last: &str) -> Vec<i64> {
    sandbox_ids(app, Kind::Patient, |p| p["first_name"] == json!(first) && p["last_name"] == json!(last))
}

async fn resolution(app: &TestApp) -> (i64, String) {
    sqlx::query_as("SELECT drchrono_id, resolution FROM write_requests").fetch_one(app.pool()).await.unwrap()
}

#[tokio::test]
async fn a_worker_killed_after_drchronos_201_leaves_one_appointment() {
    let app = spawn_app_with(false, 5).await;
    let patient = app.sandbox.ids(Kind::Patient)[0];
    let doctor = app.sandbox.record(Kind::Patient, patient).unwrap()["doctor"].clone();
    let at = "2031-09-14T08:15:00";
    let body = json!({"patient": patient, "doctor": doctor, "office": 1, "scheduled_time": at, "duration": 20});
    let job_id = request_create(&app, "/api/appointments", &body).await;

    let mut worker = crashing_worker(&app, "push_appointment").await;
    assert!(worker.wait_crash().await, "the worker aborts after the 201");
    assert_eq!(app.sandbox.writes(), 1, "DrChrono created the appointment");
    let (completed, started): (bool, bool) =
        sqlx::query_as("SELECT completed_at IS NOT NULL, post_started_at IS NOT NULL FROM write_requests")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!((completed, started), (false, true), "our side never learned the outcome");

    app.start_workers();
    queue::wait_for_state(app.pool(), &job_id, JobState::Done, Duration::from_secs(60)).await;

    let in_slot = |a: &Value| a["patient"] == json!(patient) && a["scheduled_time"] == json!(at);
    let same_slot = sandbox_ids(&app, Kind::Appointment, in_slot);
    assert_eq!(same_slot.len(), 1, "one appointment in DrChrono: {same_slot:?}");
    assert_eq!(app.sandbox.writes(), 1, "the retry did not POST again");
    let (drchrono_id, resolution) = resolution(&app).await;
    assert_eq!((drchrono_id, resolution.as_str()), (same_slot[0], "adopted"));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM appointments WHERE id = $1")
        .bind(drchrono_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(stored, 1);
    let outcomes: Vec<String> = queue::attempts(app.pool(), &job_id).await.into_iter().map(|a| a.outcome).collect();
    assert_eq!(outcomes.last().map(String::as_str), Some("succeeded"), "{outcomes:?}");
}

#[tokio::test]
async fn a_worker_killed_after_drchronos_201_leaves_one_patient() {
    let app = spawn_app_with(false, 3).await;
    let doctor = app.sandbox.record(Kind::Patient, app.sandbox.ids(Kind::Patient)[0]).unwrap()["doctor"].clone();
    let body = json!({"doctor": doctor, "first_name": "Odalys", "last_name": "Brenneman", "gender": "Female",
                      "date_of_birth": "1979-03-02"});
    let job_id = request_create(&app, "/api/patients", &body).await;

    let mut worker = crashing_worker(&app, "push_patient").await;
    assert!(worker.wait_crash().await, "the worker aborts after the 201");
    assert_eq!(named(&app, "Odalys", "Brenneman").len(), 1, "DrChrono created the patient");

    app.start_workers();
    queue::wait_for_state(app.pool(), &job_id, JobState::Done, Duration::from_secs(60)).await;
    let patients = named(&app, "Odalys", "Brenneman");
    assert_eq!(patients.len(), 1, "one patient in DrChrono: {patients:?}");
    assert_eq!(app.sandbox.writes(), 1, "the retry did not POST again");
    assert_eq!(resolution(&app).await, (patients[0], "adopted".to_string()));
}

#[tokio::test]
async fn an_older_namesake_is_not_taken_for_the_patient_an_unconfirmed_post_made() {
    let app = spawn_app_with(false, 3).await;
    let namesake_id = app.sandbox.ids(Kind::Patient)[1];
    let namesake = app.sandbox.record(Kind::Patient, namesake_id).unwrap();
    let body = json!({"doctor": namesake["doctor"], "first_name": namesake["first_name"], "last_name": namesake["last_name"],
                      "gender": namesake["gender"], "date_of_birth": namesake["date_of_birth"]});
    let job_id = request_create(&app, "/api/patients", &body).await;
    // An earlier attempt started its POST, which never reached DrChrono.
    sqlx::query("UPDATE write_requests SET post_started_at = now()").execute(app.pool()).await.unwrap();

    app.start_workers();
    queue::wait_for_state(app.pool(), &job_id, JobState::Done, Duration::from_secs(60)).await;
    let (first, last) = (namesake["first_name"].as_str().unwrap(), namesake["last_name"].as_str().unwrap());
    let patients = named(&app, first, last);
    assert_eq!(app.sandbox.writes(), 1, "the retry POSTed");
    let (created, how) = resolution(&app).await;
    assert_eq!(how, "created");
    assert!(patients.contains(&created) && created != namesake_id, "{patients:?}");
}

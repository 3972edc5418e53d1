//! Failure paths keep PHI out too: a write DrChrono refuses, a create that
//! is adopted after an unknown outcome, a record that cannot be stored, an
//! archive the bucket refuses, and the dead jobs they leave. Their logs,
//! spans, attempt messages, job results and recorded reasons hold no
//! patient field, appointment reason or note, medication, problem or
//! allergy of the practice, nor any value a request carried.

use integration_tests::{
    app::{ADMIN_TOKEN, TestApp},
    archive::spawn_archiving_app,
    logs::practice_phi,
    queue,
    telemetry::capture,
};
use job_runner::enqueue;
use jobs::{catalog::SyncRecords, domain::RecordKind};
use sandbox::Kind;
use serde_json::{Value, json};

/// The recorded text an operator reads: attempt messages, job results,
/// delivery and PDF-check reasons, sync run errors.
async fn recorded_text(app: &TestApp) -> String {
    let sql = "SELECT concat_ws(E'\\n', \
         (SELECT string_agg(message, E'\\n') FROM job_attempts), \
         (SELECT string_agg(reason, E'\\n') FROM webhook_deliveries), \
         (SELECT string_agg(reason, E'\\n') FROM pdf_checks), \
         (SELECT string_agg(error, E'\\n') FROM sync_runs))";
    let recorded: String = sqlx::query_scalar(sql).fetch_one(app.pool()).await.unwrap();
    let mut results = Vec::new();
    for queue in jobs::registry::all().names() {
        for job in queue::of_queue(app.pool(), queue).await {
            results.push(format!("{} {:?}", job.args, job.last_result));
        }
    }
    format!("{recorded}\n{}", results.join("\n"))
}

async fn write_patient(app: &TestApp, body: &Value) -> String {
    let resp = app.http.post(app.url("/api/patients")).bearer_auth(ADMIN_TOKEN).json(body).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    resp.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string()
}

/// The state of the crash a create can meet: the POST started and reached
/// DrChrono, and its answer was never recorded.
async fn post_reached_drchrono_unrecorded(app: &TestApp, job_id: &str, body: &Value) {
    sqlx::query("UPDATE write_requests SET post_started_at = now() - interval '1 minute' WHERE job_id = $1")
        .bind(job_id)
        .execute(app.pool())
        .await
        .unwrap();
    let (access, _) = app.sandbox.current_tokens();
    let url = format!("{}/api/patients", app.sandbox.base_url());
    let resp = app.http.post(url).bearer_auth(access).json(body).send().await.unwrap();
    assert_eq!(resp.status(), 201, "the earlier POST created the patient");
}

async fn state_of(app: &TestApp, job_id: &str) -> String {
    queue::report(app.pool(), job_id).await.state.to_string()
}

#[tokio::test]
async fn failure_paths_log_trace_and_record_no_phi() {
    let captured = capture();
    let archive =
        spawn_archiving_app(false, 8, |s| s.archive.aws_secret_access_key = Some("not-the-uploader-secret".into()))
            .await;
    let app = &archive.app;
    let refused = json!({"doctor": 99_999_999, "first_name": "Ysoldeth", "last_name": "Marchettini", "gender": "Female",
                         "date_of_birth": "1961-07-19", "address": "77 Quarrystone Lane", "email": "ysoldeth@example.org"});
    let refused_job = write_patient(app, &refused).await;
    let adopted = json!({"doctor": archive.doctor, "first_name": "Perpetuan", "last_name": "Okonkwo-Lind", "gender": "Male",
                         "date_of_birth": "1977-11-02", "cell_phone": "(555) 013-7781", "email": "perpetuan@example.org"});
    let adopted_job = write_patient(app, &adopted).await;
    post_reached_drchrono_unrecorded(app, &adopted_job, &adopted).await;
    let poisoned = app.sandbox.patient_ids()[1];
    app.sandbox.modify(Kind::Patient, poisoned, |p| {
        p.insert("last_name".into(), json!("Thistlewood\u{0}Aberhart"));
    });
    let resp = app.drchrono().send_legacy("PATIENT_MODIFY", poisoned).await.unwrap();
    let poisoned_job = resp.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string();
    archive.lock(archive.notes(true)[0]).await;

    app.start_workers();
    for kind in RecordKind::ALL {
        enqueue(app.pool(), &SyncRecords::all(kind)).await.unwrap();
    }
    app.drain_jobs_allowing_dead().await;

    assert_eq!(state_of(app, &refused_job).await, "dead", "DrChrono refused the write");
    let resolution: String = sqlx::query_scalar("SELECT resolution FROM write_requests WHERE job_id = $1")
        .bind(&adopted_job)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(resolution, "adopted", "the retry adopted what the earlier POST made");
    assert_eq!(queue::only_attempt_error(app.pool(), &poisoned_job).await.0, "bad_payload");
    let archive_dead = queue::of_queue(app.pool(), "archive_pdf").await;
    assert!(archive_dead.iter().any(|j| j.state.to_string() == "dead"), "the bucket refused the upload");

    let mut phi = practice_phi(&app.sandbox);
    for body in [&refused, &adopted] {
        for (field, v) in body.as_object().unwrap() {
            if let Some(v) = v.as_str().filter(|v| v.len() >= 5 && *field != "gender") {
                phi.push((format!("the write's {field}"), v.to_string()));
            }
        }
    }
    phi.extend(["Thistlewood", "Aberhart"].map(|v| ("the unstorable last name".to_string(), v.to_string())));
    let texts = [
        ("logs", captured.logs.text()),
        ("spans", captured.spans.text()),
        ("recorded messages", recorded_text(app).await),
    ];
    assert!(texts[2].1.contains("bad_payload") || texts[2].1.contains("22P05"), "the scan saw the failures");
    for (what, text) in &texts {
        for (whose, value) in &phi {
            assert!(!text.contains(value.as_str()), "{whose} appears in the {what}");
        }
    }
}

//! Reconciliation catches what webhooks missed; retention prunes old rows.

use integration_tests::app::{TestApp, spawn_app_with};
use integration_tests::db;
use integration_tests::queue;
use job_runner::enqueue;
use jobs::{
    catalog::{Cleanup, SyncPatientLists, SyncRecords},
    domain::RecordKind,
};
use sandbox::Kind;
use serde_json::json;

fn walk(kind: RecordKind) -> SyncRecords {
    SyncRecords { cursor: Some(kind.table().into()), ..SyncRecords::all(kind) }
}

/// One reconciliation pass, in the order the schedules are meant to run.
async fn reconcile(app: &TestApp) {
    for kind in [RecordKind::Patient, RecordKind::Appointment, RecordKind::ClinicalNote] {
        enqueue(app.pool(), &walk(kind)).await.unwrap();
    }
    app.drain_jobs().await;
    enqueue(app.pool(), &SyncPatientLists { schedule: None, practice_wide: false }).await.unwrap();
    app.drain_jobs().await;
}

async fn scalar(app: &TestApp, sql: &'static str, id: i64) -> String {
    sqlx::query_scalar(sql).bind(id).fetch_one(app.pool()).await.unwrap()
}

#[tokio::test]
async fn one_pass_levels_drifted_tables_and_a_second_finds_nothing_to_do() {
    let app = spawn_app_with(true, 30).await;
    reconcile(&app).await;
    let meds: i64 = sqlx::query_scalar("SELECT count(*) FROM medications").fetch_one(app.pool()).await.unwrap();
    assert_eq!(meds as usize, app.sandbox.ids(Kind::Medication).len(), "the first pass mirrors everything");

    // DrChrono changes, and no webhook arrives.
    let patient = app.sandbox.patient_ids()[2];
    app.sandbox.modify_patient(patient, |p| {
        p.insert("patient_status".into(), json!("I"));
    });
    let appt = app.sandbox.ids(Kind::Appointment)[5];
    app.sandbox.modify(Kind::Appointment, appt, |a| {
        a.insert("status".into(), json!("No Show"));
    });
    let med = app
        .sandbox
        .ids(Kind::Medication)
        .into_iter()
        .find(|m| app.sandbox.record(Kind::Medication, *m).unwrap()["patient"] == json!(patient))
        .expect("the patient has a medication");
    app.sandbox.modify(Kind::Medication, med, |m| {
        m.insert("status".into(), json!("inactive"));
    });

    app.sandbox.reset_counters();
    reconcile(&app).await;
    assert_eq!(scalar(&app, "SELECT patient_status FROM patients WHERE id = $1", patient).await, "I");
    assert_eq!(scalar(&app, "SELECT status FROM appointments WHERE id = $1", appt).await, "No Show");
    assert_eq!(scalar(&app, "SELECT status FROM medications WHERE id = $1", med).await, "inactive");
    let drift_calls = app.sandbox.calls();

    app.sandbox.reset_counters();
    let before: i64 = db::count_rows(app.pool(), "change_log").await;
    reconcile(&app).await;
    let after: i64 = db::count_rows(app.pool(), "change_log").await;
    assert_eq!(before, after, "nothing changed, nothing written");
    let idle_calls = app.sandbox.calls();
    eprintln!("reconciliation calls: drift pass {drift_calls}, idle pass {idle_calls}");
    assert_eq!(idle_calls, 3, "one page each for patients, appointments and notes; no per-patient lists");
}

#[tokio::test]
async fn cleanup_prunes_old_finished_jobs_and_deliveries_and_keeps_the_audit() {
    let app = spawn_app_with(true, 5).await;
    let patient = app.sandbox.patient(app.sandbox.patient_ids()[0]).unwrap();
    app.drchrono().send("PATIENT_CREATE", &patient).await.unwrap();
    app.drain_jobs().await;
    job_runner::testing::age_finished(app.pool(), 31).await.unwrap();
    sqlx::query("UPDATE webhook_deliveries SET received_at = now() - interval '91 days'")
        .execute(app.pool())
        .await
        .unwrap();
    let recent = app.sandbox.patient(app.sandbox.patient_ids()[1]).unwrap();
    app.drchrono().send("PATIENT_CREATE", &recent).await.unwrap();
    app.drain_jobs().await;

    enqueue(app.pool(), &Cleanup::default()).await.unwrap();
    app.drain_jobs().await;
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_deliveries").await, 1, "only the recent delivery is left");
    assert_eq!(queue::of_queue(app.pool(), "upsert_record").await.len(), 1);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM job_attempts a WHERE NOT EXISTS (SELECT 1 FROM job_overview j WHERE j.id = a.job_id)"
        )
        .await,
        0,
        "attempts go with their jobs"
    );
    assert_eq!(db::count_rows(app.pool(), "change_log").await, 2, "the audit is kept");
    assert_eq!(
        count(&app, "SELECT seen FROM sync_runs WHERE kind = 'cleanup'").await,
        2,
        "one job and one delivery pruned"
    );
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(app.pool()).await.unwrap()
}

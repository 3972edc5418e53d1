//! Reconciliation as DrChrono's own OpenAPI describes the lists: chart
//! entries walked practice-wide, deletions seen without webhooks, ids that
//! are not numbers, breaks, and the burst limit across replicas.

use integration_tests::{
    app::{TestApp, spawn_app_with},
    process::WorkerProcess,
    queue,
};
use job_runner::JobState;
use job_runner::enqueue;
use jobs::{
    catalog::{SyncPatientLists, SyncRecords},
    domain::RecordKind,
};
use sandbox::{Faults, Kind};
use serde_json::{Value, json};
use std::time::Duration;

fn incremental(kind: RecordKind) -> SyncRecords {
    SyncRecords { cursor: Some(kind.table().into()), ..SyncRecords::all(kind) }
}

async fn run(app: &TestApp, job: &SyncRecords) {
    enqueue(app.pool(), job).await.unwrap();
    app.drain_jobs().await;
}

async fn chart_pass(app: &TestApp, practice_wide: bool) {
    enqueue(app.pool(), &SyncPatientLists { schedule: None, practice_wide }).await.unwrap();
    app.drain_jobs().await;
}

/// The first entry of `kind` on `patient`'s chart in the sandbox.
fn entry_of(app: &TestApp, kind: Kind, patient: i64) -> Option<i64> {
    app.sandbox.ids(kind).into_iter().find(|id| app.sandbox.record(kind, *id).unwrap()["patient"] == json!(patient))
}

/// A patient with at least one medication, problem and allergy, and a
/// second medication to delete.
fn patient_with_full_chart(app: &TestApp) -> (i64, [i64; 3]) {
    for patient in app.sandbox.patient_ids() {
        let of = |kind| entry_of(app, kind, patient);
        if let (Some(m), Some(p), Some(a)) = (of(Kind::Medication), of(Kind::Problem), of(Kind::Allergy)) {
            return (patient, [m, p, a]);
        }
    }
    panic!("no patient with a full chart");
}

async fn text(app: &TestApp, sql: &str, id: i64) -> Option<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).bind(id).fetch_one(app.pool()).await.unwrap()
}

async fn removed(app: &TestApp, table: &str, id: i64) -> bool {
    let sql = format!("SELECT removed_at IS NOT NULL FROM {table} WHERE id = $1");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(app.pool()).await.unwrap()
}

async fn last_plan(app: &TestApp) -> (String, i64) {
    sqlx::query_as("SELECT scope, seen FROM sync_runs WHERE kind = 'chart_lists' ORDER BY id DESC LIMIT 1")
        .fetch_one(app.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_nightly_chart_pass_levels_entries_changed_without_webhooks_and_marks_deletions() {
    let app = spawn_app_with(true, 30).await;
    run(&app, &incremental(RecordKind::Patient)).await;
    chart_pass(&app, false).await;
    assert_eq!(last_plan(&app).await, ("practice_wide".into(), 30), "the first pass: 3 calls beat 90");
    let meds: i64 = sqlx::query_scalar("SELECT count(*) FROM medications").fetch_one(app.pool()).await.unwrap();
    assert_eq!(meds as usize, app.sandbox.ids(Kind::Medication).len());

    // The chart changes at DrChrono; the patient's own record does not, and no webhook comes.
    let (patient, [med, problem, allergy]) = patient_with_full_chart(&app);
    let was = app.sandbox.record(Kind::Medication, med).unwrap()["status"].clone();
    let now = if was == json!("active") { "inactive" } else { "active" };
    app.sandbox.modify(Kind::Medication, med, |m| {
        m.insert("status".into(), json!(now));
    });
    app.sandbox.modify(Kind::Problem, problem, |p| {
        p.insert("status".into(), json!("resolved"));
    });
    app.sandbox.modify(Kind::Allergy, allergy, |a| {
        a.insert("reaction".into(), json!("Anaphylaxis (revised)"));
    });
    let deleted = app.sandbox.ids(Kind::Medication).into_iter().find(|m| *m != med).unwrap();
    app.sandbox.remove(Kind::Medication, deleted).unwrap();

    app.sandbox.reset_counters();
    chart_pass(&app, false).await;
    assert_eq!(last_plan(&app).await, ("per_patient".into(), 0), "no patient changed: nothing to walk");
    assert_eq!(app.sandbox.calls(), 0);
    assert_eq!(text(&app, "SELECT status FROM medications WHERE id = $1", med).await.as_deref(), was.as_str());

    chart_pass(&app, true).await;
    assert_eq!(last_plan(&app).await.0, "practice_wide");
    assert_eq!(app.sandbox.calls(), 3, "one page each of medications, problems and allergies");
    assert_eq!(text(&app, "SELECT status FROM medications WHERE id = $1", med).await.as_deref(), Some(now));
    assert_eq!(text(&app, "SELECT status FROM problems WHERE id = $1", problem).await.as_deref(), Some("resolved"));
    let reaction = text(&app, "SELECT reaction FROM allergies WHERE id = $1", allergy).await;
    assert_eq!(reaction.as_deref(), Some("Anaphylaxis (revised)"));
    assert!(removed(&app, "medications", deleted).await, "a deleted entry is marked, not kept silently");
    assert!(!removed(&app, "medications", med).await);
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM change_log WHERE table_name = 'medications' AND record_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(deleted)
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert!(actor.ends_with(":not_listed"), "the audit says why: {actor}");
    let runs_removed: i64 =
        sqlx::query_scalar("SELECT removed FROM sync_runs WHERE kind = 'medication' ORDER BY id DESC LIMIT 1")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(runs_removed, 1);
    assert!(app.sandbox.patient(patient).is_some());
}

#[tokio::test]
async fn reconciliation_marks_appointments_deleted_without_a_webhook() {
    let app = spawn_app_with(true, 10).await;
    run(&app, &incremental(RecordKind::Appointment)).await;
    let ids = app.sandbox.ids(Kind::Appointment);
    let live = |id: &i64| app.sandbox.record(Kind::Appointment, *id).unwrap()["deleted_flag"] == json!(false);
    let (archived, gone) = {
        let mut live_ids = ids.iter().copied().filter(live);
        (live_ids.next().unwrap(), live_ids.next().unwrap())
    };
    app.sandbox.delete_appointment(archived).unwrap();
    run(&app, &incremental(RecordKind::Appointment)).await;
    let deleted: bool = sqlx::query_scalar("SELECT deleted FROM appointments WHERE id = $1")
        .bind(archived)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert!(deleted, "an incremental walk asks for show_archived and sees the deletion");

    app.sandbox.remove(Kind::Appointment, gone).unwrap();
    run(&app, &SyncRecords::all(RecordKind::Appointment)).await;
    assert!(removed(&app, "appointments", gone).await, "gone from a full walk: marked removed");
    assert!(!removed(&app, "appointments", archived).await, "archived is still listed, as deleted");
}

#[tokio::test]
async fn breaks_are_stored_and_non_numeric_ids_are_kept_and_counted() {
    let app = spawn_app_with(true, 5).await;
    let doctor = app.sandbox.ids(Kind::Doctor)[0];
    let at = chrono::NaiveDate::from_ymd_opt(2030, 3, 4).unwrap().and_hms_opt(12, 30, 0).unwrap();
    let lunch = app.sandbox.add_break(doctor, 1, at);
    let recurring = app.sandbox.ids(Kind::Appointment)[0];
    let wire = app.sandbox.make_recurring(recurring).unwrap();
    run(&app, &SyncRecords::all(RecordKind::Appointment)).await;

    let stored: (Option<i64>, i64) = sqlx::query_as("SELECT patient_id, doctor_id FROM appointments WHERE id = $1")
        .bind(lunch)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(stored, (None, doctor), "a break has no patient and is stored");
    let kept: Value =
        sqlx::query_scalar("SELECT raw FROM unkeyed_records WHERE kind = 'appointment' AND source_id = $1")
            .bind(&wire)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(kept["id"], json!(wire));
    let (unkeyed, seen, counted): (i64, i64, i64) =
        sqlx::query_as("SELECT unkeyed, seen, created + updated + unchanged FROM sync_runs WHERE kind = 'appointment'")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(unkeyed, 1, "the run reports it");
    assert_eq!(seen, counted + unkeyed, "every object listed is accounted for");
}

/// Three worker processes walk every list at once, many small pages each;
/// the sandbox enforces DrChrono's 10 calls in any second and never has to.
#[tokio::test]
async fn three_replicas_walking_at_once_stay_under_the_burst_limit() {
    let app = spawn_app_with(false, 100).await;
    app.sandbox.set_faults(Faults { page_cap: Some(25), ..Faults::default() });
    let binary = env!("CARGO_BIN_EXE_service-worker");
    let mut env = app.worker_env();
    // One job per fetch, so the walks spread over the processes.
    env.push(("JOB_BATCH_SIZE", "1".into()));
    let mut workers = Vec::new();
    for _ in 0..3 {
        workers.push(WorkerProcess::spawn_with_env(binary, &app.db.url, "sync_records", &env).await);
    }
    for kind in RecordKind::ALL {
        enqueue(app.pool(), &SyncRecords::all(kind)).await.unwrap();
    }
    // Only the walks: the follow-up jobs they enqueue have no worker here.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while queue::count(app.pool(), Some("sync_records"), &[JobState::Done]).await < RecordKind::ALL.len() as i64 {
        assert!(std::time::Instant::now() < deadline, "the walks did not finish in 120 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let calls = app.sandbox.calls();
    assert!(calls > 40, "enough calls to overrun an unpaced second: {calls}");
    assert_eq!(app.sandbox.burst_refusals(), 0, "{calls} calls, none refused by the burst limit");
    let mut workers_used = std::collections::BTreeSet::new();
    for walk in queue::of_queue(app.pool(), "sync_records").await {
        workers_used.extend(queue::attempts(app.pool(), &walk.id).await.into_iter().filter_map(|a| a.worker_id));
    }
    let workers_used = workers_used.len();
    assert!(workers_used >= 2, "the walks were shared between processes: {workers_used}");
    for worker in &mut workers {
        worker.kill().await;
    }
}

/// The spec's `ClinicalNote` has no `updated_at`: a walk of such objects
/// still moves its cursor, to its own start minus the overlap, so the next
/// walk asks only for what changed since, not for everything again.
#[tokio::test]
async fn a_walk_of_objects_without_updated_at_moves_its_cursor_to_its_start() {
    let app = spawn_app_with(true, 10).await;
    app.sandbox.set_faults(Faults { omit_updated_at: true, ..Faults::default() });
    run(&app, &incremental(RecordKind::ClinicalNote)).await;
    // A whole walk of notes reads a batch, over more than one run (it waits
    // for the batch): the walk started with the run that started its batch.
    let starts: Vec<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT started_at FROM sync_runs WHERE kind = 'clinical_note' ORDER BY id")
            .fetch_all(app.pool())
            .await
            .unwrap();
    let cursor: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT resume_from FROM sync_cursors WHERE name = 'clinical_notes'")
            .fetch_optional(app.pool())
            .await
            .unwrap();
    let cursor = cursor.expect("the walk moved its cursor");
    assert!(
        starts.iter().any(|s| *s - jobs::domain::sync_state::OVERLAP == cursor),
        "the walk's start, less the overlap: {cursor} for runs started {starts:?}"
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM clinical_notes").fetch_one(app.pool()).await.unwrap();
    assert_eq!(stored as usize, app.sandbox.ids(Kind::ClinicalNote).len());

    app.sandbox.reset_counters();
    run(&app, &incremental(RecordKind::ClinicalNote)).await;
    let seen: i64 =
        sqlx::query_scalar("SELECT seen FROM sync_runs WHERE kind = 'clinical_note' ORDER BY id DESC LIMIT 1")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(seen, 0, "the second walk asked only for notes changed since the first began");
    assert_eq!(app.sandbox.calls(), 1);
}

/// A list that comes back short (DrChrono answers an empty appointments
/// list when `calendar:read` is missing) is not a mass deletion: a walk that
/// would mark more than half of the stored rows marks none.
#[tokio::test]
async fn a_walk_that_lists_most_rows_missing_marks_nothing_removed() {
    let app = spawn_app_with(true, 10).await;
    run(&app, &SyncRecords::all(RecordKind::Medication)).await;
    let meds = app.sandbox.ids(Kind::Medication);
    for id in &meds[1..] {
        app.sandbox.remove(Kind::Medication, *id).unwrap();
    }
    run(&app, &SyncRecords::all(RecordKind::Medication)).await;
    let marked: i64 = sqlx::query_scalar("SELECT count(*) FROM medications WHERE removed_at IS NOT NULL")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(marked, 0, "{} of {} unlisted: a short answer, not deletions", meds.len() - 1, meds.len());
}

/// Unkeyed objects are PHI kept outside the mirror: once no walk has listed
/// one for `unkeyed_days`, `cleanup` prunes it; one still listed stays.
#[tokio::test]
async fn cleanup_prunes_unkeyed_objects_no_walk_lists_any_more() {
    let app = spawn_app_with(true, 5).await;
    let ids = app.sandbox.ids(Kind::Appointment);
    let (old, fresh) = (app.sandbox.make_recurring(ids[0]).unwrap(), app.sandbox.make_recurring(ids[1]).unwrap());
    run(&app, &SyncRecords::all(RecordKind::Appointment)).await;
    sqlx::query("UPDATE unkeyed_records SET last_seen = now() - interval '91 days' WHERE source_id = $1")
        .bind(&old)
        .execute(app.pool())
        .await
        .unwrap();
    enqueue(app.pool(), &jobs::catalog::Cleanup::default()).await.unwrap();
    app.drain_jobs().await;
    let left: Vec<String> = sqlx::query_scalar("SELECT source_id FROM unkeyed_records ORDER BY source_id")
        .fetch_all(app.pool())
        .await
        .unwrap();
    assert_eq!(left, [fresh], "the one not listed for 91 days is pruned");
}

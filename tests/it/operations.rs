//! Operator tools: find a dead job, see why it died, revive it; and the
//! audit views. The commands' logic is `job_runner::ops`, run here against the
//! real service and runner.

use integration_tests::app::{TestApp, spawn_app, spawn_app_configured};
use integration_tests::queue;
use job_runner::JobState;
use job_runner::ops::{self, JobFilter, RetryOutcome, RetryRequest};
use sandbox::GridhookScheme;
use serde_json::Value;
use std::time::Duration;

fn request(filter: JobFilter, dry_run: bool) -> RetryRequest {
    RetryRequest { filter, limit: None, dry_run, all: false, actor: "test-operator".into() }
}

async fn revive(app: &TestApp, req: &RetryRequest) -> ops::RetryReport {
    let registry = jobs::registry::all();
    ops::retry_failed(app.pool(), req, |q| registry.max_attempts(q).unwrap()).await.unwrap()
}

/// Runs workers whose configuration lacks the Deep Cura secret until `stop` drops.
fn misconfigured_worker(app: &TestApp) -> tokio::sync::watch::Sender<bool> {
    let mut settings = app.settings.clone();
    settings.deepcura_shared_secret = None;
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let pool = app.pool().clone();
    tokio::spawn(async move { server::work(pool, &settings, shutdown).await });
    stop
}

#[tokio::test]
async fn a_dead_job_is_found_explained_and_revived_with_its_history_kept() {
    let app = spawn_app_configured(false, 5, |_, _| {}).await;
    let gridhook = app.sandbox.gridhook_for(app.sandbox.ids(sandbox::Kind::Appointment)[0]).unwrap();
    let answer: Value = app.deepcura(GridhookScheme::Sha256Iv).send(&gridhook).await.unwrap().json().await.unwrap();
    let job = answer["job_id"].as_str().unwrap().to_string();
    let stop = misconfigured_worker(&app);
    queue::wait_for_state(app.pool(), &job, JobState::Dead, Duration::from_secs(20)).await;
    drop(stop);

    let dead = JobFilter { error_class: Some("permanent".into()), ..Default::default() };
    let listed = ops::list(app.pool(), &dead, Some("dead"), 10).await.unwrap();
    assert_eq!(listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [job.as_str()]);
    let shown = ops::show(app.pool(), &job).await.unwrap().unwrap();
    assert_eq!((shown.queue.as_str(), shown.state.as_str(), shown.history.len()), ("decrypt_gridhook", "dead", 1));
    let why = shown.history[0].message.clone().unwrap();
    assert!(why.contains("DEEPCURA_SHARED_SECRET is not set on the worker"), "{why}");
    assert!(shown.history[0].worker_id.is_some());

    let by_queue = JobFilter { queues: vec!["decrypt_gridhook".into()], ..Default::default() };
    let dry = revive(&app, &request(by_queue.clone(), true)).await;
    assert_eq!(dry.outcome, RetryOutcome::DryRun);
    assert_eq!(ops::show(app.pool(), &job).await.unwrap().unwrap().state, "dead", "a dry run changes nothing");

    let done = revive(&app, &request(by_queue.clone(), false)).await;
    assert_eq!(done.outcome, RetryOutcome::Revived { revived: vec![job.clone()], skipped: vec![] });
    let revived = queue::report(app.pool(), &job).await;
    assert_eq!(
        (revived.state, revived.max_attempts),
        (JobState::Pending, 1 + 10),
        "a fresh budget on top of the attempt used"
    );

    app.start_workers();
    queue::wait_for_state(app.pool(), &job, JobState::Done, Duration::from_secs(20)).await;
    let history = ops::show(app.pool(), &job).await.unwrap().unwrap().history;
    let outcomes: Vec<&str> = history.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["failed", "succeeded"], "one job, both attempts");

    let again = revive(&app, &request(by_queue, false)).await;
    assert_eq!(again.outcome, RetryOutcome::NothingMatched);
    let actions: Vec<(String, bool, Vec<String>, Value)> =
        sqlx::query_as("SELECT actor, dry_run, job_ids, filters FROM operator_actions ORDER BY id")
            .fetch_all(app.pool())
            .await
            .unwrap();
    let summary: Vec<(bool, usize)> = actions.iter().map(|a| (a.1, a.2.len())).collect();
    assert_eq!(summary, [(true, 1), (false, 1), (false, 0)], "every use is recorded, dry runs too");
    assert!(actions.iter().all(|a| a.0 == "test-operator"));
    assert_eq!(actions[1].3["filter"]["queues"], serde_json::json!(["decrypt_gridhook"]));
}

#[tokio::test]
async fn many_dead_jobs_without_a_filter_need_all() {
    let app = spawn_app_configured(false, 5, |_, _| {}).await;
    let ids: Vec<String> = (1..=101).map(|g| format!("dead-{g}")).collect();
    job_runner::testing::insert_dead(app.pool(), "cleanup", &ids, 1).await.unwrap();
    let refused = revive(&app, &request(JobFilter::default(), false)).await;
    assert_eq!(refused.outcome, RetryOutcome::Refused { matched: 101 });
    let dead: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_jobs").fetch_one(app.pool()).await.unwrap();
    assert_eq!(dead, 101, "refusal revives nothing");
    let all = revive(&app, &RetryRequest { all: true, ..request(JobFilter::default(), false) }).await;
    assert!(matches!(&all.outcome, RetryOutcome::Revived { revived, .. } if revived.len() == 101));
    let stats = ops::stats(app.pool()).await.unwrap();
    let cleanup = stats.iter().find(|s| s.queue == "cleanup").unwrap();
    assert_eq!((cleanup.pending, cleanup.dead), (101, 0));
}

#[tokio::test]
async fn the_timeline_of_a_patient_puts_deliveries_jobs_attempts_changes_and_operators_in_order() {
    let app = spawn_app().await;
    let patient = app.sandbox.patient_ids()[0];
    let object = app.sandbox.patient(patient).unwrap();
    app.drchrono().send("PATIENT_CREATE", &object).await.unwrap();
    app.drain_jobs().await;
    let job: String = sqlx::query_scalar("SELECT job_id FROM webhook_deliveries").fetch_one(app.pool()).await.unwrap();
    // Pretend the job had died, and revive it.
    job_runner::testing::force_state(app.pool(), &job, JobState::Dead).await.unwrap();
    let ids = JobFilter { ids: vec![job.clone()], ..Default::default() };
    revive(&app, &request(ids, false)).await;
    queue::wait_for_state(app.pool(), &job, JobState::Done, Duration::from_secs(20)).await;

    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT source, what, job_id FROM record_timeline \
         WHERE record_type = 'patient' AND record_id = $1 AND at > now() - interval '1 hour' ORDER BY at, source",
    )
    .bind(patient)
    .fetch_all(app.pool())
    .await
    .unwrap();
    let sources: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(sources, ["delivery", "job", "attempt", "change", "operator", "attempt"], "{rows:?}");
    assert!(rows.iter().filter(|r| r.0 != "change").all(|r| r.2.as_deref() == Some(job.as_str())));
    assert_eq!(rows[3].1, "patients insert");

    let changed = app.sandbox.modify_patient(patient, |p| {
        p.insert("patient_status".into(), serde_json::json!("I"));
    });
    app.drchrono().send("PATIENT_MODIFY", &changed.unwrap()).await.unwrap();
    app.drain_jobs().await;
    let details: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM record_timeline WHERE source = 'change' AND record_id = $1 ORDER BY at")
            .bind(patient)
            .fetch_all(app.pool())
            .await
            .unwrap();
    assert_eq!(details, ["new row", "fields: patient_status"], "names of changed fields, never values");
}

//! Replaying stored deliveries: a delivery stored before its event was
//! supported is applied once replayed, through the admission and dedup a
//! live delivery meets; dry runs, refusals and every use are audited.

use integration_tests::app::{TestApp, spawn_app, spawn_app_configured};
use integration_tests::db::count_rows;
use integration_tests::inbox::{ids, operator_actions, replay_as_operator, store_unapplied};
use jobs::inbox::{
    self, DeliveryFilter,
    replay::{NO_BODY, ReplayOutcome, Verdict},
};
use sandbox::{GridhookScheme, WebhookSender};
use serde_json::Value;

async fn jobs_in(app: &TestApp, queue: &str) -> i64 {
    integration_tests::queue::of_queue(app.pool(), queue).await.len() as i64
}

/// (outcome, job_id, replay_of) of an inbox row.
async fn row(app: &TestApp, id: i64) -> (String, Option<String>, Option<i64>) {
    sqlx::query_as("SELECT outcome, job_id, replay_of FROM webhook_deliveries WHERE id = $1")
        .bind(id)
        .fetch_one(app.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_not_modelled_delivery_is_applied_when_replayed_and_a_second_replay_enqueues_nothing() {
    let app = spawn_app().await;
    let patient = app.sandbox.patient_ids()[0];
    let object = app.sandbox.patient(patient).unwrap();
    let original = store_unapplied(app.pool(), "PATIENT_CREATE", &object, "not_modelled", Some("dlv-old-1")).await;

    let first = replay_as_operator(&app, ids(&[original]), false, false).await;
    assert_eq!(first.outcome, ReplayOutcome::Replayed);
    let item = &first.items[0];
    let Verdict::Enqueued { queue: "upsert_record", job_id: Some(job) } = &item.verdict else {
        panic!("the replay enqueues the upsert: {:?}", item.verdict)
    };
    assert_eq!((item.record_kind.as_deref(), item.object_id), (Some("patient"), Some(patient)));
    app.drain_jobs().await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM patients WHERE id = $1")
        .bind(patient)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(stored, 1, "the replayed delivery is applied");
    assert_eq!(row(&app, original).await, ("not_modelled".into(), None, None), "the original keeps its history");
    let replay_row = item.replay_row.expect("a replay is a new inbox row");
    assert_eq!(row(&app, replay_row).await, ("accepted".into(), Some(job.clone()), Some(original)));

    let second = replay_as_operator(&app, ids(&[original]), false, false).await;
    assert_eq!(second.items[0].verdict, Verdict::Duplicate { job_id: Some(job.clone()) });
    assert_eq!(jobs_in(&app, "upsert_record").await, 1, "replaying twice enqueues once");

    let listed = inbox::list(app.pool(), &DeliveryFilter::default(), 10).await.unwrap();
    let replays: Vec<Option<i64>> = listed.iter().map(|r| r.replay_of).collect();
    assert_eq!(replays, [Some(original), Some(original), None], "the list shows each replay and its original");
    let actions = operator_actions(app.pool()).await;
    let audited: Vec<(&str, bool, usize, &[i64])> =
        actions.iter().map(|a| (a.0.as_str(), a.1, a.2.len(), a.3.as_slice())).collect();
    assert_eq!(
        audited,
        [("replay_deliveries", false, 1, &[original][..]), ("replay_deliveries", false, 0, &[original][..])]
    );
    assert_eq!(actions[0].2, std::slice::from_ref(job));
}

#[tokio::test]
async fn a_replay_without_a_delivery_id_is_deduplicated_by_its_original() {
    let app = spawn_app().await;
    let object = app.sandbox.patient(app.sandbox.patient_ids()[1]).unwrap();
    let original = store_unapplied(app.pool(), "PATIENT_MODIFY", &object, "unhandled", None).await;
    let first = replay_as_operator(&app, ids(&[original]), false, false).await;
    assert!(matches!(first.items[0].verdict, Verdict::Enqueued { .. }), "{:?}", first.items[0].verdict);
    app.drain_jobs().await;
    let second = replay_as_operator(&app, ids(&[original]), false, false).await;
    assert!(matches!(second.items[0].verdict, Verdict::Duplicate { .. }), "{:?}", second.items[0].verdict);
    assert_eq!(jobs_in(&app, "upsert_record").await, 1, "its job done, a second replay still enqueues nothing");
}

/// Tasks were stored `not_modelled` before they were mirrored: a replay now
/// applies them with no call, as a live delivery would be.
#[tokio::test]
async fn a_task_stored_before_tasks_were_mirrored_lands_when_replayed() {
    let app = spawn_app().await;
    let task = app.sandbox.delivery_object("TASK_MODIFY");
    let original = store_unapplied(app.pool(), "TASK_MODIFY", &task, "not_modelled", Some("dlv-old-task")).await;
    let report = replay_as_operator(&app, ids(&[original]), false, false).await;
    assert!(matches!(report.items[0].verdict, Verdict::Enqueued { queue: "upsert_record", .. }), "{report:?}");
    app.drain_jobs().await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks WHERE id = $1")
        .bind(task["id"].as_i64())
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(stored, 1);
    assert_eq!(app.sandbox.calls(), 0, "the stored delivery carried the task");
}

#[tokio::test]
async fn an_event_still_not_modelled_stays_so_and_says_so() {
    let app = spawn_app().await;
    let vaccine = serde_json::json!({ "id": 77, "cvx_code": "141" });
    let original =
        store_unapplied(app.pool(), "VACCINE_ADMINISTERED", &vaccine, "not_modelled", Some("dlv-vaccine")).await;
    let unknown = store_unapplied(app.pool(), "SOMETHING_NEW", &vaccine, "unhandled", Some("dlv-new")).await;
    let report = replay_as_operator(&app, ids(&[original, unknown]), false, false).await;
    let verdicts: Vec<&Verdict> = report.items.iter().map(|i| &i.verdict).collect();
    let not_modelled = Some("DrChrono event for data this service does not mirror".to_string());
    assert_eq!(
        verdicts,
        [
            &Verdict::NotApplied { outcome: "not_modelled", reason: not_modelled },
            &Verdict::NotApplied { outcome: "unhandled", reason: Some("unknown event".into()) },
        ]
    );
    assert_eq!(integration_tests::queue::count_all(app.pool()).await, 0, "nothing is enqueued");
    let outcomes: Vec<String> =
        sqlx::query_scalar("SELECT outcome FROM webhook_deliveries WHERE replay_of IS NOT NULL ORDER BY id")
            .fetch_all(app.pool())
            .await
            .unwrap();
    assert_eq!(outcomes, ["not_modelled", "unhandled"], "each replay is recorded with what it met");
}

#[tokio::test]
async fn a_dry_run_shows_what_would_be_enqueued_enqueues_nothing_and_is_audited() {
    let app = spawn_app().await;
    let patient = app.sandbox.patient_ids()[0];
    let object = app.sandbox.patient(patient).unwrap();
    let original = store_unapplied(app.pool(), "PATIENT_CREATE", &object, "not_modelled", Some("dlv-dry")).await;
    let filter = DeliveryFilter { outcome: Some("not_modelled".into()), ..Default::default() };
    let dry = replay_as_operator(&app, filter, true, false).await;
    assert_eq!(dry.outcome, ReplayOutcome::DryRun);
    let item = &dry.items[0];
    assert_eq!(item.verdict, Verdict::Enqueued { queue: "upsert_record", job_id: None });
    assert_eq!(
        (item.delivery, item.record_kind.as_deref(), item.object_id),
        (original, Some("patient"), Some(patient))
    );
    assert_eq!(integration_tests::queue::count_all(app.pool()).await, 0, "a dry run enqueues nothing");
    let rows = count_rows(app.pool(), "webhook_deliveries").await;
    assert_eq!(rows, 1, "a dry run stores no replay row");
    let actions = operator_actions(app.pool()).await;
    assert_eq!(actions.len(), 1);
    assert_eq!((actions[0].1, actions[0].3.as_slice()), (true, &[original][..]), "{actions:?}");
    assert!(actions[0].4.starts_with("dry run: 1 enqueued"), "{}", actions[0].4);
}

#[tokio::test]
async fn a_rejected_delivery_is_refused_for_lack_of_a_body() {
    let app = spawn_app().await;
    let object = app.sandbox.patient(app.sandbox.patient_ids()[0]).unwrap();
    let forger = WebhookSender::new(app.url("/webhooks/drchrono"), "a-mistyped-secret");
    assert_eq!(forger.send("PATIENT_CREATE", &object).await.unwrap().status(), 401);
    let rejected: i64 = sqlx::query_scalar("SELECT id FROM webhook_deliveries WHERE outcome = 'rejected_auth'")
        .fetch_one(app.pool())
        .await
        .unwrap();
    let report = replay_as_operator(&app, ids(&[rejected]), false, false).await;
    assert_eq!(report.items[0].verdict, Verdict::Refused { reason: NO_BODY });
    assert!(NO_BODY.contains("body was not kept") && NO_BODY.contains("deliver it again"));
    assert!(report.all_refused());
    let rows = count_rows(app.pool(), "webhook_deliveries").await;
    assert_eq!(rows, 1, "nothing is admitted");
    let actions = operator_actions(app.pool()).await;
    assert_eq!(
        (actions.len(), actions[0].4.as_str()),
        (1, "replayed: 0 enqueued, 0 duplicate, 0 not applied, 1 refused")
    );
}

#[tokio::test]
async fn many_deliveries_without_a_filter_need_all() {
    let app = spawn_app_configured(false, 5, |_, _| {}).await;
    for n in 0..101 {
        let flag = serde_json::json!({ "id": n });
        store_unapplied(app.pool(), "PATIENT_FLAG_MODIFY", &flag, "not_modelled", None).await;
    }
    let refused = replay_as_operator(&app, DeliveryFilter::default(), false, false).await;
    assert_eq!(refused.outcome, ReplayOutcome::Refused { matched: 101 });
    assert!(refused.items.is_empty());
    let rows = count_rows(app.pool(), "webhook_deliveries").await;
    assert_eq!(rows, 101, "a refusal replays nothing");
    let all = replay_as_operator(&app, DeliveryFilter::default(), false, true).await;
    assert_eq!((all.outcome, all.items.len()), (ReplayOutcome::Replayed, 101));
    let outcomes: Vec<String> = operator_actions(app.pool()).await.into_iter().map(|a| a.4).collect();
    assert_eq!(
        outcomes,
        ["refused: 101 matched without a filter", "replayed: 0 enqueued, 0 duplicate, 101 not applied, 0 refused"]
    );
}

#[tokio::test]
async fn a_gridhook_whose_job_exists_replays_as_a_duplicate() {
    let app = spawn_app().await;
    let appointment = app.sandbox.ids(sandbox::Kind::Appointment)[0];
    let gridhook = app.sandbox.gridhook_for(appointment).unwrap();
    let answer: Value = app
        .deepcura(GridhookScheme::Sha256Iv)
        .send_with_delivery_id(&gridhook, "gh-1")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app.drain_jobs().await;
    let original = answer["delivery_id"].as_i64().unwrap();
    let filter = DeliveryFilter { source: Some("deepcura".into()), ..Default::default() };
    let report = replay_as_operator(&app, filter, false, false).await;
    assert_eq!(report.items[0].delivery, original);
    let job = answer["job_id"].as_str().map(str::to_string);
    assert_eq!(report.items[0].verdict, Verdict::Duplicate { job_id: job });
    assert_eq!(jobs_in(&app, "decrypt_gridhook").await, 1);
}

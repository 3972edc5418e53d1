//! The console's actions do what their CLI commands do, each leaving an
//! `operator_actions` row under the actor `console:admin`, and say so in
//! the page's flash message.

use integration_tests::app::{ADMIN_TOKEN, TestApp, spawn_app, spawn_app_with};
use integration_tests::console::Console;
use integration_tests::db::count_rows;
use integration_tests::inbox::store_unapplied;
use integration_tests::operator::{actions, overview_state};
use reqwest::StatusCode;

const QUEUE: &str = "upsert_record";

async fn dead_job(app: &TestApp) -> String {
    let job = ulid::Ulid::generate().to_string();
    job_runner::testing::insert_dead(app.pool(), QUEUE, std::slice::from_ref(&job), 3).await.unwrap();
    job
}

/// POSTs the form `path` of `page` and follows the redirect to `back`: the page's flash message.
async fn act(console: &Console, page: &str, path: &str, fields: &[(&str, &str)], back: &str) -> String {
    let resp = console.post(page, path, fields).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "POST {path}");
    assert_eq!(resp.headers()["location"], back, "POST {path}");
    let body = console.page(back).await;
    let flash = body.split_once(r#"<p id="flash">"#).unwrap_or_else(|| panic!("no flash after {path}: {body}")).1;
    flash.split_once("</p>").unwrap().0.to_string()
}

/// The (action, actor, job ids) of every operator action, oldest first.
async fn audited(app: &TestApp) -> Vec<(String, String, Vec<String>)> {
    actions(app.pool()).await.into_iter().map(|(action, actor, _, ids, _, _)| (action, actor, ids)).collect()
}

#[tokio::test]
async fn console_retry_revives_a_dead_job_with_a_fresh_budget() {
    let app = spawn_app_with(false, 0).await;
    let job = dead_job(&app).await;
    let console = Console::logged_in(&app, ADMIN_TOKEN).await;
    let page = format!("/console/jobs/{job}");
    let flash = act(&console, &page, &format!("{page}/retry"), &[], &page).await;
    assert!(flash.starts_with("Revived"), "{flash}");
    assert_eq!(overview_state(app.pool(), &job).await, "pending");
    let budget = job_runner::ops::show(app.pool(), &job).await.unwrap().unwrap().max_attempts;
    let fresh = jobs::registry::all().max_attempts(QUEUE).unwrap();
    assert_eq!(budget, 3 + fresh, "as retry-failed: its attempts so far plus the queue's budget");
    assert_eq!(audited(&app).await, [("retry_failed".into(), "console:admin".into(), vec![job.clone()])]);
    assert!(console.page(&page).await.contains(r#"<span id="job-state">pending</span>"#));
}

#[tokio::test]
async fn console_discard_sets_a_dead_job_aside_with_its_reason() {
    let app = spawn_app_with(false, 0).await;
    let job = dead_job(&app).await;
    let console = Console::logged_in(&app, ADMIN_TOKEN).await;
    let page = format!("/console/jobs/{job}");
    let flash = act(&console, &page, &format!("{page}/discard"), &[("reason", "ticket 7")], &page).await;
    assert!(flash.starts_with("Discarded"), "{flash}");
    assert_eq!(overview_state(app.pool(), &job).await, "discarded");
    let (by, reason): (String, Option<String>) =
        sqlx::query_as("SELECT discarded_by, reason FROM job_discards WHERE job_id = $1")
            .bind(&job)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!((by.as_str(), reason.as_deref()), ("console:admin", Some("ticket 7")));
    assert_eq!(audited(&app).await, [("discard".into(), "console:admin".into(), vec![job.clone()])]);

    let flash = act(&console, &page, &format!("{page}/discard"), &[], &page).await;
    assert!(flash.starts_with("Refused: job") && flash.contains("already discarded"), "a refusal says why: {flash}");
}

#[tokio::test]
async fn console_cancel_stops_a_pending_job() {
    let app = spawn_app_with(false, 0).await;
    let job = ulid::Ulid::generate().to_string();
    job_runner::testing::insert_raw(app.pool(), &job, QUEUE, b"{}", 5).await.unwrap();
    let console = Console::logged_in(&app, ADMIN_TOKEN).await;
    let page = format!("/console/jobs/{job}");
    assert!(console.page(&page).await.contains(r#"id="cancel""#));
    let flash = act(&console, &page, &format!("{page}/cancel"), &[], &page).await;
    assert!(flash.starts_with("Cancelled"), "{flash}");
    assert_eq!(overview_state(app.pool(), &job).await, "cancelled");
    assert_eq!(audited(&app).await, [("cancel".into(), "console:admin".into(), vec![job.clone()])]);
}

#[tokio::test]
async fn console_pause_and_resume_a_queue_on_every_replica() {
    let app = spawn_app_with(false, 0).await;
    let console = Console::logged_in(&app, ADMIN_TOKEN).await;
    let flash = act(&console, "/console", &format!("/console/queues/{QUEUE}/pause"), &[], "/console").await;
    assert!(flash.starts_with(&format!("Paused {QUEUE}")), "{flash}");
    assert!(job_runner::ops::is_paused(app.pool(), QUEUE).await.unwrap());
    let paused = job_runner::ops::paused_queues(app.pool()).await.unwrap();
    assert_eq!(paused[0].paused_by, "console:admin");
    let overview = console.page("/console").await;
    let row = overview.split_once(&format!(r#"data-queue="{QUEUE}""#)).unwrap().1.split_once("</tr>").unwrap().0;
    assert!(row.contains(r#"<td class="paused">yes</td>"#) && row.contains(r#"class="action resume""#), "{row}");

    let flash = act(&console, "/console", &format!("/console/queues/{QUEUE}/resume"), &[], "/console").await;
    assert!(flash.starts_with(&format!("Resumed {QUEUE}")), "{flash}");
    assert!(!job_runner::ops::is_paused(app.pool(), QUEUE).await.unwrap());
    let rows: Vec<(String, String)> = audited(&app).await.into_iter().map(|(a, actor, _)| (a, actor)).collect();
    let admin = "console:admin".to_string();
    assert_eq!(rows, [("pause_queue".into(), admin.clone()), ("resume_queue".into(), admin)]);
}

#[tokio::test]
async fn console_replay_admits_a_not_modelled_delivery_once() {
    let app = spawn_app().await;
    let patient = app.sandbox.patient_ids()[0];
    let object = app.sandbox.patient(patient).unwrap();
    let original = store_unapplied(app.pool(), "PATIENT_CREATE", &object, "not_modelled", Some("dlv-console")).await;
    let console = Console::logged_in(&app, ADMIN_TOKEN).await;
    let path = format!("/console/deliveries/{original}/replay");

    let flash = act(&console, "/console/deliveries", &path, &[("dry_run", "true")], "/console/deliveries").await;
    assert!(flash.starts_with("Dry run") && flash.contains("upsert_record"), "{flash}");
    let flash = act(&console, "/console/deliveries", &path, &[], "/console/deliveries").await;
    assert!(flash.starts_with(&format!("Replayed delivery {original}: enqueued upsert_record job")), "{flash}");
    app.drain_jobs().await;
    assert_eq!(count_rows(app.pool(), "patients").await, 1, "the replayed delivery is applied");
    let flash = act(&console, "/console/deliveries", &path, &[], "/console/deliveries").await;
    assert!(flash.contains("duplicate"), "a second replay enqueues nothing: {flash}");

    let rows = sqlx::query_as::<_, (String, bool, Vec<i64>)>(
        "SELECT actor, dry_run, delivery_ids FROM operator_actions WHERE action = 'replay_deliveries' ORDER BY id",
    )
    .fetch_all(app.pool())
    .await
    .unwrap();
    let admin = "console:admin".to_string();
    assert_eq!(
        rows,
        [(admin.clone(), true, vec![original]), (admin.clone(), false, vec![original]), (admin, false, vec![original])]
    );
}

#[tokio::test]
async fn console_review_settles_a_deepcura_note_and_refuses_what_the_cli_refuses() {
    let app = spawn_app().await;
    let patient = app.sandbox.patient_ids()[0];
    let at = chrono::NaiveDate::from_ymd_opt(2026, 4, 9).unwrap().and_hms_opt(9, 0, 0).unwrap();
    let (visit, _) = app.sandbox.add_visit(patient, at).unwrap();
    let gridhook = app.sandbox.gridhook_for(visit).unwrap();
    assert_eq!(app.deepcura(sandbox::GridhookScheme::Sha256Iv).send(&gridhook).await.unwrap().status(), 200);
    app.drain_jobs().await;
    let note: i64 = sqlx::query_scalar("SELECT id FROM deepcura_notes").fetch_one(app.pool()).await.unwrap();
    let console = Console::logged_in(&app, ADMIN_TOKEN).await;
    let review = console.page("/console/review").await;
    assert!(review.contains(&format!(r#"data-note-id="{note}" data-status="unlinked""#)), "{review}");

    let flash = act(
        &console,
        "/console/review",
        &format!("/console/deepcura/{note}/link"),
        &[("clinical_note", "999999")],
        "/console/review",
    )
    .await;
    assert!(flash.starts_with("Refused: no clinical note 999999 is stored"), "{flash}");
    let flash =
        act(&console, "/console/review", &format!("/console/deepcura/{note}/unlinkable"), &[], "/console/review").await;
    assert!(flash.contains("marked not linkable"), "{flash}");
    let status: String =
        sqlx::query_scalar("SELECT link_status FROM deepcura_notes").fetch_one(app.pool()).await.unwrap();
    assert_eq!(status, "unlinkable");
    assert!(!console.page("/console/review").await.contains(&format!(r#"data-note-id="{note}""#)), "it left the list");
    let flash = act(&console, "/console/review", "/console/pdfs/5/recheck", &[], "/console/review").await;
    assert!(flash.contains("no needs-review verdict"), "{flash}");

    let rows: Vec<(String, String, String)> = actions(app.pool())
        .await
        .into_iter()
        .map(|(action, actor, _, _, outcome, _)| (action, actor, outcome))
        .collect();
    let admin = "console:admin".to_string();
    assert_eq!(
        rows,
        [
            ("deepcura_link".into(), admin.clone(), "refused: no such clinical note".into()),
            ("deepcura_unlinkable".into(), admin.clone(), "marked not linkable".into()),
            ("pdf_recheck".into(), admin, "refused: no needs-review verdict".into()),
        ]
    );
    let bad =
        console.post("/console/review", &format!("/console/deepcura/{note}/link"), &[("clinical_note", "x")]).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

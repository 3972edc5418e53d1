//! Who may act, in a real Chromium: the read-only login sees the pages an
//! admin acts on with no action on them, and a POST it sends anyway is
//! refused; a POST without the session's CSRF field is refused and changes
//! nothing, whoever sends it.

use integration_tests::app::{ADMIN_TOKEN, TestApp, spawn_app_with};
use integration_tests::browser::Browser;
use integration_tests::console::READONLY_TOKEN;
use integration_tests::inbox::store_unapplied;
use integration_tests::queue;
use job_runner::{JobState, ops};

/// A dead job and a stored `not_modelled` delivery, so that the overview,
/// the job's page and the deliveries page each offer an admin an action.
async fn something_to_act_on(app: &TestApp) -> (String, i64) {
    let job = ulid::Ulid::generate().to_string();
    job_runner::testing::insert_dead(app.pool(), "fetch_record", std::slice::from_ref(&job), 10).await.unwrap();
    let task = serde_json::json!({ "id": 7 });
    let delivery = store_unapplied(app.pool(), "TASK_CREATE", &task, "not_modelled", Some("dlv-roles")).await;
    (job, delivery)
}

/// The pages where an admin has actions: address and screenshot name.
fn acting_pages(job: &str) -> [(String, &'static str); 3] {
    [
        ("/console".into(), "overview"),
        (format!("/console/jobs/{job}"), "job-dead"),
        ("/console/deliveries".into(), "deliveries"),
    ]
}

/// The number of elements of class `action` on each of `pages`, as `who`
/// sees them, each page's screenshot named after `who`.
async fn actions_seen(browser: &Browser, who: &str, pages: &[(String, &str)]) -> Vec<usize> {
    let mut counts = Vec::new();
    for (path, shot) in pages {
        browser.visit(path, &format!("{who}-{shot}")).await;
        counts.push(browser.find_all(".action").await.len());
    }
    counts
}

/// What an action would have changed: the job's state, paused queues,
/// operator actions recorded, inbox rows.
async fn footprint(app: &TestApp, job: &str) -> (JobState, usize, i64, i64) {
    let state = queue::report(app.pool(), job).await.state;
    let paused = ops::paused_queues(app.pool()).await.unwrap().len();
    let count = |table: &'static str| integration_tests::db::count_rows(app.pool(), table);
    (state, paused, count("operator_actions").await, count("webhook_deliveries").await)
}

#[tokio::test]
async fn the_readonly_login_sees_no_action_and_its_posts_are_refused() {
    let app = spawn_app_with(false, 5).await;
    let (job, delivery) = something_to_act_on(&app).await;
    let pages = acting_pages(&job);

    let admin = Browser::start(&app).await;
    admin.log_in(ADMIN_TOKEN).await;
    let admin_counts = actions_seen(&admin, "admin", &pages).await;
    assert!(admin_counts.iter().all(|n| *n > 0), "an admin has actions on each page: {admin_counts:?}");
    admin.close().await;

    let browser = Browser::start(&app).await;
    browser.log_in(READONLY_TOKEN).await;
    assert_eq!(browser.text("#role").await, "readonly");
    let mut all = pages.to_vec();
    all.extend([
        ("/console/jobs".into(), "jobs"),
        ("/console/review".into(), "review"),
        ("/console/runs".into(), "runs"),
    ]);
    assert_eq!(
        actions_seen(&browser, "readonly", &all).await,
        vec![0; all.len()],
        "the read-only login sees no action"
    );

    let before = footprint(&app, &job).await;
    browser.goto(&format!("/console/jobs/{job}")).await;
    let csrf = browser.csrf().await;
    let posts = [
        format!("/console/jobs/{job}/retry"),
        format!("/console/jobs/{job}/discard"),
        "/console/queues/fetch_record/pause".into(),
        format!("/console/deliveries/{delivery}/replay"),
    ];
    for path in &posts {
        assert_eq!(browser.post_from_page(path, &[("csrf", &csrf)]).await, 403, "POST {path} as read-only");
    }
    assert_eq!(footprint(&app, &job).await, before, "the refused posts changed nothing");
    browser.close().await;
}

#[tokio::test]
async fn a_post_without_the_csrf_field_is_refused_and_changes_nothing() {
    let app = spawn_app_with(false, 5).await;
    let (job, _) = something_to_act_on(&app).await;
    let browser = Browser::start(&app).await;
    browser.log_in(ADMIN_TOKEN).await;
    let before = footprint(&app, &job).await;

    browser.goto(&format!("/console/jobs/{job}")).await;
    let strip = "document.querySelectorAll('input[name=csrf]').forEach(f => f.remove());";
    browser.client().execute(strip, vec![]).await.expect("remove the csrf fields");
    browser.click("#retry").await;
    assert_eq!(browser.text("main h1").await, "403 Forbidden", "the form without its csrf field is refused");
    browser.screenshot("csrf-refused").await;
    assert_eq!(footprint(&app, &job).await, before, "the refused retry changed nothing");

    browser.goto("/console").await;
    let csrf = browser.csrf().await;
    let pause = "/console/queues/fetch_record/pause";
    assert_eq!(browser.post_from_page(pause, &[]).await, 403, "no csrf field");
    assert_eq!(browser.post_from_page(pause, &[("csrf", "0000")]).await, 403, "a wrong csrf field");
    assert_eq!(footprint(&app, &job).await, before, "the refused pauses changed nothing");

    assert_eq!(browser.post_from_page(pause, &[("csrf", &csrf)]).await, 303, "with the session's csrf it works");
    assert_eq!(footprint(&app, &job).await.1, 1, "and the queue is paused");
    browser.close().await;
}

//! The console in a real headless Chromium: logging in, every page's
//! frame, a dead job opened from the jobs list, retried and watched to
//! its end, and a `not_modelled` delivery replayed once its event is
//! supported. Each page visited is saved under
//! `target/console-screenshots/`.

use integration_tests::app::{ADMIN_TOKEN, TestApp, spawn_app, spawn_app_with};
use integration_tests::browser::Browser;
use integration_tests::inbox::store_unapplied;
use job_runner::{JobState, enqueue};
use jobs::{catalog::FetchRecord, domain::RecordKind};

/// The pages of the navigation: link id, address, heading, the element
/// that says the page is the one asked for.
const PAGES: [(&str, &str, &str, &str); 5] = [
    ("#nav-overview", "/console", "Overview", "table#queues"),
    ("#nav-jobs", "/console/jobs", "Jobs", "table#jobs"),
    ("#nav-deliveries", "/console/deliveries", "Deliveries", "table#deliveries"),
    ("#nav-review", "/console/review", "Review", "#unlinked-notes"),
    ("#nav-runs", "/console/runs", "Sync runs", "table#runs"),
];

/// Whether the patient's row was written (by a fetch or an upsert job).
async fn patient_stored(app: &TestApp, id: i64) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM patients WHERE id = $1)")
        .bind(id)
        .fetch_one(app.pool())
        .await
        .unwrap()
}

/// Every resource the page loaded came from the service itself: a clinic's
/// network may reach nothing outside.
async fn foreign_resources(browser: &Browser) -> Vec<String> {
    let script = "return performance.getEntriesByType('resource').map(e => e.name)\
                  .filter(n => !n.startsWith(location.origin + '/console/assets/'));";
    let names = browser.client().execute(script, vec![]).await.expect("resource list");
    serde_json::from_value(names).expect("a list of names")
}

#[tokio::test]
async fn an_admin_logs_in_and_walks_every_page() {
    let app = spawn_app_with(false, 5).await;
    let browser = Browser::start(&app).await;
    browser.goto("/console/jobs").await;
    assert_eq!(browser.path().await, "/console/login", "a page asked for before login shows the login form");
    browser.screenshot("login").await;

    browser.find("form#login input[name=token]").await.send_keys("not-the-token").await.unwrap();
    browser.click("#login-submit").await;
    assert!(!browser.text("#login-error").await.is_empty(), "a wrong token is told so");
    browser.screenshot("login-refused").await;

    browser.log_in(ADMIN_TOKEN).await;
    assert_eq!(browser.text("#role").await, "admin");
    let queues = browser.find_all("table#queues tr[data-queue]").await;
    assert_eq!(queues.len(), jobs::registry::all().names().len(), "one row per registered queue");
    browser.find("tr[data-queue=upsert_record] button.action.pause").await;
    browser.find("#drchrono").await;
    browser.find("#schedules").await;
    for (link, path, heading, marker) in PAGES {
        browser.click(link).await;
        assert_eq!(browser.path().await, path, "{link} leads to {path}");
        assert_eq!(browser.text("main h1").await, heading);
        browser.find(marker).await;
        assert_eq!(foreign_resources(&browser).await, Vec::<String>::new(), "{path} loads only its own assets");
        browser.screenshot(&format!("page-{}", heading.to_lowercase().replace(' ', "-"))).await;
    }
    browser.goto("/console/review").await;
    for section in ["#pdf-review", "#partner-unmatched", "#unparsed-phones"] {
        browser.find(section).await;
    }
    browser.close().await;
}

#[tokio::test]
async fn a_dead_job_is_opened_from_the_list_retried_and_watched_to_done() {
    let app = spawn_app_with(false, 5).await;
    let patient = app.sandbox.patient_ids()[0];
    let job = enqueue(app.pool(), &FetchRecord { kind: RecordKind::Patient, id: patient }).await.unwrap().unwrap();
    job_runner::testing::force_state(app.pool(), &job, JobState::Dead).await.unwrap();
    app.start_workers();

    let browser = Browser::start(&app).await;
    browser.log_in(ADMIN_TOKEN).await;
    browser.find("tr[data-queue=fetch_record] td.dead").await;
    assert_eq!(browser.text("tr[data-queue=fetch_record] td.dead").await, "1", "the overview counts the dead job");
    browser.click("tr[data-queue=fetch_record] td.dead a").await;
    browser.screenshot("jobs-dead").await;
    browser.click(&format!("tr[data-job-id='{job}'][data-state=dead] a.job-link")).await;
    assert_eq!(browser.path().await, format!("/console/jobs/{job}"));
    assert_eq!(browser.text("#job-state").await, "dead");
    browser.find("table#attempts").await;
    browser.screenshot("job-dead").await;

    browser.click("#retry").await;
    assert!(browser.text("#flash").await.starts_with("Revived"), "the retry says what it did");
    browser.screenshot("job-retried").await;
    browser.reload_until_text("#job-state", "done").await;
    assert!(browser.find_all("#retry").await.is_empty(), "a done job offers no retry");
    assert_eq!(browser.find_all("#attempts tr.attempt[data-outcome=succeeded]").await.len(), 1);
    browser.screenshot("job-done").await;
    assert!(patient_stored(&app, patient).await, "the retried job did its work");
    browser.close().await;
}

#[tokio::test]
async fn a_not_modelled_delivery_replayed_from_the_list_makes_a_job_that_finishes() {
    let app = spawn_app().await;
    let patient = app.sandbox.patient_ids()[0];
    let object = app.sandbox.patient(patient).unwrap();
    let original = store_unapplied(app.pool(), "PATIENT_CREATE", &object, "not_modelled", Some("dlv-old")).await;

    let browser = Browser::start(&app).await;
    browser.log_in(ADMIN_TOKEN).await;
    browser.visit("/console/deliveries?outcome=not_modelled", "deliveries-not-modelled").await;
    browser.click(&format!("tr[data-delivery-id='{original}'][data-outcome=not_modelled] button.action.replay")).await;
    assert_eq!(browser.path().await, "/console/deliveries");
    let flash = browser.text("#flash").await;
    assert!(flash.starts_with(&format!("Replayed delivery {original}: enqueued upsert_record job ")), "{flash}");
    browser.screenshot("deliveries-replayed").await;

    let replay = "tr[data-outcome=accepted] a.job-link";
    let replay_row = browser.find_all("tr[data-outcome=accepted]").await;
    assert_eq!(replay_row.len(), 1, "the replay is a new row of the inbox");
    assert!(replay_row[0].text().await.unwrap().contains(&format!("replay of {original}")));
    let job = browser.text(replay).await;
    assert!(flash.ends_with(&format!("job {job}.")), "the row links the job the flash named: {flash}");
    browser.click(replay).await;
    assert_eq!(browser.path().await, format!("/console/jobs/{job}"));
    browser.reload_until_text("#job-state", "done").await;
    browser.screenshot("replayed-job-done").await;
    assert!(patient_stored(&app, patient).await, "the replayed delivery was applied");
    browser.close().await;
}

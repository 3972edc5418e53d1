//! Pausing a queue from the console's overview in a real Chromium: its
//! job waits while a job of another queue runs to its end, and runs once
//! the queue is resumed.

use integration_tests::app::{ADMIN_TOKEN, spawn_app};
use integration_tests::browser::Browser;
use job_runner::enqueue;
use jobs::{catalog::FetchRecord, domain::RecordKind};
use serde_json::Value;

const ROW: &str = "tr[data-queue=fetch_record]";

#[tokio::test]
async fn a_queue_paused_from_the_overview_holds_its_job_while_another_queue_runs() {
    let app = spawn_app().await;
    let browser = Browser::start(&app).await;
    browser.log_in(ADMIN_TOKEN).await;
    assert_eq!(browser.text(&format!("{ROW} td.paused")).await, "no");
    browser.click(&format!("{ROW} button.action.pause")).await;
    assert_eq!(browser.path().await, "/console");
    assert!(browser.text("#flash").await.starts_with("Paused fetch_record"), "the pause says what it did");
    assert_eq!(browser.text(&format!("{ROW} td.paused")).await, "yes");
    browser.find(&format!("{ROW} button.action.resume")).await;
    browser.screenshot("overview-paused").await;

    let patients = app.sandbox.patient_ids();
    let held = enqueue(app.pool(), &FetchRecord { kind: RecordKind::Patient, id: patients[0] }).await.unwrap().unwrap();
    let delivered = app.sandbox.patient(patients[1]).unwrap();
    let answer: Value = app.drchrono().send("PATIENT_CREATE", &delivered).await.unwrap().json().await.unwrap();
    let other = answer["job_id"].as_str().expect("the delivery made an upsert_record job").to_string();

    browser.goto(&format!("/console/jobs/{other}")).await;
    browser.reload_until_text("#job-state", "done").await;
    browser.screenshot("paused-other-queue-done").await;
    browser.visit(&format!("/console/jobs/{held}"), "paused-job-waits").await;
    assert_eq!(browser.text("#job-state").await, "pending", "the paused queue's job did not run");
    assert!(browser.find_all("#attempts tr.attempt").await.is_empty(), "it was never tried");
    browser.goto("/console").await;
    assert_eq!(browser.text(&format!("{ROW} td.pending")).await, "1", "the overview shows it waiting");

    browser.click(&format!("{ROW} button.action.resume")).await;
    assert!(browser.text("#flash").await.starts_with("Resumed fetch_record"));
    assert_eq!(browser.text(&format!("{ROW} td.paused")).await, "no");
    browser.screenshot("overview-resumed").await;
    browser.goto(&format!("/console/jobs/{held}")).await;
    browser.reload_until_text("#job-state", "done").await;
    browser.screenshot("resumed-job-done").await;
    browser.close().await;
}

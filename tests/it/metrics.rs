//! `GET /metrics`: Prometheus text behind the admin token, or on an address
//! of its own without it. Queue depth, dead jobs, the DrChrono budget and
//! token state come from the test's own database, so they are exact; the
//! per-process counters are compared before and after, since `cargo test`
//! (unlike nextest) runs every test in one process.

use integration_tests::app::{ADMIN_TOKEN, TestApp, spawn_app, spawn_app_configured, spawn_app_with};
use integration_tests::queue;
use job_runner::JobState;
use server::AppState;
use std::{collections::BTreeMap, sync::Arc, time::Duration};

/// `series{labels}` to value, from the exposition text.
fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("a sample line");
            (series.to_string(), value.parse().expect("a number"))
        })
        .collect()
}

async fn scrape(app: &TestApp) -> BTreeMap<String, f64> {
    let resp = app.http.get(app.url("/metrics")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    parse(&resp.text().await.unwrap())
}

fn value(m: &BTreeMap<String, f64>, series: &str) -> f64 {
    *m.get(series).unwrap_or_else(|| panic!("no series {series}; have {:?}", m.keys().collect::<Vec<_>>()))
}

async fn send_legacy_fetch(app: &TestApp, patient: i64) {
    let resp = app.drchrono().send_legacy("PATIENT_UPDATE", patient).await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn metrics_need_the_admin_token_and_show_queues_dead_jobs_budget_and_tokens() {
    let app = spawn_app_with(false, 10).await;
    let resp = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 401, "no token, no metrics");
    let before = scrape(&app).await;
    assert_eq!(value(&before, r#"drchrono_sync_drchrono_token_state{state="absent"}"#), 1.0);
    assert_eq!(value(&before, "drchrono_sync_drchrono_budget_remaining"), 500.0);
    for outcome in ["ok", "error"] {
        value(&before, &format!(r#"drchrono_sync_s3_puts_total{{outcome="{outcome}"}}"#));
    }

    send_legacy_fetch(&app, app.sandbox.patient_ids()[0]).await;
    job_runner::testing::backdate_run_at(app.pool(), "fetch_record", 90.0).await.unwrap();
    job_runner::testing::insert_dead(app.pool(), "upsert_record", &[ulid::Ulid::generate().to_string()], 5)
        .await
        .unwrap();
    let waiting = scrape(&app).await;
    assert_eq!(value(&waiting, r#"drchrono_sync_queue_jobs{queue="fetch_record",status="Pending"}"#), 1.0);
    assert_eq!(value(&waiting, r#"drchrono_sync_queue_jobs{queue="upsert_record",status="Pending"}"#), 0.0);
    assert!(value(&waiting, r#"drchrono_sync_queue_oldest_pending_age_seconds{queue="fetch_record"}"#) >= 90.0);
    assert_eq!(value(&waiting, r#"drchrono_sync_queue_jobs{queue="upsert_record",status="Killed"}"#), 1.0);
    assert_eq!(value(&waiting, r#"drchrono_sync_dead_jobs{queue="upsert_record"}"#), 1.0);
    let accepted = r#"drchrono_sync_webhook_deliveries_total{endpoint="drchrono",outcome="accepted"}"#;
    assert!(value(&waiting, accepted) >= before.get(accepted).copied().unwrap_or(0.0) + 1.0);

    app.start_workers();
    app.drain_jobs_allowing_dead().await;
    let after = scrape(&app).await;
    assert_eq!(value(&after, r#"drchrono_sync_queue_jobs{queue="fetch_record",status="Pending"}"#), 0.0);
    assert_eq!(value(&after, r#"drchrono_sync_queue_oldest_pending_age_seconds{queue="fetch_record"}"#), 0.0);
    let calls = app.sandbox.calls_to("/api/") as f64;
    assert!(calls >= 1.0);
    assert_eq!(value(&after, "drchrono_sync_drchrono_budget_remaining"), 500.0 - calls);
    assert_eq!(value(&after, r#"drchrono_sync_drchrono_token_state{state="valid"}"#), 1.0);
    assert_eq!(value(&after, r#"drchrono_sync_drchrono_token_state{state="absent"}"#), 0.0);
    let done = r#"drchrono_sync_job_duration_seconds_count{queue="fetch_record",outcome="succeeded"}"#;
    assert!(value(&after, done) >= 1.0);
    let inf = r#"drchrono_sync_job_duration_seconds_bucket{queue="fetch_record",outcome="succeeded",le="+Inf"}"#;
    assert_eq!(value(&after, inf), value(&after, done), "+Inf counts every attempt");
}

#[tokio::test]
async fn retries_and_failed_attempts_are_counted() {
    let app = spawn_app().await;
    let retries = r#"drchrono_sync_job_retries_total{queue="fetch_record"}"#;
    let failed = r#"drchrono_sync_job_duration_seconds_count{queue="fetch_record",outcome="failed"}"#;
    let before = scrape(&app).await;
    app.sandbox.set_faults(sandbox::Faults { html_once: true, ..Default::default() });
    send_legacy_fetch(&app, app.sandbox.patient_ids()[1]).await;
    let id = queue::of_queue(app.pool(), "fetch_record").await.remove(0).id;
    queue::wait_for_state(app.pool(), &id, JobState::Retrying, Duration::from_secs(20)).await;
    queue::make_due(app.pool(), &id).await;
    queue::wait_for_state(app.pool(), &id, JobState::Done, Duration::from_secs(20)).await;
    let after = scrape(&app).await;
    assert!(value(&after, retries) >= value(&before, retries) + 1.0);
    assert!(value(&after, failed) >= before.get(failed).copied().unwrap_or(0.0) + 1.0);
}

#[tokio::test]
async fn metrics_can_move_to_an_address_of_their_own_without_the_token() {
    let app =
        spawn_app_configured(false, 5, |s, _| s.telemetry.metrics_bind_addr = Some(([127, 0, 0, 1], 0).into())).await;
    let on_main = app.http.get(app.url("/metrics")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(on_main.status(), 404, "not on BIND_ADDR once METRICS_BIND_ADDR is set");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState { pool: app.pool().clone(), settings: Arc::new(app.settings.clone()) };
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(server::routes::metrics::serve(state, listener, shutdown));
    let resp = app.http.get(format!("http://{addr}/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let m = parse(&resp.text().await.unwrap());
    assert_eq!(value(&m, r#"drchrono_sync_queue_jobs{queue="fetch_record",status="Pending"}"#), 0.0);
}

#[tokio::test]
async fn partner_feed_deliveries_are_counted_by_outcome() {
    use integration_tests::partner::{FEED, event};
    let app = spawn_app_with(false, 1).await;
    let series =
        |outcome: &str| format!(r#"drchrono_sync_webhook_deliveries_total{{endpoint="partner",outcome="{outcome}"}}"#);
    let before = scrape(&app).await;
    let sent = event("A-METRICS-1", "appointment.scheduled", "2026-11-20T09:00:00Z");
    assert_eq!(app.post_partner(&sent).await.status(), 200);
    assert_eq!(app.post_partner(&sent).await.status(), 409);
    assert_eq!(app.post_partner_raw(FEED, "{not json").await.status(), 400);
    assert_eq!(app.post_partner(&serde_json::json!({ "event_type": "appointment.scheduled" })).await.status(), 400);
    let resp = app.http.post(app.url(FEED)).bearer_auth("wrong").json(&sent).send().await.unwrap();
    assert_eq!(resp.status(), 401);

    let after = scrape(&app).await;
    for outcome in ["accepted", "duplicate", "malformed", "invalid", "rejected_auth"] {
        let was = before.get(&series(outcome)).copied().unwrap_or(0.0);
        assert!(value(&after, &series(outcome)) >= was + 1.0, "{outcome}: {was} before");
    }
}

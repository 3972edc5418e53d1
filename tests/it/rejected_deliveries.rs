//! Repeated authentication failures from one address are answered cheaply:
//! past `WEBHOOK_REJECTED_PER_MINUTE` they get 429 with `Retry-After` and
//! are not stored, while authentic deliveries from the same address pass.

use integration_tests::app::{DEEPCURA_SECRET, spawn_app_configured};
use sandbox::{GridhookScheme, Kind, WebhookSender};

const LIMIT: u32 = 3;

async fn rejected_rows(app: &integration_tests::app::TestApp, source: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE source = $1 AND outcome = 'rejected_auth'")
        .bind(source)
        .fetch_one(app.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn failing_deliveries_past_the_limit_get_429_store_nothing_and_authentic_ones_still_pass() {
    let app = spawn_app_configured(false, 5, |s, _| s.limits.webhook_rejected_per_minute = LIMIT).await;
    let patient = app.sandbox.patient(app.sandbox.patient_ids()[0]).unwrap();
    let forger = WebhookSender::new(app.url("/webhooks/drchrono"), "a-guessed-secret");
    let mut statuses = Vec::new();
    for _ in 0..LIMIT + 4 {
        statuses.push(forger.send("PATIENT_MODIFY", &patient).await.unwrap());
    }
    let codes: Vec<u16> = statuses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(&codes[..LIMIT as usize], &[401; LIMIT as usize], "the first failures are stored and answered 401");
    assert!(codes[LIMIT as usize..].iter().all(|c| *c == 429), "past the limit the answer is 429: {codes:?}");
    let wait: u32 = statuses.last().unwrap().headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After is within the minute: {wait}");
    assert_eq!(rejected_rows(&app, "drchrono").await, LIMIT as i64, "only the first failures were stored");

    let authentic = app.drchrono().send("PATIENT_MODIFY", &patient).await.unwrap();
    assert_eq!(authentic.status(), 200, "an authentic delivery from the same address is never held back");
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries").fetch_one(app.pool()).await.unwrap();
    assert_eq!(total, LIMIT as i64 + 1);
}

#[tokio::test]
async fn the_deep_cura_endpoint_shares_the_address_budget() {
    let app = spawn_app_configured(false, 5, |s, _| s.limits.webhook_rejected_per_minute = LIMIT).await;
    let visit = app.sandbox.ids(Kind::Appointment)[0];
    let note = app.sandbox.gridhook_for(visit).unwrap();
    let forger =
        sandbox::DeepCuraSender::new(app.url("/webhooks/deepcura"), "not-the-secret", GridhookScheme::Sha256Iv);
    let mut codes = Vec::new();
    for _ in 0..LIMIT + 2 {
        codes.push(forger.send(&note).await.unwrap().status().as_u16());
    }
    assert_eq!(codes, [401, 401, 401, 429, 429]);
    assert_eq!(rejected_rows(&app, "deepcura").await, LIMIT as i64);
    let real = sandbox::DeepCuraSender::new(app.url("/webhooks/deepcura"), DEEPCURA_SECRET, GridhookScheme::Sha256Iv);
    assert_eq!(real.send(&note).await.unwrap().status(), 200);
}

//! A fixed-seed slice of `cargo xtask fuzz`, so a regression is caught by
//! the suite: the same generator, the same checks, 1,500 cases.

use fuzz::{Plan, Samples, Target};
use integration_tests::app::{ADMIN_TOKEN, DEEPCURA_SECRET, PARTNER_TOKEN, TestApp, WEBHOOK_SECRET, spawn_app};
use sandbox::GridhookScheme;
use std::time::Duration;

/// The fuzzer's view of a test app.
pub fn target(app: &TestApp) -> Target {
    Target {
        base_url: format!("http://{}", app.addr),
        webhook_secret: WEBHOOK_SECRET.into(),
        deepcura_secret: DEEPCURA_SECRET.into(),
        deepcura_scheme: GridhookScheme::Sha256Iv,
        partner_token: PARTNER_TOKEN.into(),
        admin_token: ADMIN_TOKEN.into(),
        max_body: app.settings.webhook_max_body_bytes,
    }
}

#[tokio::test]
async fn a_fixed_seed_slice_of_the_fuzzer_finds_no_5xx_panic_or_poison_job() {
    fuzz::panics::install();
    let app = spawn_app().await;
    let samples = Samples::from_sandbox(&app.sandbox);
    let plan = Plan { seed: 17, first: 0, count: 1_500, concurrency: 4, deadline: None, progress_every: None };
    let tally = fuzz::run(&target(&app), &samples, &plan).await;
    let failures: Vec<String> = tally.failures.iter().map(ToString::to_string).collect();
    assert!(failures.is_empty(), "replay with `cargo xtask fuzz --seed 17 --case N`: {failures:#?}");

    let jobs = fuzz::jobs::drain_and_check(app.pool(), Duration::from_secs(120)).await.unwrap();
    assert!(jobs.poison.is_empty(), "poison jobs: {:#?}", jobs.poison);
    assert_eq!(fuzz::panics::count(), 0, "something panicked; see the test's output");
    let total = tally.total();
    assert!(
        total.ok > 100 && total.client_error > 100 && jobs.jobs > 50,
        "the slice reached the jobs: {}",
        tally.summary()
    );
}

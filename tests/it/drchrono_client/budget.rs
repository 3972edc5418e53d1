//! The shared hourly budget, the reconciliation reserve, and 429 waits.

use super::*;
use job_runner::JobState;

#[tokio::test]
async fn the_budget_stops_the_sixth_call_until_the_top_of_the_hour_without_calling() {
    not_at_the_top_of_the_hour().await;
    let env = env_with(5, |s| s.drchrono.calls_per_hour = 5).await;
    let ctx = env.ctx();
    let path = env.patient_path(0);
    let client = ctx.drchrono();
    for _ in 0..5 {
        assert!(client.get_object(&path).await.unwrap().is_some());
    }
    let err = client.get_object(&path).await.unwrap_err();
    let DrChronoError::BudgetSpent { until, .. } = err else { panic!("expected the budget to be spent: {err}") };
    assert_eq!(until, top_of_next_hour(), "free again at the top of the hour");
    assert_eq!(env.sandbox.calls(), 5, "the sixth call never reached DrChrono");
    assert_eq!(client.calls(), 5);

    // Another process shares the same budget.
    let (out, ok, _) = Caller::spawn(&env, &["get", &path, "1"]).await.finish().await;
    assert!(!ok);
    assert!(out[0].starts_with("err wait_until@") || out[0].starts_with("err wait_until "), "{out:?}");
    assert_eq!(env.sandbox.calls(), 5);

    match JobError::from(ctx.drchrono().get_object(&path).await.unwrap_err()) {
        JobError::WaitUntil(at, _) => assert_eq!(at, top_of_next_hour()),
        other => panic!("expected a wait, got {other}"),
    }
    let used: i32 = sqlx::query_scalar("SELECT calls FROM drchrono_rate_budget").fetch_one(&env.db.pool).await.unwrap();
    assert_eq!(used, 5);
}

#[tokio::test]
async fn reconciliation_stops_at_its_reserve_while_webhooks_continue() {
    not_at_the_top_of_the_hour().await;
    let env = env_with(5, |s| {
        s.drchrono.calls_per_hour = 5;
        s.drchrono.reconcile_percent = 80;
    })
    .await;
    let ctx = env.ctx();
    let path = env.patient_path(0);
    let reconcile = ctx.drchrono_for(Priority::Reconcile);
    for _ in 0..4 {
        assert!(reconcile.get_object(&path).await.unwrap().is_some());
    }
    let err = reconcile.get_object(&path).await.unwrap_err();
    assert!(matches!(err, DrChronoError::BudgetSpent { priority: "reconcile", .. }), "{err}");
    assert_eq!(env.sandbox.calls(), 4, "reconciliation stops at 80 %");

    let webhook = ctx.drchrono();
    assert!(webhook.get_object(&path).await.unwrap().is_some(), "webhook work uses the reserve");
    assert!(matches!(
        webhook.get_object(&path).await.unwrap_err(),
        DrChronoError::BudgetSpent { priority: "webhook", .. }
    ));
    assert!(matches!(reconcile.get_object(&path).await.unwrap_err(), DrChronoError::BudgetSpent { .. }));
    assert_eq!(env.sandbox.calls(), 5);
}

#[tokio::test]
async fn a_429_with_retry_after_reschedules_the_job_to_then_without_an_attempt_and_blocks_everyone() {
    let env = env().await;
    let ctx = env.ctx();
    let path = env.patient_path(0);
    env.sandbox.set_faults(Faults {
        rate_limited: Some(RateLimit { retry_after_header: true, seconds: 2710 }),
        ..Default::default()
    });
    let before = Utc::now();
    let ((status, attempts, run_at), (outcome, class, _)) = probe_once(&ctx, &path).await;
    assert_eq!((status, attempts), (JobState::Pending, 0), "no attempt used");
    assert_eq!((outcome.as_str(), class.as_str()), ("deferred", "wait_until"));
    assert_near(run_at, before + ChronoDuration::seconds(2710), "Retry-After");
    assert_eq!(env.sandbox.calls(), 1);

    // Every other caller stops too, even once DrChrono would answer.
    env.sandbox.set_faults(Faults::default());
    let err = ctx.drchrono().get_object(&path).await.unwrap_err();
    let DrChronoError::BudgetSpent { until, .. } = err else { panic!("expected the 429's block: {err}") };
    assert_near(until, before + ChronoDuration::seconds(2710), "blocked until the 429's end");
    assert_eq!(env.sandbox.calls(), 1, "no call while blocked");
}

#[tokio::test]
async fn a_429_without_retry_after_waits_the_seconds_in_detail() {
    let env = env().await;
    let ctx = env.ctx();
    let path = env.patient_path(0);
    env.sandbox.set_faults(Faults {
        rate_limited: Some(RateLimit { retry_after_header: false, seconds: 1234 }),
        ..Default::default()
    });
    let before = Utc::now();
    let err = ctx.drchrono().get_object(&path).await.unwrap_err();
    let DrChronoError::RateLimited { until, .. } = err else { panic!("expected a 429: {err}") };
    assert_near(until, before + ChronoDuration::seconds(1234), "detail seconds");
    match JobError::from(ctx.drchrono().get_object(&path).await.unwrap_err()) {
        JobError::WaitUntil(at, _) => assert_near(at, before + ChronoDuration::seconds(1234), "the block"),
        other => panic!("expected a wait, got {other}"),
    }
    assert_eq!(env.sandbox.calls(), 1, "the second call was stopped by the block");
}

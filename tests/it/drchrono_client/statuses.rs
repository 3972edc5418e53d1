//! How DrChrono statuses land in jobs: 403, 404, HTML, 5xx and timeouts.

use super::*;

#[tokio::test]
async fn a_403_is_permanent_and_names_the_endpoint() {
    let (base, hits) = stub(
        "403 Forbidden",
        "application/json",
        r#"{"detail":"You do not have permission to perform this action."}"#.into(),
    )
    .await;
    let env = env_with(1, |s| s.drchrono.api_base = base).await;
    let ctx = env.ctx();
    let err = ctx.drchrono().get_object("/api/clinical_notes/77?verbose=true").await.unwrap_err();
    assert!(matches!(err, DrChronoError::Forbidden { .. }), "{err}");
    match JobError::from(err) {
        JobError::Permanent(e) => {
            let message = e.to_string();
            assert!(message.contains("/api/clinical_notes/77") && message.contains("scope"), "{message}");
            assert!(!message.contains("verbose"), "no query string in messages: {message}");
        }
        other => panic!("expected permanent, got {other}"),
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1, "one call, no retry storm");
}

#[tokio::test]
async fn a_404_is_none_html_and_5xx_and_timeouts_are_retryable() {
    let env = env().await;
    let ctx = env.ctx();
    let client = ctx.drchrono();
    assert_eq!(client.get_object("/api/patients/999999").await.unwrap(), None, "404 is gone");

    env.sandbox.set_faults(Faults { html_once: true, ..Default::default() });
    let err = client.get_object(&env.patient_path(0)).await.unwrap_err();
    assert!(matches!(err, DrChronoError::NotJson { status: 200, .. }), "{err}");
    assert!(matches!(JobError::from(err), JobError::Retryable(_)));
    assert!(client.get_object(&env.patient_path(0)).await.unwrap().is_some(), "the edge page passed");

    env.sandbox.set_faults(Faults { slow: Some(Duration::from_millis(1500)), ..Default::default() });
    let mut settings = env.settings.clone();
    settings.drchrono.timeout = Duration::from_millis(300);
    let impatient = JobContext::new(env.db.pool.clone(), settings);
    let err = impatient.drchrono().get_object(&env.patient_path(0)).await.unwrap_err();
    assert!(matches!(err, DrChronoError::Transport { kind: "timeout", .. }), "{err}");
    assert!(matches!(JobError::from(err), JobError::Retryable(_)));
    env.sandbox.set_faults(Faults::default());

    let (base, _) = stub("503 Service Unavailable", "text/html", "<html>down</html>".into()).await;
    let mut settings = env.settings.clone();
    settings.drchrono.api_base = base;
    let down = JobContext::new(env.db.pool.clone(), settings);
    let err = down.drchrono().get_object("/api/patients/1").await.unwrap_err();
    assert!(matches!(err, DrChronoError::Server { status: 503, .. }), "{err}");
    assert!(matches!(JobError::from(err), JobError::Retryable(_)));
}

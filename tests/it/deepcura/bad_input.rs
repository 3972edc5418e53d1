//! Bad Gridhooks: each gets its documented answer, is recorded in the
//! inbox, and nothing is lost or retried in a loop.

use base64::Engine as _;
use integration_tests::app::{DEEPCURA_SECRET, TestApp, spawn_app};
use integration_tests::queue;
use job_runner::JobState;
use sandbox::{DeepCuraSender, GridhookScheme, encrypt_gridhook};
use serde_json::{Value, json};
use std::time::Duration;

/// (outcome, reason, job_id) of the latest Deep Cura delivery.
async fn last_delivery(app: &TestApp) -> (String, Option<String>, Option<String>) {
    sqlx::query_as(
        "SELECT outcome, reason, job_id FROM webhook_deliveries WHERE source = 'deepcura' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(app.pool())
    .await
    .unwrap()
}

async fn jobs_count(app: &TestApp) -> i64 {
    queue::of_queue(app.pool(), "decrypt_gridhook").await.len() as i64
}

#[tokio::test]
async fn a_bad_secret_or_body_is_refused_and_recorded_without_a_job() {
    let app = spawn_app().await;
    let sender = app.deepcura(GridhookScheme::Sha256Iv);
    let valid = json!({ "encrypted_payload": encrypt_gridhook(DEEPCURA_SECRET, GridhookScheme::Sha256Iv, b"{}") });
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut truncated = b64.decode(encrypt_gridhook(DEEPCURA_SECRET, GridhookScheme::Sha256Iv, b"{}")).unwrap();
    truncated.push(0);
    let cases: [(Value, Option<&str>, u16, &str, &str); 7] = [
        (valid.clone(), Some("wrong-secret"), 401, "rejected_auth", "shared secret does not match"),
        (valid.clone(), None, 401, "rejected_auth", "shared secret does not match"),
        (
            json!({ "encrypted_payload": "not base64 %%%" }),
            Some(DEEPCURA_SECRET),
            400,
            "malformed",
            "encrypted_payload is not valid base64",
        ),
        (json!({ "payload": "AAAA" }), Some(DEEPCURA_SECRET), 400, "malformed", "body has no encrypted_payload"),
        (
            json!({ "encrypted_payload": 42 }),
            Some(DEEPCURA_SECRET),
            400,
            "malformed",
            "encrypted_payload must be a base64 string",
        ),
        (
            json!({ "encrypted_payload": "AAAA" }),
            Some(DEEPCURA_SECRET),
            400,
            "malformed",
            "encrypted_payload cannot be a Gridhook: payload is 3 bytes, shorter than one IV and one block; it was truncated or is not a Gridhook",
        ),
        (
            json!({ "encrypted_payload": b64.encode(&truncated) }),
            Some(DEEPCURA_SECRET),
            400,
            "malformed",
            "encrypted_payload cannot be a Gridhook: ciphertext is 17 bytes, not a whole number of 16-byte blocks; it was truncated",
        ),
    ];
    for (body, secret, status, outcome, reason) in cases {
        let resp = sender.send_body(&body, secret).await.unwrap();
        assert_eq!(resp.status(), status, "{reason}");
        let answer: Value = resp.json().await.unwrap();
        if status == 400 {
            assert_eq!(answer["message"], reason, "the 400 says why");
        }
        assert_eq!(last_delivery(&app).await, (outcome.to_string(), Some(reason.to_string()), None));
    }
    assert_eq!(jobs_count(&app).await, 0, "nothing was enqueued");
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE source = 'deepcura'")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(kept, 7, "every refused delivery is on record");
}

/// Sends a payload that passes the endpoint's checks but cannot be
/// opened; returns the job's single attempt (class, message).
async fn accepted_then_dead(app: &TestApp, payload: &str) -> (String, String) {
    let body = json!({ "encrypted_payload": payload });
    let resp = app.deepcura(GridhookScheme::Sha256Iv).send_body(&body, Some(DEEPCURA_SECRET)).await.unwrap();
    assert_eq!(resp.status(), 200, "well-formed deliveries are accepted before decryption");
    let job: String = resp.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string();
    queue::wait_for_state(app.pool(), &job, JobState::Dead, Duration::from_secs(20)).await;
    let attempts = queue::report(app.pool(), &job).await.attempts;
    assert_eq!(attempts, 1, "a permanent failure is not retried");
    queue::only_attempt_error(app.pool(), &job).await
}

#[tokio::test]
async fn a_wrong_key_or_a_plaintext_not_json_fails_once_permanently_and_keeps_the_delivery() {
    let app = spawn_app().await;
    let gridhook = app.sandbox.gridhook_for(app.sandbox.ids(sandbox::Kind::Appointment)[0]).unwrap();
    let plain = gridhook.to_string();

    let wrong_key = encrypt_gridhook("not-the-shared-secret", GridhookScheme::Sha256Iv, plain.as_bytes());
    let (class, message) = accepted_then_dead(&app, &wrong_key).await;
    assert_eq!(class, "permanent");
    // A wrong key fails the padding check, except about 1 time in 256 (the IV
    // is random), when the garbage it yields fails as "not JSON"; both name the key.
    let names_the_key = message.contains("padding check failed") && message.contains("DEEPCURA_SCHEME")
        || message.contains("not JSON") && message.contains("key or scheme may be wrong");
    assert!(names_the_key, "{message}");

    let not_json = encrypt_gridhook(DEEPCURA_SECRET, GridhookScheme::Sha256Iv, b"session notes, not JSON");
    let (class, message) = accepted_then_dead(&app, &not_json).await;
    assert_eq!(class, "permanent");
    assert!(message.contains("not JSON"), "{message}");

    let notes: i64 = sqlx::query_scalar("SELECT count(*) FROM deepcura_notes").fetch_one(app.pool()).await.unwrap();
    assert_eq!(notes, 0);
    let kept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_deliveries WHERE source = 'deepcura' AND outcome = 'accepted'",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(kept, 2, "each delivery stays in the inbox for a retry once the cause is fixed");
}

#[tokio::test]
async fn without_a_shared_secret_the_endpoint_is_off() {
    let app = integration_tests::app::spawn_app_configured(false, 5, |s, _| s.deepcura_shared_secret = None).await;
    let sender = DeepCuraSender::new(app.url("/webhooks/deepcura"), DEEPCURA_SECRET, GridhookScheme::Sha256Iv);
    let resp = sender.send(&json!({ "session_id": "x" })).await.unwrap();
    assert_eq!(resp.status(), 503);
    let answer: Value = resp.json().await.unwrap();
    assert!(answer["message"].as_str().unwrap().contains("DEEPCURA_SHARED_SECRET"), "{answer}");
}

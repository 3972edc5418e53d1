//! The partner feed's guards: bearer auth, a feed switched off, a database
//! outage, request ids, concurrent duplicates, and logs without PHI.

use futures::future::join_all;
use integration_tests::{
    app::{PARTNER_TOKEN, spawn_app, spawn_app_with},
    logs::capture,
    partner::{FEED, answer, documented_example, event, request_id, serve_with},
    proxy::PgProxy,
};
use serde_json::{Value, json};

#[tokio::test]
async fn without_the_partner_token_nothing_is_read_or_stored() {
    let app = spawn_app_with(false, 1).await;
    let body = serde_json::to_vec(&documented_example()).unwrap();
    let no_token = app.http.post(app.url(FEED)).body(body.clone());
    let wrong = app.http.post(app.url(FEED)).bearer_auth("not-the-token").body(body.clone());
    let basic = app.http.post(app.url(FEED)).header("authorization", format!("Basic {PARTNER_TOKEN}")).body(body);
    for request in [no_token, wrong, basic] {
        let resp = request.send().await.unwrap();
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
        let (status, rid, answer) = answer(resp).await;
        assert_eq!(status, 401);
        assert_eq!(answer["error"], "Unauthorized");
        assert_eq!(answer["request_id"], rid.as_str());
    }
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM appointment_events").fetch_one(app.pool()).await.unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn a_service_without_partner_token_answers_503_and_says_why() {
    let logs = capture();
    let app = spawn_app_with(false, 1).await;
    let mut settings = app.settings.clone();
    settings.partner_token = None;
    let (addr, _stop) = serve_with(app.pool().clone(), settings).await;
    let resp = app
        .http
        .post(format!("http://{addr}{FEED}"))
        .bearer_auth(PARTNER_TOKEN)
        .json(&documented_example())
        .send()
        .await
        .unwrap();
    let (status, rid, answer) = answer(resp).await;
    assert_eq!(status, 503);
    let message = "PARTNER_TOKEN is not set on the service, so the partner feed is off";
    assert_eq!(answer, json!({"error": "Not configured", "message": message, "request_id": rid}));
    assert!(logs.text().contains("PARTNER_TOKEN is not set"), "the start-up warning says the feed is off");
}

#[tokio::test]
async fn a_database_outage_answers_503_so_the_partner_retries() {
    let app = spawn_app_with(false, 1).await;
    let proxy = PgProxy::start(&app.db.url).await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(1))
        .connect(&proxy.url_for(&app.db.url))
        .await
        .unwrap();
    let (addr, _stop) = serve_with(pool, app.settings.clone()).await;
    proxy.cut();
    let resp = app
        .http
        .post(format!("http://{addr}{FEED}"))
        .bearer_auth(PARTNER_TOKEN)
        .header("x-request-id", "outage-1")
        .json(&documented_example())
        .send()
        .await
        .unwrap();
    let (status, rid, answer) = answer(resp).await;
    assert_eq!((status, rid.as_str()), (503, "outage-1"));
    assert_eq!(
        answer,
        json!({"error": "Service unavailable", "message": "Database unavailable; retry later", "request_id": "outage-1"})
    );
}

#[tokio::test]
async fn request_ids_are_kept_when_sane_and_made_otherwise() {
    let app = spawn_app_with(false, 1).await;
    let send = |rid: Option<&str>, body: Value| {
        let mut request = app.http.post(app.url(FEED)).bearer_auth(PARTNER_TOKEN).json(&body);
        if let Some(rid) = rid {
            request = request.header("x-request-id", rid);
        }
        request.send()
    };
    let (status, rid, body) = answer(send(Some("partner-req-42"), documented_example()).await.unwrap()).await;
    assert_eq!((status, rid.as_str(), body["request_id"].as_str()), (200, "partner-req-42", Some("partner-req-42")));
    let stored: String =
        sqlx::query_scalar("SELECT request_id FROM appointment_events").fetch_one(app.pool()).await.unwrap();
    assert_eq!(stored, "partner-req-42");

    let (status, rid, body) = answer(send(Some("partner-req-42"), documented_example()).await.unwrap()).await;
    assert_eq!((status, rid.as_str(), body["request_id"].as_str()), (409, "partner-req-42", Some("partner-req-42")));

    let too_long = "a".repeat(129);
    for unusable in [None, Some("has spaces and <tags>"), Some(too_long.as_str())] {
        let resp = send(unusable, event("A2", "appointment.updated", "2025-01-10T12:30:00Z")).await.unwrap();
        let made = request_id(&resp);
        assert!(ulid::Ulid::from_string(&made).is_ok(), "a ULID is made instead of {unusable:?}: {made}");
        assert_eq!(resp.json::<Value>().await.unwrap()["request_id"], made.as_str());
    }
}

#[tokio::test]
async fn fifty_concurrent_identical_posts_give_one_200_and_forty_nine_409s() {
    let app = spawn_app_with(false, 1).await;
    let body = documented_example();
    let statuses: Vec<u16> =
        join_all((0..50).map(|_| app.post_partner(&body))).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 49, "{statuses:?}");
    let (events, jobs): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM appointment_events), (SELECT count(*) FROM job_overview)")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!((events, jobs), (1, 1));
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let app = spawn_app_with(false, 1).await;
    let (status, _, answer) = answer(app.post_partner_raw(FEED, vec![b' '; 65 * 1024]).await).await;
    assert_eq!((status, answer["error"].as_str()), (413, Some("Payload Too Large")));
}

#[tokio::test]
async fn the_feed_logs_request_ids_but_no_notes_or_patient_ids() {
    let logs = capture();
    let app = spawn_app().await;
    let mut sent = documented_example();
    sent["notes"] = json!("Follow-up for Zebulon Quartermaine, chest pain");
    sent["patient_id"] = json!("PATIENT-Quartermaine");
    let resp = app
        .http
        .post(app.url(FEED))
        .bearer_auth(PARTNER_TOKEN)
        .header("x-request-id", "log-check-1")
        .json(&sent)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    app.post_partner(&sent).await;
    let mut invalid = sent.clone();
    invalid["timestamp"] = json!("Quartermaine");
    app.post_partner(&invalid).await;
    app.http.post(app.url(FEED)).json(&sent).send().await.unwrap();
    app.drain_jobs().await;

    let text = logs.text();
    assert!(text.contains("log-check-1") && text.contains("partner event stored"), "the capture saw the feed");
    assert!(!text.contains("Quartermaine"), "a partner's note or patient id appears in the logs");
}

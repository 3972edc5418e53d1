//! Configuration that fails closed: a blank secret is unset, so its endpoint
//! answers 503 and stores nothing whatever is sent; a short secret stops the
//! process; a `_PREVIOUS` value keeps a rotation free of 401s.

use integration_tests::{
    app::{ADMIN_TOKEN, DEEPCURA_SECRET, PARTNER_TOKEN, TestApp, WEBHOOK_SECRET, spawn_app_configured},
    partner, queue,
};
use sandbox::{DeepCuraSender, GridhookScheme, Kind, WebhookSender};
use serde_json::json;

const NEW_SECRET: &str = "the-new-secret-after-rotation";

/// Rows any accepted request would have written.
async fn stored(app: &TestApp) -> (i64, i64, i64, i64) {
    let (deliveries, events, writes): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM webhook_deliveries), (SELECT count(*) FROM appointment_events), \
                (SELECT count(*) FROM write_requests)",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    (deliveries, events, writes, queue::count_all(app.pool()).await)
}

async fn status(resp: reqwest::Response) -> u16 {
    resp.status().as_u16()
}

#[tokio::test]
async fn a_blank_secret_closes_its_endpoint_whatever_is_sent_and_nothing_is_stored() {
    for blank in ["", "   "] {
        let app = spawn_app_configured(true, 2, |s, _| {
            s.drchrono_webhook_secret = Some(blank.into());
            s.deepcura_shared_secret = Some(blank.into());
            s.partner_token = Some(blank.into());
            s.admin_token = Some(blank.into());
        })
        .await;
        let patient = app.sandbox.patient(app.sandbox.patient_ids()[0]).unwrap();
        // Signed with the blank secret itself, and with no signature at all.
        let signed = WebhookSender::new(app.url("/webhooks/drchrono"), blank);
        assert_eq!(status(signed.send("PATIENT_CREATE", &patient).await.unwrap()).await, 503, "{blank:?}");
        let unsigned = app.http.post(app.url("/webhooks/drchrono")).json(&json!({"object": patient})).send();
        assert_eq!(status(unsigned.await.unwrap()).await, 503);
        assert_eq!(status(signed.verify("abc").await.unwrap()).await, 503, "no handshake for a blank secret");

        let appointment = app.sandbox.ids(Kind::Appointment)[0];
        let note = app.sandbox.gridhook_for(appointment).unwrap();
        let deepcura = DeepCuraSender::new(app.url("/webhooks/deepcura"), blank, GridhookScheme::Sha256Iv);
        assert_eq!(status(deepcura.send(&note).await.unwrap()).await, 503);
        assert_eq!(status(deepcura.send_with_bearer(&note).await.unwrap()).await, 503);

        let event = partner::event("A1", "appointment.scheduled", "2025-01-10T12:30:00Z");
        for token in [blank, "Bearer", "Bearer "] {
            let feed = app.http.post(app.url("/webhook/appointments")).header("authorization", token).json(&event);
            assert_eq!(status(feed.send().await.unwrap()).await, 503, "{token:?}");
        }
        let admin = app.http.get(app.url("/admin/deepcura/unlinked")).header("authorization", "Bearer ").send();
        assert_eq!(status(admin.await.unwrap()).await, 503);
        let write = app.http.post(app.url("/api/patients")).bearer_auth(blank).json(&json!({"first_name": "A"}));
        assert_eq!(status(write.send().await.unwrap()).await, 503);

        assert_eq!(stored(&app).await, (0, 0, 0, 0), "nothing is stored or enqueued for a blank secret {blank:?}");
    }
}

#[tokio::test]
async fn during_a_rotation_the_previous_secret_is_still_accepted_and_a_wrong_one_is_not() {
    let app = spawn_app_configured(true, 2, |s, _| {
        s.drchrono_webhook_secret = Some(NEW_SECRET.into());
        s.drchrono_webhook_secret_previous = Some(WEBHOOK_SECRET.into());
        s.deepcura_shared_secret = Some(NEW_SECRET.into());
        s.deepcura_shared_secret_previous = Some(DEEPCURA_SECRET.into());
        s.partner_token = Some(NEW_SECRET.into());
        s.partner_token_previous = Some(PARTNER_TOKEN.into());
        s.admin_token = Some(NEW_SECRET.into());
        s.admin_token_previous = Some(ADMIN_TOKEN.into());
    })
    .await;
    let ids = app.sandbox.patient_ids();
    let (first, second) = (app.sandbox.patient(ids[0]).unwrap(), app.sandbox.patient(ids[1]).unwrap());
    // DrChrono's console still has the old secret; then it is moved to the new one.
    assert_eq!(status(app.drchrono().send("PATIENT_CREATE", &first).await.unwrap()).await, 200);
    let moved = WebhookSender::new(app.url("/webhooks/drchrono"), NEW_SECRET);
    assert_eq!(status(moved.send("PATIENT_CREATE", &second).await.unwrap()).await, 200);
    let wrong = WebhookSender::new(app.url("/webhooks/drchrono"), "a-third-secret-nobody-set");
    assert_eq!(status(wrong.send("PATIENT_CREATE", &second).await.unwrap()).await, 401);
    let answer: serde_json::Value = moved.verify("abc").await.unwrap().json().await.unwrap();
    assert_eq!(
        answer["secret_token"],
        sandbox::expected_secret_token(NEW_SECRET, "abc"),
        "the handshake uses the new secret"
    );

    // A Gridhook encrypted and authenticated with the old Deep Cura secret still opens.
    let note = app.sandbox.gridhook_for(app.sandbox.ids(Kind::Appointment)[0]).unwrap();
    assert_eq!(status(app.deepcura(GridhookScheme::Sha256Iv).send(&note).await.unwrap()).await, 200);

    let event = partner::event("A1", "appointment.scheduled", "2025-01-10T12:30:00Z");
    assert_eq!(app.post_partner(&event).await.status(), 200, "the old partner token");
    app.admin_get("/admin/deepcura/unlinked").await;
    app.drain_jobs().await;

    let verified: Vec<(String, bool)> = sqlx::query_as("SELECT source, verified FROM webhook_deliveries ORDER BY id")
        .fetch_all(app.pool())
        .await
        .unwrap();
    let drchrono: Vec<bool> = verified.iter().filter(|(s, _)| s == "drchrono").map(|(_, v)| *v).collect();
    assert_eq!(drchrono, [true, true, false], "old and new verified, the wrong one rejected");
    let notes: i64 = sqlx::query_scalar("SELECT count(*) FROM deepcura_notes").fetch_one(app.pool()).await.unwrap();
    assert_eq!(notes, 1, "the old secret's Gridhook was decrypted");
}

/// The real loading path, in a process of its own: a blank variable is
/// unset (a blank `TOKEN_ENCRYPTION_KEY` would otherwise fail to parse), and
/// a short secret stops the process with one line naming it.
#[tokio::test]
async fn a_short_secret_stops_the_process_with_one_line_naming_it() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_service-worker"))
        .args(["postgres://127.0.0.1:1/none", "cleanup"])
        .env("TOKEN_ENCRYPTION_KEY", "   ")
        .env("DRCHRONO_WEBHOOK_SECRET", "")
        .env("ADMIN_TOKEN", "short")
        .kill_on_drop(true)
        .output()
        .await
        .expect("service-worker runs");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("ADMIN_TOKEN is 5 bytes") && lines[0].contains("openssl rand -hex 32"), "{stderr}");
    assert!(!stderr.contains("TOKEN_ENCRYPTION_KEY") && !stderr.contains("short"), "{stderr}");
}

//! Which Deep Cura delivery wins: a delivery id seen before is a duplicate
//! (no second job), and of two versions of a session the newer by the
//! note's own time is kept, whatever order they arrive in.

use integration_tests::app::{TestApp, spawn_app};
use jobs::deepcura::open_text;
use sandbox::{GridhookScheme, Kind};
use serde_json::{Value, json};

async fn plan_of(app: &TestApp, session: &str) -> Option<String> {
    let id: i64 = sqlx::query_scalar("SELECT id FROM deepcura_notes WHERE session_id = $1")
        .bind(session)
        .fetch_one(app.pool())
        .await
        .unwrap();
    let key = integration_tests::app::test_keys();
    open_text(&mut app.pool().acquire().await.unwrap(), id, &key).await.unwrap().unwrap().plan
}

async fn send(app: &TestApp, gridhook: &Value) {
    let resp = app.deepcura(GridhookScheme::Sha256Iv).send(gridhook).await.unwrap();
    assert_eq!(resp.status(), 200);
    app.drain_jobs().await;
}

#[tokio::test]
async fn a_delivery_id_seen_before_is_a_duplicate_that_makes_no_job() {
    let app = spawn_app().await;
    let gridhook = app.sandbox.gridhook_for(app.sandbox.ids(Kind::Appointment)[0]).unwrap();
    let sender = app.deepcura(GridhookScheme::Sha256Iv);
    let first: Value = sender.send_with_delivery_id(&gridhook, "dc-7").await.unwrap().json().await.unwrap();
    let again: Value = sender.send_with_delivery_id(&gridhook, "dc-7").await.unwrap().json().await.unwrap();
    assert_eq!((first["outcome"].as_str(), again["outcome"].as_str()), (Some("accepted"), Some("duplicate")));
    assert_eq!(first["job_id"], again["job_id"], "the duplicate points at the first delivery's job");
    app.drain_jobs().await;
    let jobs = integration_tests::queue::count(app.pool(), Some("decrypt_gridhook"), &job_runner::JobState::ALL).await;
    assert_eq!(jobs, 1, "one decrypt job for one delivery sent twice");
    let outcomes: Vec<String> =
        sqlx::query_scalar("SELECT outcome FROM webhook_deliveries WHERE source = 'deepcura' ORDER BY id")
            .fetch_all(app.pool())
            .await
            .unwrap();
    assert_eq!(outcomes, ["accepted", "duplicate"]);
}

#[tokio::test]
async fn the_newer_note_by_its_own_time_wins_whatever_the_arrival_order() {
    let app = spawn_app().await;
    let mut gridhook = app.sandbox.gridhook_for(app.sandbox.ids(Kind::Appointment)[0]).unwrap();
    let session = gridhook["session_id"].as_str().unwrap().to_string();
    gridhook["updated_at"] = json!("2026-03-05T18:00:00Z");
    gridhook["soap"]["plan"] = json!("Revised plan.");
    send(&app, &gridhook).await;

    gridhook["updated_at"] = json!("2026-03-05T17:00:00Z");
    gridhook["soap"]["plan"] = json!("First plan.");
    send(&app, &gridhook).await;
    assert_eq!(plan_of(&app, &session).await.as_deref(), Some("Revised plan."), "an older version arriving late loses");

    gridhook.as_object_mut().unwrap().remove("updated_at");
    gridhook["soap"]["plan"] = json!("Undated plan.");
    send(&app, &gridhook).await;
    assert_eq!(
        plan_of(&app, &session).await.as_deref(),
        Some("Revised plan."),
        "a note with no time never replaces one with a time"
    );

    gridhook["updated_at"] = json!("2026-03-05T19:00:00-05:00");
    gridhook["soap"]["plan"] = json!("Final plan.");
    send(&app, &gridhook).await;
    assert_eq!(plan_of(&app, &session).await.as_deref(), Some("Final plan."), "a newer version replaces it");
}

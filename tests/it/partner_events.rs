//! `GET /events`: stored partner events for operators, behind the admin token.

use integration_tests::{
    app::{PARTNER_TOKEN, TestApp, spawn_app_with},
    partner::{event, serve_with},
};
use serde_json::{Value, json};

async fn listed(app: &TestApp, query: &str) -> Value {
    let resp = app.partner_events(query).await;
    assert_eq!(resp.status(), 200, "{query}");
    resp.json().await.unwrap()
}

/// (appointment_id, event_type) of each listed event, in order.
fn pairs(page: &Value) -> Vec<(String, String)> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["appointment_id"].as_str().unwrap().into(), e["event_type"].as_str().unwrap().into()))
        .collect()
}

fn pair(a: &str, t: &str) -> (String, String) {
    (a.into(), format!("appointment.{t}"))
}

/// Five events, sent in this order.
async fn five_events(app: &TestApp) {
    let sent = [
        ("A1", "scheduled", "2025-01-10T09:00:00Z"),
        ("A2", "scheduled", "2025-01-10T10:00:00Z"),
        ("A1", "updated", "2025-01-11T09:00:00Z"),
        ("A3", "scheduled", "2025-01-12T09:00:00Z"),
        ("A1", "cancelled", "2025-01-13T09:00:00Z"),
    ];
    for (appointment, kind, at) in sent {
        let mut body = event(appointment, &format!("appointment.{kind}"), at);
        body["patient_id"] = json!(if appointment == "A2" { "P2" } else { "P1" });
        assert_eq!(app.post_partner(&body).await.status(), 200);
    }
}

#[tokio::test]
async fn events_are_listed_newest_first_with_their_fields() {
    let app = spawn_app_with(false, 1).await;
    five_events(&app).await;
    let page = listed(&app, "").await;
    assert_eq!(page["count"], 5);
    assert_eq!(page["next_before"], Value::Null);
    assert_eq!(
        pairs(&page),
        vec![
            pair("A1", "cancelled"),
            pair("A3", "scheduled"),
            pair("A1", "updated"),
            pair("A2", "scheduled"),
            pair("A1", "scheduled")
        ]
    );
    let newest = &page["events"][0];
    assert_eq!(newest["timestamp"], "2025-01-13T09:00:00Z");
    assert_eq!(newest["patient_id"], "P1");
    assert_eq!(newest["notes"], "Annual physical examination");
    assert_eq!(newest["match_status"], "pending");
    assert!(newest["request_id"].is_string() && newest["received_at"].is_string() && newest["job_id"].is_string());
}

#[tokio::test]
async fn events_filter_by_appointment_patient_type_and_time_range() {
    let app = spawn_app_with(false, 1).await;
    five_events(&app).await;
    let a1 = vec![pair("A1", "cancelled"), pair("A1", "updated"), pair("A1", "scheduled")];
    assert_eq!(pairs(&listed(&app, "appointment_id=A1").await), a1);
    assert_eq!(pairs(&listed(&app, "patient_id=P2").await), vec![pair("A2", "scheduled")]);
    assert_eq!(
        pairs(&listed(&app, "event_type=appointment.scheduled&patient_id=P1").await),
        vec![pair("A3", "scheduled"), pair("A1", "scheduled")]
    );
    assert_eq!(
        pairs(&listed(&app, "from=2025-01-11T00:00:00Z&to=2025-01-13T00:00:00Z").await),
        vec![pair("A3", "scheduled"), pair("A1", "updated")]
    );
}

#[tokio::test]
async fn events_page_with_limit_and_next_before() {
    let app = spawn_app_with(false, 1).await;
    five_events(&app).await;
    let mut seen = Vec::new();
    let mut query = "limit=2".to_string();
    loop {
        let page = listed(&app, &query).await;
        seen.extend(pairs(&page));
        match page["next_before"].as_i64() {
            Some(before) => query = format!("limit=2&before={before}"),
            None => break,
        }
    }
    assert_eq!(seen, pairs(&listed(&app, "").await), "pages join into the whole list, none twice");
}

#[tokio::test]
async fn bad_filters_are_400_with_a_reason() {
    let app = spawn_app_with(false, 1).await;
    for (query, reason) in [
        ("limit=0", "limit must be a whole number from 1 to 500"),
        ("limit=many", "limit must be a whole number from 1 to 500"),
        ("event_type=appointment.deleted", "event_type must be one of"),
        ("from=yesterday", "from must be an RFC 3339 time"),
        ("before=x", "before must be an event id"),
    ] {
        let resp = app.partner_events(query).await;
        assert_eq!(resp.status(), 400, "{query}");
        let message = resp.json::<Value>().await.unwrap()["message"].as_str().unwrap().to_string();
        assert!(message.starts_with(reason), "{query}: {message}");
    }
}

#[tokio::test]
async fn events_need_the_admin_token() {
    let app = spawn_app_with(false, 1).await;
    let anonymous = app.http.get(app.url("/events")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let partner = app.http.get(app.url("/events")).bearer_auth(PARTNER_TOKEN).send().await.unwrap();
    assert_eq!(partner.status(), 401, "the partner token is not an admin token");

    let mut settings = app.settings.clone();
    settings.admin_token = None;
    let (addr, _stop) = serve_with(app.pool().clone(), settings).await;
    let off = app.http.get(format!("http://{addr}/events")).bearer_auth("anything").send().await.unwrap();
    assert_eq!(off.status(), 503);
    assert!(off.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("ADMIN_TOKEN"));
}

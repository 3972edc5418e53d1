//! The sender against a tiny receiver that records what arrived.

use std::sync::{Arc, Mutex};

use axum::{
    Router,
    body::Bytes,
    extract::{Query, State},
    http::HeaderMap,
    routing::post,
};
use sandbox::{WebhookSender, expected_secret_token};
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Inbox(Arc<Mutex<Vec<(HeaderMap, Bytes)>>>);

async fn receive(State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes) -> &'static str {
    inbox.0.lock().unwrap().push((headers, body));
    "ok"
}

async fn verify(Query(query): Query<Vec<(String, String)>>) -> axum::Json<Value> {
    let msg = query.iter().find(|(k, _)| k == "msg").map(|(_, v)| v.as_str()).unwrap_or("");
    axum::Json(json!({ "secret_token": expected_secret_token("whsec", msg) }))
}

async fn receiver() -> (String, Inbox) {
    let inbox = Inbox::default();
    let app = Router::new().route("/hook", post(receive).get(verify)).with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, inbox)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn send_has_drchronos_real_shape() {
    let (url, inbox) = receiver().await;
    let sender = WebhookSender::new(url.clone(), "whsec");
    let object = json!({ "id": 1001, "first_name": "Zephyrine", "updated_at": "2024-05-01T10:00:00" });

    let response = sender.send("PATIENT_MODIFY", &object).await.unwrap();
    assert!(response.status().is_success());
    sender.send("PATIENT_MODIFY", &object).await.unwrap();
    sender.send_with_delivery_id("PATIENT_MODIFY", &object, "redelivery-1").await.unwrap();

    let seen = inbox.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    let (headers, body) = &seen[0];
    assert_eq!(header(headers, "x-drchrono-event"), Some("PATIENT_MODIFY"));
    assert_eq!(header(headers, "x-drchrono-signature"), Some("whsec"), "the secret itself");
    assert_eq!(header(headers, "content-type"), Some("application/json"));
    let first_delivery = header(headers, "x-drchrono-delivery").unwrap();
    assert_ne!(Some(first_delivery), header(&seen[1].0, "x-drchrono-delivery"));
    assert_eq!(header(&seen[2].0, "x-drchrono-delivery"), Some("redelivery-1"));

    let body: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(body["object"], object);
    assert_eq!(body["receiver"]["url"], url);
    assert!(body["receiver"]["id"].is_i64());
    assert!(body["receiver"]["events"].as_array().unwrap().contains(&json!("PATIENT_MODIFY")));
    assert!(body["practice_group_id"].is_i64());
}

#[tokio::test]
async fn legacy_shape_signs_the_exact_body() {
    let (url, inbox) = receiver().await;
    let sender = WebhookSender::new(url, "whsec");
    sender.send_legacy("PATIENT_UPDATE", 1001).await.unwrap();
    let (headers, body) = inbox.0.lock().unwrap()[0].clone();
    let text = std::str::from_utf8(&body).unwrap();
    assert_eq!(header(&headers, "x-drchrono-signature"), Some(expected_secret_token("whsec", text).as_str()));
    let body: Value = serde_json::from_str(text).unwrap();
    assert_eq!(body, json!({ "event": "PATIENT_UPDATE", "object_id": 1001 }));
}

#[tokio::test]
async fn verify_sends_msg_as_a_query_parameter() {
    let (url, _) = receiver().await;
    let sender = WebhookSender::new(url, "whsec");
    let response = sender.verify("abc 123&x").await.unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["secret_token"], expected_secret_token("whsec", "abc 123&x"));
}

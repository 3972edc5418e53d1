//! The partner appointment feed from a partner's side: events in the older
//! receiver's documented shape, an authenticated sender, the admin listing,
//! and a second server over the same routes with settings a test chooses.

use reqwest::Response;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::{net::SocketAddr, sync::Arc};
use tokio::sync::watch;

use crate::app::{ADMIN_TOKEN, PARTNER_TOKEN, TestApp};

pub const FEED: &str = "/webhook/appointments";

/// An event with the documented patient and notes.
pub fn event(appointment_id: &str, event_type: &str, timestamp: &str) -> Value {
    json!({
        "event_type": event_type,
        "appointment_id": appointment_id,
        "patient_id": "P8765",
        "timestamp": timestamp,
        "notes": "Annual physical examination",
    })
}

/// The older receiver's documented example.
pub fn documented_example() -> Value {
    event("A12345", "appointment.scheduled", "2025-01-10T12:30:00Z")
}

/// The `X-Request-Id` a response carries.
pub fn request_id(resp: &Response) -> String {
    resp.headers().get("x-request-id").expect("every feed response carries X-Request-Id").to_str().unwrap().to_string()
}

/// Status, request id header and JSON body of a response.
pub async fn answer(resp: Response) -> (u16, String, Value) {
    let status = resp.status().as_u16();
    let rid = request_id(&resp);
    (status, rid, resp.json().await.expect("a JSON body"))
}

impl TestApp {
    /// POSTs raw bytes to the feed with the partner token, as `path` (the feed or its alias).
    pub async fn post_partner_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> Response {
        self.http
            .post(self.url(path))
            .bearer_auth(PARTNER_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("the service answers")
    }

    /// POSTs an event to the feed with the partner token.
    pub async fn post_partner(&self, event: &Value) -> Response {
        self.post_partner_raw(FEED, serde_json::to_vec(event).unwrap()).await
    }

    /// `GET /events?{query}` with the admin token.
    pub async fn partner_events(&self, query: &str) -> Response {
        self.http
            .get(self.url(&format!("/events?{query}")))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("the service answers")
    }

    /// Stored events, oldest first: (id, appointment_id, match_status).
    pub async fn stored_partner_events(&self) -> Vec<(i64, String, String)> {
        sqlx::query_as("SELECT id, appointment_id, match_status FROM appointment_events ORDER BY id")
            .fetch_all(self.pool())
            .await
            .unwrap()
    }
}

/// Serves the service's routes on another port with `settings` and `pool`
/// (a token switched off, or a database behind a proxy). Dropping the sender stops it.
pub async fn serve_with(pool: PgPool, settings: server::Settings) -> (SocketAddr, watch::Sender<bool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, shutdown) = watch::channel(false);
    let state = server::AppState { pool, settings: Arc::new(settings) };
    tokio::spawn(server::serve(state, listener, shutdown));
    (addr, stop)
}

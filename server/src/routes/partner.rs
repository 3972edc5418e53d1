//! `POST /webhook/appointments` (alias `/webhooks/appointments`): the partner
//! appointment feed.
//!
//! The answers keep the older receiver's shapes, each with the request id.
//! The handler checks the bearer token before reading anything sent, so an
//! unauthenticated body is neither parsed, stored nor logged. A valid event
//! is stored and its job enqueued in one transaction; a 200 means durable.

use axum::{
    Extension, Json, Router,
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header::WWW_AUTHENTICATE},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use job_runner::enqueue;
use jobs::catalog::ApplyPartnerAppointmentEvent;
use serde_json::{Value, json};

use super::partner_events;
use crate::{
    AppState, bearer,
    config::secrets::Inbound,
    partner::{
        schema::{self, PartnerEvent, Violation},
        store,
    },
    request_id::RequestId,
};

/// The endpoint's name in the webhook-deliveries metric.
const SOURCE: &str = "partner";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhook/appointments", post(receive))
        .route("/webhooks/appointments", post(receive))
        .route("/events", get(partner_events::list))
}

fn failure(status: StatusCode, error: &str, message: impl Into<String>, request_id: &str) -> Response {
    let body = json!({ "error": error, "message": message.into(), "request_id": request_id });
    (status, Json(body)).into_response()
}

fn validation_failed(violations: &[Violation], request_id: &str) -> Response {
    let body = json!({
        "error": "Validation failed",
        "message": schema::summary(violations),
        "violations": violations,
        "request_id": request_id,
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn unauthorized(request_id: &str) -> Response {
    let message = "a valid partner token is required: send Authorization: Bearer <token>";
    let mut resp = failure(StatusCode::UNAUTHORIZED, "Unauthorized", message, request_id);
    resp.headers_mut().insert(WWW_AUTHENTICATE, "Bearer".parse().expect("static header value"));
    resp
}

/// A storage failure: 503 with `Retry-After` while the database is
/// unreachable or its pool exhausted (the partner should retry), 500
/// otherwise, since a retry would meet the same error. The detail is
/// logged, PHI-free, never sent.
fn storage_failed(e: &sqlx::Error, request_id: &str) -> Response {
    let detail = job_runner::describe_db_error(e);
    if !crate::error::is_transient(e) {
        tracing::error!(request_id, error = %detail, "partner event not stored");
        return failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error",
            "An unexpected error occurred while storing the event",
            request_id,
        );
    }
    tracing::error!(request_id, error = %detail, "partner event not stored: database unavailable");
    let resp = failure(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service unavailable",
        "Database unavailable; retry later",
        request_id,
    );
    crate::error::retry_after(resp, crate::error::DATABASE_RETRY_AFTER_SECS)
}

pub async fn receive(
    State(state): State<AppState>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let tokens = state.settings.secrets(Inbound::Partner);
    if tokens.is_off() {
        let message = "PARTNER_TOKEN is not set on the service, so the partner feed is off";
        return failure(StatusCode::SERVICE_UNAVAILABLE, "Not configured", message, &rid);
    }
    if tokens.matched(|token| bearer::matches(&headers, token)).is_none() {
        tracing::warn!(request_id = %rid, "partner event rejected: missing or wrong bearer token");
        jobs::metrics::webhook_delivery(SOURCE, "rejected_auth");
        return unauthorized(&rid);
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            let error = status.canonical_reason().unwrap_or("Bad request");
            jobs::metrics::webhook_delivery(SOURCE, "malformed");
            return failure(status, error, rejection.body_text(), &rid);
        }
    };
    let Ok(parsed) = serde_json::from_slice::<Value>(&body) else {
        tracing::warn!(request_id = %rid, "partner event rejected: invalid JSON");
        jobs::metrics::webhook_delivery(SOURCE, "malformed");
        return failure(StatusCode::BAD_REQUEST, "Invalid JSON", "Request body must be valid JSON", &rid);
    };
    if let Some(field) = crate::json_guard::nul_field(&parsed) {
        tracing::warn!(request_id = %rid, field, "partner event rejected: NUL character");
        jobs::metrics::webhook_delivery(SOURCE, "malformed");
        return failure(StatusCode::BAD_REQUEST, "Invalid JSON", crate::json_guard::nul_message(&field), &rid);
    }
    let event = match schema::parse(&parsed) {
        Ok(event) => event,
        Err(violations) => {
            let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
            tracing::warn!(request_id = %rid, ?fields, "partner event rejected: validation failed");
            jobs::metrics::webhook_delivery(SOURCE, "invalid");
            return validation_failed(&violations, &rid);
        }
    };
    match store_and_enqueue(&state, &event, &rid, &body).await {
        Ok(Some(event_id)) => {
            tracing::info!(request_id = %rid, event_id, event_type = event.event_type, "partner event stored");
            jobs::metrics::webhook_delivery(SOURCE, "accepted");
            let answer = json!({
                "status": "accepted",
                "message": "Appointment event received and stored",
                "event_id": event_id,
                "appointment_id": event.appointment_id,
                "request_id": rid,
            });
            (StatusCode::OK, Json(answer)).into_response()
        }
        Ok(None) => {
            tracing::info!(request_id = %rid, appointment_id = event.appointment_id, "partner event rejected: duplicate");
            jobs::metrics::webhook_delivery(SOURCE, "duplicate");
            let message =
                format!("Event for appointment {} at {} already exists", event.appointment_id, event.timestamp);
            failure(StatusCode::CONFLICT, "Duplicate event", message, &rid)
        }
        Err(e) => storage_failed(&e, &rid),
    }
}

/// Stores the event and enqueues its job in one transaction; `None` for a duplicate.
async fn store_and_enqueue(
    state: &AppState,
    event: &PartnerEvent<'_>,
    request_id: &str,
    body: &[u8],
) -> Result<Option<i64>, sqlx::Error> {
    let mut tx = state.pool.begin().await?;
    let Some(event_id) = store::insert(&mut *tx, event, request_id, body).await? else {
        return Ok(None);
    };
    let job_id = enqueue(&mut *tx, &ApplyPartnerAppointmentEvent { event_id }).await?;
    store::set_job(&mut *tx, event_id, job_id.as_deref()).await?;
    tx.commit().await?;
    Ok(Some(event_id))
}

//! `GET|POST /webhooks/drchrono` (alias `/api/webhook`).
//!
//! Handlers never call DrChrono: they verify, store the delivery and enqueue
//! its job in one transaction (shared with the deliveries arriving at the
//! same time, `group_commit`), then answer. A 2xx means the event is durable.

use axum::{
    Extension, Json,
    body::Bytes,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use jobs::inbox::{Admission, Outcome};
use serde::Deserialize;
use serde_json::json;

use super::{
    drchrono_auth::{delivery_is_authentic, hmac_hex, valid_msg},
    rejections::Gate,
};
use crate::{
    AppState,
    config::secrets::{Inbound, Secrets},
    error::ApiError,
    group_commit::{GroupCommit, Received},
    inbox::{self, Delivery},
};

const SOURCE: &str = super::DRCHRONO_SOURCE;

#[derive(Deserialize)]
pub struct Verify {
    msg: Option<String>,
}

fn secrets(state: &AppState) -> Result<Secrets<'_>, ApiError> {
    let secrets = state.settings.secrets(Inbound::DrChronoWebhook);
    if secrets.is_off() {
        return Err(ApiError::NotConfigured("DRCHRONO_WEBHOOK_SECRET is not set on the service"));
    }
    Ok(secrets)
}

/// The verification handshake DrChrono performs when a webhook is saved.
pub async fn verify(State(state): State<AppState>, Query(q): Query<Verify>) -> Result<Response, ApiError> {
    // The handshake runs when a secret is saved in DrChrono's console: it
    // answers for the current secret (the previous one during a rotation).
    let secrets = secrets(&state)?;
    let secret = secrets.current.or(secrets.previous).unwrap_or_default();
    let msg = q.msg.unwrap_or_default();
    if !valid_msg(&msg) {
        return Err(ApiError::BadRequest(format!(
            "msg must be 1 to {} characters of letters, digits or -_.:=",
            super::drchrono_auth::MAX_MSG_LEN
        )));
    }
    Ok(Json(json!({ "secret_token": hmac_hex(secret, msg.as_bytes()) })).into_response())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub async fn deliver(
    State(state): State<AppState>,
    Extension(gate): Extension<Gate>,
    Extension(commits): Extension<GroupCommit>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let secrets = secrets(&state)?;
    let signature = header(&headers, "x-drchrono-signature");
    let verified = secrets.matched(|secret| delivery_is_authentic(secret, signature, &body)).is_some();
    let delivery = Delivery {
        source: SOURCE,
        delivery_id: header(&headers, "x-drchrono-delivery"),
        event: header(&headers, "x-drchrono-event"),
        object_id: None,
        record_kind: None,
        patient_id: None,
        object_updated_at: None,
        time_zone: state.settings.practice_timezone.name(),
        headers: inbox::headers_json(&headers),
        body: &body,
        verified,
        replay_of: None,
    };
    if !delivery.verified {
        return super::rejections::refuse(&state, &gate, &delivery, "signature does not match").await;
    }
    let received = Received {
        delivery_id: delivery.delivery_id.map(str::to_string),
        event: delivery.event.map(str::to_string),
        headers: delivery.headers,
        body: body.clone(),
    };
    answer(SOURCE, commits.admit(received).await?)
}

/// The answer to an admitted delivery: 400 with the reason for a malformed
/// one, else 200 with the inbox id, the job and the outcome. Shared with the
/// Deep Cura route, whose answers have the same shape.
pub(super) fn answer(source: &'static str, admission: Admission) -> Result<Response, ApiError> {
    let outcome = admission.outcome.name();
    jobs::metrics::webhook_delivery(source, outcome);
    if admission.outcome == Outcome::Malformed {
        return Err(ApiError::BadRequest(admission.reason.unwrap_or_default()));
    }
    let body = json!({
        "status": "accepted",
        "delivery_id": admission.inbox_id,
        "job_id": admission.job_id,
        "outcome": outcome,
    });
    Ok((StatusCode::OK, Json(body)).into_response())
}

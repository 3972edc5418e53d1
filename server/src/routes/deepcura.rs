//! `POST /webhooks/deepcura`: Deep Cura Gridhooks, stored still encrypted
//! with their `decrypt_gridhook` job in one transaction. Nothing is
//! decrypted on the request path. `GET /admin/deepcura/unlinked` lists the
//! notes no clinical note could be matched to, for review.

use axum::{
    Extension, Json,
    body::Bytes,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use job_runner::enqueue;
use jobs::{
    catalog::DecryptGridhook,
    deepcura::{decode_base64, review},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::rejections::Gate;
use crate::{
    AppState,
    bearer::{bearer_token, require_admin, secret_matches},
    config::secrets::Inbound,
    error::ApiError,
    inbox::{self, Delivery},
};

const SOURCE: &str = "deepcura";

pub async fn deliver(
    State(state): State<AppState>,
    Extension(gate): Extension<Gate>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let secrets = state.settings.secrets(Inbound::DeepCura);
    if secrets.is_off() {
        return Err(ApiError::NotConfigured("DEEPCURA_SHARED_SECRET is not set on the service"));
    }
    let presented = headers.get("x-deepcura-secret").and_then(|v| v.to_str().ok()).or_else(|| bearer_token(&headers));
    let delivery = Delivery {
        source: SOURCE,
        delivery_id: headers.get("x-deepcura-delivery").and_then(|v| v.to_str().ok()),
        event: Some("GRIDHOOK"),
        object_id: None,
        record_kind: None,
        patient_id: None,
        object_updated_at: None,
        time_zone: state.settings.practice_timezone.name(),
        headers: &headers,
        body: &body,
        verified: secrets.matched(|secret| secret_matches(presented, secret)).is_some(),
    };
    if !delivery.verified {
        return super::rejections::refuse(&state, &gate, &delivery, "shared secret does not match").await;
    }
    if let Err(reason) = check_body(&body, state.settings.deepcura_scheme) {
        let id = inbox::record(&state.pool, &delivery, "malformed", Some(&reason)).await?;
        jobs::metrics::webhook_delivery(SOURCE, "malformed");
        tracing::warn!(inbox_id = id, reason, "Deep Cura delivery malformed");
        return Err(ApiError::BadRequest(reason));
    }
    let mut tx = state.pool.begin().await?;
    if let Some(previous) = inbox::job_of_delivery_locked(&mut tx, &delivery).await? {
        let id = inbox::record(&mut *tx, &delivery, "duplicate", Some("delivery id seen before")).await?;
        tx.commit().await?;
        jobs::metrics::webhook_delivery(SOURCE, "duplicate");
        tracing::info!(inbox_id = id, job_id = previous, "Deep Cura delivery is a duplicate");
        let body = json!({ "status": "accepted", "delivery_id": id, "job_id": previous, "outcome": "duplicate" });
        return Ok((StatusCode::OK, Json(body)).into_response());
    }
    let id = inbox::record(&mut *tx, &delivery, "accepted", None).await?;
    let job_id = enqueue(&mut *tx, &DecryptGridhook { delivery: id }).await?.unwrap_or_default();
    inbox::set_job(&mut *tx, id, &job_id, "accepted").await?;
    tx.commit().await?;
    jobs::metrics::webhook_delivery(SOURCE, "accepted");
    tracing::info!(inbox_id = id, job_id, "Deep Cura delivery stored");
    let body = json!({ "status": "accepted", "delivery_id": id, "job_id": job_id, "outcome": "accepted" });
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// The body must be `{"encrypted_payload": "<base64>"}`, decoding to what
/// can be a Gridhook of the configured scheme; the reason says what is wrong.
fn check_body(body: &[u8], scheme: jobs::deepcura::Scheme) -> Result<(), String> {
    let parsed: Value = serde_json::from_slice(body).map_err(|_| "body is not JSON".to_string())?;
    if let Some(field) = crate::json_guard::nul_field(&parsed) {
        return Err(crate::json_guard::nul_message(&field));
    }
    let payload = match parsed.get("encrypted_payload") {
        Some(Value::String(s)) => s,
        Some(_) => return Err("encrypted_payload must be a base64 string".into()),
        None => return Err("body has no encrypted_payload".into()),
    };
    let bytes = decode_base64(payload).map_err(|_| "encrypted_payload is not valid base64".to_string())?;
    if bytes.is_empty() {
        return Err("encrypted_payload is empty".into());
    }
    jobs::deepcura::check_shape(scheme, bytes.len()).map_err(|e| format!("encrypted_payload cannot be a Gridhook: {e}"))
}

#[derive(Deserialize)]
pub struct ReviewQuery {
    /// `unlinked` or `ambiguous`; both when absent.
    status: Option<String>,
    limit: Option<i64>,
}

pub async fn unlinked(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ReviewQuery>,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    if let Some(status) = q.status.as_deref().filter(|s| !matches!(*s, "unlinked" | "ambiguous")) {
        return Err(ApiError::BadRequest(format!("status `{status}` is not known; use `unlinked` or `ambiguous`")));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let notes = review::open_notes(&state.pool, q.status.as_deref(), limit).await?;
    jobs::domain::audit::record_read(&state.pool, "api:admin", "GET /admin/deepcura/unlinked", notes.len()).await?;
    Ok(Json(json!({ "count": notes.len(), "notes": notes })).into_response())
}

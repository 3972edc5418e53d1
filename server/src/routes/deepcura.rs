//! `POST /webhooks/deepcura`: Deep Cura Gridhooks, stored still encrypted
//! with their `decrypt_gridhook` job in one transaction. Nothing is
//! decrypted on the request path. `GET /admin/deepcura/unlinked` lists the
//! notes no clinical note could be matched to, for review.

use axum::{
    Extension, Json,
    body::Bytes,
    extract::{Query, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use jobs::{deepcura::review, inbox::admit};
use serde::Deserialize;
use serde_json::json;

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
        headers: inbox::headers_json(&headers),
        body: &body,
        verified: secrets.matched(|secret| secret_matches(presented, secret)).is_some(),
        replay_of: None,
    };
    if !delivery.verified {
        return super::rejections::refuse(&state, &gate, &delivery, "shared secret does not match").await;
    }
    let mut tx = state.pool.begin().await?;
    let admission = admit::deepcura(&mut tx, delivery, state.settings.deepcura_scheme).await?;
    tx.commit().await?;
    super::drchrono::answer(SOURCE, admission)
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

//! Liveness and readiness.

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use crate::AppState;

pub async fn health() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers and the job tables are migrated.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let check = job_runner::queries::schema_ready(&state.pool).await;
    match check {
        Ok(_) => drchrono_readiness(&state).await,
        Err(e) => {
            tracing::warn!(error = %job_runner::describe_db_error(&e), "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({ "status": "unavailable", "message": "database or job tables unavailable; run `drchrono-sync migrate`" }),
                ),
            )
        }
    }
}

/// Ready, or degraded while DrChrono needs re-authorization. Degraded still
/// answers 200: webhooks must keep being accepted and stored (their jobs
/// wait), so a load balancer must not take the service out of rotation.
async fn drchrono_readiness(state: &AppState) -> (StatusCode, Json<serde_json::Value>) {
    match jobs::drchrono::reauthorization_required(&state.pool).await {
        Ok(None) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Ok(Some(reauth)) => (
            StatusCode::OK,
            Json(json!({
                "status": "degraded",
                "drchrono": {
                    "status": "reauthorization_required",
                    "reason": reauth.reason,
                    "since": reauth.since,
                },
                "message": "DrChrono refused the refresh token: a person must re-authorize the app with `drchrono-sync connect` (no restart needed). Webhooks are still accepted; DrChrono API jobs wait.",
            })),
        ),
        Err(e) => {
            tracing::warn!(error = %job_runner::describe_db_error(&e), "not ready: DrChrono token table unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({ "status": "unavailable", "message": "DrChrono token table unavailable; run `drchrono-sync migrate`" }),
                ),
            )
        }
    }
}

//! Liveness and readiness.

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use crate::AppState;

pub async fn health() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers and the job tables are migrated.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let check = sqlx::raw_sql("SELECT 1 FROM apalis.jobs LIMIT 0; SELECT 1 FROM job_attempts LIMIT 0")
        .execute(&state.pool)
        .await;
    match check {
        Ok(_) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(e) => {
            tracing::warn!(error = %jobs::runner::describe_db_error(&e), "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "message": "database or job tables unavailable; run `drchrono-sync migrate`" })),
            )
        }
    }
}

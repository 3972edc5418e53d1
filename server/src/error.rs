//! The one error type of the HTTP layer. Internal details are logged (PHI-free)
//! and never sent; only errors meant for the caller carry a message.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("unauthorized")]
    Unauthorized,
    #[error("{0}")]
    NotConfigured(&'static str),
    /// The database is unavailable; the sender should retry.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Database(_) => Self::Internal(anyhow::anyhow!(job_runner::describe_db_error(&e))),
            other => Self::Unavailable(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "invalid or missing credentials".into()),
            Self::NotConfigured(m) => (StatusCode::SERVICE_UNAVAILABLE, (*m).to_string()),
            Self::Unavailable(e) => {
                tracing::error!(error = %job_runner::describe_db_error(e), "database unavailable");
                (StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable; retry later".into())
            }
            Self::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
            }
        };
        (status, Json(json!({ "error": status.canonical_reason(), "message": message }))).into_response()
    }
}

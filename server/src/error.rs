//! The one error type of the HTTP layer. Internal details are logged (PHI-free)
//! and never sent; only errors meant for the caller carry a message.
//!
//! "Retry later" (503 with `Retry-After`) is said only of what will pass on
//! its own: the database unreachable or its pool exhausted. An error that
//! would come back on every retry (a row not found, a value that does not
//! decode) is a 500 with the request id, so a sender does not retry it for
//! hours and an operator can find its log line.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header::RETRY_AFTER},
    response::{IntoResponse, Response},
};
use serde_json::json;

/// Seconds a sender is asked to wait after a 503 for the database: about
/// one pool acquire timeout, long enough for a burst to drain.
pub const DATABASE_RETRY_AFTER_SECS: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("unauthorized")]
    Unauthorized,
    #[error("{0}")]
    NotConfigured(&'static str),
    /// The database is unavailable; the sender should retry. Holds the
    /// error's PHI-free description, for the log.
    #[error("database unavailable")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Whether `e` passes on its own: the connection or the pool failed, not
/// the query. A broken or half-open connection (a proxy cut, Postgres
/// restarting) surfaces as `Io`, `Tls` or `Protocol`, or as a database
/// error of class 08 (connection exception), 57P (shutting down) or 53300
/// (too many connections). Everything else is the same on every retry.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P") || code == "53300")
        }
        _ => false,
    }
}

impl ApiError {
    /// The answer to `e`, which may be shared by several requests (the
    /// members of a failed webhook batch).
    pub fn of(e: &sqlx::Error) -> Self {
        let described = job_runner::describe_db_error(e);
        if is_transient(e) { Self::Unavailable(described) } else { Self::Internal(anyhow::anyhow!(described)) }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::of(&e)
    }
}

/// `Retry-After: {seconds}` on `resp`.
pub fn retry_after(mut resp: Response, seconds: u32) -> Response {
    resp.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = crate::request_id::current();
        let (status, message) = match &self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "invalid or missing credentials".into()),
            Self::NotConfigured(m) => (StatusCode::SERVICE_UNAVAILABLE, (*m).to_string()),
            Self::Unavailable(e) => {
                tracing::error!(error = %e, "database unavailable");
                (StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable; retry later".into())
            }
            Self::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
            }
        };
        let body = json!({ "error": status.canonical_reason(), "message": message, "request_id": request_id });
        let resp = (status, Json(body)).into_response();
        match self {
            Self::Unavailable(_) => retry_after(resp, DATABASE_RETRY_AFTER_SECS),
            _ => resp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(e: sqlx::Error) -> Response {
        ApiError::from(e).into_response()
    }

    #[test]
    fn errors_that_come_back_on_retry_are_not_503() {
        let decode = sqlx::Error::ColumnDecode { index: "raw".into(), source: "not JSON".into() };
        let missing = sqlx::Error::ColumnNotFound("raw".into());
        for e in [sqlx::Error::RowNotFound, decode, sqlx::Error::Decode("bad".into()), missing] {
            let resp = answer(e);
            assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert!(resp.headers().get(RETRY_AFTER).is_none(), "no retry-later for what will not pass");
        }
    }

    #[test]
    fn an_exhausted_or_unreachable_database_is_503_with_retry_after() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let protocol = sqlx::Error::Protocol("unexpected response from SSLRequest".into());
        for e in [sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed, io, protocol] {
            let resp = answer(e);
            assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(resp.headers()[RETRY_AFTER], DATABASE_RETRY_AFTER_SECS.to_string().as_str());
        }
    }
}

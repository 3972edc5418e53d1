//! How a DrChrono call fails, and which job error class each failure is.
//!
//! Messages name paths (ids, never query strings), statuses and counts;
//! never tokens, bodies or anything a patient record holds.

use chrono::{DateTime, Duration, Utc};

use job_runner::JobError;

/// How every re-authorization wait's message begins (the `Display` of
/// [`DrChronoError::NeedsReauthorization`]), so that the jobs waiting on it
/// can be found and resumed once a person has re-authorized.
pub const REAUTH_MESSAGE_PREFIX: &str = "DrChrono needs re-authorization";

/// How long a job waits, without using an attempt, when a person must act
/// (re-authorize the app) before any call can succeed.
pub const REAUTH_WAIT: Duration = Duration::minutes(5);

#[derive(Debug, thiserror::Error)]
pub enum DrChronoError {
    #[error("DrChrono has no access token configured; set DRCHRONO_ACCESS_TOKEN")]
    NoToken,
    /// A setting is missing or wrong; the message names it.
    #[error("DrChrono client is not configured: {0}")]
    Config(String),
    #[error("DrChrono answered 401 on {path} even with a freshly refreshed token")]
    Unauthorized { path: String },
    /// DrChrono refused the refresh (`invalid_grant` / `invalid_client`); every
    /// call stops until a person re-authorizes the app.
    #[error(
        "DrChrono needs re-authorization ({reason}); API calls are stopped until a person re-authorizes the app with `drchrono-sync connect`"
    )]
    NeedsReauthorization { reason: String },
    /// Another process holds the token row for longer than expected.
    #[error("a DrChrono token refresh is in progress in another process")]
    RefreshInProgress { until: DateTime<Utc> },
    /// DrChrono refused an authorization code; `hint` says what to do.
    #[error("DrChrono refused the authorization code ({code}): {hint}")]
    CodeRefused { code: String, hint: &'static str },
    #[error("DrChrono token refresh failed: {reason}")]
    RefreshFailed { reason: String },
    #[error("DrChrono answered 403 on {path}: a scope is missing for this endpoint")]
    Forbidden { path: String },
    /// A 429 from DrChrono; every process stops calling until `until`.
    #[error("DrChrono rate limit reached (429 on {path}); available again at {until}")]
    RateLimited { path: String, until: DateTime<Utc> },
    /// Our own shared hourly budget is spent; nothing was sent.
    #[error("DrChrono hourly call budget spent for {priority} work; available again at {until}")]
    BudgetSpent { priority: &'static str, until: DateTime<Utc> },
    #[error("DrChrono answered {status} on {path}")]
    Server { status: u16, path: String },
    /// A 4xx other than 401/403/404/429: the request itself is wrong.
    #[error("DrChrono refused the request with {status} on {path}")]
    Rejected { status: u16, path: String },
    /// A 400 on a write: DrChrono named these fields as invalid (their
    /// messages are not kept: they may quote the values sent).
    #[error("DrChrono refused the write to {path} (400) for the fields {}; correct them and send a new request", fields.join(", "))]
    Invalid { path: String, fields: Vec<String> },
    #[error("DrChrono answered {status} with a non-JSON body on {path}")]
    NotJson { status: u16, path: String },
    #[error("DrChrono answered a list page on {path} that is not {{previous, results (or data), next}}")]
    NotAList { path: String },
    #[error("DrChrono request to {path} failed: {kind}")]
    Transport { path: String, kind: &'static str },
    /// A 3xx: the redirect is not followed, since it would carry the bearer
    /// token (or the client secret) to wherever it points.
    #[error("DrChrono answered {status} (a redirect) on {path}; redirects are not followed, check DRCHRONO_API_BASE")]
    Redirected { status: u16, path: String },
    /// A `next` link outside the configured API origin is never followed
    /// (it would carry the bearer token elsewhere).
    #[error("DrChrono list {path} links to a page outside the configured API origin; not followed")]
    OffOrigin { path: String },
    #[error("{0}")]
    Database(String),
}

impl DrChronoError {
    /// Whether `message` (a job's stored error, perhaps with context
    /// around it) is a wait for re-authorization.
    pub fn is_reauth_wait(message: &str) -> bool {
        message.contains(REAUTH_MESSAGE_PREFIX)
    }

    /// Worth re-requesting the same page at once (after a short pause).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            DrChronoError::Server { .. }
                | DrChronoError::NotJson { .. }
                | DrChronoError::NotAList { .. }
                | DrChronoError::Transport { .. }
        )
    }
}

impl From<sqlx::Error> for DrChronoError {
    fn from(e: sqlx::Error) -> Self {
        DrChronoError::Database(job_runner::describe_db_error(&e))
    }
}

impl From<DrChronoError> for JobError {
    fn from(e: DrChronoError) -> Self {
        match e {
            DrChronoError::RateLimited { until, .. }
            | DrChronoError::BudgetSpent { until, .. }
            | DrChronoError::RefreshInProgress { until } => JobError::WaitUntil(until, e.into()),
            DrChronoError::NeedsReauthorization { .. } => JobError::WaitUntil(Utc::now() + REAUTH_WAIT, e.into()),
            DrChronoError::NoToken
            | DrChronoError::Config(_)
            | DrChronoError::CodeRefused { .. }
            | DrChronoError::Forbidden { .. }
            | DrChronoError::Rejected { .. }
            | DrChronoError::Invalid { .. }
            | DrChronoError::Redirected { .. }
            | DrChronoError::OffOrigin { .. } => JobError::permanent(e),
            DrChronoError::Unauthorized { .. }
            | DrChronoError::RefreshFailed { .. }
            | DrChronoError::Server { .. }
            | DrChronoError::NotJson { .. }
            | DrChronoError::NotAList { .. }
            | DrChronoError::Transport { .. }
            | DrChronoError::Database(_) => JobError::retryable(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reauthorization_wait_is_recognised_by_its_message() {
        let e = DrChronoError::NeedsReauthorization { reason: "invalid_grant".into() };
        assert!(DrChronoError::is_reauth_wait(&e.to_string()), "{e}");
        assert!(!DrChronoError::is_reauth_wait(&DrChronoError::NoToken.to_string()));
    }
}

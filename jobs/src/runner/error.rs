//! How a job attempt fails, and how the database learns why.
//!
//! The class is the first word of the error string that apalis stores in
//! `apalis.jobs.last_result`; the `job_harden_update` trigger parses it to
//! choose between a backoff retry, a deferral to a known time, and death.
//! Messages must stay free of PHI: they name ids and counts, never content.

use chrono::{DateTime, SecondsFormat, Utc};
use std::fmt;

/// Why an attempt did not succeed.
#[derive(Debug)]
pub enum JobError {
    /// Worth retrying later with backoff: 5xx, timeouts, the database being unavailable.
    Retryable(anyhow::Error),
    /// Retrying will not help: 403, a bad payload, a decryption failure.
    Permanent(anyhow::Error),
    /// Run again at a known time, such as a 429's "available in 2710 s"; uses no attempt.
    WaitUntil(DateTime<Utc>, anyhow::Error),
    /// The job's arguments did not decode into its type.
    BadPayload(String),
    /// The attempt ran past its job's timeout.
    Timeout(std::time::Duration),
    /// The handler panicked; the panic was caught so the worker lives on.
    Panic(String),
}

impl JobError {
    pub fn retryable(e: impl Into<anyhow::Error>) -> Self {
        Self::Retryable(e.into())
    }

    pub fn permanent(e: impl Into<anyhow::Error>) -> Self {
        Self::Permanent(e.into())
    }

    /// The stable class name stored in `job_attempts.error_class`.
    pub fn class(&self) -> &'static str {
        match self {
            Self::Retryable(_) => "retryable",
            Self::Permanent(_) => "permanent",
            Self::WaitUntil(..) => "wait_until",
            Self::BadPayload(_) => "bad_payload",
            Self::Timeout(_) => "timeout",
            Self::Panic(_) => "panic",
        }
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Retryable(e) | Self::Permanent(e) => write!(f, "{}: {e:#}", self.class()),
            Self::WaitUntil(at, e) => {
                write!(f, "wait_until@{}: {e:#}", at.to_rfc3339_opts(SecondsFormat::Millis, true))
            }
            Self::BadPayload(m) => write!(f, "bad_payload: {m}"),
            Self::Timeout(d) => write!(f, "timeout: attempt ran past {} s", d.as_secs_f64()),
            Self::Panic(m) => write!(f, "panic: {m}"),
        }
    }
}

impl std::error::Error for JobError {}

/// Database errors are retryable by default: the usual cause is the database
/// being briefly unavailable. Only the SQLSTATE and constraint are kept,
/// because Postgres messages can quote column values.
impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        Self::Retryable(anyhow::anyhow!(describe_db_error(&e)))
    }
}

/// A PHI-free description of a database error.
pub fn describe_db_error(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => format!(
            "database error {} (constraint {})",
            db.code().as_deref().unwrap_or("?"),
            db.constraint().unwrap_or("-")
        ),
        sqlx::Error::PoolTimedOut => "database pool timed out".into(),
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolClosed => "database unavailable".into(),
        sqlx::Error::RowNotFound => "row not found".into(),
        other => format!("database error ({})", variant_name(other)),
    }
}

fn variant_name(e: &sqlx::Error) -> &'static str {
    match e {
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => "decode",
        sqlx::Error::Protocol(_) => "protocol",
        sqlx::Error::Configuration(_) => "configuration",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_until_string_carries_the_exact_time() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T05:00:00.250Z").unwrap().to_utc();
        let e = JobError::WaitUntil(at, anyhow::anyhow!("rate limited"));
        assert_eq!(e.to_string(), "wait_until@2026-11-22T05:00:00.250Z: rate limited");
    }

    #[test]
    fn class_is_the_first_word() {
        let e = JobError::permanent(anyhow::anyhow!("403 missing scope patients:read"));
        assert_eq!(e.to_string(), "permanent: 403 missing scope patients:read");
        assert_eq!(JobError::BadPayload("x".into()).class(), "bad_payload");
    }
}

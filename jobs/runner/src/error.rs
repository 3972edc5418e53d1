//! How a job attempt fails, and how the database learns why.
//!
//! apalis stores a failed attempt's error as a string in
//! `apalis.jobs.last_result`. The runner hands it a JSON object (see
//! [`StoredError`]) with the class as a field, and the `job_harden_update`
//! trigger reads the field to choose between a backoff retry, a deferral to
//! a known time, and death.
//! Messages must stay free of PHI: they name ids and counts, never content.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
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
            Self::WaitUntil(at, _) => {
                write!(f, "wait_until@{}: {}", at.to_rfc3339_opts(SecondsFormat::Millis, true), self.message())
            }
            _ => write!(f, "{}: {}", self.class(), self.message()),
        }
    }
}

impl std::error::Error for JobError {}

/// The form of a [`JobError`] that reaches the database: its `Display` is
/// `{"class": ..., "message": ..., "retry_at": ...}`, which apalis stores
/// as `last_result.Err` and the hardening trigger reads by field.
#[derive(Debug)]
pub(crate) struct StoredError(pub JobError);

#[derive(Serialize)]
struct StoredFields<'a> {
    class: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_at: Option<String>,
}

impl JobError {
    /// The message without its class: what `job_attempts.message` keeps.
    fn message(&self) -> String {
        match self {
            Self::Retryable(e) | Self::Permanent(e) | Self::WaitUntil(_, e) => format!("{e:#}"),
            Self::BadPayload(m) | Self::Panic(m) => m.clone(),
            Self::Timeout(d) => format!("attempt ran past {} s", d.as_secs_f64()),
        }
    }
}

impl fmt::Display for StoredError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let retry_at = match &self.0 {
            JobError::WaitUntil(at, _) => Some(at.to_rfc3339_opts(SecondsFormat::Millis, true)),
            _ => None,
        };
        let message = self.0.message();
        let fields = StoredFields { class: self.0.class(), message: &message, retry_at };
        f.write_str(&serde_json::to_string(&fields).map_err(|_| fmt::Error)?)
    }
}

impl std::error::Error for StoredError {}

/// Database errors are retryable by default: the usual cause is the database
/// being briefly unavailable. Only the SQLSTATE and constraint are kept,
/// because Postgres messages can quote column values.
impl From<sqlx::Error> for JobError {
    /// A data exception (SQLSTATE class 22: a NUL in text, a number out of
    /// range, a date that is not one) or a program limit (class 54: a value
    /// too large for its index) is the job's data at fault: retrying
    /// gives the same answer, so it fails once as a bad payload, naming the
    /// column where Postgres says which. Everything else may pass.
    fn from(e: sqlx::Error) -> Self {
        match data_exception(&e) {
            Some(what) => Self::BadPayload(what),
            None => Self::Retryable(anyhow::anyhow!(describe_db_error(&e))),
        }
    }
}

/// The PHI-free description of a class-22 or class-54 error; `None` for other errors.
/// Postgres's own message may quote the value, so only its code and the
/// names of the table, column and type are kept.
fn data_exception(e: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(db) = e else { return None };
    let code = db.code()?;
    if !code.starts_with("22") && !code.starts_with("54") {
        return None;
    }
    let pg = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>();
    let names = pg.map(|pg| (pg.table(), pg.column(), pg.data_type())).unwrap_or_default();
    let field = match names {
        (Some(table), Some(column), _) => format!("column {table}.{column}"),
        (_, Some(column), _) => format!("column {column}"),
        (_, _, Some(data_type)) => format!("a value of type {data_type}"),
        _ => "a value".to_string(),
    };
    let what = if code == "22P05" {
        "a NUL character (\\u0000), which Postgres cannot store"
    } else if code.starts_with("54") {
        "a value too large to store or index"
    } else {
        "a value Postgres refuses"
    };
    Some(format!(
        "database error {code}: {field} holds {what}; the job's data is at fault, so it is not retried; \
         correct the source record and enqueue the job again"
    ))
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
    fn the_stored_form_names_the_class_as_a_field() {
        let e = JobError::permanent(anyhow::anyhow!("403 missing scope patients:read"));
        assert_eq!(e.to_string(), "permanent: 403 missing scope patients:read");
        let stored: serde_json::Value = serde_json::from_str(&StoredError(e).to_string()).unwrap();
        assert_eq!(stored, serde_json::json!({"class": "permanent", "message": "403 missing scope patients:read"}));
        assert_eq!(JobError::BadPayload("x".into()).class(), "bad_payload");
    }

    #[test]
    fn a_known_wait_is_stored_with_its_time() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T05:00:00.250Z").unwrap().to_utc();
        let stored = StoredError(JobError::WaitUntil(at, anyhow::anyhow!("rate limited"))).to_string();
        let v: serde_json::Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(v["class"], "wait_until");
        assert_eq!(v["retry_at"], "2026-11-22T05:00:00.250Z");
        assert_eq!(v["message"], "rate limited");
    }
}

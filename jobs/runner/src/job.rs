//! The contract every background job fulfils.
//!
//! A job is a serde struct of ids (never PHI) with a stable name. Adding one
//! means one file and one line in the domain's registry (a [`crate::Registry`]).

use serde::{Serialize, de::DeserializeOwned};
use std::{future::Future, time::Duration};

use crate::error::JobError;

/// What a successful attempt did, stored as the job's result (ids and counts only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum JobOutcome {
    /// The job changed state; `rows` counts what it wrote.
    Applied { rows: u64 },
    /// Nothing needed doing: stale data, an unchanged record, or a record gone at the source.
    Skipped { reason: String },
}

impl JobOutcome {
    pub fn applied(rows: u64) -> Self {
        Self::Applied { rows }
    }

    pub fn skipped(reason: impl Into<String>) -> Self {
        Self::Skipped { reason: reason.into() }
    }
}

pub trait BackgroundJob: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable snake_case name: the queue name and `apalis.jobs.job_type`. Never rename.
    const NAME: &'static str;
    /// Attempts before the job is dead.
    const MAX_ATTEMPTS: i32 = 5;
    /// An attempt running longer than this fails as `timeout` and is retried.
    const TIMEOUT: Duration = Duration::from_secs(60);
    /// Attempts of this job running at once in one process.
    const CONCURRENCY: usize = 4;
    /// Higher runs first within the queue.
    const PRIORITY: i32 = 0;

    /// Shared state the handler reads: pool, HTTP client, configuration.
    type Context: Clone + Send + Sync + 'static;

    /// "One active job per key": while a job with this key is pending or
    /// running, enqueuing another is a no-op.
    fn dedup_key(&self) -> Option<String> {
        None
    }

    fn run(self, ctx: Self::Context) -> impl Future<Output = Result<JobOutcome, JobError>> + Send;
}

/// Dedup keys longer than this are stored as their SHA-256: a btree index
/// entry has a size limit (about 2,700 bytes), and a key built from a
/// sender's value must not turn an enqueue into a database error.
pub const MAX_STORED_KEY_LEN: usize = 200;

/// The form of `key` the job table holds: the key itself, or
/// `sha256:<hex>` of it past [`MAX_STORED_KEY_LEN`] bytes. Equal keys give
/// equal stored forms, so deduplication is unchanged.
pub fn stored_key(key: &str) -> std::borrow::Cow<'_, str> {
    use sha2::Digest as _;
    if key.len() <= MAX_STORED_KEY_LEN {
        return key.into();
    }
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(key.as_bytes()))).into()
}

#[cfg(test)]
mod stored_key_tests {
    use super::*;

    #[test]
    fn short_keys_are_kept_and_long_ones_hashed_alike() {
        assert_eq!(stored_key("patient:7"), "patient:7");
        let long = "x".repeat(MAX_STORED_KEY_LEN + 1);
        let stored = stored_key(&long);
        assert!(stored.starts_with("sha256:") && stored.len() == 7 + 64, "{stored}");
        assert_eq!(stored, stored_key(&long.clone()), "equal keys, equal stored forms");
        assert_ne!(stored, stored_key(&"y".repeat(MAX_STORED_KEY_LEN + 1)));
    }
}

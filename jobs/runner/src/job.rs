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

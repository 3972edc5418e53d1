//! The hardened job runner: apalis 1.0 on Postgres, with the defects listed
//! in DESIGN.md neutralized. Database-side rules live in
//! `migrations/*_job_hardening.sql`; this crate holds the process side.
//!
//! It knows no job of the domain, the way a queue library would not: the
//! domain crate implements [`BackgroundJob`] and lists its jobs in a
//! [`Registry`]. Everything that reads or writes `apalis.jobs` is here, so
//! the status strings of the table appear nowhere else; callers speak
//! [`JobState`].
//!
//! A job never does work on the request path: producers only [`enqueue`].

mod attempt_trace;
mod claim;
mod enqueue;
mod enqueue_rows;
mod error;
mod handler;
mod heartbeat;
mod job;
pub mod metrics;
pub mod ops;
pub mod queries;
mod registry;
mod state;
mod storage;
mod supervisor;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(test)]
mod tests;
mod wakeups;

pub use enqueue::{JOB_TABLE, enqueue, enqueue_at, enqueue_many, enqueue_statement};
pub use enqueue_rows::{JobRow, active_jobs_with_keys, enqueue_rows};
pub use error::{JobError, describe_db_error};
pub use handler::current_job_id;
pub use job::{BackgroundJob, JobOutcome};
pub use registry::{JobInfo, Registry};
pub use state::JobState;
pub use supervisor::OutageLog;
pub use wakeups::{BEGIN_NOTIFY_AFTER_COMMIT, notify_queues};

use std::time::Duration;

/// Process-side settings of the runner.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Unique per process: worker ids derive from it, so a restarted process
    /// never inherits (and hides) the jobs its previous life left running.
    pub process_id: String,
    pub heartbeat_interval: Duration,
    /// A worker silent for `heartbeat_interval * missed_heartbeats` is dead
    /// and its jobs are rescued.
    pub missed_heartbeats: usize,
    /// Fallback poll when no NOTIFY arrives: it bounds how late a delayed job or a retry starts.
    pub poll_interval: Duration,
    /// Jobs fetched per round trip.
    pub batch_size: usize,
    /// Overrides every job's own concurrency (benchmarks).
    pub concurrency: Option<usize>,
    /// Only these queues run here; all when `None`.
    pub queues: Option<Vec<String>>,
    pub restart_backoff_min: Duration,
    pub restart_backoff_max: Duration,
}

impl RunnerConfig {
    /// Defaults of the tunable settings; the service's command line uses the same constants.
    pub const DEFAULT_HEARTBEAT_SECS: u64 = 10;
    pub const DEFAULT_MISSED_HEARTBEATS: usize = 3;
    pub const DEFAULT_POLL_MS: u64 = 500;
    pub const DEFAULT_BATCH_SIZE: usize = 100;
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            process_id: new_process_id(),
            heartbeat_interval: Duration::from_secs(Self::DEFAULT_HEARTBEAT_SECS),
            missed_heartbeats: Self::DEFAULT_MISSED_HEARTBEATS,
            poll_interval: Duration::from_millis(Self::DEFAULT_POLL_MS),
            batch_size: Self::DEFAULT_BATCH_SIZE,
            concurrency: None,
            queues: None,
            restart_backoff_min: Duration::from_millis(100),
            restart_backoff_max: Duration::from_secs(30),
        }
    }
}

/// `host-pid-random`: unique across replicas and restarts.
pub fn new_process_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let salt: u32 = rand::random();
    format!("{host}-{}-{salt:08x}", std::process::id())
}

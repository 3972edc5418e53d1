//! The hardened job runner: apalis 1.0 on Postgres, with the defects listed
//! in DESIGN.md neutralized. Database-side rules live in
//! `migrations/*_job_hardening.sql`; this module holds the process side.
//!
//! A job never does work on the request path: producers only [`enqueue`].

mod attempt_trace;
mod enqueue;
mod error;
mod handler;
mod heartbeat;
mod job;
mod supervisor;
mod wakeups;

pub use enqueue::{enqueue, enqueue_at, enqueue_many};
pub use error::{JobError, describe_db_error};
pub use handler::current_job_id;
pub use job::{BackgroundJob, JobOutcome};
pub use supervisor::OutageLog;

use futures::future::BoxFuture;
use sqlx::PgPool;
use std::{sync::Arc, time::Duration};
use tokio::sync::watch;

use heartbeat::LiveWorkers;
use supervisor::{QueueRun, supervise};

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

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            process_id: new_process_id(),
            heartbeat_interval: Duration::from_secs(10),
            missed_heartbeats: 3,
            poll_interval: Duration::from_millis(500),
            batch_size: 100,
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

type QueueStarter<C> = fn(QueueRun<C>) -> BoxFuture<'static, ()>;

/// The explicit list of job types a process can run, one line per job.
pub struct Registry<C> {
    queues: Vec<(&'static str, QueueStarter<C>)>,
    max_attempts: Vec<(&'static str, i32)>,
}

impl<C: Clone + Send + Sync + 'static> Default for Registry<C> {
    fn default() -> Self {
        Self { queues: Vec::new(), max_attempts: Vec::new() }
    }
}

impl<C: Clone + Send + Sync + 'static> Registry<C> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds job type `J`. Panics on a duplicate name, which would merge two queues.
    #[must_use]
    pub fn register<J: BackgroundJob<Context = C>>(mut self) -> Self {
        assert!(!self.queues.iter().any(|(n, _)| *n == J::NAME), "job name {} registered twice", J::NAME);
        self.queues.push((J::NAME, |run| Box::pin(supervise::<J>(run))));
        self.max_attempts.push((J::NAME, J::MAX_ATTEMPTS));
        self
    }

    /// A job type's attempt budget: what a revived dead job gets afresh.
    pub fn max_attempts(&self, name: &str) -> Option<i32> {
        self.max_attempts.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.queues.iter().map(|(n, _)| *n).collect()
    }

    /// Runs every selected queue until `shutdown` turns true.
    pub async fn run(self, pool: PgPool, ctx: C, config: RunnerConfig, shutdown: watch::Receiver<bool>) {
        let selected: Vec<_> = self
            .queues
            .into_iter()
            .filter(|(name, _)| config.queues.as_ref().is_none_or(|q| q.iter().any(|n| n == name)))
            .collect();
        let (wakeups, mut receivers) = wakeups::Wakeups::new(selected.iter().map(|(n, _)| *n));
        let listener = tokio::spawn(wakeups.run(pool.clone()));
        let live = LiveWorkers::default();
        let outages = Arc::new(OutageLog::default());
        let orphan_after = config.heartbeat_interval * config.missed_heartbeats as u32;
        let beat = tokio::spawn(heartbeat::beat(pool.clone(), live.clone(), config.heartbeat_interval, orphan_after));
        let mut tasks = Vec::new();
        for (name, start) in selected {
            tasks.push(tokio::spawn(start(QueueRun {
                wakeups: receivers.remove(name).expect("one receiver per queue"),
                pool: pool.clone(),
                ctx: ctx.clone(),
                config: config.clone(),
                live: live.clone(),
                outages: outages.clone(),
                shutdown: shutdown.clone(),
            })));
        }
        for t in tasks {
            let _ = t.await;
        }
        beat.abort();
        listener.abort();
    }
}

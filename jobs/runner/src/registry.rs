//! The explicit list of job types a process runs, and running them.

use futures::future::BoxFuture;
use sqlx::PgPool;
use std::sync::Arc;
use tokio::sync::watch;

use crate::{
    RunnerConfig,
    heartbeat::{self, LiveWorkers},
    job::BackgroundJob,
    supervisor::{OutageLog, QueueRun, supervise},
    wakeups,
};

type QueueStarter<C> = fn(QueueRun<C>) -> BoxFuture<'static, ()>;

/// What a registered job type declares, for operators and documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobInfo {
    pub name: &'static str,
    pub max_attempts: i32,
    pub timeout: std::time::Duration,
    pub concurrency: usize,
}

/// The explicit list of job types a process can run, one line per job.
pub struct Registry<C> {
    queues: Vec<(&'static str, QueueStarter<C>)>,
    jobs: Vec<JobInfo>,
}

impl<C: Clone + Send + Sync + 'static> Default for Registry<C> {
    fn default() -> Self {
        Self { queues: Vec::new(), jobs: Vec::new() }
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
        self.jobs.push(JobInfo {
            name: J::NAME,
            max_attempts: J::MAX_ATTEMPTS,
            timeout: J::TIMEOUT,
            concurrency: J::CONCURRENCY,
        });
        self
    }

    /// A job type's attempt budget: what a revived dead job gets afresh.
    pub fn max_attempts(&self, name: &str) -> Option<i32> {
        self.jobs.iter().find(|j| j.name == name).map(|j| j.max_attempts)
    }

    /// Every registered job type, in registration order.
    pub fn jobs(&self) -> &[JobInfo] {
        &self.jobs
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
        let (wakeups, mut queue_wakeups) = wakeups::Wakeups::new(selected.iter().map(|(n, _)| *n));
        let listener = tokio::spawn(wakeups.run(pool.clone()));
        let live = LiveWorkers::default();
        let outages = Arc::new(OutageLog::default());
        let orphan_after = config.heartbeat_interval * config.missed_heartbeats as u32;
        let beat = tokio::spawn(heartbeat::beat(pool.clone(), live.clone(), config.heartbeat_interval, orphan_after));
        let mut tasks = Vec::new();
        for (name, start) in selected {
            tasks.push(tokio::spawn(start(QueueRun {
                wakeups: queue_wakeups.remove(name).expect("one wake-up per queue"),
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

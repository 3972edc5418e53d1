//! Keeps one apalis worker per queue alive for the life of the process.
//!
//! apalis 1.0 ends `worker.run()` for good on a single database error, and a
//! monitor restarts it in a hot loop. Here each queue's worker is rebuilt
//! after a failure with exponential backoff, under a fresh worker id, and the
//! outage is logged at most once a second for the whole process.

use apalis::prelude::*;
use apalis_postgres::{Config, PostgresStorage};
use sqlx::PgPool;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::watch;

use crate::{
    RunnerConfig, attempt_trace::TracePool, handler::handle, heartbeat::LiveWorkers, job::BackgroundJob,
    storage::ClaimingStorage, wakeups::QueueWakeup,
};

/// Shared by every queue of a process, so one outage makes one log line a second.
#[derive(Default)]
pub struct OutageLog {
    last: std::sync::Mutex<Option<Instant>>,
    suppressed: std::sync::atomic::AtomicU64,
}

impl OutageLog {
    pub fn report(&self, queue: &str, error: &str) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            self.suppressed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        *last = Some(Instant::now());
        let suppressed = self.suppressed.swap(0, std::sync::atomic::Ordering::Relaxed);
        tracing::error!(
            queue,
            error,
            suppressed,
            "job worker stopped; restarting with backoff (check the database connection)"
        );
    }
}

/// Everything one queue's supervisor needs.
pub(crate) struct QueueRun<C> {
    pub pool: PgPool,
    /// Wake-ups from the process's one notification listener.
    pub wakeups: QueueWakeup,
    pub ctx: C,
    pub config: RunnerConfig,
    pub live: LiveWorkers,
    pub outages: Arc<OutageLog>,
    pub shutdown: watch::Receiver<bool>,
}

/// Runs queue `J` until shutdown, rebuilding its worker whenever it stops.
pub(crate) async fn supervise<J: BackgroundJob>(mut run: QueueRun<J::Context>) {
    let mut delay = run.config.restart_backoff_min;
    for generation in 1.. {
        let name = format!("{}-{}-{generation}", run.config.process_id, J::NAME);
        run.live.insert(&name);
        let started = Instant::now();
        let result = run_worker::<J>(&run, &name).await;
        run.live.remove(&name);
        if *run.shutdown.borrow() {
            return;
        }
        let error = match result {
            Ok(()) => "worker stream ended".to_string(),
            Err(e) => e.to_string(),
        };
        run.outages.report(J::NAME, &error);
        if started.elapsed() > Duration::from_secs(60) {
            delay = run.config.restart_backoff_min;
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = run.shutdown.changed() => return,
        }
        delay = (delay * 2).min(run.config.restart_backoff_max);
    }
}

async fn run_worker<J: BackgroundJob>(run: &QueueRun<J::Context>, name: &str) -> Result<(), WorkerError> {
    let cfg = &run.config;
    let storage = PostgresStorage::<serde_json::Value>::new(&run.pool).with_config(
        Config::default()
            .queue(J::NAME)
            .batch_size(cfg.batch_size)
            .heartbeat_interval(cfg.heartbeat_interval)
            .missed_heartbeats(cfg.missed_heartbeats),
    );
    let strategy = Strategy::new().stream(run.wakeups.stream()).interval(cfg.poll_interval);
    let backend = PollWith::new(ClaimingStorage::new(storage, run.wakeups.clone()), strategy);
    let worker_ctx = WorkerContext::new(name);
    let worker = WorkerBuilder::new(&worker_ctx)
        .backend(backend)
        .data(run.ctx.clone())
        .data(TracePool(run.pool.clone()))
        .concurrency(cfg.concurrency.unwrap_or(J::CONCURRENCY))
        .build(handle::<J>);
    let mut shutdown = run.shutdown.clone();
    let stopper = worker_ctx.clone();
    let stop_on_shutdown = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
        let _ = stopper.stop();
        std::future::pending::<()>().await
    };
    tokio::select! {
        r = worker.run() => r,
        _ = stop_on_shutdown => Ok(()),
    }
}

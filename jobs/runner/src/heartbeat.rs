//! A process-wide heartbeat for every live worker id, and the orphan reaper.
//!
//! apalis heartbeats from inside the worker's poll loop; a worker whose
//! concurrency slots are all busy on long jobs may not poll for a while, and
//! other replicas would then take its running jobs as orphans. This task keeps
//! `apalis.workers.last_seen` fresh independently of the poll loop.
//!
//! apalis also rescues a queue's orphans only from a live worker of that same
//! queue, so a queue whose every worker died keeps its jobs locked until one
//! restarts. The reaper here rescues orphans of every queue from any process;
//! the `job_harden_update` trigger then counts the attempt and applies the
//! backoff or kills the job.

use sqlx::PgPool;
use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};

/// The worker ids this process currently runs.
#[derive(Clone, Default)]
pub struct LiveWorkers(Arc<Mutex<BTreeSet<String>>>);

impl LiveWorkers {
    pub fn insert(&self, name: &str) {
        self.lock().insert(name.to_string());
    }

    pub fn remove(&self, name: &str) {
        self.lock().remove(name);
    }

    pub fn names(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Takes back jobs held by workers silent for longer than the orphan timeout.
const REAP: &str = "UPDATE apalis.jobs j SET status = 'Pending', lock_by = NULL, lock_at = NULL, \
     done_at = NULL, attempts = j.attempts + 1, \
     last_result = '{\"Err\": {\"class\": \"worker_lost\", \"message\": \"heartbeat timeout\"}}'::jsonb \
     FROM apalis.workers w \
     WHERE j.lock_by = w.id AND j.status IN ('Queued', 'Running') \
       AND w.last_seen < now() - make_interval(secs => $1)";

/// Refreshes `last_seen` for the live workers and reaps orphans every
/// `interval`, forever.
pub async fn beat(pool: PgPool, live: LiveWorkers, interval: Duration, orphan_after: Duration) {
    let mut tick = tokio::time::interval(interval);
    loop {
        tick.tick().await;
        let names = live.names();
        if let Err(e) = beat_once(&pool, &names, orphan_after).await {
            tracing::debug!(error = %crate::error::describe_db_error(&e), "heartbeat failed");
        }
    }
}

async fn beat_once(pool: &PgPool, names: &[String], orphan_after: Duration) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE apalis.workers SET last_seen = now() WHERE id = ANY($1)").bind(names).execute(pool).await?;
    let reaped = sqlx::query(REAP).bind(orphan_after.as_secs_f64()).execute(pool).await?.rows_affected();
    if reaped > 0 {
        tracing::warn!(jobs = reaped, "rescued jobs from workers that stopped heartbeating");
    }
    Ok(())
}

//! A process-wide heartbeat for every live worker id.
//!
//! apalis heartbeats from inside the worker's poll loop; a worker whose
//! concurrency slots are all busy on long jobs may not poll for a while, and
//! other replicas would then take its running jobs as orphans. This task keeps
//! `apalis.workers.last_seen` fresh independently of the poll loop.

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

/// Refreshes `last_seen` for the live workers every `interval`, forever.
pub async fn beat(pool: PgPool, live: LiveWorkers, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    loop {
        tick.tick().await;
        let names = live.names();
        if names.is_empty() {
            continue;
        }
        let result = sqlx::query("UPDATE apalis.workers SET last_seen = now() WHERE id = ANY($1)")
            .bind(&names)
            .execute(&pool)
            .await;
        if let Err(e) = result {
            tracing::debug!(error = %super::error::describe_db_error(&e), "heartbeat failed");
        }
    }
}

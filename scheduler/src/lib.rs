//! Cron reconciliation: enqueues sync jobs once per tick across replicas.
//! It only enqueues; the job runner does the work.

use sqlx::PgPool;
use tokio::sync::watch;

/// Runs the configured schedules until `shutdown` turns true. No
/// reconciliation schedule is defined yet, so this only waits.
pub async fn run(_pool: PgPool, mut shutdown: watch::Receiver<bool>) {
    tracing::info!("scheduler started with no schedules configured");
    let _ = shutdown.wait_for(|s| *s).await;
}

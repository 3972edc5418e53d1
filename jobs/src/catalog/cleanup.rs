//! `cleanup`: retention. Prunes finished jobs with their attempt history,
//! verified webhook deliveries, objects in `unkeyed_records` that no walk
//! has listed for a while (and old scheduler ticks) past their ages, in
//! bounded batches so no statement holds locks for long. `change_log` and
//! `sync_runs` are kept.

use serde::{Deserialize, Serialize};

use crate::JobContext;
use job_runner::{BackgroundJob, JobError, JobOutcome};

/// Rows per statement: small enough to keep each lock short.
const BATCH: i64 = 1000;

#[doc(alias("cleanup"))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cleanup {
    /// Done and dead jobs (and their attempts) older than this are pruned.
    pub job_days: i32,
    /// Verified deliveries older than this are pruned.
    pub delivery_days: i32,
    /// Unkeyed objects (appointment occurrences with no numeric id) that no
    /// walk has listed for this long are pruned: they are gone at DrChrono.
    #[serde(default = "default_unkeyed_days")]
    pub unkeyed_days: i32,
}

fn default_unkeyed_days() -> i32 {
    90
}

impl Default for Cleanup {
    fn default() -> Self {
        Self { job_days: 30, delivery_days: 90, unkeyed_days: default_unkeyed_days() }
    }
}

const PRUNE_UNKEYED: &str = "WITH gone AS (DELETE FROM unkeyed_records WHERE (kind, source_id) IN ( \
       SELECT kind, source_id FROM unkeyed_records WHERE last_seen < now() - make_interval(days => $1) LIMIT $2) \
       RETURNING 1) \
     SELECT count(*) FROM gone";

const PRUNE_DELIVERIES: &str = "WITH gone AS (DELETE FROM webhook_deliveries WHERE id IN ( \
       SELECT id FROM webhook_deliveries WHERE verified \
       AND received_at < now() - make_interval(days => $1) LIMIT $2) RETURNING id) \
     SELECT count(*) FROM gone";

/// Old fired ticks; each schedule's latest row stays, since the scheduler
/// reads it to know what has fired.
const PRUNE_TICKS: &str = "WITH gone AS (DELETE FROM scheduler_ticks t WHERE (schedule, tick_at) IN ( \
       SELECT schedule, tick_at FROM scheduler_ticks o WHERE fired_at < now() - make_interval(days => $1) \
       AND EXISTS (SELECT 1 FROM scheduler_ticks n WHERE n.schedule = o.schedule AND n.tick_at > o.tick_at) \
       LIMIT $2) RETURNING 1) \
     SELECT count(*) FROM gone";

async fn prune_all(ctx: &JobContext, sql: &'static str, days: i32) -> Result<u64, JobError> {
    batches(|| sqlx::query_scalar(sql).bind(days).bind(BATCH).fetch_one(&ctx.pool)).await
}

/// Runs one bounded prune until a batch comes back short; the total pruned.
async fn batches<F, Fut>(mut prune: F) -> Result<u64, JobError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<i64, sqlx::Error>>,
{
    let mut total = 0;
    loop {
        let n = prune().await?;
        total += n as u64;
        if n < BATCH {
            return Ok(total);
        }
    }
}

impl BackgroundJob for Cleanup {
    const NAME: &'static str = "cleanup";
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);
    const CONCURRENCY: usize = 1;
    type Context = JobContext;

    fn dedup_key(&self) -> Option<String> {
        Some(Self::NAME.into())
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        let jobs = batches(|| job_runner::queries::prune_finished(&ctx.pool, self.job_days, BATCH)).await?;
        let deliveries = prune_all(&ctx, PRUNE_DELIVERIES, self.delivery_days).await?;
        let ticks = prune_all(&ctx, PRUNE_TICKS, self.job_days).await?;
        let unkeyed = prune_all(&ctx, PRUNE_UNKEYED, self.unkeyed_days).await?;
        sqlx::query(
            "INSERT INTO sync_runs (kind, job_id, schedule, finished_at, outcome, seen, updated) \
             VALUES ('cleanup', $1, 'cleanup', now(), 'completed', $2, $3)",
        )
        .bind(job_runner::current_job_id())
        .bind((jobs + deliveries + unkeyed) as i64)
        .bind((jobs + deliveries + unkeyed) as i64)
        .execute(&ctx.pool)
        .await?;
        tracing::info!(jobs, deliveries, ticks, unkeyed, "retention pruned");
        Ok(JobOutcome::applied(jobs + deliveries + unkeyed))
    }
}

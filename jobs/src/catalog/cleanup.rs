//! `cleanup`: retention, as configured (`RETENTION_*`). Prunes finished jobs
//! with their attempt history, webhook deliveries (rejected ones sooner),
//! objects in `unkeyed_records` that no walk has listed for a while and old
//! scheduler ticks; empties the PHI-bearing bodies of write requests and
//! partner events and the sealed Deep Cura text, keeping their rows. In
//! bounded batches, so no statement holds locks for long. `change_log` and
//! `sync_runs` are kept; the run's `sync_runs` row says what went, per table.

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
    /// Deliveries that failed authentication (no body kept) older than this.
    #[serde(default = "default_rejected_days")]
    pub rejected_days: i32,
    /// Write-API request bodies older than this are emptied.
    #[serde(default = "default_body_days")]
    pub write_request_days: i32,
    /// Partner appointment event bodies and notes older than this are emptied.
    #[serde(default = "default_body_days")]
    pub appointment_event_days: i32,
    /// Deep Cura notes' sealed text (`raw_sealed`) older than this is emptied; codes and link stay.
    #[serde(default = "default_deepcura_text_days")]
    pub deepcura_text_days: i32,
    /// Unkeyed objects (appointment occurrences with no numeric id) that no
    /// walk has listed for this long are pruned: they are gone at DrChrono.
    #[serde(default = "default_unkeyed_days")]
    pub unkeyed_days: i32,
    /// `change_log` values (kept only with AUDIT_VALUES) older than this are emptied.
    #[serde(default = "default_audit_values_days")]
    pub audit_values_days: i32,
}

fn default_audit_values_days() -> i32 {
    30
}

fn default_unkeyed_days() -> i32 {
    90
}

fn default_rejected_days() -> i32 {
    7
}

fn default_body_days() -> i32 {
    90
}

fn default_deepcura_text_days() -> i32 {
    365
}

impl Default for Cleanup {
    fn default() -> Self {
        Self {
            job_days: 30,
            delivery_days: 90,
            rejected_days: default_rejected_days(),
            write_request_days: default_body_days(),
            appointment_event_days: default_body_days(),
            deepcura_text_days: default_deepcura_text_days(),
            unkeyed_days: default_unkeyed_days(),
            audit_values_days: default_audit_values_days(),
        }
    }
}

const PRUNE_UNKEYED: &str = "WITH gone AS (DELETE FROM unkeyed_records WHERE (kind, source_id) IN ( \
       SELECT kind, source_id FROM unkeyed_records WHERE last_seen < now() - make_interval(days => $1) LIMIT $2) \
       RETURNING 1) \
     SELECT count(*) FROM gone";

/// Deliveries past their age: `$3` says which, verified or rejected.
const PRUNE_DELIVERIES: &str = "WITH gone AS (DELETE FROM webhook_deliveries WHERE id IN ( \
       SELECT id FROM webhook_deliveries WHERE verified = $3 \
       AND received_at < now() - make_interval(days => $1) LIMIT $2) RETURNING id) \
     SELECT count(*) FROM gone";

const EMPTY_WRITE_REQUESTS: &str = "WITH gone AS (UPDATE write_requests SET body = '{}', body_pruned_at = now() \
       WHERE id IN (SELECT id FROM write_requests WHERE body_pruned_at IS NULL \
       AND received_at < now() - make_interval(days => $1) LIMIT $2) RETURNING 1) \
     SELECT count(*) FROM gone";

const EMPTY_APPOINTMENT_EVENTS: &str = "WITH gone AS (UPDATE appointment_events \
       SET body = ''::bytea, notes = NULL, body_pruned_at = now() \
       WHERE id IN (SELECT id FROM appointment_events WHERE body_pruned_at IS NULL \
       AND received_at < now() - make_interval(days => $1) LIMIT $2) RETURNING 1) \
     SELECT count(*) FROM gone";

const EMPTY_AUDIT_VALUES: &str = "WITH gone AS (UPDATE change_log SET old_values = NULL, new_values = NULL \
       WHERE id IN (SELECT id FROM change_log WHERE (old_values IS NOT NULL OR new_values IS NOT NULL) \
       AND at < now() - make_interval(days => $1) LIMIT $2) RETURNING 1) \
     SELECT count(*) FROM gone";

const EMPTY_DEEPCURA_TEXT: &str = "WITH gone AS (UPDATE deepcura_notes SET raw_sealed = ''::bytea, \
       text_pruned_at = now() \
       WHERE id IN (SELECT id FROM deepcura_notes WHERE text_pruned_at IS NULL \
       AND received_at < now() - make_interval(days => $1) LIMIT $2) RETURNING 1) \
     SELECT count(*) FROM gone";

/// Old fired ticks; each schedule's latest row stays, since the scheduler
/// reads it to know what has fired.
const PRUNE_TICKS: &str = "WITH gone AS (DELETE FROM scheduler_ticks t WHERE (schedule, tick_at) IN ( \
       SELECT schedule, tick_at FROM scheduler_ticks o WHERE fired_at < now() - make_interval(days => $1) \
       AND EXISTS (SELECT 1 FROM scheduler_ticks n WHERE n.schedule = o.schedule AND n.tick_at > o.tick_at) \
       LIMIT $2) RETURNING 1) \
     SELECT count(*) FROM gone";

/// Name words no live patient's name holds any more (patient search's
/// typo step): a removed or renamed patient's words go with the night.
const PRUNE_NAME_WORDS: &str = "WITH live AS (SELECT DISTINCT u AS word FROM patients p, \
       unnest(string_to_array(p.search_name, ' ')) AS u WHERE p.removed_at IS NULL), \
     gone AS (DELETE FROM patient_name_words w WHERE NOT EXISTS (SELECT 1 FROM live WHERE live.word = w.word) \
       RETURNING 1) \
     SELECT count(*) FROM gone";

/// One pass over the patients, under a lock that holds off the patient
/// upserts' word inserts for its length, so a word a concurrent upsert has
/// just come to need is either seen in use or inserted after the prune.
async fn name_words(ctx: &JobContext) -> Result<u64, JobError> {
    let mut tx = ctx.pool.begin().await?;
    sqlx::query("LOCK TABLE patient_name_words IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
    let gone: i64 = sqlx::query_scalar(PRUNE_NAME_WORDS).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(gone as u64)
}

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
        let pruned = serde_json::json!({
            "jobs": batches(|| job_runner::queries::prune_finished(&ctx.pool, self.job_days, BATCH)).await?,
            "webhook_deliveries": deliveries(&ctx, self.delivery_days, true).await?,
            "webhook_deliveries.rejected": deliveries(&ctx, self.rejected_days, false).await?,
            "scheduler_ticks": prune_all(&ctx, PRUNE_TICKS, self.job_days).await?,
            "unkeyed_records": prune_all(&ctx, PRUNE_UNKEYED, self.unkeyed_days).await?,
            "write_requests.body": prune_all(&ctx, EMPTY_WRITE_REQUESTS, self.write_request_days).await?,
            "appointment_events.body": prune_all(&ctx, EMPTY_APPOINTMENT_EVENTS, self.appointment_event_days).await?,
            "deepcura_notes.text": prune_all(&ctx, EMPTY_DEEPCURA_TEXT, self.deepcura_text_days).await?,
            "change_log.values": prune_all(&ctx, EMPTY_AUDIT_VALUES, self.audit_values_days).await?,
            "patient_name_words": name_words(&ctx).await?,
        });
        let total: u64 = pruned.as_object().into_iter().flat_map(|m| m.values()).filter_map(|v| v.as_u64()).sum();
        sqlx::query(
            "INSERT INTO sync_runs (kind, job_id, schedule, finished_at, outcome, seen, updated, pruned) \
             VALUES ('cleanup', $1, 'cleanup', now(), 'completed', $2, $2, $3)",
        )
        .bind(job_runner::current_job_id())
        .bind(total as i64)
        .bind(&pruned)
        .execute(&ctx.pool)
        .await?;
        tracing::info!(total, pruned = %pruned, "retention pruned");
        Ok(JobOutcome::applied(total))
    }
}

async fn deliveries(ctx: &JobContext, days: i32, verified: bool) -> Result<u64, JobError> {
    batches(|| sqlx::query_scalar(PRUNE_DELIVERIES).bind(days).bind(BATCH).bind(verified).fetch_one(&ctx.pool)).await
}

//! A walk through one of DrChrono's bulk lists: start a batch, wait for it
//! as a durable job wait (the job runs again later; no worker sleeps), then
//! read its pages of 1,000. The batch, the page reached and the ids listed
//! are kept in `drchrono_batches`, so a wait or a crash resumes the walk.

use anyhow::anyhow;
use chrono::{DateTime, Utc};

use super::Walked;
use crate::{
    JobContext,
    catalog::apply_records,
    domain::{RecordKind, batches, id_of, sync_state},
    drchrono::{DrChronoClient, WalkStats, batches::BatchPoll},
};
use job_runner::JobError;

/// What a batch walk reads and where it keeps its place.
pub(super) struct BatchWalk<'a> {
    pub kind: RecordKind,
    pub path: &'static str,
    pub query: &'a [(&'static str, String)],
    pub walk_key: &'a str,
    pub actor: &'a str,
}

impl BatchWalk<'_> {
    /// Reads the batch from where the walk stands; `Err(WaitUntil)` while
    /// DrChrono prepares it. When this run starts the batch, `run`'s start
    /// becomes the walk's start; a resumed walk keeps its first.
    pub async fn run(
        &self,
        ctx: &JobContext,
        client: &DrChronoClient<'_>,
        run: sync_state::Run,
        totals: &mut sync_state::RunTotals,
    ) -> Result<Walked, JobError> {
        let calls_before = client.calls();
        let result = self.read(ctx, client, run, totals, calls_before).await;
        totals.calls = client.calls() - calls_before;
        result
    }

    async fn read(
        &self,
        ctx: &JobContext,
        client: &DrChronoClient<'_>,
        run: sync_state::Run,
        totals: &mut sync_state::RunTotals,
        calls_before: u64,
    ) -> Result<Walked, JobError> {
        let mut stats = WalkStats::default();
        let pool = &ctx.pool;
        let tz = ctx.settings.practice_timezone.name();
        let mut batch = match batches::current(pool, self.walk_key, self.path).await? {
            Some(batch) => batch,
            None => self.start(ctx, client, run.started_at).await?,
        };
        let mut restarted = false;
        let mut high_water: Option<DateTime<Utc>> = None;
        loop {
            match client.batch_page(self.path, &batch.uuid, batch.next_page as u64, &mut stats).await? {
                BatchPoll::InProgress => {
                    let at = Utc::now() + ctx.settings.drchrono.batch_poll_wait;
                    return Err(JobError::WaitUntil(at, anyhow!("DrChrono is preparing the {} batch", self.path)));
                }
                BatchPoll::Gone if !restarted => {
                    tracing::warn!(path = self.path, "DrChrono no longer knows the batch; starting a new one");
                    restarted = true;
                    batch = self.start(ctx, client, batch.walk_started).await?;
                }
                BatchPoll::Gone => {
                    return Err(JobError::Retryable(anyhow!(
                        "DrChrono forgot a batch of {} right after starting it; the walk is retried",
                        self.path
                    )));
                }
                BatchPoll::Page { results, pages } => {
                    let counts = apply_records(pool, self.kind, &results, self.actor, &ctx.settings.locale()).await?;
                    totals.counts.add(counts);
                    high_water = high_water.max(sync_state::page_high_water(pool, &results, tz).await?);
                    let ids: Vec<i64> = results.iter().filter_map(|o| id_of(o.get("id"))).collect();
                    batches::page_done(pool, self.walk_key, batch.next_page, &ids).await?;
                    batch.listed.extend(ids);
                    totals.pages += 1;
                    totals.calls = client.calls() - calls_before;
                    sync_state::progress(pool, run.id, *totals).await?;
                    if batch.next_page as u64 >= pages {
                        break;
                    }
                    batch.next_page += 1;
                }
            }
        }
        batches::finished(pool, self.walk_key).await?;
        tracing::info!(
            path = self.path,
            pages = totals.pages,
            calls = client.calls() - calls_before,
            records = batch.listed.len(),
            "DrChrono batch walked"
        );
        Ok(Walked { listed: batch.listed, started: batch.walk_started, high_water })
    }

    async fn start(
        &self,
        ctx: &JobContext,
        client: &DrChronoClient<'_>,
        walk_started: DateTime<Utc>,
    ) -> Result<batches::Batch, JobError> {
        let uuid = client.start_batch(self.path, self.query).await?;
        Ok(batches::started(&ctx.pool, self.walk_key, self.path, &uuid, walk_started).await?)
    }
}

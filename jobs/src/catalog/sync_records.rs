//! `sync_records`: walks one DrChrono list and upserts it page by page.
//!
//! Each page is one call and one upsert statement, so a walk costs
//! ⌈records / page size⌉ calls. With a cursor, the walk asks only for
//! records updated since the cursor, and the cursor moves only when the whole
//! walk completed, so a walk that fails halfway is redone from the same point
//! (re-applying pages is harmless: upserts are idempotent). Every walk leaves
//! a `sync_runs` row with its counts.

use serde::{Deserialize, Serialize};

use crate::{
    JobContext,
    domain::{
        RecordKind,
        sync_state::{self, RunTotals},
    },
    drchrono::Priority,
};
use job_runner::{BackgroundJob, JobError, JobOutcome, current_job_id};

#[doc(alias("sync_records", "SyncPatientsSince", "SyncAppointmentsSince", "SyncClinicalNotesSince"))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRecords {
    pub kind: RecordKind,
    /// Only records updated at or after this (DrChrono's `since`); overrides the cursor.
    pub since: Option<String>,
    /// Only one patient's records.
    pub patient: Option<i64>,
    /// The `sync_cursors` row to resume from and advance on completion.
    #[serde(default)]
    pub cursor: Option<String>,
    /// The schedule that enqueued this walk, for `sync_runs`.
    #[serde(default)]
    pub schedule: Option<String>,
}

/// `/api/appointments` refuses to list without a filter; `since` the epoch
/// is the cheapest "everything" (one call per page of 250, no date chunks).
const ALL_TIME: &str = "1970-01-01";

impl SyncRecords {
    /// Every record of `kind`.
    pub fn all(kind: RecordKind) -> Self {
        Self { kind, since: None, patient: None, cursor: None, schedule: None }
    }

    fn query(&self, since: Option<String>) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        match (since, self.kind) {
            (Some(since), _) => q.push(("since", since)),
            (None, RecordKind::Appointment) => q.push(("since", ALL_TIME.to_string())),
            (None, _) => {}
        }
        if let Some(p) = self.patient {
            q.push(("patient", p.to_string()));
        }
        q
    }

    /// Walks the list; on failure still returns what was done so far.
    async fn walk(
        &self,
        ctx: &JobContext,
        since: Option<String>,
        run: i64,
        totals: &mut RunTotals,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, JobError> {
        let client = ctx.drchrono_for(Priority::Reconcile);
        let actor = format!("job:{}:{}", Self::NAME, self.kind.name());
        let tz = ctx.settings.practice_timezone.name();
        let mut pages = client.pages(&self.kind.api_path(), &self.query(since), None)?;
        let mut high_water = None;
        let result = async {
            while let Some(page) = pages.next_page().await? {
                totals
                    .counts
                    .add(super::apply_records(&ctx.pool, self.kind, &page, &actor, &ctx.settings.locale()).await?);
                let page_high = sync_state::page_high_water(&ctx.pool, &page, tz).await?;
                high_water = high_water.max(page_high);
                let stats = pages.stats();
                (totals.calls, totals.pages) = (stats.calls, stats.pages);
                sync_state::progress(&ctx.pool, run, *totals).await?;
            }
            Ok::<_, JobError>(())
        }
        .await;
        let stats = pages.finish();
        (totals.calls, totals.pages) = (stats.calls, stats.pages);
        result.map(|()| high_water)
    }
}

impl BackgroundJob for SyncRecords {
    const NAME: &'static str = "sync_records";
    const MAX_ATTEMPTS: i32 = 8;
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1800);
    const CONCURRENCY: usize = 2;
    type Context = JobContext;

    fn dedup_key(&self) -> Option<String> {
        let patient = self.patient.map(|p| p.to_string()).unwrap_or_default();
        let from = self.since.as_deref().or(self.cursor.as_deref()).unwrap_or("all");
        Some(format!("{}:{from}:{patient}", self.kind.name()))
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        let resume = match &self.cursor {
            Some(name) => sync_state::cursor(&ctx.pool, name).await?,
            None => None,
        };
        let tz = ctx.settings.practice_timezone;
        let since = self
            .since
            .clone()
            .or_else(|| resume.map(|t| t.with_timezone(&tz).naive_local().format("%Y-%m-%dT%H:%M:%S").to_string()));
        let job_id = current_job_id();
        let run =
            sync_state::start_run(&ctx.pool, self.kind, job_id.as_deref(), self.schedule.as_deref(), resume).await?;
        let mut totals = RunTotals::default();
        match self.walk(&ctx, since, run, &mut totals).await {
            Ok(high_water) => {
                if let (Some(name), Some(hw)) = (&self.cursor, high_water) {
                    let by = format!("job:{}", job_id.as_deref().unwrap_or(Self::NAME));
                    sync_state::advance(&ctx.pool, name, hw, &by).await?;
                }
                sync_state::finish_run(&ctx.pool, run, "completed", totals, None).await?;
                tracing::info!(
                    kind = self.kind.name(),
                    pages = totals.pages,
                    calls = totals.calls,
                    seen = totals.counts.seen,
                    changed = totals.counts.changed(),
                    "list walked"
                );
                Ok(JobOutcome::applied(totals.counts.changed()))
            }
            Err(e) => {
                let outcome = if matches!(e, JobError::WaitUntil(..)) { "deferred" } else { "failed" };
                let message = e.to_string();
                sync_state::finish_run(&ctx.pool, run, outcome, totals, Some(&message)).await?;
                Err(e)
            }
        }
    }
}

//! `sync_records`: walks one DrChrono list and upserts it page by page.
//!
//! Each page is one call and one upsert statement, so a walk costs
//! ⌈records / page size⌉ calls. With a cursor, the walk asks only for
//! records updated since the cursor, and the cursor moves only when the whole
//! walk completed, so a walk that fails halfway is redone from the same point
//! (re-applying pages is harmless: upserts are idempotent). Every walk leaves
//! a `sync_runs` row with its counts and scope. A complete walk (no `since`)
//! also marks what it no longer lists as removed: DrChrono deletes chart
//! entries outright, and silence is the only sign.

use serde::{Deserialize, Serialize};

use crate::{
    JobContext,
    domain::{
        RecordKind, id_of,
        removals::{self, Coverage},
        sync_state::{self, Run, RunOf, RunTotals, Scope},
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
    /// Walk everything whatever the cursor says (the cursor still advances),
    /// and mark what is no longer listed as removed.
    #[serde(default)]
    pub full: bool,
}

/// `/api/appointments` refuses to list without a filter; `since` the epoch
/// is the cheapest "everything" (one call per page of 250, no date chunks).
const ALL_TIME: &str = "1970-01-01";

impl SyncRecords {
    /// Every record of `kind`.
    pub fn all(kind: RecordKind) -> Self {
        Self { kind, since: None, patient: None, cursor: None, schedule: None, full: false }
    }

    /// One patient's records of `kind` (medications, problems, allergies).
    pub fn of_patient(kind: RecordKind, patient: i64, schedule: Option<String>) -> Self {
        Self { patient: Some(patient), schedule, ..Self::all(kind) }
    }

    /// The list's query. Appointments always ask for `show_archived=true`:
    /// DrChrono leaves deleted appointments out otherwise, and a deletion
    /// that no webhook told us about would never be seen.
    fn query(&self, since: Option<String>) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        match (since, self.kind) {
            (Some(since), _) => q.push(("since", since)),
            (None, RecordKind::Appointment) => q.push(("since", ALL_TIME.to_string())),
            (None, _) => {}
        }
        if self.kind == RecordKind::Appointment {
            q.push(("show_archived", "true".to_string()));
        }
        if let Some(p) = self.patient {
            q.push(("patient", p.to_string()));
        }
        q
    }

    fn scope(&self, since: Option<&str>) -> Scope {
        match (since, self.patient) {
            (Some(_), _) => Scope::Incremental,
            (None, Some(_)) => Scope::Patient,
            (None, None) => Scope::Full,
        }
    }

    /// Walks the list; on failure still returns what was done so far. A
    /// complete walk that was not incremental then marks what it did not
    /// list as removed.
    async fn walk(
        &self,
        ctx: &JobContext,
        since: Option<String>,
        run: Run,
        totals: &mut RunTotals,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, JobError> {
        let client = ctx.drchrono_for(Priority::Reconcile);
        let actor = format!("job:{}:{}", Self::NAME, self.kind.name());
        let tz = ctx.settings.practice_timezone.name();
        let complete = since.is_none();
        let mut pages = client.pages(&self.kind.api_path(), &self.query(since), None)?;
        let mut high_water = None;
        let mut listed: Vec<i64> = Vec::new();
        let result = async {
            while let Some(page) = pages.next_page().await? {
                totals
                    .counts
                    .add(super::apply_records(&ctx.pool, self.kind, &page, &actor, &ctx.settings.locale()).await?);
                if complete {
                    listed.extend(page.iter().filter_map(|o| id_of(o.get("id"))));
                }
                let page_high = sync_state::page_high_water(&ctx.pool, &page, tz).await?;
                high_water = high_water.max(page_high);
                let stats = pages.stats();
                (totals.calls, totals.pages) = (stats.calls, stats.pages);
                sync_state::progress(&ctx.pool, run.id, *totals).await?;
            }
            Ok::<_, JobError>(())
        }
        .await;
        let stats = pages.finish();
        (totals.calls, totals.pages) = (stats.calls, stats.pages);
        result?;
        if complete {
            let coverage = self.patient.map_or(Coverage::Practice, Coverage::Patient);
            let actor = format!("{actor}:not_listed");
            totals.removed =
                removals::mark_removed(&ctx.pool, self.kind, coverage, &listed, run.started_at, &actor).await?;
        }
        // Objects without a timestamp (the spec's ClinicalNote has none) still
        // move the cursor: to the walk's own start, so it is never full twice.
        Ok(high_water.or(Some(run.started_at)))
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
        let from = if self.full { "all" } else { self.since.as_deref().or(self.cursor.as_deref()).unwrap_or("all") };
        Some(format!("{}:{from}:{patient}", self.kind.name()))
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        let resume = match &self.cursor {
            Some(name) => sync_state::cursor(&ctx.pool, name).await?,
            None => None,
        };
        let tz = ctx.settings.practice_timezone;
        let since = if self.full {
            None
        } else {
            self.since
                .clone()
                .or_else(|| resume.map(|t| t.with_timezone(&tz).naive_local().format("%Y-%m-%dT%H:%M:%S").to_string()))
        };
        let job_id = current_job_id();
        let of = RunOf {
            kind: self.kind.name(),
            scope: self.scope(since.as_deref()),
            job_id: job_id.as_deref(),
            schedule: self.schedule.as_deref(),
            since: resume,
        };
        let run = sync_state::start_run(&ctx.pool, of).await?;
        let mut totals = RunTotals::default();
        match self.walk(&ctx, since, run, &mut totals).await {
            Ok(high_water) => {
                if let (Some(name), Some(hw)) = (&self.cursor, high_water) {
                    let by = format!("job:{}", job_id.as_deref().unwrap_or(Self::NAME));
                    sync_state::advance(&ctx.pool, name, hw, &by).await?;
                }
                sync_state::finish_run(&ctx.pool, run.id, "completed", totals, None).await?;
                tracing::info!(
                    kind = self.kind.name(),
                    pages = totals.pages,
                    calls = totals.calls,
                    seen = totals.counts.seen,
                    changed = totals.counts.changed(),
                    removed = totals.removed,
                    unkeyed = totals.counts.unkeyed,
                    "list walked"
                );
                Ok(JobOutcome::applied(totals.counts.changed()))
            }
            Err(e) => {
                let outcome = if matches!(e, JobError::WaitUntil(..)) { "deferred" } else { "failed" };
                let message = e.to_string();
                sync_state::finish_run(&ctx.pool, run.id, outcome, totals, Some(&message)).await?;
                Err(e)
            }
        }
    }
}

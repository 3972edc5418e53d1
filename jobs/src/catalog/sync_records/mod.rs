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

mod batch;
mod describe;

use serde::{Deserialize, Serialize};

use crate::{
    JobContext,
    domain::{
        RecordKind, id_of,
        removals::{self, Coverage},
        sync_state::{self, Run, RunOf, RunTotals, Scope},
    },
    drchrono::{Priority, VERBOSE_MAX_PAGE_SIZE, batches::BATCH_PAGE_SIZE, max_page_size},
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
    /// Ask for the fields DrChrono sends only with `verbose=true` (an
    /// allergy's description); verbose lists come in smaller pages.
    #[serde(default)]
    pub verbose: bool,
}

/// `/api/appointments` refuses to list without a filter; `since` the epoch
/// is the cheapest "everything" (one call per page of 250, no date chunks).
const ALL_TIME: &str = "1970-01-01";

impl SyncRecords {
    /// Every record of `kind`.
    pub fn all(kind: RecordKind) -> Self {
        Self { kind, since: None, patient: None, cursor: None, schedule: None, full: false, verbose: false }
    }

    /// One patient's records of `kind` (medications, problems, allergies).
    pub fn of_patient(kind: RecordKind, patient: i64, schedule: Option<String>) -> Self {
        Self { patient: Some(patient), schedule, ..Self::all(kind) }
    }

    /// The list's query. Appointments always ask for `show_archived=true`:
    /// DrChrono leaves deleted appointments out otherwise, and a deletion
    /// that no webhook told us about would never be seen.
    fn query(&self, since: Option<String>, source: Source) -> Vec<(&'static str, String)> {
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
        if self.verbose || source.is_batch() {
            q.push(("verbose", "true".to_string()));
        }
        q
    }

    /// Where the walk reads. Appointments come from `/api/appointments_list`
    /// (1,000 a page where `/api/appointments` gives 250). A whole walk of
    /// patients or notes reads a bulk batch: two calls more (the POST and a
    /// poll) for pages of 1,000, which pays from about 700 records; an
    /// incremental walk, usually a handful, stays on the plain list, where
    /// nothing changed costs one call. Patient batches are verbose: that is
    /// how insurance arrives at no extra cost.
    fn source(&self, incremental: bool) -> Source {
        match self.kind {
            RecordKind::Appointment => Source::List("/api/appointments_list"),
            RecordKind::Patient if !incremental && self.patient.is_none() => Source::Batch("/api/patients_list"),
            RecordKind::ClinicalNote if !incremental && self.patient.is_none() => {
                Source::Batch("/api/clinical_notes_list")
            }
            _ => Source::List(self.kind.api_path()),
        }
    }

    /// The page size a whole walk of `kind` reads, and the calls it makes
    /// besides its pages (a batch's POST and one poll): what a whole walk
    /// costs, for estimates and benchmarks.
    pub fn whole_walk_pages(kind: RecordKind, verbose: bool) -> (usize, u64) {
        let walk = Self { verbose, ..Self::all(kind) };
        match walk.source(false) {
            Source::Batch(_) => (BATCH_PAGE_SIZE, 2),
            Source::List(_) if verbose && kind != RecordKind::Appointment => (VERBOSE_MAX_PAGE_SIZE, 0),
            Source::List(path) => (max_page_size(path).unwrap_or(VERBOSE_MAX_PAGE_SIZE), 0),
        }
    }

    /// Where a batch walk keeps its place: the job's id, or the dedup key
    /// for a walk run outside the runner.
    fn walk_key(&self) -> String {
        current_job_id().unwrap_or_else(|| format!("{}:{}", Self::NAME, self.dedup_key().unwrap_or_default()))
    }

    fn scope(&self, since: Option<&str>) -> Scope {
        match (since, self.patient) {
            (Some(_), _) => Scope::Incremental,
            (None, Some(_)) => Scope::Patient,
            (None, None) => Scope::Full,
        }
    }

    /// Walks the list or batch; on failure still returns what was done so
    /// far. A complete walk that was not incremental then marks what it did
    /// not list as removed.
    async fn walk(
        &self,
        ctx: &JobContext,
        since: Option<String>,
        run: Run,
        totals: &mut RunTotals,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, JobError> {
        let client = ctx.drchrono_for(Priority::Reconcile);
        let actor = format!("job:{}:{}", Self::NAME, self.kind.name());
        let complete = since.is_none();
        let source = self.source(!complete);
        let query = self.query(since, source);
        let walked = match source {
            Source::List(path) => self.walk_list(ctx, &client, path, &query, run, totals, &actor).await?,
            Source::Batch(path) => {
                let walk_key = self.walk_key();
                let walk =
                    batch::BatchWalk { kind: self.kind, path, query: &query, walk_key: &walk_key, actor: &actor };
                walk.run(ctx, &client, run, totals).await?
            }
        };
        if complete {
            let coverage = self.patient.map_or(Coverage::Practice, Coverage::Patient);
            let actor = format!("{actor}:not_listed");
            totals.removed =
                removals::mark_removed(&ctx.pool, self.kind, coverage, &walked.listed, walked.started, &actor).await?;
        }
        // Objects without a timestamp (the spec's ClinicalNote has none) still
        // move the cursor: to the walk's own start, so it is never full twice.
        Ok(walked.high_water.or(Some(walked.started)))
    }

    /// After a whole plain walk of allergies, the walks that fetch the
    /// descriptions it could not bring (see `describe`).
    async fn describe_allergies(&self, ctx: &JobContext) -> Result<(), JobError> {
        if self.kind != RecordKind::Allergy || self.verbose || self.patient.is_some() {
            return Ok(());
        }
        let walks = describe::describe_walks(&ctx.pool, self.schedule.as_deref()).await?;
        if !walks.is_empty() {
            tracing::info!(walks = walks.len(), "fetching missing allergy descriptions");
            job_runner::enqueue_many(&ctx.pool, &walks).await?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn walk_list(
        &self,
        ctx: &JobContext,
        client: &crate::drchrono::DrChronoClient<'_>,
        path: &str,
        query: &[(&'static str, String)],
        run: Run,
        totals: &mut RunTotals,
        actor: &str,
    ) -> Result<Walked, JobError> {
        let tz = ctx.settings.practice_timezone.name();
        let mut pages = client.pages(path, query, None)?;
        let mut walked = Walked { listed: Vec::new(), started: run.started_at, high_water: None };
        let result = async {
            while let Some(page) = pages.next_page().await? {
                totals
                    .counts
                    .add(super::apply_records(&ctx.pool, self.kind, &page, actor, &ctx.settings.locale()).await?);
                walked.listed.extend(page.iter().filter_map(|o| id_of(o.get("id"))));
                walked.high_water = walked.high_water.max(sync_state::page_high_water(&ctx.pool, &page, tz).await?);
                let stats = pages.stats();
                (totals.calls, totals.pages) = (stats.calls, stats.pages);
                sync_state::progress(&ctx.pool, run.id, *totals).await?;
            }
            Ok::<_, JobError>(())
        }
        .await;
        let stats = pages.finish();
        (totals.calls, totals.pages) = (stats.calls, stats.pages);
        result.map(|()| walked)
    }
}

/// Where a walk reads: a paginated list, or a bulk batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    List(&'static str),
    Batch(&'static str),
}

impl Source {
    fn is_batch(self) -> bool {
        matches!(self, Source::Batch(_))
    }
}

/// What a walk listed, when it started (for a batch walk, its first run),
/// and the newest `updated_at` it saw.
struct Walked {
    listed: Vec<i64>,
    started: chrono::DateTime<chrono::Utc>,
    high_water: Option<chrono::DateTime<chrono::Utc>>,
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
        // A verbose walk is another walk: the plain one that asks for it
        // is still running when it does.
        let verbose = if self.verbose { ":verbose" } else { "" };
        Some(format!("{}:{from}:{patient}{verbose}", self.kind.name()))
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        let resume = match &self.cursor {
            Some(name) => sync_state::cursor(&ctx.pool, name).await?,
            None => None,
        };
        let tz = ctx.settings.practice_timezone;
        // A list without `since` would ignore it and list everything; such a
        // walk is whole, and marks what it no longer lists.
        let since = if self.full || !self.kind.takes_since() {
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
                self.describe_allergies(&ctx).await?;
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

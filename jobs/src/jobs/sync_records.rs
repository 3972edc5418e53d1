//! `sync_records`: walks one DrChrono list and upserts it page by page.
//!
//! Each page is one call and one upsert statement, so a walk costs
//! ⌈records / page size⌉ calls. A page that fails is re-requested by the
//! client; the job itself retries from the start only if the walk fails,
//! and re-applying pages is harmless (upserts are idempotent).

use serde::{Deserialize, Serialize};

use crate::{
    JobContext,
    domain::{RecordKind, UpsertCounts, upsert_batch},
    drchrono::{DrChronoClient, Priority},
    runner::{BackgroundJob, JobError, JobOutcome},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRecords {
    pub kind: RecordKind,
    /// Only records updated at or after this (DrChrono's `since`); all when `None`.
    pub since: Option<String>,
    /// Only one patient's records.
    pub patient: Option<i64>,
}

/// `/api/appointments` refuses to list without a filter; `since` the epoch
/// is the cheapest "everything" (one call per page of 20, no date chunks).
const ALL_TIME: &str = "1970-01-01";

impl SyncRecords {
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        match (&self.since, self.kind) {
            (Some(since), _) => q.push(("since", since.clone())),
            (None, RecordKind::Appointment) => q.push(("since", ALL_TIME.to_string())),
            (None, _) => {}
        }
        if let Some(p) = self.patient {
            q.push(("patient", p.to_string()));
        }
        q
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
        Some(format!("{}:{}:{patient}", self.kind.name(), self.since.as_deref().unwrap_or("all")))
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        let client = DrChronoClient::with_priority(&ctx, Priority::Reconcile);
        let actor = format!("job:{}:{}", Self::NAME, self.kind.name());
        let tz = ctx.settings.practice_timezone.name();
        // Shared by the page futures the walk creates one after another.
        let totals = std::sync::Mutex::new(UpsertCounts::default());
        let stats = client
            .walk(&self.kind.api_path(), &self.query(), None, |page| {
                let (pool, actor, totals) = (&ctx.pool, &actor, &totals);
                async move {
                    let page_counts = upsert_batch(pool, self.kind, &page, actor, tz).await?;
                    totals.lock().unwrap_or_else(|p| p.into_inner()).add(page_counts);
                    Ok(())
                }
            })
            .await?;
        let counts = totals.into_inner().unwrap_or_else(|p| p.into_inner());
        tracing::info!(
            kind = self.kind.name(),
            pages = stats.pages,
            calls = stats.calls,
            seen = counts.seen,
            changed = counts.changed(),
            "list walked"
        );
        Ok(JobOutcome::applied(counts.changed()))
    }
}

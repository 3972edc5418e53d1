//! `sync_patient_lists`: brings medications, problems and allergies level
//! with DrChrono, by whichever walk costs fewer calls.
//!
//! DrChrono lists chart entries practice-wide (`patient` is only a filter),
//! at 250 a page: ⌈entries / 250⌉ calls per list, about 170 for a
//! 10,000-patient practice's 45,000 entries. Per-patient walks cost at least
//! three calls per patient, so they win only for a handful of changed
//! patients. Each pass counts both and takes the cheaper; the nightly pass
//! (`practice_wide`) always walks practice-wide, so an entry changed without
//! a webhook, and without its patient changing, converges by morning, and
//! an entry deleted at DrChrono is marked removed. The choice is recorded as
//! a `chart_lists` row in `sync_runs` (`scope` `per_patient` or
//! `practice_wide`). The job only enqueues `sync_records` walks; the cursor
//! (over `patients.synced_at`) moves when they are enqueued.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::{
    JobContext,
    catalog::SyncRecords,
    domain::{
        RecordKind,
        sync_state::{self, RunOf, RunTotals, Scope},
    },
    drchrono::max_page_size,
};
use job_runner::{BackgroundJob, JobError, JobOutcome, current_job_id, enqueue_many};

const CURSOR: &str = "patient_lists";
const CHART_KINDS: [RecordKind; 3] = [RecordKind::Medication, RecordKind::Problem, RecordKind::Allergy];

#[doc(alias("sync_patient_lists", "sync_charts"))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncPatientLists {
    #[serde(default)]
    pub schedule: Option<String>,
    /// Walk each list practice-wide whatever the counts say: the nightly pass.
    #[serde(default)]
    pub practice_wide: bool,
}

/// The two ways to a level chart, in calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartCosts {
    /// Three walks of at least one page per changed patient.
    pub per_patient: u64,
    /// One walk per list: ⌈stored entries / page size⌉, at least one page each.
    pub practice_wide: u64,
}

impl ChartCosts {
    /// Per-patient walks only when strictly cheaper: a tie goes to the walk
    /// that also finds deletions and unannounced changes.
    pub fn scope(self) -> Scope {
        if self.per_patient < self.practice_wide { Scope::PerPatient } else { Scope::PracticeWide }
    }
}

/// When the last practice-wide walks of all three lists began (the oldest
/// of the three): a patient synced before then has nothing left to walk.
async fn last_practice_wide_walk(db: &mut PgConnection) -> Result<Option<chrono::DateTime<chrono::Utc>>, sqlx::Error> {
    let kinds: Vec<&str> = CHART_KINDS.iter().map(|k| k.name()).collect();
    sqlx::query_scalar(
        "SELECT min(last) FROM (SELECT max(started_at) AS last FROM sync_runs \
           WHERE kind = ANY($1) AND scope = 'full' AND outcome = 'completed' \
           GROUP BY kind) w HAVING count(*) = cardinality($1)",
    )
    .bind(&kinds)
    .fetch_optional(db)
    .await
    .map(Option::flatten)
}

/// Counts what each way would cost from the stored tables.
async fn costs(db: &mut PgConnection, changed_patients: usize) -> Result<ChartCosts, sqlx::Error> {
    let mut practice_wide = 0;
    for kind in CHART_KINDS {
        let sql = format!("SELECT count(*) FROM {} WHERE removed_at IS NULL", kind.table());
        let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *db).await?;
        let page = max_page_size(kind.api_path()).unwrap_or(1) as u64;
        practice_wide += (rows.max(0) as u64).div_ceil(page).max(1);
    }
    Ok(ChartCosts { per_patient: 3 * changed_patients as u64, practice_wide })
}

impl BackgroundJob for SyncPatientLists {
    const NAME: &'static str = "sync_patient_lists";
    const MAX_ATTEMPTS: i32 = 5;
    type Context = JobContext;

    fn dedup_key(&self) -> Option<String> {
        Some(if self.practice_wide { "practice_wide".into() } else { "changed".into() })
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        let mut tx = ctx.pool.begin().await?;
        let since = sync_state::cursor(&mut *tx, CURSOR).await?.max(last_practice_wide_walk(&mut tx).await?);
        let changed: Vec<(i64, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
            "SELECT id, synced_at FROM patients WHERE $1::timestamptz IS NULL OR synced_at > $1 ORDER BY synced_at",
        )
        .bind(since)
        .fetch_all(&mut *tx)
        .await?;
        let costs = costs(&mut tx, changed.len()).await?;
        let scope = if self.practice_wide { Scope::PracticeWide } else { costs.scope() };
        let walks: Vec<SyncRecords> = match scope {
            Scope::PerPatient => changed
                .iter()
                .flat_map(|(id, _)| CHART_KINDS.map(|kind| SyncRecords::of_patient(kind, *id, self.schedule.clone())))
                .collect(),
            _ => {
                CHART_KINDS.map(|kind| SyncRecords { schedule: self.schedule.clone(), ..SyncRecords::all(kind) }).into()
            }
        };
        let enqueued = enqueue_many(&mut *tx, &walks).await?;
        if let Some((_, newest)) = changed.last() {
            // `synced_at` is our own clock, so no overlap: the cursor is the newest seen.
            sync_state::advance(&mut *tx, CURSOR, *newest + sync_state::OVERLAP, "job:sync_patient_lists").await?;
        }
        tx.commit().await?;
        record_plan(&ctx, &self, scope, changed.len()).await?;
        tracing::info!(
            patients = changed.len(),
            scope = scope.name(),
            per_patient_calls = costs.per_patient,
            practice_wide_calls = costs.practice_wide,
            walks = enqueued.len(),
            "chart list walks enqueued"
        );
        Ok(JobOutcome::applied(enqueued.len() as u64))
    }
}

/// The plan's own `sync_runs` row: which way was taken, for how many
/// changed patients (`seen`). The walks it enqueued leave their own rows.
async fn record_plan(ctx: &JobContext, job: &SyncPatientLists, scope: Scope, patients: usize) -> Result<(), JobError> {
    let job_id = current_job_id();
    let of =
        RunOf { kind: "chart_lists", scope, job_id: job_id.as_deref(), schedule: job.schedule.as_deref(), since: None };
    let run = sync_state::start_run(&ctx.pool, of).await?;
    let mut totals = RunTotals::default();
    totals.counts.seen = patients as u64;
    sync_state::finish_run(&ctx.pool, run.id, "completed", totals, None).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_patient_walks_only_when_strictly_cheaper() {
        assert_eq!(ChartCosts { per_patient: 6, practice_wide: 180 }.scope(), Scope::PerPatient);
        assert_eq!(ChartCosts { per_patient: 180, practice_wide: 180 }.scope(), Scope::PracticeWide);
        assert_eq!(ChartCosts { per_patient: 30_000, practice_wide: 3 }.scope(), Scope::PracticeWide);
    }
}

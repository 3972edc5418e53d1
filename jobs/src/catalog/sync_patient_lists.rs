//! `sync_patient_lists`: refreshes medications, problems and allergies of
//! the patients that changed since the last run.
//!
//! DrChrono lists these per patient, so a full pass over a practice costs
//! three calls per patient; limiting it to changed patients keeps the hourly
//! budget for the rest. It only enqueues `sync_records` walks; the cursor
//! (over `patients.synced_at`) moves when they are enqueued.

use serde::{Deserialize, Serialize};

use crate::{
    JobContext,
    catalog::SyncRecords,
    domain::{RecordKind, sync_state},
};
use job_runner::{BackgroundJob, JobError, JobOutcome, enqueue_many};

const CURSOR: &str = "patient_lists";

#[doc(alias("sync_patient_lists"))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncPatientLists {
    #[serde(default)]
    pub schedule: Option<String>,
}

impl BackgroundJob for SyncPatientLists {
    const NAME: &'static str = "sync_patient_lists";
    const MAX_ATTEMPTS: i32 = 5;
    type Context = JobContext;

    fn dedup_key(&self) -> Option<String> {
        Some(Self::NAME.into())
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        let mut tx = ctx.pool.begin().await?;
        let since = sync_state::cursor(&mut *tx, CURSOR).await?;
        let changed: Vec<(i64, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
            "SELECT id, synced_at FROM patients WHERE $1::timestamptz IS NULL OR synced_at > $1 ORDER BY synced_at",
        )
        .bind(since)
        .fetch_all(&mut *tx)
        .await?;
        let walks: Vec<SyncRecords> = changed
            .iter()
            .flat_map(|(id, _)| {
                [RecordKind::Medication, RecordKind::Problem, RecordKind::Allergy].map(|kind| SyncRecords {
                    patient: Some(*id),
                    schedule: self.schedule.clone(),
                    ..SyncRecords::all(kind)
                })
            })
            .collect();
        let enqueued = enqueue_many(&mut *tx, &walks).await?;
        if let Some((_, newest)) = changed.last() {
            // `synced_at` is our own clock, so no overlap: the cursor is the newest seen.
            sync_state::advance(&mut *tx, CURSOR, *newest + sync_state::OVERLAP, "job:sync_patient_lists").await?;
        }
        tx.commit().await?;
        tracing::info!(patients = changed.len(), walks = enqueued.len(), "per-patient lists enqueued");
        Ok(JobOutcome::applied(enqueued.len() as u64))
    }
}

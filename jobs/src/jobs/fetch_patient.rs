//! `fetch_patient`: reads a patient from the DrChrono API and upserts it.
//! Enqueued for deliveries that name a patient without carrying it.

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::{
    JobContext,
    domain::{Upserted, patients::PatientRecord},
    drchrono::DrChronoClient,
    runner::{BackgroundJob, JobError, JobOutcome},
};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FetchPatient {
    pub patient_id: i64,
}

impl BackgroundJob for FetchPatient {
    const NAME: &'static str = "fetch_patient";
    const MAX_ATTEMPTS: i32 = 10;
    type Context = JobContext;

    fn dedup_key(&self) -> Option<String> {
        Some(format!("patient:{}", self.patient_id))
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        let path = format!("/api/patients/{}", self.patient_id);
        let Some(object) = DrChronoClient::new(&ctx).get_object(&path).await? else {
            return Ok(JobOutcome::skipped("patient not found at DrChrono"));
        };
        let record = PatientRecord::from_api(&object, ctx.settings.practice_timezone)
            .context("DrChrono returned an object that is not a patient")
            .map_err(JobError::retryable)?;
        let actor = format!("job:{}", Self::NAME);
        Ok(match record.upsert(&ctx.pool, &actor).await? {
            Upserted::Unchanged => JobOutcome::skipped("stored patient is newer or identical"),
            _ => JobOutcome::applied(1),
        })
    }
}

//! `upsert_patient`: applies the patient object a DrChrono delivery carried,
//! with no call to DrChrono. The payload names the inbox row, not the PHI.

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::{
    JobContext,
    domain::{Upserted, patients::PatientRecord},
    runner::{BackgroundJob, JobError, JobOutcome},
};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpsertPatient {
    /// `webhook_deliveries.id` holding the object.
    pub delivery: i64,
    pub patient_id: i64,
    /// The object's `updated_at` as sent, part of the dedup key so a
    /// redelivery of the same version is not applied twice while pending.
    pub updated_at: Option<String>,
}

impl BackgroundJob for UpsertPatient {
    const NAME: &'static str = "upsert_patient";
    const MAX_ATTEMPTS: i32 = 10;
    type Context = JobContext;

    fn dedup_key(&self) -> Option<String> {
        Some(format!("patient:{}:{}", self.patient_id, self.updated_at.as_deref().unwrap_or("-")))
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        let body: Option<Vec<u8>> = sqlx::query_scalar("SELECT body FROM webhook_deliveries WHERE id = $1")
            .bind(self.delivery)
            .fetch_optional(&ctx.pool)
            .await?;
        let Some(body) = body else {
            return Ok(JobOutcome::skipped("delivery pruned"));
        };
        let delivery: serde_json::Value = serde_json::from_slice(&body)
            .context("stored delivery body is not JSON")
            .map_err(JobError::permanent)?;
        let object = delivery.get("object").context("delivery has no object").map_err(JobError::permanent)?;
        let record = PatientRecord::from_api(object, ctx.settings.practice_timezone)
            .context("delivery object is not a patient")
            .map_err(JobError::permanent)?;
        let actor = format!("job:{}:delivery:{}", Self::NAME, self.delivery);
        Ok(match record.upsert(&ctx.pool, &actor).await? {
            Upserted::Unchanged => JobOutcome::skipped("stored patient is newer or identical"),
            _ => JobOutcome::applied(1),
        })
    }
}

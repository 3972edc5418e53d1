//! `fetch_record`: reads one record from the DrChrono API and upserts it.
//! Enqueued for deliveries that name a record without carrying it.

use serde::{Deserialize, Serialize};

use crate::{JobContext, domain::RecordKind};
use job_runner::{BackgroundJob, JobError, JobOutcome};

#[doc(alias("fetch_record", "FetchPatient", "FetchAppointment", "FetchClinicalNote"))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchRecord {
    pub kind: RecordKind,
    pub id: i64,
}

impl BackgroundJob for FetchRecord {
    const NAME: &'static str = "fetch_record";
    const MAX_ATTEMPTS: i32 = 10;
    type Context = JobContext;

    fn dedup_key(&self) -> Option<String> {
        Some(format!("{}:{}", self.kind.name(), self.id))
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        let path = format!("{}/{}", self.kind.api_path(), self.id);
        let Some(object) = ctx.drchrono().get_object(&path).await? else {
            return Ok(JobOutcome::skipped("record not found at DrChrono"));
        };
        let actor = format!("job:{}", Self::NAME);
        let counts = super::apply_records(&ctx.pool, self.kind, &[object], &actor, &ctx.settings.locale()).await?;
        Ok(if counts.changed() > 0 {
            JobOutcome::applied(counts.changed())
        } else {
            JobOutcome::skipped("stored record is newer or identical")
        })
    }
}

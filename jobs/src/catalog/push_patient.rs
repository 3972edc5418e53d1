//! `push_patient`: sends a stored patient write request to DrChrono
//! (POST, or PATCH for an update) and upserts the result; see
//! [`crate::writeback`] for how retries behave.

use serde::{Deserialize, Serialize};

use crate::{JobContext, domain::RecordKind};
use job_runner::{BackgroundJob, JobError, JobOutcome};

#[doc(alias("push_patient"))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushPatient {
    /// `write_requests.id`.
    pub request: i64,
}

impl BackgroundJob for PushPatient {
    const NAME: &'static str = "push_patient";
    const MAX_ATTEMPTS: i32 = 10;
    const PRIORITY: i32 = 10;
    type Context = JobContext;

    fn dedup_key(&self) -> Option<String> {
        Some(self.request.to_string())
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        super::apply_records::push_write_request(&ctx, RecordKind::Patient, self.request).await
    }
}

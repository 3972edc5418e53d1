//! `push_appointment`: sends a stored appointment write request to DrChrono
//! (POST, or PATCH for an update) and upserts the result; see
//! [`crate::writeback`] for how a retry avoids a second appointment.

use serde::{Deserialize, Serialize};

use crate::{JobContext, domain::RecordKind};
use job_runner::{BackgroundJob, JobError, JobOutcome};

#[doc(alias("push_appointment"))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushAppointment {
    /// `write_requests.id`.
    pub request: i64,
}

impl BackgroundJob for PushAppointment {
    const NAME: &'static str = "push_appointment";
    const MAX_ATTEMPTS: i32 = 10;
    const PRIORITY: i32 = 10;
    type Context = JobContext;

    fn dedup_key(&self) -> Option<String> {
        Some(self.request.to_string())
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        super::apply_records::push_write_request(&ctx, RecordKind::Appointment, self.request).await
    }
}

//! `link_note`: links a Deep Cura note to its DrChrono clinical note (see
//! `deepcura::link` for the rules). Enqueued after each Gridhook, and again
//! by [`super::apply_records`] when an appointment or clinical note arrives
//! that could match an open note.

use serde::{Deserialize, Serialize};

use crate::{JobContext, deepcura::link};
use job_runner::{BackgroundJob, JobError, JobOutcome};

#[doc(alias("link_note"))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkNote {
    /// `deepcura_notes.id`.
    pub note: i64,
}

impl BackgroundJob for LinkNote {
    const NAME: &'static str = "link_note";
    const MAX_ATTEMPTS: i32 = 10;
    type Context = JobContext;

    // No dedup key: a job already running may have read the tables before
    // the record that enqueued this one committed, so this one must still
    // run. Attempts for one note serialize on its row lock instead.

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        let mut tx = ctx.pool.begin().await?;
        let method: Option<Option<String>> =
            sqlx::query_scalar("SELECT link_method FROM deepcura_notes WHERE id = $1 FOR UPDATE")
                .bind(self.note)
                .fetch_optional(&mut *tx)
                .await?;
        match method {
            None => return Ok(JobOutcome::skipped("Deep Cura note no longer stored")),
            Some(Some(m)) if m == "manual" => return Ok(JobOutcome::skipped("linked by an operator")),
            Some(_) => {}
        }
        let decided = link::decide(&mut tx, self.note, ctx.settings.practice_timezone.name()).await?;
        let changed = link::store(&mut tx, self.note, &decided, &format!("job:{}", Self::NAME)).await?;
        tx.commit().await?;
        tracing::info!(deepcura_note = self.note, link = ?decided, changed, "Deep Cura note link decided");
        Ok(if changed { JobOutcome::applied(1) } else { JobOutcome::skipped("link unchanged") })
    }
}

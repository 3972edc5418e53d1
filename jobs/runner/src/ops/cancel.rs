//! Cancelling pending and retrying jobs (`cargo xtask jobs cancel`): the job
//! never runs again, is not dead and fires no alert, and its dedup key is
//! free at once, so the same work can be enqueued again. A job a worker
//! holds is refused: an attempt is never stopped midway.

use super::by_id::{self, ByIdReport, ByIdRequest};
use crate::JobState;

/// Why job `id` of `queue` in `state` cannot be cancelled, or `None` when it can.
fn refusal(id: &str, queue: &str, state: JobState) -> Option<String> {
    Some(match state {
        JobState::Pending | JobState::Retrying => return None,
        JobState::Queued | JobState::Running => format!(
            "job {id} is {state}: a worker holds it and an attempt is never stopped midway; \
             wait for it to end (`cargo xtask jobs show {id}`), then cancel it if it is retrying, \
             or discard it if it died (`cargo xtask jobs pause {queue}` stops its queue taking more)"
        ),
        JobState::Done => format!("job {id} is done: it already ran, so there is nothing to cancel"),
        JobState::Dead => {
            format!(
                "job {id} is dead: it will not run again; `cargo xtask jobs discard {id}` takes it out of the alerts"
            )
        }
        JobState::Cancelled => format!("job {id} is already cancelled"),
        JobState::Discarded => format!("job {id} is discarded: it will not run again, so there is nothing to cancel"),
    })
}

/// Cancels the pending and retrying jobs `req` names (unless a dry run),
/// refusing the others, and records the action.
pub async fn cancel(pool: &sqlx::PgPool, req: &ByIdRequest) -> Result<ByIdReport, sqlx::Error> {
    let (mut tx, report) = by_id::begin(pool, req, refusal).await?;
    if !req.dry_run {
        sqlx::query("UPDATE apalis.jobs SET status = $2, done_at = now() WHERE id = ANY($1)")
            .bind(report.done())
            .bind(JobState::Cancelled.db_status())
            .execute(&mut *tx)
            .await?;
    }
    let filters = serde_json::json!({ "ids": req.ids });
    by_id::finish(tx, req, "cancel", "cancelled", filters, &report).await?;
    Ok(report)
}

//! Discarding dead jobs (`cargo xtask jobs discard`): the job stays in the
//! table with who discarded it, when and why, and leaves every dead count:
//! `dead_jobs`, the dead-jobs metric, `jobs stats` and `retry-failed`'s
//! filters. Only a dead job can be discarded.

use super::by_id::{self, ByIdReport, ByIdRequest};
use crate::JobState;

/// Longest reason kept; `job_discards` checks the same bound.
pub const MAX_REASON_CHARS: usize = 500;

/// Why job `id` in `state` cannot be discarded, or `None` when it can.
fn refusal(id: &str, _queue: &str, state: JobState) -> Option<String> {
    Some(match state {
        JobState::Dead => return None,
        JobState::Pending | JobState::Retrying => format!(
            "job {id} is {state}, not dead: only a dead job can be discarded; \
             to keep it from running, `cargo xtask jobs cancel {id}`"
        ),
        JobState::Queued | JobState::Running => format!(
            "job {id} is {state}, not dead: wait for its attempt to end (`cargo xtask jobs show {id}`), \
             then discard it if it died"
        ),
        JobState::Done => format!("job {id} is done: it succeeded, so there is nothing to discard"),
        JobState::Cancelled => format!("job {id} is cancelled: it will not run and raises no alert"),
        JobState::Discarded => {
            format!("job {id} is already discarded; `cargo xtask jobs show {id}` says by whom and why")
        }
    })
}

/// Discards the dead jobs `req` names (unless a dry run) with `reason`,
/// refusing the others, and records the action. The reason is kept in
/// `job_discards` only, not in the audit row, which holds ids and counts.
pub async fn discard(pool: &sqlx::PgPool, req: &ByIdRequest, reason: Option<&str>) -> Result<ByIdReport, sqlx::Error> {
    let reason = reason.map(|r| r.chars().take(MAX_REASON_CHARS).collect::<String>());
    let (mut tx, report) = by_id::begin(pool, req, refusal).await?;
    if !req.dry_run {
        let ids = report.done();
        sqlx::query("UPDATE apalis.jobs SET status = $2 WHERE id = ANY($1)")
            .bind(&ids)
            .bind(JobState::Discarded.db_status())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO job_discards (job_id, discarded_by, reason) SELECT id, $2, $3 FROM unnest($1::text[]) AS t(id) \
             ON CONFLICT (job_id) DO UPDATE SET discarded_at = now(), discarded_by = $2, reason = $3",
        )
        .bind(&ids)
        .bind(&req.actor)
        .bind(&reason)
        .execute(&mut *tx)
        .await?;
    }
    let filters = serde_json::json!({ "ids": req.ids, "reason_given": reason.is_some() });
    by_id::finish(tx, req, "discard", "discarded", filters, &report).await?;
    Ok(report)
}

//! The `operator_actions` row every operator command leaves, dry runs and
//! refusals included. Rows hold ids, queue names, counts and states, never
//! anything from a job's arguments or a patient's record.

use serde_json::Value;

/// One use of an operator command.
pub(crate) struct ActionRow<'a> {
    pub actor: &'a str,
    /// `retry_failed`, `discard`, `cancel`, `pause_queue`, `resume_queue`.
    pub action: &'static str,
    pub filters: Value,
    pub dry_run: bool,
    /// The jobs it touched, or would have for a dry run.
    pub job_ids: Vec<&'a str>,
    pub outcome: String,
}

pub(crate) async fn record(tx: &mut sqlx::PgConnection, row: ActionRow<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO operator_actions (actor, action, filters, dry_run, job_ids, outcome) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(row.actor)
    .bind(row.action)
    .bind(row.filters)
    .bind(row.dry_run)
    .bind(row.job_ids)
    .bind(row.outcome)
    .execute(tx)
    .await?;
    Ok(())
}

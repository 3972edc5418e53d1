//! Reviving dead jobs (`cargo xtask retry-failed`). A revived job keeps its
//! id and its attempt history and gets a fresh attempt budget; every use,
//! dry runs and refusals included, is recorded in `operator_actions`.
//!
//! A discarded job is out of every filter: an operator judged it not worth
//! running. Named with `--id`, it is revived like a dead one (its discard
//! mark goes; the audit keeps both actions), so a mistaken discard is
//! undone one job at a time, never by a sweep.

use serde::Serialize;
use sqlx::PgPool;

use super::JobFilter;
use super::audit::{self, ActionRow};
use crate::JobState;

/// Dead jobs, and discarded ones named by id (`$2`, the filter's ids).
const REVIVABLE: &str = "(status = 'Killed' OR (status = 'Discarded' AND id = ANY($2)))";

/// More dead jobs than this need a filter or `all`.
pub const UNFILTERED_LIMIT: i64 = 100;

#[derive(Debug, Clone)]
pub struct RetryRequest {
    pub filter: JobFilter,
    pub limit: Option<i64>,
    pub dry_run: bool,
    pub all: bool,
    pub actor: String,
}

/// One dead job that matched.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeadJob {
    pub id: String,
    pub queue: String,
    pub attempts: i32,
    pub error_class: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryOutcome {
    NothingMatched,
    /// No filter, too many matches, and no `all`: nothing done.
    Refused {
        matched: i64,
    },
    DryRun,
    /// `skipped`: another active job holds the same key, so reviving would duplicate work.
    Revived {
        revived: Vec<String>,
        skipped: Vec<String>,
    },
}

#[derive(Debug)]
pub struct RetryReport {
    pub matched: Vec<DeadJob>,
    pub outcome: RetryOutcome,
}

/// Finds the dead jobs `req` names and revives them (unless a dry run or
/// refused), recording the action. `budget` gives each queue's fresh
/// attempt budget (its job's max attempts).
pub async fn retry_failed(
    pool: &PgPool,
    req: &RetryRequest,
    budget: impl Fn(&str) -> i32,
) -> Result<RetryReport, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let count_sql = format!("SELECT count(*) FROM job_overview WHERE {REVIVABLE} AND {}", JobFilter::WHERE);
    let (total,): (i64,) = req.filter.bind(sqlx::query_as(sqlx::AssertSqlSafe(count_sql))).fetch_one(&mut *tx).await?;
    let list_sql = format!(
        "SELECT id, queue, attempts, last_error_class AS error_class FROM job_overview \
         WHERE {REVIVABLE} AND {} ORDER BY last_attempt_at NULLS FIRST, id LIMIT $5",
        JobFilter::WHERE
    );
    let limit = req.limit.unwrap_or(i64::MAX);
    let matched: Vec<DeadJob> =
        req.filter.bind(sqlx::query_as(sqlx::AssertSqlSafe(list_sql))).bind(limit).fetch_all(&mut *tx).await?;
    let outcome = if matched.is_empty() {
        RetryOutcome::NothingMatched
    } else if req.filter.is_empty() && total > UNFILTERED_LIMIT && !req.all && req.limit.is_none() {
        RetryOutcome::Refused { matched: total }
    } else if req.dry_run {
        RetryOutcome::DryRun
    } else {
        revive(&mut tx, &matched, &budget).await?
    };
    record(&mut tx, req, &matched, &outcome).await?;
    tx.commit().await?;
    Ok(RetryReport { matched, outcome })
}

async fn revive(
    tx: &mut sqlx::PgConnection,
    jobs: &[DeadJob],
    budget: &impl Fn(&str) -> i32,
) -> Result<RetryOutcome, sqlx::Error> {
    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    let budgets: Vec<i32> = jobs.iter().map(|j| budget(&j.queue)).collect();
    let revived: Vec<String> = sqlx::query_scalar(
        "UPDATE apalis.jobs j SET status = 'Pending', run_at = now(), max_attempts = j.attempts + b.budget, \
                done_at = NULL, lock_by = NULL, lock_at = NULL \
         FROM unnest($1::text[], $2::int[]) AS b(id, budget) \
         WHERE j.id = b.id AND j.status = ANY($4) \
           AND NOT EXISTS (SELECT 1 FROM apalis.jobs o WHERE o.job_type = j.job_type \
                           AND o.idempotency_key = j.idempotency_key AND o.status = ANY($3)) \
         RETURNING j.id",
    )
    .bind(&ids)
    .bind(&budgets)
    .bind(JobState::db_statuses(&JobState::ACTIVE))
    .bind(JobState::db_statuses(&[JobState::Dead, JobState::Discarded]))
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM job_discards WHERE job_id = ANY($1)").bind(&revived).execute(&mut *tx).await?;
    let skipped = ids.iter().filter(|id| !revived.iter().any(|r| r == *id)).map(|id| id.to_string()).collect();
    Ok(RetryOutcome::Revived { revived, skipped })
}

async fn record(
    tx: &mut sqlx::PgConnection,
    req: &RetryRequest,
    matched: &[DeadJob],
    outcome: &RetryOutcome,
) -> Result<(), sqlx::Error> {
    let (summary, ids): (String, Vec<&str>) = match outcome {
        RetryOutcome::NothingMatched => ("nothing matched".into(), Vec::new()),
        RetryOutcome::Refused { matched } => (format!("refused: {matched} matched without a filter"), Vec::new()),
        RetryOutcome::DryRun => {
            (format!("dry run: {} would be revived", matched.len()), matched.iter().map(|j| j.id.as_str()).collect())
        }
        RetryOutcome::Revived { revived, skipped } => (
            format!("revived {}, skipped {} (key held by an active job)", revived.len(), skipped.len()),
            revived.iter().map(String::as_str).collect(),
        ),
    };
    let filters = serde_json::json!({ "filter": req.filter, "limit": req.limit, "all": req.all });
    let row = ActionRow {
        actor: &req.actor,
        action: "retry_failed",
        filters,
        dry_run: req.dry_run,
        job_ids: ids,
        outcome: summary,
    };
    audit::record(tx, row).await
}

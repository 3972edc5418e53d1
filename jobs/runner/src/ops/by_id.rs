//! What discard and cancel share: operators name jobs by id, each job is
//! judged by its state, the eligible ones change and the rest are refused
//! one by one with the reason and what to do instead.
//!
//! The named rows are locked for the whole action, so a worker cannot claim
//! one between the check and the change (its fetch skips locked rows).

use serde::Serialize;
use sqlx::{PgPool, Postgres, Transaction};

use super::audit::{self, ActionRow};
use crate::JobState;

/// Jobs named by id, for `discard` and `cancel`.
#[derive(Debug, Clone)]
pub struct ByIdRequest {
    pub ids: Vec<String>,
    pub dry_run: bool,
    pub actor: String,
}

/// What became of one named job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Changed (or, in a dry run, would be).
    Done,
    /// Left as it is: `why` names its state and says what to do.
    Refused {
        why: String,
    },
    NotFound,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobVerdict {
    pub id: String,
    pub queue: Option<String>,
    /// Its state when judged.
    pub state: Option<JobState>,
    pub verdict: Verdict,
}

/// The answer to a discard or cancel: one verdict per named job, in the order named.
#[derive(Debug, Clone, Serialize)]
pub struct ByIdReport {
    pub dry_run: bool,
    pub jobs: Vec<JobVerdict>,
}

impl ByIdReport {
    /// Ids changed (or that a dry run would change).
    pub fn done(&self) -> Vec<&str> {
        self.jobs.iter().filter(|j| j.verdict == Verdict::Done).map(|j| j.id.as_str()).collect()
    }

    /// Whether any named job was refused or not found.
    pub fn any_refused(&self) -> bool {
        self.jobs.iter().any(|j| j.verdict != Verdict::Done)
    }

    /// `discarded 1, refused 1 (running), not found 0`: for the audit row, ids and states only.
    pub(crate) fn summary(&self, verb: &str) -> String {
        let refused: Vec<&str> = self
            .jobs
            .iter()
            .filter(|j| matches!(j.verdict, Verdict::Refused { .. }))
            .filter_map(|j| j.state.map(JobState::name))
            .collect();
        let missing = self.jobs.iter().filter(|j| j.verdict == Verdict::NotFound).count();
        let done = self.done().len();
        let prefix = if self.dry_run { "dry run: would have " } else { "" };
        let states = if refused.is_empty() { String::new() } else { format!(" ({})", refused.join(", ")) };
        format!("{prefix}{verb} {done}, refused {}{states}, not found {missing}", refused.len())
    }
}

/// Opens the action's transaction and judges the named jobs in it; the
/// caller changes the eligible ones ([`ByIdReport::done`]) unless it is a
/// dry run, then calls [`finish`].
pub(crate) async fn begin(
    pool: &PgPool,
    req: &ByIdRequest,
    refusal: impl Fn(&str, &str, JobState) -> Option<String>,
) -> Result<(Transaction<'static, Postgres>, ByIdReport), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let jobs = judge(&mut tx, &req.ids, refusal).await?;
    Ok((tx, ByIdReport { dry_run: req.dry_run, jobs }))
}

/// Records the action (`verb` names what was done in its outcome) and commits.
pub(crate) async fn finish(
    mut tx: Transaction<'static, Postgres>,
    req: &ByIdRequest,
    action: &'static str,
    verb: &str,
    filters: serde_json::Value,
    report: &ByIdReport,
) -> Result<(), sqlx::Error> {
    let row = ActionRow {
        actor: &req.actor,
        action,
        filters,
        dry_run: req.dry_run,
        job_ids: report.done(),
        outcome: report.summary(verb),
    };
    audit::record(&mut tx, row).await?;
    tx.commit().await
}

/// Locks the named jobs and judges each: `refusal` (id, queue, state) gives
/// the reason a job in that state is refused, or `None` when it may change.
async fn judge(
    tx: &mut sqlx::PgConnection,
    ids: &[String],
    refusal: impl Fn(&str, &str, JobState) -> Option<String>,
) -> Result<Vec<JobVerdict>, sqlx::Error> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, job_type, status FROM apalis.jobs WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind(ids)
            .fetch_all(&mut *tx)
            .await?;
    let mut seen = std::collections::HashSet::new();
    let mut verdicts = Vec::new();
    for id in ids.iter().filter(|id| seen.insert(id.as_str())) {
        let Some((_, queue, status)) = rows.iter().find(|r| r.0 == *id) else {
            verdicts.push(JobVerdict { id: id.clone(), queue: None, state: None, verdict: Verdict::NotFound });
            continue;
        };
        let state = JobState::from_db_status(status)
            .ok_or_else(|| sqlx::Error::Protocol(format!("job {id} has an unknown status {status:?}")))?;
        let verdict = match refusal(id, queue, state) {
            Some(why) => Verdict::Refused { why },
            None => Verdict::Done,
        };
        verdicts.push(JobVerdict { id: id.clone(), queue: Some(queue.clone()), state: Some(state), verdict });
    }
    Ok(verdicts)
}

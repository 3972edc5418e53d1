//! Replaying stored deliveries (`cargo xtask deliveries replay`): each one
//! that kept its body is admitted again through [`super::admit`], the code a
//! live delivery goes through, with the same deduplication, so a replay of
//! a delivery whose job exists (or a second replay) enqueues nothing.
//!
//! A replay is a new inbox row with `replay_of` naming the original, which
//! keeps its outcome and job: the history is never rewritten. A dry run
//! admits inside a transaction that is rolled back, so it reports exactly
//! what a replay would do. Every use, dry runs and refusals included, is a
//! row in `operator_actions`.

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};

use super::{Admission, Delivery, DeliveryFilter, Outcome, admit};
use crate::{
    deepcura::Scheme,
    domain::audit::{self, OperatorAction},
};

/// More matching deliveries than this need a filter or `all`.
pub const UNFILTERED_LIMIT: i64 = 100;

/// What an operator asks for.
#[derive(Debug, Clone)]
pub struct ReplayRequest {
    pub filter: DeliveryFilter,
    pub dry_run: bool,
    pub all: bool,
    pub actor: String,
}

/// The service configuration admission depends on.
#[derive(Debug, Clone, Copy)]
pub struct ReplaySettings<'a> {
    /// `PRACTICE_TIMEZONE`, for DrChrono's naive `updated_at`.
    pub time_zone: &'a str,
    /// `DEEPCURA_SCHEME`, which a Gridhook's shape is checked against.
    pub deepcura_scheme: Scheme,
}

/// What became of one matched delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    /// Admitted and its job enqueued on `queue` (`job_id` is `None` in a dry run).
    Enqueued { queue: &'static str, job_id: Option<String> },
    /// Its work already has a job: an earlier copy or replay made it, or an active job holds it.
    Duplicate { job_id: Option<String> },
    /// Admitted, and still not applied: `not_modelled`, `unhandled`, `ping` or `malformed`.
    NotApplied { outcome: &'static str, reason: Option<String> },
    /// Not admitted; the reason says why and what to do.
    Refused { reason: &'static str },
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplayItem {
    pub delivery: i64,
    pub source: String,
    pub event: Option<String>,
    pub record_kind: Option<String>,
    pub object_id: Option<i64>,
    /// The new inbox row (none in a dry run or a refusal).
    pub replay_row: Option<i64>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayOutcome {
    NothingMatched,
    /// No filter, too many matches, and no `all`: nothing done.
    Refused {
        matched: i64,
    },
    DryRun,
    Replayed,
}

#[derive(Debug)]
pub struct ReplayReport {
    pub matched: i64,
    pub items: Vec<ReplayItem>,
    pub outcome: ReplayOutcome,
}

impl ReplayReport {
    /// Every matched delivery was refused (say, all rejected ones).
    pub fn all_refused(&self) -> bool {
        !self.items.is_empty() && self.items.iter().all(|i| matches!(i.verdict, Verdict::Refused { .. }))
    }

    fn summary(&self) -> String {
        let count = |f: fn(&Verdict) -> bool| self.items.iter().filter(|i| f(&i.verdict)).count();
        let enqueued = count(|v| matches!(v, Verdict::Enqueued { .. }));
        let duplicate = count(|v| matches!(v, Verdict::Duplicate { .. }));
        let not_applied = count(|v| matches!(v, Verdict::NotApplied { .. }));
        let refused = count(|v| matches!(v, Verdict::Refused { .. }));
        let counts =
            format!("{enqueued} enqueued, {duplicate} duplicate, {not_applied} not applied, {refused} refused");
        match self.outcome {
            ReplayOutcome::NothingMatched => "nothing matched".into(),
            ReplayOutcome::Refused { matched } => format!("refused: {matched} matched without a filter"),
            ReplayOutcome::DryRun => format!("dry run: {counts}"),
            ReplayOutcome::Replayed => format!("replayed: {counts}"),
        }
    }
}

/// What a rejected delivery's refusal says.
pub const NO_BODY: &str = "rejected at the door: its body was not kept (only headers, size and SHA-256), \
     so it cannot be replayed; fix the secret, then have the sender deliver it again";
const A_REPLAY: &str = "this row is itself a replay; replay its original (replay_of) instead";
const UNKNOWN_SOURCE: &str = "no admission for this source; only drchrono and deepcura deliveries replay";

/// A stored delivery as replay reads it. The body and headers never leave
/// this module except into admission.
#[derive(sqlx::FromRow)]
struct Stored {
    id: i64,
    source: String,
    delivery_id: Option<String>,
    event: Option<String>,
    record_kind: Option<String>,
    object_id: Option<i64>,
    headers: Value,
    body: Vec<u8>,
    verified: bool,
    replay_of: Option<i64>,
}

/// Originals only, unless a replay row is named by id (to refuse it plainly).
const MATCHING: &str = "FROM webhook_deliveries d WHERE (d.replay_of IS NULL OR d.id = ANY($1)) AND ";

/// Replays what `req` names (unless refused or a dry run) and records the action.
pub async fn replay(
    pool: &PgPool,
    req: &ReplayRequest,
    settings: ReplaySettings<'_>,
) -> Result<ReplayReport, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let count_sql = format!("SELECT count(*) {MATCHING}{}", DeliveryFilter::WHERE);
    let (matched,): (i64,) =
        req.filter.bind(sqlx::query_as(sqlx::AssertSqlSafe(count_sql))).fetch_one(&mut *tx).await?;
    let refused = req.filter.is_empty() && matched > UNFILTERED_LIMIT && !req.all;
    let mut report = ReplayReport { matched, items: Vec::new(), outcome: ReplayOutcome::Replayed };
    if matched == 0 || refused {
        report.outcome = if refused { ReplayOutcome::Refused { matched } } else { ReplayOutcome::NothingMatched };
        record(&mut tx, req, &report).await?;
        tx.commit().await?;
        return Ok(report);
    }
    let rows_sql = format!(
        "SELECT d.id, d.source, d.delivery_id, d.event, d.record_kind, d.object_id, d.headers, d.body, \
                d.verified, d.replay_of {MATCHING}{} ORDER BY d.id",
        DeliveryFilter::WHERE
    );
    let rows: Vec<Stored> = req.filter.bind(sqlx::query_as(sqlx::AssertSqlSafe(rows_sql))).fetch_all(&mut *tx).await?;
    for row in &rows {
        report.items.push(replay_one(&mut tx, row, settings, req.dry_run).await?);
    }
    if req.dry_run {
        tx.rollback().await?;
        report.outcome = ReplayOutcome::DryRun;
        let mut audit_tx = pool.begin().await?;
        record(&mut audit_tx, req, &report).await?;
        audit_tx.commit().await?;
    } else {
        record(&mut tx, req, &report).await?;
        tx.commit().await?;
    }
    Ok(report)
}

async fn replay_one(
    tx: &mut PgConnection,
    row: &Stored,
    settings: ReplaySettings<'_>,
    dry_run: bool,
) -> Result<ReplayItem, sqlx::Error> {
    let mut item = ReplayItem {
        delivery: row.id,
        source: row.source.clone(),
        event: row.event.clone(),
        record_kind: row.record_kind.clone(),
        object_id: row.object_id,
        replay_row: None,
        verdict: Verdict::Refused { reason: NO_BODY },
    };
    let source: &'static str = match row.source.as_str() {
        _ if !row.verified || row.body.is_empty() => return Ok(item),
        _ if row.replay_of.is_some() => return Ok(Verdict::Refused { reason: A_REPLAY }.on(item)),
        "drchrono" => "drchrono",
        "deepcura" => "deepcura",
        _ => return Ok(Verdict::Refused { reason: UNKNOWN_SOURCE }.on(item)),
    };
    let delivery = Delivery {
        source,
        delivery_id: row.delivery_id.as_deref(),
        event: row.event.as_deref(),
        object_id: None,
        record_kind: None,
        patient_id: None,
        object_updated_at: None,
        time_zone: settings.time_zone,
        headers: row.headers.clone(),
        body: &row.body,
        verified: true,
        replay_of: Some(row.id),
    };
    let admission = match source {
        "deepcura" => admit::deepcura(tx, delivery, settings.deepcura_scheme).await?,
        _ => admit::drchrono(tx, delivery).await?,
    };
    item.record_kind = admission.record_kind.map(str::to_string).or(item.record_kind);
    item.object_id = admission.object_id.or(item.object_id);
    item.replay_row = (!dry_run).then_some(admission.inbox_id);
    Ok(verdict(admission, dry_run).on(item))
}

impl Verdict {
    fn on(self, item: ReplayItem) -> ReplayItem {
        ReplayItem { verdict: self, ..item }
    }
}

fn verdict(admission: Admission, dry_run: bool) -> Verdict {
    match admission.outcome {
        Outcome::Accepted => Verdict::Enqueued {
            queue: admission.queue.unwrap_or_default(),
            job_id: admission.job_id.filter(|_| !dry_run),
        },
        Outcome::Duplicate => Verdict::Duplicate { job_id: admission.job_id },
        other => Verdict::NotApplied { outcome: other.name(), reason: admission.reason },
    }
}

async fn record(tx: &mut PgConnection, req: &ReplayRequest, report: &ReplayReport) -> Result<(), sqlx::Error> {
    let job_ids: Vec<String> = report
        .items
        .iter()
        .filter_map(|i| match &i.verdict {
            Verdict::Enqueued { job_id: Some(job), .. } => Some(job.clone()),
            _ => None,
        })
        .collect();
    let delivery_ids: Vec<i64> = report.items.iter().map(|i| i.delivery).collect();
    let action = OperatorAction {
        actor: &req.actor,
        action: "replay_deliveries",
        filters: json!({ "filter": req.filter, "all": req.all }),
        dry_run: req.dry_run,
        job_ids: &job_ids,
        delivery_ids: &delivery_ids,
        outcome: &report.summary(),
    };
    audit::record_action(tx, &action).await
}

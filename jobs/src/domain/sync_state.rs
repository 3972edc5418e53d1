//! Reconciliation bookkeeping: cursors (`sync_cursors`) and the record of
//! each walk (`sync_runs`).

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};

use super::UpsertCounts;

/// DrChrono's clocks and ours disagree a little, and a record can change
/// while a walk is under way: a cursor resumes this far before the newest
/// `updated_at` seen, so nothing falls between two walks.
pub const OVERLAP: chrono::Duration = chrono::Duration::minutes(5);

pub async fn cursor<'e>(db: impl PgExecutor<'e>, name: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar("SELECT resume_from FROM sync_cursors WHERE name = $1").bind(name).fetch_optional(db).await
}

/// Moves the cursor forward to `high_water - OVERLAP`; never backward.
pub async fn advance<'e>(
    db: impl PgExecutor<'e>,
    name: &str,
    high_water: DateTime<Utc>,
    by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sync_cursors (name, resume_from, advanced_by) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET resume_from = EXCLUDED.resume_from, advanced_at = now(), \
         advanced_by = EXCLUDED.advanced_by WHERE sync_cursors.resume_from < EXCLUDED.resume_from",
    )
    .bind(name)
    .bind(high_water - OVERLAP)
    .bind(by)
    .execute(db)
    .await?;
    Ok(())
}

/// The newest `updated_at` among a page of API objects, read in the practice
/// zone, and never later than now: a cursor past the walk's own time would
/// skip what changes next.
pub async fn page_high_water(
    pool: &PgPool,
    page: &[serde_json::Value],
    time_zone: &str,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CASE WHEN max(t) IS NOT NULL THEN least(max(t), now()) END \
         FROM (SELECT drchrono_time(e->>'updated_at', $2) AS t FROM jsonb_array_elements($1::jsonb) e) x",
    )
    .bind(sqlx::types::Json(page))
    .bind(time_zone)
    .fetch_one(pool)
    .await
}

/// How much of a kind a walk covers, as `sync_runs.scope` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Records updated since a cursor or a given time.
    Incremental,
    /// Every record of the kind.
    Full,
    /// One patient's records.
    Patient,
    /// A chart pass's plan: one walk of each list for the whole practice.
    PracticeWide,
    /// A chart pass's plan: walks for each changed patient.
    PerPatient,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Incremental => "incremental",
            Scope::Full => "full",
            Scope::Patient => "patient",
            Scope::PracticeWide => "practice_wide",
            Scope::PerPatient => "per_patient",
        }
    }
}

/// An open `sync_runs` row: its id, and when it started by the database's clock.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub id: i64,
    pub started_at: DateTime<Utc>,
}

/// What a `sync_runs` row is about; `kind` is a record kind's name, or
/// another walk's (`chart_lists`).
#[derive(Debug, Clone, Copy)]
pub struct RunOf<'a> {
    pub kind: &'a str,
    pub scope: Scope,
    pub job_id: Option<&'a str>,
    pub schedule: Option<&'a str>,
    pub since: Option<DateTime<Utc>>,
}

/// Opens a `sync_runs` row.
pub async fn start_run(pool: &PgPool, of: RunOf<'_>) -> Result<Run, sqlx::Error> {
    let (id, started_at) = sqlx::query_as(
        "INSERT INTO sync_runs (kind, job_id, schedule, since, scope) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id, started_at",
    )
    .bind(of.kind)
    .bind(of.job_id)
    .bind(of.schedule)
    .bind(of.since)
    .bind(of.scope.name())
    .fetch_one(pool)
    .await?;
    Ok(Run { id, started_at })
}

/// What a walk did, for its `sync_runs` row.
#[derive(Debug, Default, Clone, Copy)]
pub struct RunTotals {
    pub counts: UpsertCounts,
    pub calls: u64,
    pub pages: u64,
    /// Rows marked removed because a complete walk no longer listed them.
    pub removed: u64,
}

/// Records a running walk's counts so far, for progress displays.
pub async fn progress(pool: &PgPool, run: i64, totals: RunTotals) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sync_runs SET seen = $2, pages = $3, calls = $4 WHERE id = $1")
        .bind(run)
        .bind(totals.counts.seen as i64)
        .bind(totals.pages as i64)
        .bind(totals.calls as i64)
        .execute(pool)
        .await?;
    Ok(())
}

/// Closes a `sync_runs` row with its outcome; `error` must be PHI-free.
pub async fn finish_run(
    pool: &PgPool,
    run: i64,
    outcome: &str,
    totals: RunTotals,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    let c = totals.counts;
    sqlx::query(
        "UPDATE sync_runs SET finished_at = now(), outcome = $2, seen = $3, created = $4, updated = $5, \
         unchanged = $6, calls = $7, pages = $8, error = $9, removed = $10, unkeyed = $11 WHERE id = $1",
    )
    .bind(run)
    .bind(outcome)
    .bind(c.seen as i64)
    .bind(c.inserted as i64)
    .bind(c.updated as i64)
    .bind(c.unchanged as i64)
    .bind(totals.calls as i64)
    .bind(totals.pages as i64)
    .bind(error)
    .bind(totals.removed as i64)
    .bind(c.unkeyed as i64)
    .execute(pool)
    .await?;
    Ok(())
}

//! `cargo xtask sync <kind|all> [--full]`: reconciliation walks now, through
//! the job runner, with one progress bar per kind and a `sync_runs` summary.
//!
//! It reads the service's configuration (environment or `.env`), enqueues
//! `sync_records` jobs and runs that queue's worker in this process, so each
//! walk has the same retries, budget and audit as a scheduled one. `all`
//! walks every kind in dependency order (lookups, patients, then what names
//! them). A walk deferred by the spent hourly budget waits for the reset and
//! goes on; `all --full` run again after a crash skips the kinds its
//! unfinished run (a `full_sync` row in `sync_runs`) already completed.

use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use job_runner::{BackgroundJob, JobState, enqueue};
use jobs::{JobContext, catalog::SyncRecords, domain::RecordKind};
use sqlx::PgPool;
use std::time::Duration;

use crate::{
    config, sync_estimate as estimate,
    sync_progress::{Bars, Budget},
};

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// The record type to walk, or `all`.
    #[arg(value_enum)]
    kind: Kind,
    /// Walk everything, not only what changed since the cursor (the cursor
    /// still advances), and mark what DrChrono no longer lists as removed.
    #[arg(long)]
    full: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    All,
    Patients,
    Doctors,
    Offices,
    AppointmentProfiles,
    Appointments,
    ClinicalNotes,
    Medications,
    Problems,
    Allergies,
    LabOrders,
    LabResults,
    PatientLabResults,
    Tasks,
    LineItems,
}

/// The order of a whole sync: what others refer to comes first.
const ALL_IN_ORDER: [RecordKind; 14] = [
    RecordKind::Office,
    RecordKind::AppointmentProfile,
    RecordKind::Doctor,
    RecordKind::Patient,
    RecordKind::Appointment,
    RecordKind::ClinicalNote,
    RecordKind::Medication,
    RecordKind::Problem,
    RecordKind::Allergy,
    RecordKind::LabOrder,
    RecordKind::LabResult,
    RecordKind::PatientLabResult,
    RecordKind::Task,
    RecordKind::LineItem,
];

impl Kind {
    fn records(self) -> Vec<RecordKind> {
        match self {
            Kind::All => ALL_IN_ORDER.to_vec(),
            Kind::Patients => vec![RecordKind::Patient],
            Kind::Doctors => vec![RecordKind::Doctor],
            Kind::Offices => vec![RecordKind::Office],
            Kind::AppointmentProfiles => vec![RecordKind::AppointmentProfile],
            Kind::Appointments => vec![RecordKind::Appointment],
            Kind::ClinicalNotes => vec![RecordKind::ClinicalNote],
            Kind::Medications => vec![RecordKind::Medication],
            Kind::Problems => vec![RecordKind::Problem],
            Kind::Allergies => vec![RecordKind::Allergy],
            Kind::LabOrders => vec![RecordKind::LabOrder],
            Kind::LabResults => vec![RecordKind::LabResult],
            Kind::PatientLabResults => vec![RecordKind::PatientLabResult],
            Kind::Tasks => vec![RecordKind::Task],
            Kind::LineItems => vec![RecordKind::LineItem],
        }
    }
}

pub async fn run(args: SyncArgs) -> Result<()> {
    let settings = config::service_settings();
    let pool = config::service_pool(&settings).await?;
    let kinds = args.kind.records();
    let whole = args.kind == Kind::All && args.full;
    let (full_run, done) = if whole { full_sync_run(&pool).await? } else { (None, Vec::new()) };
    eprintln!("sync: walking {} kind(s) from {}", kinds.len(), settings.drchrono_api_base);

    let ctx = JobContext::new(pool.clone(), settings.job_settings());
    let mut config = settings.runner_config();
    config.queues = Some(vec![SyncRecords::NAME.into()]);
    let (stop, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(jobs::registry::all().run(pool.clone(), ctx, config, rx));
    let budget = Budget::of(&settings);
    let verbose_of = |kind: RecordKind| args.full && kind == RecordKind::Allergy;
    let mut expected = Vec::new();
    for kind in &kinds {
        let skipped = done.contains(&kind.name().to_string());
        expected.push(if skipped {
            Some(0)
        } else {
            estimate::expected_calls(&pool, *kind, verbose_of(*kind)).await?
        });
    }
    eprintln!("{}", remaining(&expected, budget.allowed));
    let bars = Bars::new(&kinds);
    let mut result = Ok(());
    for (i, kind) in kinds.iter().enumerate() {
        if done.contains(&kind.name().to_string()) {
            bars.finish(i, "done in the interrupted run; skipped".into());
            continue;
        }
        let job = SyncRecords {
            full: args.full,
            // A first or full sync brings allergies' descriptions at once:
            // they come only in verbose lists.
            verbose: verbose_of(*kind),
            cursor: Some(kind.table().to_string()),
            schedule: Some(if whole { "full_sync".into() } else { "manual".into() }),
            ..SyncRecords::all(*kind)
        };
        result = walk(&pool, &job, &bars, i, &budget, expected[i]).await;
        if result.is_err() {
            break;
        }
    }
    if let (Some(id), Ok(())) = (full_run, &result) {
        sqlx::query("UPDATE sync_runs SET outcome = 'completed', finished_at = now() WHERE id = $1")
            .bind(id)
            .execute(&pool)
            .await?;
    }
    let _ = stop.send(true);
    result
}

/// The estimate of what is left: the expected calls of the kinds still to
/// walk, in budget hours, and how many of them have no estimate yet.
fn remaining(expected: &[Option<u64>], per_hour: i64) -> String {
    let known: u64 = expected.iter().flatten().sum();
    let unknown = expected.iter().filter(|e| e.is_none()).count();
    let hours = estimate::hours(known, per_hour);
    match unknown {
        0 => format!("sync: about {known} calls to go, {hours}"),
        n if known == 0 => format!(
            "sync: no estimate yet: {n} kind(s) never walked or stored here (DrChrono's lists give no count); \
             each line shows its calls as it goes, and the next run estimates from this one"
        ),
        n => format!("sync: about {known} calls to go, {hours}, plus {n} kind(s) not yet counted (never walked here)"),
    }
}

/// The `full_sync` row of this whole sync: an unfinished one is resumed,
/// with the kinds it already completed; otherwise a new one.
async fn full_sync_run(pool: &PgPool) -> Result<(Option<i64>, Vec<String>)> {
    let open: Option<(i64, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT id, started_at FROM sync_runs WHERE kind = 'full_sync' AND outcome = 'running' ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    if let Some((id, started)) = open {
        let done: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT kind FROM sync_runs WHERE schedule = 'full_sync' AND scope = 'full' \
             AND outcome = 'completed' AND started_at >= $1",
        )
        .bind(started)
        .fetch_all(pool)
        .await?;
        eprintln!("sync: resuming the full sync started {started} ({} kind(s) already done)", done.len());
        return Ok((Some(id), done));
    }
    let id = sqlx::query_scalar(
        "INSERT INTO sync_runs (kind, schedule, scope) VALUES ('full_sync', 'full_sync', 'full') RETURNING id",
    )
    .fetch_one(pool)
    .await?;
    Ok((Some(id), Vec::new()))
}

/// Enqueues one walk (or finds the same walk already queued) and follows it.
async fn walk(
    pool: &PgPool,
    job: &SyncRecords,
    bars: &Bars,
    i: usize,
    budget: &Budget,
    expected: Option<u64>,
) -> Result<()> {
    let key = job.dedup_key().unwrap_or_default();
    let job_id = match enqueue(pool, job).await? {
        Some(id) => id,
        None => job_runner::queries::active_job_with_key(pool, SyncRecords::NAME, &key)
            .await?
            .context("the walk was neither enqueued nor found active; run the command again")?,
    };
    follow(pool, &job_id, bars, i, budget, expected).await
}

type RunRow = (String, i64, i64, i64, i64, i64, i64, Option<String>);

/// Shows progress until the job ends, then the walk's summary line.
async fn follow(
    pool: &PgPool,
    job_id: &str,
    bars: &Bars,
    i: usize,
    budget: &Budget,
    expected: Option<u64>,
) -> Result<()> {
    loop {
        let state = job_runner::queries::state(pool, job_id).await?.with_context(|| {
            format!("job {job_id} is gone; `cargo xtask jobs list --queue sync_records` lists walks")
        })?;
        // A walk that waited (for the budget, or for a bulk batch) ran more
        // than once: its runs add up, and the last one says how it stands.
        let row: Option<RunRow> = sqlx::query_as(
            "SELECT (array_agg(outcome ORDER BY id DESC))[1], sum(seen)::int8, sum(created)::int8, \
                    sum(updated)::int8, sum(unchanged)::int8, sum(calls)::int8, sum(pages)::int8, \
                    (array_agg(error ORDER BY id DESC))[1] \
             FROM sync_runs WHERE job_id = $1 HAVING count(*) > 0",
        )
        .bind(job_id)
        .fetch_optional(pool)
        .await?;
        let left = budget.left(pool).await?;
        let waiting = row.as_ref().is_some_and(|r| r.0 == "deferred") && state != JobState::Done;
        let line = match &row {
            Some(r) if waiting => {
                let why = r.7.as_deref().map_or("waiting", |e| e.split_once(": ").map_or(e, |(_, m)| m));
                format!("{why}; the walk resumes on its own ({} calls so far)", r.5)
            }
            Some(r) => {
                let to_go = expected.map_or_else(
                    || "no estimate yet".to_string(),
                    |e| format!("{} to go", estimate::hours(e.saturating_sub(r.5 as u64), budget.allowed)),
                );
                format!("{} records, {} calls, {left} calls left this hour, {to_go}", r.1, r.5)
            }
            None => format!("queued, {left} calls left this hour"),
        };
        bars.set(i, line);
        match state {
            s if !s.is_active() => return summarize(bars, i, state, row, budget.allowed),
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

fn summarize(bars: &Bars, i: usize, state: JobState, row: Option<RunRow>, per_hour: i64) -> Result<()> {
    let Some((outcome, seen, created, updated, unchanged, calls, pages, error)) = row else {
        bail!("the job ended ({state}) before walking; see: SELECT * FROM job_attempts ORDER BY id DESC LIMIT 5");
    };
    let hours = calls as f64 / per_hour.max(1) as f64;
    bars.finish(
        i,
        format!(
            "{outcome}: {seen} records ({created} new, {updated} updated, {unchanged} unchanged), \
             {calls} calls in {pages} pages (≈{hours:.2} budget hours)"
        ),
    );
    match outcome.as_str() {
        "completed" => Ok(()),
        _ => bail!(
            "the walk did not complete: {}; the job retries on its own when a worker runs (`drchrono-sync work`)",
            error.unwrap_or_else(|| state.to_string())
        ),
    }
}

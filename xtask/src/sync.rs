//! `cargo xtask sync <kind> [--full]`: one reconciliation walk now, through
//! the job runner, with progress on a terminal and a `sync_runs` summary.
//!
//! It reads the service's configuration (environment or `.env`), enqueues a
//! `sync_records` job and runs that queue's worker in this process, so the
//! walk has the same retries, budget and audit as a scheduled one.

use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use job_runner::{JobState, enqueue};
use jobs::{JobContext, catalog::SyncRecords, domain::RecordKind};
use std::{io::IsTerminal, time::Duration};

use crate::config;

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// The record type to walk.
    #[arg(value_enum)]
    kind: Kind,
    /// Walk everything, not only what changed since the cursor (the cursor still advances).
    #[arg(long)]
    full: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    Patients,
    Doctors,
    Appointments,
    ClinicalNotes,
    Medications,
    Problems,
    Allergies,
}

impl Kind {
    fn record(self) -> RecordKind {
        match self {
            Kind::Patients => RecordKind::Patient,
            Kind::Doctors => RecordKind::Doctor,
            Kind::Appointments => RecordKind::Appointment,
            Kind::ClinicalNotes => RecordKind::ClinicalNote,
            Kind::Medications => RecordKind::Medication,
            Kind::Problems => RecordKind::Problem,
            Kind::Allergies => RecordKind::Allergy,
        }
    }
}

pub async fn run(args: SyncArgs) -> Result<()> {
    let settings = config::service_settings();
    let pool = config::service_pool(&settings).await?;
    let kind = args.kind.record();
    let job = SyncRecords {
        since: args.full.then(|| "1970-01-01".to_string()),
        cursor: Some(kind.table().to_string()),
        schedule: Some("manual".into()),
        ..SyncRecords::all(kind)
    };
    let Some(job_id) = enqueue(&pool, &job).await? else {
        bail!(
            "a {} walk is already queued or running; watch it with: SELECT * FROM sync_runs ORDER BY id DESC LIMIT 1",
            kind.table()
        );
    };
    eprintln!("sync: walking {} from {} (job {job_id})", kind.table(), settings.drchrono_api_base);

    let ctx = JobContext::new(pool.clone(), settings.job_settings());
    let mut config = settings.runner_config();
    config.queues = Some(vec!["sync_records".into()]);
    let (stop, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(jobs::registry::all().run(pool.clone(), ctx, config, rx));
    let result = follow(&pool, &job_id).await;
    let _ = stop.send(true);
    result
}

type RunRow = (String, i64, i64, i64, i64, i64, i64, Option<String>);

/// Shows progress until the job ends, then the run's summary.
async fn follow(pool: &sqlx::PgPool, job_id: &str) -> Result<()> {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let mut last_line = std::time::Instant::now();
    loop {
        let state = job_runner::queries::state(pool, job_id).await?.with_context(|| {
            format!("job {job_id} is gone; `cargo xtask jobs list --queue sync_records` lists walks")
        })?;
        let row: Option<RunRow> = sqlx::query_as(
            "SELECT outcome, seen, created, updated, unchanged, calls, pages, error FROM sync_runs \
             WHERE job_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(job_id)
        .fetch_optional(pool)
        .await?;
        let progress = row.as_ref().map(|r| format!("{} records, {} pages, {} calls", r.1, r.6, r.5));
        match (&bar, &progress) {
            (Some(bar), Some(p)) => bar.set_message(p.clone()),
            (None, Some(p)) if last_line.elapsed() > Duration::from_secs(2) => {
                eprintln!("sync: {p}");
                last_line = std::time::Instant::now();
            }
            _ => {}
        }
        if matches!(state, JobState::Done | JobState::Dead) || row.as_ref().is_some_and(|r| r.0 == "deferred") {
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            return summarize(state, row);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn summarize(state: JobState, row: Option<RunRow>) -> Result<()> {
    let Some((outcome, seen, created, updated, unchanged, calls, pages, error)) = row else {
        bail!("the job ended ({state}) before walking; see: SELECT * FROM job_attempts ORDER BY id DESC LIMIT 5");
    };
    println!("outcome    {outcome}");
    println!("records    {seen} seen: {created} created, {updated} updated, {unchanged} unchanged");
    println!("API calls  {calls} ({pages} pages)");
    match outcome.as_str() {
        "completed" => Ok(()),
        _ => bail!(
            "the walk did not complete: {}; the job retries on its own when a worker runs (`drchrono-sync work`)",
            error.unwrap_or_else(|| state.to_string())
        ),
    }
}

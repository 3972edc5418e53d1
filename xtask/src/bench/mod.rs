//! `cargo xtask bench`: job-runner benchmarks that print one JSON line per
//! figure (format and workloads: `shared/bench/README.md`).
//!
//! Figures only mean something from an optimised build, and the `xtask`
//! alias builds in debug. So `bench` re-executes itself through
//! `$CARGO run --release -p xtask -- bench ...` unless `XTASK_RELEASE=1`
//! says this process already is that build. A benchmark never asserts a
//! speed; it reports one.

mod console;
mod ingest;
mod pdf;
mod report;
mod search;
mod sync;
mod sync_calls;
mod workloads;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use std::time::Duration;

use crate::{cargo, db};
use workloads::Plan;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// One runner workload against the empty database in DATABASE_URL (or a
    /// scratch database xtask creates and drops when it is unset).
    Runner(RunnerArgs),
    /// All four runner workloads in sequence, each on a fresh database
    /// `bench_dcs_<workload>` that is dropped afterwards.
    All(AllArgs),
    /// API calls per 1,000 records applied by webhook and by list, and upsert
    /// rows/s for batches of 1,000, against a sandbox practice.
    Sync(sync::SyncArgs),
    /// Provider-check throughput (MB/s, pages/s) and peak memory on generated
    /// note PDFs of 1, 10 and 100 pages, against lopdf's plain text extraction.
    Pdf(pdf::PdfArgs),
    /// Console page times (p50/p99 per page) with a million finished jobs
    /// and 300,000 deliveries in a scratch database.
    Console(console::ConsoleArgs),
    /// Patient search p50/p99 (name prefix, name typo, name and birth date,
    /// phone) with 100,000 patients in a scratch database, beside a plain
    /// ILIKE scan for the same names; in process, through the library search.
    Search(search::SearchArgs),
    /// DrChrono webhook ingest over HTTP at 1, 10 and 32 senders (the
    /// service in release, in its own process), beside pgbench writing one
    /// inbox row and one job row per transaction; `--audit` adds each
    /// index's and trigger's cost.
    Ingest(ingest::IngestArgs),
    /// Internal: the service process of the ingest benchmark.
    #[command(hide = true)]
    IngestService,
    /// Internal: the separate producer process of the latency workload.
    #[command(hide = true)]
    LatencyProducer {
        #[arg(long)]
        jobs: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// N single enqueue calls from one client.
    Enqueue,
    /// One bulk enqueue of N jobs.
    #[value(name = "enqueue_batch", alias = "enqueue-batch")]
    EnqueueBatch,
    /// N pre-inserted jobs, from worker start until all are Done.
    Drain,
    /// Idle worker; a producer enqueues one job every 10 ms; p50/p99 pick-up.
    Latency,
}

impl Workload {
    pub const ALL: [Workload; 4] = [Workload::Enqueue, Workload::EnqueueBatch, Workload::Drain, Workload::Latency];

    pub fn name(self) -> &'static str {
        match self {
            Workload::Enqueue => "enqueue",
            Workload::EnqueueBatch => "enqueue_batch",
            Workload::Drain => "drain",
            Workload::Latency => "latency",
        }
    }

    /// The README's N: 10,000 for throughput, 300 for latency (3 s of producing).
    fn default_jobs(self) -> usize {
        if self == Workload::Latency { 300 } else { 10_000 }
    }
}

/// Runner settings worth tuning, shared by `runner` and `all`.
#[derive(Args, Debug, Clone)]
pub struct Tuning {
    /// Jobs running at once (the runner's per-queue concurrency).
    #[arg(long, default_value_t = 10)]
    pub concurrency: usize,
    /// Jobs fetched per round trip [default: RunnerConfig's].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Fallback poll interval in ms when no NOTIFY arrives [default: RunnerConfig's].
    #[arg(long)]
    pub poll_ms: Option<u64>,
}

#[derive(Args, Debug)]
pub struct RunnerArgs {
    #[arg(long, value_enum)]
    pub workload: Workload,
    /// Number of jobs [default: 10000, or 300 for latency].
    #[arg(long)]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub tuning: Tuning,
}

#[derive(Args, Debug)]
pub struct AllArgs {
    /// Jobs for the throughput workloads.
    #[arg(long, default_value_t = 10_000)]
    pub jobs: usize,
    /// Jobs for the latency workload (it takes jobs / 100 seconds).
    #[arg(long, default_value_t = 300)]
    pub latency_jobs: usize,
    #[command(flatten)]
    pub tuning: Tuning,
}

pub async fn run(cmd: BenchCommand) -> Result<()> {
    if cfg!(debug_assertions) && !already_release() {
        reexec_release();
    }
    if cfg!(debug_assertions) {
        eprintln!("bench: warning: this is a debug build (XTASK_RELEASE=1 was set); figures will be low");
    }
    match cmd {
        BenchCommand::Runner(args) => runner(args).await,
        BenchCommand::All(args) => all(args).await,
        BenchCommand::Sync(args) => sync::run(args).await,
        BenchCommand::Pdf(args) => pdf::run(args).await,
        BenchCommand::Console(args) => console::run(args).await,
        BenchCommand::Search(args) => search::run(args).await,
        BenchCommand::Ingest(args) => ingest::run(args).await,
        BenchCommand::IngestService => ingest::service::serve().await,
        BenchCommand::LatencyProducer { jobs } => {
            let url = std::env::var("DATABASE_URL").context("latency-producer needs DATABASE_URL")?;
            workloads::produce(&url, jobs).await
        }
    }
}

impl BenchCommand {
    /// The ingest benchmark's service logs as the service does, not as xtask.
    pub fn logs_on_its_own(&self) -> bool {
        matches!(self, Self::IngestService)
    }
}

pub(crate) fn already_release() -> bool {
    std::env::var("XTASK_RELEASE").is_ok_and(|v| v == "1")
}

/// Runs the same arguments through a release build and exits with its code.
pub(crate) fn reexec_release() -> ! {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    eprintln!("bench: switching to a release build of xtask (the first build takes a few minutes)");
    let status = cargo().args(["run", "--release", "-p", "xtask", "--"]).args(&args).env("XTASK_RELEASE", "1").status();
    match status {
        Ok(s) => std::process::exit(s.code().unwrap_or(1)),
        Err(e) => {
            eprintln!("error: cannot run `cargo run --release -p xtask`: {e}");
            std::process::exit(1);
        }
    }
}

fn plan(workload: Workload, jobs: Option<usize>, t: &Tuning) -> Plan {
    let defaults = job_runner::RunnerConfig::default();
    Plan {
        workload,
        jobs: jobs.unwrap_or(workload.default_jobs()),
        concurrency: t.concurrency,
        batch_size: t.batch.unwrap_or(defaults.batch_size),
        poll: t.poll_ms.map(Duration::from_millis).unwrap_or(defaults.poll_interval),
    }
}

async fn runner(args: RunnerArgs) -> Result<()> {
    let plan = plan(args.workload, args.jobs, &args.tuning);
    if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        eprintln!("bench: using DATABASE_URL ({})", db::redact(&url));
        return workloads::measure(&url, &plan).await;
    }
    // No database given: make a scratch one so "empty" holds, and drop it after.
    let server = db::locate().await?;
    let name = format!("bench_dcs_{}", plan.workload.name());
    let url = db::create_database(&server.url, &name).await?;
    eprintln!("bench: created scratch database {name}");
    let result = workloads::measure(&url, &plan).await;
    db::drop_database(&server.url, &name).await?;
    result
}

/// Each workload runs in its own child process (as the peers do) on its own
/// fresh database, so one workload's leftovers never slow the next.
async fn all(args: AllArgs) -> Result<()> {
    let server = db::locate().await?;
    let exe = std::env::current_exe().context("cannot find the xtask binary")?;
    let mut failed = Vec::new();
    for (i, w) in Workload::ALL.into_iter().enumerate() {
        let jobs = if w == Workload::Latency { args.latency_jobs } else { args.jobs };
        let name = format!("bench_dcs_{}", w.name());
        eprintln!("bench: [{}/4] {} ({jobs} jobs) on fresh database {name}", i + 1, w.name());
        let url = db::create_database(&server.url, &name).await?;
        let t = &args.tuning;
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.args(["bench", "runner", "--workload", w.name(), "--jobs", &jobs.to_string()])
            .args(["--concurrency", &t.concurrency.to_string()])
            .env("DATABASE_URL", &url)
            .env("XTASK_RELEASE", "1");
        if let Some(b) = t.batch {
            cmd.args(["--batch", &b.to_string()]);
        }
        if let Some(p) = t.poll_ms {
            cmd.args(["--poll-ms", &p.to_string()]);
        }
        let status = cmd.status().await.context("cannot start the benchmark process")?;
        db::drop_database(&server.url, &name).await?;
        if !status.success() {
            eprintln!("bench: {} failed ({status}); continuing with the next workload", w.name());
            failed.push(w.name());
        }
    }
    if !failed.is_empty() {
        bail!("workloads failed: {}; their errors are above", failed.join(", "));
    }
    Ok(())
}

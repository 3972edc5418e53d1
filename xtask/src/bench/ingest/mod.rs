//! `cargo xtask bench ingest`: DrChrono webhook ingest over HTTP, beside
//! the limit it is measured against in the same run.
//!
//! For each number of concurrent senders (1, 10 and 32 by default), on a
//! fresh database: first pgbench, with the same number of clients, writes
//! one inbox row and one job row per transaction on the project's schema
//! (the one-transaction-per-delivery limit); then the service, in release
//! and in a process of its own (HTTP only, no workers), receives real-format
//! `PATIENT_MODIFY` deliveries, each a new patient with its own delivery
//! id, from an in-process load generator. Afterwards the database must hold
//! every delivery and its job, or the run fails. One JSON line per figure,
//! then one with the ratio of the two.
//!
//! `--audit` then measures, with pgbench at the highest concurrency, what
//! each index and trigger of `webhook_deliveries` and the job table costs:
//! the rate with it dropped (or disabled) beside the rate with all.

mod pgbench;
mod senders;
pub mod service;

use anyhow::{Result, bail};
use serde::Serialize;

use super::report::{self, r3};
use crate::db;

const DATABASE: &str = "bench_dcs_ingest";

#[derive(clap::Args, Debug)]
pub struct IngestArgs {
    /// Deliveries sent at each concurrency (after a warm-up of 200).
    #[arg(long, default_value_t = 10_000)]
    pub deliveries: usize,
    /// Concurrent senders; one run each.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 10, 32])]
    pub senders: Vec<usize>,
    /// Seconds each pgbench run lasts.
    #[arg(long, default_value_t = 10)]
    pub pgbench_secs: u64,
    /// Also measure each index's and trigger's cost on the two tables.
    #[arg(long)]
    pub audit: bool,
    /// The service's INGEST_MAX_BATCH (1: one transaction per delivery).
    #[arg(long)]
    pub max_batch: Option<usize>,
    /// The service's INGEST_COMMITS_IN_FLIGHT.
    #[arg(long)]
    pub commits_in_flight: Option<usize>,
}

#[derive(Serialize)]
struct Line {
    system: String,
    workload: &'static str,
    jobs: usize,
    concurrency: usize,
    seconds: f64,
    jobs_per_sec: Option<f64>,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    via: &'static str,
    build: &'static str,
}

fn emit(line: &impl Serialize) {
    println!("{}", serde_json::to_string(line).unwrap_or_default());
}

pub async fn run(args: IngestArgs) -> Result<()> {
    if args.senders.is_empty() || args.senders.contains(&0) {
        bail!("--senders takes one or more counts of at least 1, such as 1,10,32");
    }
    pgbench::check_installed()?;
    let pg = db::locate().await?;
    let template = senders::template_patient().await?;
    for &senders in &args.senders {
        let url = fresh(&pg.url).await?;
        let reference = pgbench::reference(&url, senders, args.pgbench_secs, &template).await?;
        emit(&Line {
            system: report::system(),
            workload: "ingest_pgbench",
            jobs: reference.transactions,
            concurrency: senders,
            seconds: r3(reference.seconds),
            jobs_per_sec: Some(r3(reference.tps)),
            p50_ms: None,
            p99_ms: None,
            via: "pgbench",
            build: report::build(),
        });
        let url = fresh(&pg.url).await?;
        let measured = senders::measure(&url, senders, args.deliveries, &template, &service::tuning(&args)).await?;
        emit(&Line {
            system: report::system(),
            workload: "ingest",
            jobs: measured.deliveries,
            concurrency: senders,
            seconds: r3(measured.seconds),
            jobs_per_sec: Some(r3(measured.per_sec())),
            p50_ms: Some(report::nearest_rank_ms(&measured.latencies, 0.50)),
            p99_ms: Some(report::nearest_rank_ms(&measured.latencies, 0.99)),
            via: "http",
            build: report::build(),
        });
        emit(&serde_json::json!({
            "system": report::system(),
            "workload": "ingest_ratio",
            "concurrency": senders,
            "http_per_pgbench": r3(measured.per_sec() / reference.tps),
        }));
    }
    if args.audit {
        let url = fresh(&pg.url).await?;
        let most = args.senders.iter().copied().max().unwrap_or(32);
        pgbench::audit(&url, most, args.pgbench_secs, &template).await?;
    }
    db::drop_database(&pg.url, DATABASE).await
}

/// The scratch database, recreated empty and migrated.
async fn fresh(admin_url: &str) -> Result<String> {
    db::drop_database(admin_url, DATABASE).await?;
    let url = db::create_database(admin_url, DATABASE).await?;
    let pool = sqlx::PgPool::connect(&url).await?;
    jobs::migrate::run(&pool).await?;
    // Dropping the last database forced a checkpoint; start each run after
    // one of our own, so its writes do not land in the middle of the next.
    sqlx::query("CHECKPOINT").execute(&pool).await?;
    pool.close().await;
    Ok(url)
}

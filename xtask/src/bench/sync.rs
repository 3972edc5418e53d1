//! `cargo xtask bench sync`: what applying DrChrono records costs, in API
//! calls (the 500-an-hour budget decides real sync time) and in upsert speed.
//!
//! JSON lines: `sync_webhook` and `sync_list` report calls per 1,000
//! records applied by each path; `apply_records` reports rows/s for batches
//! of 1,000 patients through the same statement the jobs use. Then the call
//! counts a practice sees (`sync_calls`): a first full sync per kind next
//! to its floor ⌈records / page maximum⌉, an incremental pass with nothing
//! changed, and the nightly chart pass. The hourly budget is lifted for the
//! run: it counts calls, it does not wait for the clock.

use anyhow::{Context, Result};
use job_runner::enqueue;
use jobs::{catalog::SyncRecords, domain::RecordKind};
use sandbox::{Kind, Sandbox, SandboxConfig, WebhookSender};
use serde::Serialize;
use std::time::{Duration, Instant};

use crate::{db, service};

/// Empties the patients between passes; their insurance rows reference them.
const EMPTY_PATIENTS: &str = "TRUNCATE patients, patient_insurances";

#[derive(clap::Args, Debug)]
pub struct SyncArgs {
    /// Patients in the sandbox practice (each also has appointments, notes, ...).
    #[arg(long, default_value_t = 10_000)]
    pub patients: usize,
}

#[derive(Serialize)]
struct SyncLine {
    system: String,
    workload: &'static str,
    jobs: u64,
    concurrency: usize,
    seconds: f64,
    jobs_per_sec: Option<f64>,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    rows: u64,
    calls: u64,
    calls_per_1000_records: f64,
}

fn emit(workload: &'static str, rows: u64, seconds: f64, calls: u64) {
    let line = SyncLine {
        system: super::report::system(),
        workload,
        jobs: rows,
        concurrency: 1,
        seconds: r3(seconds),
        jobs_per_sec: Some(r3(rows as f64 / seconds)),
        p50_ms: None,
        p99_ms: None,
        rows,
        calls,
        calls_per_1000_records: r3(calls as f64 * 1000.0 / rows.max(1) as f64),
    };
    println!("{}", serde_json::to_string(&line).unwrap_or_default());
}

fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub async fn run(args: SyncArgs) -> Result<()> {
    let server = db::locate().await?;
    let name = "bench_dcs_sync";
    let url = db::create_database(&server.url, name).await?;
    let result = measure(&url, args.patients).await;
    db::drop_database(&server.url, name).await?;
    result
}

async fn measure(url: &str, patients: usize) -> Result<()> {
    let sandbox = Sandbox::spawn(SandboxConfig { patients, ..Default::default() }).await?;
    let svc = service::start_with(url, &sandbox, |s| s.drchrono_calls_per_hour = 1_000_000).await?;
    eprintln!("bench: sandbox practice of {patients} patients; service at {}", svc.url);

    let sender = WebhookSender::new(svc.webhook_url(), service::WEBHOOK_SECRET);
    let ids: Vec<i64> = sandbox.ids(Kind::Patient).into_iter().take(1000).collect();
    sandbox.reset_counters();
    let t0 = Instant::now();
    for id in &ids {
        let patient = sandbox.record(Kind::Patient, *id).context("sandbox patient")?;
        sender.send("PATIENT_MODIFY", &patient).await?;
    }
    service::wait_for_jobs(&svc.pool, Duration::from_secs(300)).await?;
    emit("sync_webhook", count(&svc.pool, "patients").await?, t0.elapsed().as_secs_f64(), sandbox.calls());

    sqlx::raw_sql(EMPTY_PATIENTS).execute(&svc.pool).await?;
    sandbox.reset_counters();
    let t0 = Instant::now();
    enqueue(&svc.pool, &SyncRecords::all(RecordKind::Patient)).await?;
    service::wait_for_jobs(&svc.pool, Duration::from_secs(300)).await?;
    emit("sync_list", count(&svc.pool, "patients").await?, t0.elapsed().as_secs_f64(), sandbox.calls());

    upsert_batches(&svc.pool, &sandbox).await?;
    sqlx::raw_sql(EMPTY_PATIENTS).execute(&svc.pool).await?;
    super::sync_calls::report(&svc.pool, &sandbox).await
}

async fn count(pool: &sqlx::PgPool, table: &'static str) -> Result<u64> {
    let sql = format!("SELECT count(*) FROM {table}");
    Ok(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await? as u64)
}

/// Ten batches of 1,000 patients with fresh ids, through `apply_records`.
async fn upsert_batches(pool: &sqlx::PgPool, sandbox: &Sandbox) -> Result<()> {
    let template: Vec<serde_json::Value> =
        sandbox.ids(Kind::Patient).iter().filter_map(|id| sandbox.record(Kind::Patient, *id)).collect();
    anyhow::ensure!(!template.is_empty(), "the sandbox has no patients");
    let mut rows = 0u64;
    let t0 = Instant::now();
    for batch in 0..10u64 {
        let objects: Vec<_> = (0..1000u64)
            .map(|i| {
                let mut p = template[(i as usize) % template.len()].clone();
                p["id"] = (10_000_000 + batch * 1000 + i).into();
                p
            })
            .collect();
        let counts = jobs::catalog::apply_records(
            pool,
            RecordKind::Patient,
            &objects,
            "bench",
            &jobs::JobSettings::default().locale(),
        )
        .await?;
        rows += counts.changed();
    }
    emit("upsert_batch", rows, t0.elapsed().as_secs_f64(), 0);
    Ok(())
}

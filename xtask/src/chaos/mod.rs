//! `cargo xtask chaos`: deliveries under SIGKILLs and a Postgres crash.
//!
//! A burst of real-format DrChrono deliveries (several versions of each
//! record) goes to the service running as separate processes, one HTTP and
//! several workers, on a throw-away Postgres cluster; meanwhile workers are
//! SIGKILLed at random moments, the HTTP process once, and Postgres is
//! crashed and restarted once. After the queue drains, [`verify`] checks
//! what a 2xx promised, and one line of figures is printed. Any violation,
//! or any answer other than 2xx, 503 or a dropped connection, exits 1.
//!
//! It never touches the machine's shared Postgres: the cluster it crashes is
//! its own, in a temporary directory, removed at the end.

mod answers;
mod faults;
mod load;
mod report;
mod verify;

use anyhow::{Context, Result, bail};
use clap::Args;
use sandbox::{Sandbox, SandboxConfig, WebhookSender};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::task::JoinSet;

use crate::{
    db::{self, ScratchCluster},
    service,
    service_process::{self, RoleProcess, ServiceBinary},
};
use answers::Tally;
use faults::FaultCounts;

const DATABASE: &str = "drchrono_sync_chaos";

#[derive(Args, Debug)]
pub struct ChaosArgs {
    /// Seconds the burst lasts.
    #[arg(long, default_value_t = 45, value_parser = clap::value_parser!(u64).range(10..=600))]
    seconds: u64,
    /// Deliveries in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Records the burst changes, spread over six kinds.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u16).range(6..=1000))]
    objects: u16,
    /// Worker processes, each SIGKILLed at random moments and started again.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(2..=8))]
    workers: u16,
    /// Seconds to wait for the queue to drain after the burst.
    #[arg(long, default_value_t = 300)]
    drain_seconds: u64,
}

pub async fn run(args: ChaosArgs) -> Result<()> {
    let result = tokio::select! {
        result = chaos(args) => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted; the scratch cluster was removed")),
    };
    if result.is_err() {
        // Tasks aborted on the way out drop (and so SIGKILL) their processes
        // when next polled; give them that moment before xtask exits.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    result
}

/// Everything the run started, dropped (killed, removed) when it returns.
async fn chaos(args: ChaosArgs) -> Result<()> {
    let started = Instant::now();
    let binary = service_process::build()?;
    let cluster = ScratchCluster::create("chaos").await?;
    eprintln!("chaos: scratch Postgres in {} on 127.0.0.1:{}", cluster.data_dir().display(), cluster.port);
    let url = db::create_database(&cluster.url, DATABASE).await?;
    let sandbox = Arc::new(Sandbox::spawn(SandboxConfig { patients: 30, ..Default::default() }).await?);
    let logs = db::target_dir().join("chaos").join(chrono::Utc::now().format("%Y%m%dT%H%M%S").to_string());
    let (bin, http_url) = configure(binary, &url, &sandbox, logs)?;
    eprintln!("chaos: service logs in {}", bin.logs().display());
    bin.migrate().await?;
    let http = bin.spawn("serve", "http")?;
    service_process::wait_until_healthy(&http_url, Duration::from_secs(60)).await?;

    let targets = Arc::new(load::targets(&sandbox, usize::from(args.objects)));
    let (tally, counts) = (Arc::new(Tally::default()), Arc::new(FaultCounts::default()));
    let burst = Duration::from_secs(args.seconds);
    let (start, until) = (Instant::now(), Instant::now() + burst);
    let bin = Arc::new(bin);
    let mut tasks = JoinSet::new();
    for i in 0..args.workers {
        let worker = bin.spawn("work", &format!("worker{i}"))?;
        tasks.spawn(faults::kill_workers(bin.clone(), worker, until, counts.clone()));
    }
    tasks.spawn(faults::kill_http_once(bin.clone(), http, (start, burst, until), counts.clone()));
    let restarter = cluster.restarter();
    let pg = tokio::spawn(faults::restart_postgres_once(restarter, start, burst, counts.clone()));
    let progress = tokio::spawn(report::progress(start, burst, tally.clone(), counts.clone()));

    let sender = WebhookSender::new(format!("{http_url}/webhooks/drchrono"), service::WEBHOOK_SECRET);
    let concurrency = usize::from(args.concurrency);
    let sent = load::burst(sandbox.clone(), sender, targets.clone(), concurrency, until, tally.clone()).await;
    let processes = collect(&mut tasks).await;
    progress.abort();
    let pg_restarted = pg.await.context("the Postgres restart task failed");
    let _processes = processes?;
    pg_restarted??;
    eprintln!("chaos: burst over; {} deliveries sent, waiting for the queue to drain", sent.len());

    service_process::wait_until_healthy(&http_url, Duration::from_secs(30)).await?;
    let pool = sqlx::PgPool::connect(&url).await.context("connect to the chaos database after the burst")?;
    report::drain(&pool, Duration::from_secs(args.drain_seconds)).await?;
    let findings = verify::check(&pool, &targets, &sent).await?;
    let figures = report::Figures::new(&sent, &tally, &counts, &findings, targets.len(), started.elapsed());
    println!("{}", figures.line());
    pool.close().await;
    report::explain(&figures, &tally, &findings, bin.logs());
    if figures.failed() {
        bail!("chaos found violations (figures above); service logs in {}", bin.logs().display());
    }
    Ok(())
}

/// The processes' settings: the sandbox, a fixed HTTP port (a restarted
/// HTTP process must come back where the sender sends), audit values kept
/// so versions can be counted, and orphans rescued within seconds.
fn configure(
    binary: std::path::PathBuf,
    url: &str,
    sandbox: &Sandbox,
    logs: std::path::PathBuf,
) -> Result<(ServiceBinary, String)> {
    let mut bin = ServiceBinary::new(binary, url, sandbox, logs)?;
    let port = db::any_free_port()?;
    bin.set("BIND_ADDR", format!("127.0.0.1:{port}"));
    bin.set("AUDIT_VALUES", "true");
    bin.set("JOB_HEARTBEAT_SECS", "1");
    bin.set("JOB_MISSED_HEARTBEATS", "3");
    bin.set("RUST_LOG", "info,apalis=warn,apalis_core=warn,sqlx=warn");
    Ok((bin, format!("http://127.0.0.1:{port}")))
}

/// Waits for every fault task; the processes they leave running, or the
/// first error (the other tasks are stopped, and their processes killed).
async fn collect(tasks: &mut JoinSet<Result<RoleProcess>>) -> Result<Vec<RoleProcess>> {
    let mut processes = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined.context("a fault task panicked").and_then(|r| r) {
            Ok(process) => processes.push(process),
            Err(e) => {
                tasks.shutdown().await;
                return Err(e);
            }
        }
    }
    Ok(processes)
}

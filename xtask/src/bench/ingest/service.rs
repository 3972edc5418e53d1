//! The service for the ingest benchmark: this release binary re-run as
//! `xtask bench ingest-service`, which serves HTTP exactly as
//! `drchrono-sync serve` does (settings from the environment, the same
//! pool, logging and routes), in a process of its own so the load
//! generator does not share its threads.

use anyhow::{Context, Result, bail};
use std::{process::Stdio, sync::Arc};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// The webhook secret the benchmark's service and senders share.
pub const SECRET: &str = "bench-ingest-webhook-secret";

/// The running service; dropping it kills the process.
pub struct Service {
    pub url: String,
    _child: Child,
}

/// The service variables the benchmark's options set.
pub fn tuning(args: &super::IngestArgs) -> Vec<(&'static str, String)> {
    let mut env = Vec::new();
    if let Some(n) = args.max_batch {
        env.push(("INGEST_MAX_BATCH", n.to_string()));
    }
    if let Some(n) = args.commits_in_flight {
        env.push(("INGEST_COMMITS_IN_FLIGHT", n.to_string()));
    }
    env
}

/// Starts the service on `database_url` (already migrated), with the
/// variables `tuning`, and waits until it listens.
pub async fn start(database_url: &str, tuning: &[(&str, String)]) -> Result<Service> {
    let exe = std::env::current_exe().context("cannot find the xtask binary")?;
    let log = std::env::temp_dir().join("bench-ingest-service.log");
    let out = std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let mut child = Command::new(exe)
        .args(["bench", "ingest-service"])
        .env("XTASK_RELEASE", "1")
        .env("DATABASE_URL", database_url)
        .env("DRCHRONO_WEBHOOK_SECRET", SECRET)
        .envs(tuning.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(out)
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the benchmark's service process")?;
    let stdout = child.stdout.take().context("the service's stdout")?;
    let Some(addr) = BufReader::new(stdout).lines().next_line().await? else {
        bail!("the benchmark's service exited before listening; its log is {}", log.display());
    };
    Ok(Service { url: format!("http://{addr}"), _child: child })
}

/// The process side: serves until killed, after printing its address.
pub async fn serve() -> Result<()> {
    #[derive(clap::Parser)]
    struct Env {
        #[command(flatten)]
        settings: server::Settings,
    }
    let settings = server::config::secrets::parse::<Env>(["ingest-service"]).settings;
    if let Err(line) = settings.check_at_start() {
        bail!("{line}");
    }
    let telemetry = server::telemetry::init(settings.log_format, &settings.telemetry)?;
    let pool = server::connect(&settings).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", listener.local_addr()?);
    let state = server::AppState { pool, settings: Arc::new(settings) };
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let served = server::serve(state, listener, shutdown).await;
    telemetry.shutdown().await;
    served
}

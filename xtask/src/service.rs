//! The service (HTTP and job workers) running inside xtask against a
//! sandbox DrChrono, for the demo and the sync benchmark.

use anyhow::{Context, Result};
use sandbox::Sandbox;
use sqlx::PgPool;
use std::sync::Arc;
use tokio::sync::watch;

pub const WEBHOOK_SECRET: &str = "local-webhook-secret";
pub const DEEPCURA_SECRET: &str = "local-deepcura-secret";

pub struct LocalService {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub pool: PgPool,
    stop: watch::Sender<bool>,
}

impl Drop for LocalService {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl LocalService {
    pub fn webhook_url(&self) -> String {
        format!("{}/webhooks/drchrono", self.url)
    }

    pub fn deepcura_url(&self) -> String {
        format!("{}/webhooks/deepcura", self.url)
    }
}

/// Migrates `database_url` and starts HTTP and workers on it, pointed at
/// `sandbox`, with the settings changed by `adjust` first.
pub async fn start_with(
    database_url: &str,
    sandbox: &Sandbox,
    adjust: impl FnOnce(&mut server::Settings),
) -> Result<LocalService> {
    let pool = PgPool::connect(database_url).await.context("connect to the database")?;
    jobs::migrate::run(&pool).await?;
    let mut settings = settings(database_url, sandbox);
    adjust(&mut settings);
    let (stop, shutdown) = watch::channel(false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let state = server::AppState { pool: pool.clone(), settings: Arc::new(settings.clone()) };
    tokio::spawn(server::serve(state, listener, shutdown.clone()));
    let worker_pool = pool.clone();
    tokio::spawn(async move { server::work(worker_pool, &settings, shutdown).await });
    Ok(LocalService { url, pool, stop })
}

/// The service's defaults, pointed at the sandbox with its plain access token.
fn settings(database_url: &str, sandbox: &Sandbox) -> server::Settings {
    use clap::Parser;
    #[derive(Parser)]
    struct Defaults {
        #[command(flatten)]
        settings: server::Settings,
    }
    let mut s = server::config::secrets::parse::<Defaults>(["xtask"]).settings;
    s.database_url = Some(database_url.to_string());
    s.drchrono_webhook_secret = Some(WEBHOOK_SECRET.into());
    s.drchrono_api_base = sandbox.base_url();
    s.drchrono_access_token = Some(sandbox.current_tokens().0);
    s.deepcura_shared_secret = Some(DEEPCURA_SECRET.into());
    // A fresh key per run: the demo database is recreated each time.
    s.token_encryption_key = Some(jobs::drchrono::TokenKey::from_bytes(rand::random()));
    s
}

/// Waits until no job is pending, running or waiting to retry.
pub async fn wait_for_jobs(pool: &PgPool, limit: std::time::Duration) -> Result<()> {
    Ok(job_runner::queries::wait_until_drained(pool, None, limit).await?)
}

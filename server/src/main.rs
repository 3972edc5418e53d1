//! `drchrono-sync`: keeps a practice's data in step with DrChrono.

use clap::{Parser, Subcommand};
use server::{AppState, Settings};
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "drchrono-sync", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    role: Option<Role>,

    /// Do not apply migrations at start.
    #[arg(long, global = true)]
    no_migrate: bool,

    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand, Clone)]
enum Role {
    /// HTTP, job workers and scheduler in one process (the default).
    All,
    /// HTTP only: webhooks, health, operator endpoints.
    Serve,
    /// Job workers only.
    Work,
    /// The cron scheduler only.
    Schedule,
    /// Apply every migration and exit.
    Migrate,
    /// Authorize the app in DrChrono (OAuth): prints the URL to open, receives the callback,
    /// stores the tokens encrypted, and reports doctors, offices and the scopes granted.
    Connect(server::connect::ConnectArgs),
    /// Preflight: database, migrations, tokens, inbound endpoints, S3, OTLP, time zone, in one table;
    /// exits 1 if a required part fails.
    Check,
}

#[tokio::main]
async fn main() {
    let _ = dotenvy::dotenv();
    let cli: Cli = server::config::secrets::parse(std::env::args_os());
    if let Err(line) = cli.settings.check_at_start() {
        eprintln!("error: {line}");
        std::process::exit(2);
    }
    let telemetry = match server::telemetry::init(cli.settings.log_format, &cli.settings.telemetry) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    };
    let result = run(cli).await;
    telemetry.shutdown().await;
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let role = cli.role.unwrap_or(Role::All);
    let settings = cli.settings;
    if matches!(role, Role::Check) {
        let report = server::check::run(&settings).await;
        print!("{}", report.render());
        std::process::exit(report.exit_code());
    }
    let pool = server::connect(&settings).await?;
    if matches!(role, Role::Migrate) || !cli.no_migrate {
        server::migrate(&pool).await?;
    }
    match &role {
        Role::Migrate => return Ok(()),
        Role::Connect(args) => {
            server::connect::run(&pool, &settings, args).await?;
            return Ok(());
        }
        _ => server::check::run_with(&settings, Ok(&pool)).await.log(),
    }
    let shutdown = server::shutdown_signal();
    let state = AppState { pool: pool.clone(), settings: Arc::new(settings.clone()) };
    let http = async {
        let listener = tokio::net::TcpListener::bind(settings.bind_addr()).await.map_err(|e| {
            anyhow::anyhow!("cannot listen on {}: {e}; set BIND_ADDR to a free address", settings.bind_addr())
        })?;
        match settings.telemetry.metrics_bind_addr {
            Some(addr) => {
                let metrics = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                    anyhow::anyhow!("cannot listen on {addr}: {e}; set METRICS_BIND_ADDR to a free address")
                })?;
                tracing::info!(%addr, "metrics listening");
                let metrics = server::routes::metrics::serve(state.clone(), metrics, shutdown.clone());
                tokio::try_join!(server::serve(state, listener, shutdown.clone()), metrics).map(|_| ())
            }
            None => server::serve(state, listener, shutdown.clone()).await,
        }
    };
    match role {
        Role::Serve => http.await,
        Role::Work => {
            server::work(pool, &settings, shutdown.clone()).await;
            Ok(())
        }
        Role::Schedule => {
            server::schedule(pool, &settings, shutdown.clone()).await;
            Ok(())
        }
        Role::All | Role::Migrate | Role::Connect(_) | Role::Check => {
            let (h, (), ()) = tokio::join!(
                http,
                server::work(pool.clone(), &settings, shutdown.clone()),
                server::schedule(pool.clone(), &settings, shutdown.clone())
            );
            h
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}

//! `cargo xtask`: project automation in Rust instead of shell scripts
//! (matklad's xtask pattern). One module per subcommand; each subcommand's
//! `///` doc is its `--help`.
//!
//! Cargo is always invoked through the `CARGO` environment variable, so the
//! toolchain that runs xtask is the one that builds and tests.

mod bench;
mod chaos;
mod check;
mod chromium;
mod config;
mod connect;
mod db;
mod deepcura;
mod deliveries;
mod demo;
mod fuzz;
mod layout;
mod ops;
mod patients;
mod pdf;
mod rotate_key;
mod sandbox;
mod service;
mod service_process;
mod sync;
mod sync_estimate;
mod sync_progress;
mod test;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", about = "Project automation for drchrono-sync", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the service against the sandbox DrChrono, send deliveries, and print what landed.
    Demo(demo::DemoArgs),
    /// Authorize the app in DrChrono (OAuth) and store its tokens: `drchrono-sync connect`.
    Connect(server::connect::ConnectArgs),
    /// Preflight of the deployment in one table, non-zero on a failed required part: `drchrono-sync check`.
    Check,
    /// Walk one record type from DrChrono now (`--full` for everything), with progress.
    Sync(sync::SyncArgs),
    /// Revive dead jobs with a fresh attempt budget (filters; --dry-run). Exit 2 when nothing matched.
    RetryFailed(ops::RetryArgs),
    /// Inspect jobs: stats, list, show ID.
    #[command(subcommand)]
    Jobs(ops::JobsCommand),
    /// Deep Cura notes awaiting review (`deepcura unlinked`), and settling them by hand (`link`, `unlinkable`).
    #[command(subcommand)]
    Deepcura(deepcura::DeepCuraCommand),
    /// The webhook inbox: list stored deliveries, replay them (--dry-run). Exit 2 when nothing matched.
    #[command(subcommand)]
    Deliveries(deliveries::DeliveriesCommand),
    /// Re-seal every sealed value under TOKEN_ENCRYPTION_KEY (the old key in _PREVIOUS); resumable, --dry-run counts.
    RotateKey(rotate_key::RotateKeyArgs),
    /// Find or start Postgres, and manage scratch databases.
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Check the layout, fmt and clippy, then run the whole workspace's tests against a real Postgres (found or started).
    Test(test::TestArgs),
    /// Check the layout: the runner knows no domain, the job table is the runner's, no import cycle in jobs/src.
    Layout(layout::LayoutArgs),
    /// Serve the fake DrChrono API until stopped; prints the credentials it accepts.
    Sandbox(sandbox::SandboxArgs),
    /// Patients in the mirror: `patients search` by name, birth date or phone (audited; no DrChrono call).
    #[command(subcommand)]
    Patients(patients::PatientsCommand),
    /// Note PDF archive: list notes whose PDF needs review, or check one again.
    #[command(subcommand)]
    Pdf(pdf::PdfCommand),
    /// Deliveries while workers, the HTTP process and Postgres are killed; checks nothing was lost (minutes).
    Chaos(chaos::ChaosArgs),
    /// Malformed bodies with valid credentials on every inbound endpoint; non-zero on any 5xx, panic or poison job.
    Fuzz(fuzz::FuzzArgs),
    /// Measure the job runner (one JSON line per figure on stdout; release build).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// The cargo that launched us (`cargo xtask` sets `CARGO`), else `cargo` on PATH.
///
/// `SQLX_OFFLINE=true` (unless the caller chose otherwise): apalis-postgres
/// checks its SQL with sqlx macros, which go online whenever `DATABASE_URL`
/// is set. The URLs xtask exports point at unmigrated databases, so any
/// rebuild of that crate would fail; its shipped `.sqlx` data is what it needs.
pub fn cargo() -> std::process::Command {
    let mut cmd = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    if std::env::var_os("SQLX_OFFLINE").is_none() {
        cmd.env("SQLX_OFFLINE", "true");
    }
    cmd
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    // The runner logs every attempt at info; a benchmark must not pay for
    // that. Under fuzz every case is meant to be refused, and the service's
    // warning for each would bury the progress lines.
    let quiet = matches!(cli.command, Command::Fuzz(_));
    let default_filter = if quiet { "error,sqlx=error" } else { "warn,sqlx=error" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    if !matches!(&cli.command, Command::Bench(b) if b.logs_on_its_own()) {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }

    let result = match cli.command {
        Command::Demo(args) => demo::run(args).await,
        Command::Sync(args) => sync::run(args).await,
        Command::Connect(args) => connect::run(args).await,
        Command::Check => check::run().await,
        Command::Db(cmd) => db::run(cmd).await,
        Command::RetryFailed(args) => ops::retry_failed(args).await,
        Command::Jobs(cmd) => ops::jobs(cmd).await,
        Command::Deepcura(cmd) => deepcura::run(cmd).await,
        Command::Deliveries(cmd) => deliveries::run(cmd).await,
        Command::RotateKey(args) => rotate_key::run(args).await,
        Command::Test(args) => test::run(args).await,
        Command::Layout(args) => layout::run(args),
        Command::Sandbox(args) => sandbox::run(args).await,
        Command::Bench(cmd) => bench::run(cmd).await,
        Command::Chaos(args) => chaos::run(args).await,
        Command::Fuzz(args) => fuzz::run(args).await,
        Command::Pdf(cmd) => pdf::run(cmd).await,
        Command::Patients(cmd) => patients::run(cmd).await,
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
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

//! The service's `work` role in a process of its own, configured from the
//! environment exactly as `drchrono-sync work` is, for tests that must kill
//! a worker in the middle of a real job.
//!
//! Usage: `service-worker DATABASE_URL QUEUES` (the rest from the service's
//! variables). Prints its process id on the first line of stdout, then runs
//! until killed.

use std::io::Write;

#[tokio::main]
async fn main() {
    integration_tests::child::log_to_stderr("info,apalis=warn,apalis_core=warn,sqlx=warn");
    let mut argv = std::env::args().skip(1);
    let url = argv.next().expect("usage: service-worker DATABASE_URL QUEUES");
    let queues = argv.next().expect("usage: service-worker DATABASE_URL QUEUES");
    let mut settings = integration_tests::child::service_settings("service-worker");
    if let Err(line) = settings.check_at_start() {
        eprintln!("error: {line}");
        std::process::exit(2);
    }
    settings.database_url = Some(url.clone());
    settings.runner.job_queues = Some(queues.split(',').map(str::to_string).collect());
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(6)
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_lazy(&url)
        .expect("valid DATABASE_URL");
    let config = settings.runner_config();
    println!("{}", config.process_id);
    std::io::stdout().flush().expect("stdout");
    let ctx = jobs::JobContext::new(pool.clone(), settings.job_settings());
    let (_stop, rx) = tokio::sync::watch::channel(false);
    jobs::registry::all().run(pool, ctx, config, rx).await;
}

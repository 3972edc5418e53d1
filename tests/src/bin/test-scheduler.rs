//! A scheduler process with one test schedule, for tests that run several
//! replicas against one database or cut its connection.
//!
//! Usage: `test-scheduler DATABASE_URL [CRON]` (default `*/2 * * * * *`).
//! The schedule `test_tick` enqueues one `test_noop` job per tick, keyed
//! `cron:test_tick:{tick}`. Prints its pid on the first line of stdout once
//! the schedule is built, then runs until killed.

use integration_tests::test_jobs::Noop;
use std::io::Write;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info,sqlx=warn"))
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("usage: test-scheduler DATABASE_URL [CRON]");
    let cron: scheduler::Cron =
        args.next().as_deref().unwrap_or("*/2 * * * * *").parse().unwrap_or_else(|e| panic!("CRON argument: {e}"));
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_lazy(&url)
        .expect("valid DATABASE_URL");
    let schedules =
        scheduler::Schedules::new().job("test_tick", &cron, |tick| Noop { tag: tick.key(), key: Some(tick.key()) });
    println!("{}", std::process::id());
    std::io::stdout().flush().expect("stdout");
    let (_stop, rx) = tokio::sync::watch::channel(false);
    scheduler::run(pool, schedules, rx).await;
}

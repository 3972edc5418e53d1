//! A worker process running the test job types, for tests that must kill a
//! process (SIGKILL, abort) or cut its database connection.
//!
//! Usage: `test-worker DATABASE_URL [queue,queue...]`. Prints its process id
//! on the first line of stdout, then runs until killed.

use integration_tests::test_jobs::{TestCtx, fast_config, registry};
use std::io::Write;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info,apalis=warn,apalis_core=warn,sqlx=warn"))
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("usage: test-worker DATABASE_URL [queues]");
    let mut config = fast_config();
    config.queues = args.next().map(|q| q.split(',').map(str::to_string).collect());
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(6)
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_lazy(&url)
        .expect("valid DATABASE_URL");
    println!("{}", config.process_id);
    std::io::stdout().flush().expect("stdout");
    let (_stop, rx) = tokio::sync::watch::channel(false);
    registry().run(pool.clone(), TestCtx::new(pool), config, rx).await;
}

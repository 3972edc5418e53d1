//! The service's `serve` role in a process of its own, configured from the
//! environment exactly as `drchrono-sync serve` is, for tests that must kill
//! it right after it answers.
//!
//! Usage: `service-http DATABASE_URL` (the rest from the service's
//! variables; the database already migrated). Prints the address it
//! listens on as the first line of stdout, then serves until killed.

use std::{io::Write, sync::Arc};

#[tokio::main]
async fn main() {
    integration_tests::child::log_to_stderr("warn,sqlx=warn");
    let url = std::env::args().nth(1).expect("usage: service-http DATABASE_URL");
    let mut settings = integration_tests::child::service_settings("service-http");
    settings.database_url = Some(url);
    if let Err(line) = settings.check_at_start() {
        eprintln!("error: {line}");
        std::process::exit(2);
    }
    let pool = server::connect(&settings).await.expect("the database is reachable");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    println!("{}", listener.local_addr().expect("addr"));
    std::io::stdout().flush().expect("stdout");
    let state = server::AppState { pool, settings: Arc::new(settings) };
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    server::serve(state, listener, shutdown).await.expect("serves");
}

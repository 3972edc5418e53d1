//! The service's `serve` role in a process of its own, configured from the
//! environment exactly as `drchrono-sync serve` is, for tests that must kill
//! it right after it answers.
//!
//! Usage: `service-http DATABASE_URL` (the rest from the service's
//! variables; the database already migrated). Prints the address it
//! listens on as the first line of stdout, then serves until killed.

use clap::Parser;
use std::{io::Write, sync::Arc};

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    settings: server::Settings,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn,sqlx=warn"))
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
    let url = std::env::args().nth(1).expect("usage: service-http DATABASE_URL");
    let mut settings = server::config::secrets::parse::<Args>(["service-http"]).settings;
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

//! The service's own job workers (`server::work`, every production job),
//! configured from the environment exactly as the service is, for tests that
//! must kill a real worker mid-job. Prints one line on stdout once started.

use clap::Parser;
use server::Settings;
use std::io::Write;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    settings: Settings,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info,apalis=warn,apalis_core=warn,sqlx=warn"))
        .with_writer(std::io::stderr)
        .init();
    let settings = Args::parse().settings;
    let pool = server::connect(&settings).await.expect("DATABASE_URL reachable");
    println!("service-worker {}", std::process::id());
    std::io::stdout().flush().expect("stdout");
    let (_stop, rx) = tokio::sync::watch::channel(false);
    server::work(pool, &settings, rx).await;
}

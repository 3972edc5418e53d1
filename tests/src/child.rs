//! What every child binary of the tests (`src/bin/`) does first.

use clap::Parser;

/// Logs to stderr, without colour, at `filter` (an `EnvFilter` directive):
/// the parent test keeps or shows the lines.
pub fn log_to_stderr(filter: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
}

/// The service's settings from the environment, read as `drchrono-sync`
/// reads them; `name` stands for the program in error messages.
pub fn service_settings(name: &'static str) -> server::Settings {
    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        settings: server::Settings,
    }
    server::config::secrets::parse::<Args>([name]).settings
}

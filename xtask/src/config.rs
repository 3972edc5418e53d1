//! The service's own configuration and database, for the commands that act
//! on a deployment (`sync`, `deepcura`): the same environment and `.env`
//! the service reads.

use anyhow::{Context, Result};

use crate::db;

pub fn service_settings() -> server::Settings {
    use clap::Parser;
    #[derive(Parser)]
    struct FromEnv {
        #[command(flatten)]
        settings: server::Settings,
    }
    let _ = dotenvy::dotenv();
    server::config::secrets::parse::<FromEnv>(["xtask"]).settings
}

/// `DATABASE_URL`, else a local server found or started, migrated.
pub async fn service_pool(settings: &server::Settings) -> Result<sqlx::PgPool> {
    let url = match settings.database_url.clone() {
        Some(url) => url,
        None => db::locate().await?.url,
    };
    let pool = sqlx::PgPool::connect(&url).await.with_context(|| format!("connect to {}", db::redact(&url)))?;
    jobs::migrate::run(&pool).await?;
    Ok(pool)
}

/// Who runs an operator command, for the audit: `cli:` and the login name.
pub fn cli_actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()))
}

/// Who acts in an operator command that changes something, for
/// `operator_actions`: `--actor`, else the login name.
pub fn operator(actor: Option<String>) -> String {
    actor.or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".into())
}

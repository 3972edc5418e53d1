//! `cargo xtask check`: the service's preflight, `drchrono-sync check`, with
//! the service's own environment; without `DATABASE_URL`, the local Postgres
//! is found or started as for the other commands.

use anyhow::{Result, bail};

use crate::{config::service_settings, db};

pub async fn run() -> Result<()> {
    let mut settings = service_settings();
    if settings.database_url.is_none() {
        settings.database_url = db::locate().await.ok().map(|found| found.url);
    }
    let report = server::check::run(&settings).await;
    print!("{}", report.render());
    if !report.passed() {
        bail!("preflight failed; apply the fixes above");
    }
    Ok(())
}

//! `cargo xtask connect`: the service's `drchrono-sync connect`, with the
//! service's own environment and `.env` (see `server::connect`).

use anyhow::Result;

use crate::config::{service_pool, service_settings};

pub async fn run(args: server::connect::ConnectArgs) -> Result<()> {
    let settings = service_settings();
    let pool = service_pool(&settings).await?;
    server::connect::run(&pool, &settings, &args).await?;
    Ok(())
}

//! The standalone sandbox for the demo (`cargo xtask sandbox`).

use std::net::{Ipv4Addr, SocketAddr};

use crate::{Kind, Sandbox, SandboxConfig};

/// Runs the sandbox on `127.0.0.1:port` until Ctrl-C. Prints what the service
/// needs as `KEY=value` lines (the names the service reads), so the output can
/// be pasted into a `.env` file. The tokens printed are the first pair; the
/// service rotates them on its first refresh and keeps the new pair itself.
pub async fn run_cli(port: u16, patients: usize, seed: u64) -> anyhow::Result<()> {
    let config = SandboxConfig { patients, seed, ..SandboxConfig::default() };
    let sandbox = Sandbox::spawn_on(SocketAddr::from((Ipv4Addr::LOCALHOST, port)), config).await?;
    let config = sandbox.config();
    println!("DRCHRONO_API_BASE={}", sandbox.base_url());
    println!("DRCHRONO_CLIENT_ID={}", config.client_id);
    println!("DRCHRONO_CLIENT_SECRET={}", config.client_secret);
    println!("DRCHRONO_ACCESS_TOKEN={}", config.access_token);
    println!("DRCHRONO_REFRESH_TOKEN={}", config.refresh_token);
    let counts: Vec<String> = Kind::ALL
        .iter()
        .map(|&kind| {
            let resource = kind.path().trim_start_matches("/api/");
            format!("{} {resource}", sandbox.ids(kind).len())
        })
        .collect();
    eprintln!(
        "sandbox: serving {} (seed {seed}); stats at {}/_sandbox/stats; Ctrl-C to stop",
        counts.join(", "),
        sandbox.base_url()
    );
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}

//! `cargo xtask sandbox`: the fake DrChrono from `tests/sandbox`, served on
//! a fixed port for the demo and for trying the service by hand.
//!
//! All behaviour lives in the sandbox crate; this module only parses flags,
//! so the tests and the demo run the very same fake.

use anyhow::{Context, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct SandboxArgs {
    /// Port to listen on (127.0.0.1 only).
    #[arg(long)]
    pub port: u16,
    /// How many synthetic patients to serve.
    #[arg(long, default_value_t = 20)]
    pub patients: usize,
    /// Seed for the synthetic data, so a demo is repeatable.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub async fn run(args: SandboxArgs) -> Result<()> {
    sandbox::run_cli(args.port, args.patients, args.seed)
        .await
        .with_context(|| format!("sandbox on port {} failed (is the port in use? try another --port)", args.port))
}

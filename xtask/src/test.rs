//! `cargo xtask test`: the one command that passes the tests on a fresh
//! machine. It finds or starts Postgres, clears test databases a crashed
//! run left behind, and runs the workspace's tests with `DATABASE_URL` set.
//!
//! It prefers cargo-nextest (one process per test, so a hung or crashing
//! test is isolated and named) and falls back to `cargo test`. Note that
//! nextest does not run doctests.

use anyhow::{Context, Result};
use clap::Args;
use std::process::Stdio;

use crate::{cargo, db};

#[derive(Args, Debug)]
pub struct TestArgs {
    /// Use `cargo test` even when cargo-nextest is installed.
    #[arg(long)]
    pub no_nextest: bool,
    /// Passed to the test runner unchanged, e.g. `-- e2e_webhook` or `-- --no-capture`.
    #[arg(last = true)]
    pub rest: Vec<String>,
}

pub async fn run(args: TestArgs) -> Result<()> {
    let pg = db::locate().await?;
    let dropped = db::drop_test_databases(&pg.url).await?;
    if dropped > 0 {
        eprintln!("test: dropped {dropped} leftover test database(s)");
    }

    let nextest = !args.no_nextest && has_nextest();
    let mut cmd = cargo();
    if nextest {
        cmd.args(["nextest", "run", "--workspace"]);
    } else {
        cmd.args(["test", "--workspace"]);
    }
    cmd.args(&args.rest).env("DATABASE_URL", &pg.url);

    let shown = shown_command(nextest, &args.rest);
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        // CI logs should say up front what ran against what.
        println!("test: database: {}", pg.how);
        println!("test: running: {shown}");
    } else {
        eprintln!("test: running: {shown}");
    }
    let status = cmd.status().with_context(|| format!("cannot start `{shown}`"))?;
    if !status.success() {
        eprintln!("test: failed ({status}); rerun a subset with `cargo xtask test -- NAME_FILTER`");
    }
    std::process::exit(status.code().unwrap_or(1));
}

/// True when `cargo nextest --version` works.
fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn shown_command(nextest: bool, rest: &[String]) -> String {
    let base = if nextest { "cargo nextest run --workspace" } else { "cargo test --workspace" };
    std::iter::once(base.to_string()).chain(rest.iter().cloned()).collect::<Vec<_>>().join(" ")
}

//! `cargo xtask test`: the one command that passes the tests on a fresh
//! machine. It checks the layout, formatting and lints first (all three,
//! naming each that failed), installs Chromium for the browser tests when
//! it is missing (see [`crate::chromium`]), then finds or starts Postgres,
//! clears test databases a crashed run left behind, and runs the
//! workspace's tests with `DATABASE_URL` set.
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
    /// Skip the layout, fmt and clippy checks (for a quick rerun of a subset).
    #[arg(long)]
    pub no_lints: bool,
    /// Passed to the test runner unchanged, e.g. `-- e2e_webhook` or `-- --no-capture`.
    #[arg(last = true)]
    pub rest: Vec<String>,
}

pub async fn run(args: TestArgs) -> Result<()> {
    if !args.no_lints {
        checks()?;
    }
    crate::chromium::ensure()?;
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

/// The layout check, `cargo fmt --check` and clippy with warnings as
/// errors. All three run, so one report names every check that failed.
fn checks() -> Result<()> {
    let mut failed = Vec::new();
    eprintln!("test: checking the layout (cargo xtask layout)");
    if let Err(e) = crate::layout::run(crate::layout::LayoutArgs::default()) {
        eprintln!("test: {e:#}");
        failed.push("layout (`cargo xtask layout`)");
    }
    let lints: [(&str, &[&str]); 2] = [
        ("fmt (`cargo fmt --all --check`; `cargo fmt --all` fixes it)", &["fmt", "--all", "--check"]),
        (
            "clippy (`cargo clippy --workspace --all-targets -- -D warnings`)",
            &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"],
        ),
    ];
    for (name, cargo_args) in lints {
        eprintln!("test: running cargo {}", cargo_args.join(" "));
        let ok = cargo().args(cargo_args).status().with_context(|| format!("cannot start cargo {}", cargo_args[0]))?;
        if !ok.success() {
            failed.push(name);
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    for name in &failed {
        eprintln!("test: failed: {name}");
    }
    anyhow::bail!(
        "{} check(s) failed before any test ran; fix them, or rerun with --no-lints to test anyway",
        failed.len()
    )
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

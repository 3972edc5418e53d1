//! Chromium and its WebDriver for the console's browser tests, from
//! Debian's packages: `cargo xtask test` makes sure both are installed
//! before any test runs, so the tests pass on a machine that never had a
//! browser. No browser is ever downloaded from anywhere but apt: a clinic's
//! build machine may reach nothing else.

use anyhow::{Context, Result, bail};
use std::{path::Path, process::Command};

/// Where Debian's `chromium` and `chromium-driver` put their binaries, and
/// where the browser tests look for them.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

const INSTALL: [&str; 4] = ["install", "-y", "chromium", "chromium-driver"];
const WHAT_TO_RUN: &str = "apt-get update && apt-get install -y chromium chromium-driver";

/// Installs the two packages when either binary is missing: as root with
/// apt-get (updating the package lists once if the first try fails); as
/// anyone else, fails naming the command to run.
pub fn ensure() -> Result<()> {
    if installed() {
        return Ok(());
    }
    if !is_root()? {
        bail!(
            "the console's browser tests need Chromium and chromedriver ({CHROMIUM}, {CHROMEDRIVER}); \
             install them as root with `{WHAT_TO_RUN}` (or `sudo sh -c '{WHAT_TO_RUN}'`), then rerun"
        );
    }
    eprintln!(
        "test: installing Chromium and chromedriver for the console's browser tests \
         (apt-get install -y chromium chromium-driver; this takes a minute)"
    );
    if !apt_get(&INSTALL)? {
        eprintln!("test: the install failed; updating the package lists (apt-get update) and trying again");
        if !apt_get(&["update"])? || !apt_get(&INSTALL)? {
            bail!("apt-get could not install chromium and chromium-driver; run `{WHAT_TO_RUN}` to see why");
        }
    }
    if !installed() {
        bail!("apt-get installed chromium and chromium-driver, but {CHROMIUM} or {CHROMEDRIVER} is still missing");
    }
    eprintln!("test: Chromium and chromedriver are installed");
    Ok(())
}

fn installed() -> bool {
    Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists()
}

/// `id -u` is 0: the workspace forbids the unsafe call `geteuid` would be.
fn is_root() -> Result<bool> {
    let out = Command::new("id").arg("-u").output().context("cannot run `id -u`")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Runs apt-get without prompts, its output shown; true if it succeeded.
fn apt_get(args: &[&str]) -> Result<bool> {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("cannot run apt-get")?;
    Ok(status.success())
}

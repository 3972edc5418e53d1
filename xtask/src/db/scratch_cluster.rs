//! A throw-away Postgres cluster in a temporary directory, for a run that
//! must crash and restart its database server: the machine's own server is
//! shared with other work and must never be restarted for it.
//!
//! Same binaries and same root handling as the private cluster
//! ([`super::private_cluster`]); unlike it, this one listens on any free
//! port, and dropping the handle stops the server and deletes its files,
//! whatever happened before.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

use super::private_cluster::{
    SERVICE_USER, any_free_port, find_bin_dir, init, output_text, path_str, pg, running_as_root, start,
};

/// Durability as in production: a restart must lose nothing committed.
const SETTINGS: [&str; 4] = ["fsync=on", "synchronous_commit=on", "full_page_writes=on", "max_connections=200"];

pub struct ScratchCluster {
    bin: PathBuf,
    data: PathBuf,
    run_as: Option<&'static str>,
    /// Superuser URL of its `postgres` database.
    pub url: String,
    pub port: u16,
}

impl ScratchCluster {
    /// `initdb` into a fresh temporary directory named after `purpose`, then start it.
    pub async fn create(purpose: &str) -> Result<Self> {
        let Some(bin) = find_bin_dir() else {
            bail!(
                "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH.\n\
                 Install them, e.g. `apt-get install postgresql` (Debian/Ubuntu) or \
                 `dnf install postgresql-server` (Fedora), and run this again."
            );
        };
        let data = std::env::temp_dir().join(format!("drchrono-sync-{purpose}-{}", std::process::id()));
        if data.exists() {
            std::fs::remove_dir_all(&data).with_context(|| format!("cannot remove stale {}", data.display()))?;
        }
        let run_as = running_as_root().then_some(SERVICE_USER);
        let port = any_free_port()?;
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        // From here on, Drop cleans up whatever part was made.
        let cluster = Self { bin, data, run_as, url, port };
        init(&cluster.bin, &cluster.data, run_as)?;
        start(&cluster.bin, &cluster.data, port, &SETTINGS, run_as)?;
        super::connect(&cluster.url).await.context("the scratch cluster started but does not accept connections")?;
        Ok(cluster)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// What restarts this cluster, for a task that must not own it: the
    /// cluster is removed when its owner drops it, wherever the task is.
    pub fn restarter(&self) -> Restarter {
        Restarter { bin: self.bin.clone(), data: self.data.clone(), run_as: self.run_as }
    }
}

#[derive(Clone)]
pub struct Restarter {
    bin: PathBuf,
    data: PathBuf,
    run_as: Option<&'static str>,
}

impl Restarter {
    /// A crash and a restart: `pg_ctl restart -m immediate` aborts every
    /// backend without a checkpoint, and the server replays its WAL on start.
    pub fn restart_immediate(&self) -> Result<()> {
        let log = self.data.join("server.log");
        let args = ["-D", path_str(&self.data)?, "-l", path_str(&log)?, "-m", "immediate", "-w", "-t", "60", "restart"];
        let out = pg(&self.bin, "pg_ctl", &args, self.run_as)?;
        if !out.status.success() {
            bail!("pg_ctl restart failed: {}\nSee {} for the server's log", output_text(&out), log.display());
        }
        Ok(())
    }
}

impl Drop for ScratchCluster {
    fn drop(&mut self) {
        if let Ok(data) = path_str(&self.data) {
            let _ = pg(&self.bin, "pg_ctl", &["-D", data, "-m", "immediate", "-w", "stop"], self.run_as);
        }
        if let Err(e) = std::fs::remove_dir_all(&self.data)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            eprintln!("db: could not remove {}: {e}", self.data.display());
        }
    }
}

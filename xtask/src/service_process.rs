//! The service binary, `drchrono-sync`, as child processes (one per role)
//! pointed at a sandbox DrChrono, for runs that must kill them: a SIGKILL
//! leaves no cleanup behind, as when a machine loses power, which the
//! in-process service of [`crate::service`] cannot show.
//!
//! The children get a cleared environment (PATH only) plus what is set
//! here, and run in the log directory, so neither the caller's shell nor
//! the repository's `.env` can point them anywhere else.

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use sandbox::Sandbox;
use std::{
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};
use tokio::process::{Child, Command};

use crate::{db, service};

/// Builds `drchrono-sync` (debug profile) and returns its path.
pub fn build() -> Result<PathBuf> {
    eprintln!("building drchrono-sync (debug)");
    let ok = crate::cargo().args(["build", "--quiet", "-p", "server", "--bin", "drchrono-sync"]).status()?;
    if !ok.success() {
        bail!("cargo build -p server failed; fix the build and run this again");
    }
    Ok(db::target_dir().join("debug").join("drchrono-sync"))
}

/// How to start a role: the binary, its environment and where logs go.
pub struct ServiceBinary {
    path: PathBuf,
    env: Vec<(String, String)>,
    logs: PathBuf,
    started: AtomicUsize,
}

impl ServiceBinary {
    /// Configured for `database_url` and `sandbox`, with the webhook secret
    /// of [`service::WEBHOOK_SECRET`] and a fresh token key; logs in `logs`.
    pub fn new(path: PathBuf, database_url: &str, sandbox: &Sandbox, logs: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
        let config = sandbox.config();
        let (access, refresh) = sandbox.current_tokens();
        let key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>());
        let env = [
            ("DATABASE_URL", database_url.to_string()),
            ("DRCHRONO_WEBHOOK_SECRET", service::WEBHOOK_SECRET.to_string()),
            ("DEEPCURA_SHARED_SECRET", service::DEEPCURA_SECRET.to_string()),
            ("DRCHRONO_API_BASE", sandbox.base_url()),
            ("DRCHRONO_ACCESS_TOKEN", access),
            ("DRCHRONO_REFRESH_TOKEN", refresh),
            ("DRCHRONO_CLIENT_ID", config.client_id.clone()),
            ("DRCHRONO_CLIENT_SECRET", config.client_secret.clone()),
            ("TOKEN_ENCRYPTION_KEY", key),
            ("PATH", std::env::var("PATH").unwrap_or_default()),
        ];
        let env = env.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Ok(Self { path, env, logs, started: AtomicUsize::new(0) })
    }

    /// Sets (or replaces) one variable for every process started after.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.env.retain(|(k, _)| k != name);
        self.env.push((name.to_string(), value.into()));
    }

    pub fn logs(&self) -> &Path {
        &self.logs
    }

    /// `drchrono-sync migrate`, to completion.
    pub async fn migrate(&self) -> Result<()> {
        let status = self.command("migrate", &[], "migrate")?.status().await?;
        if !status.success() {
            bail!("drchrono-sync migrate failed ({status}); see {}", self.logs.display());
        }
        Ok(())
    }

    /// Starts `drchrono-sync --no-migrate ROLE`; `name` labels its log file.
    pub fn spawn(&self, role: &str, name: &str) -> Result<RoleProcess> {
        let child = self.command(role, &["--no-migrate"], name)?.kill_on_drop(true).spawn()?;
        Ok(RoleProcess { role: role.to_string(), name: name.to_string(), child })
    }

    /// A new process of the same role and name as `old` (which is not stopped here).
    pub fn again(&self, old: &RoleProcess) -> Result<RoleProcess> {
        self.spawn(&old.role, &old.name)
    }

    fn command(&self, role: &str, flags: &[&str], name: &str) -> Result<Command> {
        let n = self.started.fetch_add(1, Ordering::Relaxed);
        let log = self.logs.join(format!("{n:03}-{name}.log"));
        let out = std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
        let mut cmd = Command::new(&self.path);
        cmd.args(flags)
            .arg(role)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.logs)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        Ok(cmd)
    }
}

/// One running role. Dropping it kills it.
pub struct RoleProcess {
    role: String,
    pub name: String,
    child: Child,
}

impl RoleProcess {
    /// SIGKILL: no graceful shutdown, no cleanup; waits until it is gone.
    pub async fn kill(&mut self) -> Result<()> {
        self.child.kill().await.with_context(|| format!("cannot SIGKILL {}", self.name))
    }

    /// The exit status, if it has ended by itself.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

/// Polls `GET {url}/health` until it answers 200, for at most `limit`.
pub async fn wait_until_healthy(url: &str, limit: Duration) -> Result<()> {
    let http = reqwest::Client::new();
    let start = Instant::now();
    loop {
        let answer = http.get(format!("{url}/health")).timeout(Duration::from_secs(2)).send().await;
        if answer.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        if start.elapsed() > limit {
            bail!("{url}/health did not answer 200 within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

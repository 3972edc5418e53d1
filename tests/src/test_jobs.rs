//! Job types that exercise the runner: each one fails in one specific way.

use chrono::{DateTime, Utc};
use job_runner::{BackgroundJob, JobError, JobOutcome, Registry, RunnerConfig};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

#[derive(Clone)]
pub struct TestCtx {
    pub pool: PgPool,
    /// Tags of the jobs that ran, in order.
    pub ran: Arc<Mutex<Vec<String>>>,
    pub in_flight: Arc<AtomicUsize>,
    pub max_in_flight: Arc<AtomicUsize>,
}

impl TestCtx {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, ran: Default::default(), in_flight: Default::default(), max_in_flight: Default::default() }
    }

    pub fn ran(&self) -> Vec<String> {
        self.ran.lock().unwrap().clone()
    }

    fn record(&self, tag: &str) {
        self.ran.lock().unwrap().push(tag.to_string());
    }
}

/// Succeeds; `key` becomes its dedup key.
#[derive(Serialize, Deserialize)]
pub struct Noop {
    pub tag: String,
    pub key: Option<String>,
}

impl BackgroundJob for Noop {
    const NAME: &'static str = "test_noop";
    type Context = TestCtx;
    fn dedup_key(&self) -> Option<String> {
        self.key.clone()
    }
    async fn run(self, ctx: TestCtx) -> Result<JobOutcome, JobError> {
        ctx.record(&self.tag);
        Ok(JobOutcome::applied(1))
    }
}

/// Always fails in a retryable way.
#[derive(Serialize, Deserialize)]
pub struct AlwaysFails;

impl BackgroundJob for AlwaysFails {
    const NAME: &'static str = "test_always_fails";
    const MAX_ATTEMPTS: i32 = 3;
    type Context = TestCtx;
    async fn run(self, _: TestCtx) -> Result<JobOutcome, JobError> {
        Err(JobError::retryable(anyhow::anyhow!("upstream answered 503")))
    }
}

/// Fails permanently, like a 403.
#[derive(Serialize, Deserialize)]
pub struct Forbidden;

impl BackgroundJob for Forbidden {
    const NAME: &'static str = "test_forbidden";
    type Context = TestCtx;
    async fn run(self, _: TestCtx) -> Result<JobOutcome, JobError> {
        Err(JobError::permanent(anyhow::anyhow!("403: scope patients:read missing")))
    }
}

/// Asks to run again at `until`, like a 429 with a known wait.
#[derive(Serialize, Deserialize)]
pub struct Defer {
    pub until: DateTime<Utc>,
}

impl BackgroundJob for Defer {
    const NAME: &'static str = "test_defer";
    type Context = TestCtx;
    async fn run(self, ctx: TestCtx) -> Result<JobOutcome, JobError> {
        ctx.record("defer");
        Err(JobError::WaitUntil(self.until, anyhow::anyhow!("rate limited")))
    }
}

/// Sleeps, counting how many run at once.
#[derive(Serialize, Deserialize)]
pub struct Sleepy {
    pub ms: u64,
}

impl BackgroundJob for Sleepy {
    const NAME: &'static str = "test_sleepy";
    const CONCURRENCY: usize = 3;
    const TIMEOUT: Duration = Duration::from_secs(2);
    type Context = TestCtx;
    async fn run(self, ctx: TestCtx) -> Result<JobOutcome, JobError> {
        let now = ctx.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        ctx.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(self.ms)).await;
        ctx.in_flight.fetch_sub(1, Ordering::SeqCst);
        ctx.record("sleepy");
        Ok(JobOutcome::applied(0))
    }
}

/// Panics inside the handler.
#[derive(Serialize, Deserialize)]
pub struct Panics;

impl BackgroundJob for Panics {
    const NAME: &'static str = "test_panics";
    const MAX_ATTEMPTS: i32 = 1;
    type Context = TestCtx;
    async fn run(self, _: TestCtx) -> Result<JobOutcome, JobError> {
        panic!("handler bug for job test_panics")
    }
}

/// Kills its whole process, like a poison job that segfaults.
#[derive(Serialize, Deserialize)]
pub struct Crash;

impl BackgroundJob for Crash {
    const NAME: &'static str = "test_crash";
    const MAX_ATTEMPTS: i32 = 3;
    type Context = TestCtx;
    async fn run(self, _: TestCtx) -> Result<JobOutcome, JobError> {
        std::process::abort()
    }
}

/// Runs for `secs` seconds, for jobs that outlive their worker.
#[derive(Serialize, Deserialize)]
pub struct LongRunning {
    pub secs: u64,
    pub tag: String,
}

impl BackgroundJob for LongRunning {
    const NAME: &'static str = "test_long";
    const TIMEOUT: Duration = Duration::from_secs(300);
    type Context = TestCtx;
    async fn run(self, ctx: TestCtx) -> Result<JobOutcome, JobError> {
        tokio::time::sleep(Duration::from_secs(self.secs)).await;
        ctx.record(&self.tag);
        sqlx::query("INSERT INTO test_marks (tag) VALUES ($1)").bind(&self.tag).execute(&ctx.pool).await?;
        Ok(JobOutcome::applied(1))
    }
}

pub fn registry() -> Registry<TestCtx> {
    Registry::new()
        .register::<Noop>()
        .register::<AlwaysFails>()
        .register::<Forbidden>()
        .register::<Defer>()
        .register::<Sleepy>()
        .register::<Panics>()
        .register::<Crash>()
        .register::<LongRunning>()
}

/// Fast settings for tests: 1 s heartbeats, orphans after 2 s, 100 ms polls.
pub fn fast_config() -> RunnerConfig {
    RunnerConfig {
        heartbeat_interval: Duration::from_secs(1),
        missed_heartbeats: 2,
        poll_interval: Duration::from_millis(100),
        batch_size: 10,
        ..Default::default()
    }
}

/// Workers running in this process; stopped when dropped.
pub struct Workers {
    stop: tokio::sync::watch::Sender<bool>,
    pub ctx: TestCtx,
}

impl Drop for Workers {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

pub fn start(pool: &PgPool, config: RunnerConfig) -> Workers {
    let ctx = TestCtx::new(pool.clone());
    let (stop, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(registry().run(pool.clone(), ctx.clone(), config, rx));
    Workers { stop, ctx }
}

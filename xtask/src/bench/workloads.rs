//! The four job-runner workloads of `shared/bench/README.md`, run through
//! the project's own runner API (`job_runner`), never raw apalis, so the
//! figures include every hardening the service pays for.
//!
//! Timing follows the apalis peer (`shared/bench/peers/apalis`) exactly:
//! set-up is untimed; completion is confirmed by counting `Done` rows in the
//! database, after the in-process handler count says all ran (polling the
//! database for the whole run would steal CPU from Postgres on a small box).

use anyhow::{Context, Result, bail, ensure};
use job_runner::{BackgroundJob, JobError, JobOutcome, JobState, Registry, RunnerConfig, enqueue, enqueue_many};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, postgres::PgPoolOptions};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{Notify, watch};

use super::Workload;
use super::report::{Line, RunConfig};

/// The no-op job. `t` is the enqueue time in Unix ms for the latency
/// workload, 0 otherwise.
#[derive(Debug, Serialize, Deserialize)]
pub struct BenchNoop {
    t: f64,
}

/// What the handlers saw, shared by every attempt in this process.
#[derive(Default)]
pub struct Tally {
    handled: AtomicUsize,
    target: AtomicUsize,
    latencies_ms: Mutex<Vec<f64>>,
    all_done: Notify,
}

pub type BenchCtx = Arc<Tally>;

impl BackgroundJob for BenchNoop {
    const NAME: &'static str = "bench_noop";
    type Context = BenchCtx;

    async fn run(self, ctx: BenchCtx) -> Result<JobOutcome, JobError> {
        if self.t > 0.0 {
            let lat = now_ms() - self.t;
            ctx.latencies_ms.lock().unwrap_or_else(|p| p.into_inner()).push(lat);
        }
        if ctx.handled.fetch_add(1, Ordering::SeqCst) + 1 == ctx.target.load(Ordering::SeqCst) {
            ctx.all_done.notify_one(); // stores a permit if no one waits yet
        }
        Ok(JobOutcome::applied(0))
    }
}

fn now_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64() * 1000.0
}

/// Flags of one measurement.
#[derive(Debug, Clone)]
pub struct Plan {
    pub workload: Workload,
    pub jobs: usize,
    pub concurrency: usize,
    pub batch_size: usize,
    pub poll: Duration,
}

impl Plan {
    fn pool_size(&self) -> u32 {
        (self.concurrency + 4) as u32
    }

    fn run_config(&self) -> RunConfig {
        RunConfig {
            batch_size: self.batch_size,
            poll_ms: self.poll.as_millis() as u64,
            pool_size: self.pool_size(),
            build: super::report::build(),
        }
    }
}

/// Migrates the (empty) database at `url` untimed, runs one workload, and
/// prints its JSON line.
pub async fn measure(url: &str, plan: &Plan) -> Result<()> {
    ensure!(plan.jobs > 0 && plan.concurrency > 0, "--jobs and --concurrency must be at least 1");
    let pool = PgPoolOptions::new()
        .max_connections(plan.pool_size())
        .connect(url)
        .await
        .with_context(|| format!("cannot connect to {}", crate::db::redact(url)))?;
    eprintln!("bench: migrating (untimed)");
    jobs::migrate::run(&pool).await?;
    let existing = count(&pool, false).await?;
    ensure!(
        existing == 0,
        "the database already holds {existing} bench jobs; point DATABASE_URL at an empty database \
         (or unset it: xtask then creates and drops its own)"
    );
    eprintln!(
        "bench: {} with {} jobs, concurrency {}, batch {}, poll {} ms",
        plan.workload.name(),
        plan.jobs,
        plan.concurrency,
        plan.batch_size,
        plan.poll.as_millis()
    );
    let line = match plan.workload {
        Workload::Enqueue => enqueue_one_by_one(&pool, plan).await?,
        Workload::EnqueueBatch => enqueue_batch(&pool, plan).await?,
        Workload::Drain | Workload::Latency => with_workers(&pool, plan, url).await?,
    };
    line.emit();
    pool.close().await;
    Ok(())
}

async fn enqueue_one_by_one(pool: &PgPool, plan: &Plan) -> Result<Line> {
    enqueue(pool, &BenchNoop { t: 0.0 }).await?; // warm-up (prepares the statement), then removed
    job_runner::testing::delete_all(pool).await?;
    let t0 = Instant::now();
    for _ in 0..plan.jobs {
        enqueue(pool, &BenchNoop { t: now_ms() }).await?;
    }
    let secs = t0.elapsed().as_secs_f64();
    check_count(pool, false, plan.jobs).await?;
    Ok(Line::throughput("enqueue", plan.jobs, 1, secs, plan.run_config()))
}

async fn enqueue_batch(pool: &PgPool, plan: &Plan) -> Result<Line> {
    let jobs: Vec<BenchNoop> = (0..plan.jobs).map(|_| BenchNoop { t: 0.0 }).collect();
    let t0 = Instant::now();
    let ids = enqueue_many(pool, &jobs).await?;
    let secs = t0.elapsed().as_secs_f64();
    ensure!(ids.len() == plan.jobs, "enqueue_many inserted {} of {} jobs", ids.len(), plan.jobs);
    check_count(pool, false, plan.jobs).await?;
    Ok(Line::throughput("enqueue_batch", plan.jobs, 1, secs, plan.run_config()))
}

/// `drain`: N jobs pre-inserted, clock from worker start to all N `Done`.
/// `latency`: idle worker for 1 s, then a producer process enqueues one job
/// every 10 ms; clock from producer start to all N `Done`.
async fn with_workers(pool: &PgPool, plan: &Plan, url: &str) -> Result<Line> {
    let n = plan.jobs;
    let drain = plan.workload == Workload::Drain;
    if drain {
        eprintln!("bench: pre-inserting {n} jobs (untimed)");
        enqueue_many(pool, &(0..n).map(|_| BenchNoop { t: 0.0 }).collect::<Vec<_>>()).await?;
        check_count(pool, false, n).await?;
    }
    let tally = BenchCtx::default();
    tally.target.store(n, Ordering::SeqCst);
    let config = RunnerConfig {
        batch_size: plan.batch_size,
        poll_interval: plan.poll,
        concurrency: Some(plan.concurrency),
        ..RunnerConfig::default()
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let t0 = Instant::now();
    let runner = tokio::spawn(Registry::<BenchCtx>::new().register::<BenchNoop>().run(
        pool.clone(),
        tally.clone(),
        config,
        stop_rx,
    ));

    let measured = async {
        if drain {
            all_done(pool, &tally, n, Duration::from_secs(300)).await?;
            return Ok(Line::throughput("drain", n, plan.concurrency, t0.elapsed().as_secs_f64(), plan.run_config()));
        }
        tokio::time::sleep(Duration::from_secs(1)).await; // let the worker go idle
        eprintln!("bench: producer enqueues {n} jobs, one every 10 ms (~{} s)", n / 100);
        let t1 = Instant::now();
        run_producer(url, n).await?;
        all_done(pool, &tally, n, Duration::from_secs(120)).await?;
        let secs = t1.elapsed().as_secs_f64();
        let samples = tally.latencies_ms.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Ok::<_, anyhow::Error>(Line::latency(n, plan.concurrency, secs, &samples, plan.run_config()))
    }
    .await;

    let _ = stop_tx.send(true);
    let mut runner = runner;
    if tokio::time::timeout(Duration::from_secs(30), &mut runner).await.is_err() {
        eprintln!("bench: the runner did not stop within 30 s after shutdown; aborting it");
        runner.abort();
    }
    measured
}

/// The producer runs in its own OS process, as an app server would.
async fn run_producer(url: &str, n: usize) -> Result<()> {
    let exe = std::env::current_exe().context("cannot find the xtask binary to start the producer")?;
    let status = tokio::process::Command::new(exe)
        .args(["bench", "latency-producer", "--jobs", &n.to_string()])
        .env("DATABASE_URL", url)
        .env("XTASK_RELEASE", "1")
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .context("cannot start the latency producer")?;
    ensure!(status.success(), "the latency producer failed ({status}); its error is above");
    Ok(())
}

/// The hidden `latency-producer` subcommand: one job every 10 ms, each
/// carrying its own enqueue time, on a fixed schedule (no drift).
pub async fn produce(url: &str, n: usize) -> Result<()> {
    let pool = PgPoolOptions::new().max_connections(2).connect(url).await?;
    let start = now_ms();
    for i in 0..n {
        let wait = start + i as f64 * 10.0 - now_ms();
        if wait > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(wait / 1000.0)).await;
        }
        enqueue(&pool, &BenchNoop { t: now_ms() }).await?;
    }
    pool.close().await;
    Ok(())
}

/// Waits for the handlers to count N in-process, then polls the database
/// every 5 ms until it shows N `Done` rows.
async fn all_done(pool: &PgPool, tally: &Tally, n: usize, timeout: Duration) -> Result<()> {
    if tally.handled.load(Ordering::SeqCst) < n
        && tokio::time::timeout(timeout, tally.all_done.notified()).await.is_err()
    {
        bail!(
            "handlers ran {} of {n} jobs within {} s; look above for runner errors \
             (RUST_LOG=jobs=info shows every attempt)",
            tally.handled.load(Ordering::SeqCst),
            timeout.as_secs()
        );
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = count(pool, true).await?;
        if done == n as i64 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("all {n} handlers ran, but after 60 s the database shows {done} jobs Done");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn count(pool: &PgPool, only_done: bool) -> Result<i64> {
    let states: &[JobState] = if only_done { &[JobState::Done] } else { &JobState::ALL };
    Ok(job_runner::queries::count(pool, Some(BenchNoop::NAME), states).await?)
}

async fn check_count(pool: &PgPool, only_done: bool, n: usize) -> Result<()> {
    let c = count(pool, only_done).await?;
    ensure!(c == n as i64, "the database holds {c} bench jobs, expected {n}");
    Ok(())
}

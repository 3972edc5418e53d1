//! The faults thrown at the service during the burst: worker processes
//! SIGKILLed at random moments and started again, the HTTP process
//! SIGKILLed once and started again on its port, and Postgres crashed and
//! restarted once. A role that exits by itself (it could not reach the
//! database at start, say) is started again and counted.

use anyhow::Result;
use rand::RngExt as _;
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use crate::{
    db::Restarter,
    service_process::{RoleProcess, ServiceBinary},
};

/// How often a role is checked for having exited by itself.
const WATCH: Duration = Duration::from_millis(200);

#[derive(Default)]
pub struct FaultCounts {
    pub worker_kills: AtomicU64,
    pub http_kills: AtomicU64,
    pub pg_restarts: AtomicU64,
    /// Roles that ended without being killed, and were started again.
    pub self_exits: AtomicU64,
}

impl FaultCounts {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// A random moment between `from` and `to` (fractions of the burst) after `start`.
fn moment(start: Instant, burst: Duration, from: f64, to: f64) -> Instant {
    start + burst.mul_f64(rand::rng().random_range(from..to))
}

/// A random pause within `range` milliseconds.
fn millis(range: std::ops::Range<u64>) -> Duration {
    Duration::from_millis(rand::rng().random_range(range))
}

/// Keeps `process` running until `deadline`, started again whenever it exits.
async fn watch_until(
    process: &mut RoleProcess,
    bin: &ServiceBinary,
    deadline: Instant,
    counts: &FaultCounts,
) -> Result<()> {
    while Instant::now() < deadline {
        if process.exited().is_some() {
            counts.self_exits.fetch_add(1, Ordering::Relaxed);
            *process = bin.again(process)?;
        }
        tokio::time::sleep(WATCH.min(deadline.saturating_duration_since(Instant::now()))).await;
    }
    Ok(())
}

/// One worker slot: SIGKILL at random moments until `until`, each followed
/// by a short pause and a new process. Returns the process running at the end.
pub async fn kill_workers(
    bin: Arc<ServiceBinary>,
    mut worker: RoleProcess,
    until: Instant,
    counts: Arc<FaultCounts>,
) -> Result<RoleProcess> {
    loop {
        let next = Instant::now() + millis(1_500..6_000);
        if next >= until {
            watch_until(&mut worker, &bin, until, &counts).await?;
            return Ok(worker);
        }
        watch_until(&mut worker, &bin, next, &counts).await?;
        worker.kill().await?;
        counts.worker_kills.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(millis(0..1_500)).await;
        worker = bin.again(&worker)?;
    }
}

/// The HTTP process: SIGKILLed once at a random moment in the first half of
/// the burst, started again on the same address, and kept running until
/// `until`. Returns the process running at the end.
pub async fn kill_http_once(
    bin: Arc<ServiceBinary>,
    mut http: RoleProcess,
    (start, burst, until): (Instant, Duration, Instant),
    counts: Arc<FaultCounts>,
) -> Result<RoleProcess> {
    watch_until(&mut http, &bin, moment(start, burst, 0.2, 0.4), &counts).await?;
    http.kill().await?;
    counts.http_kills.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep(millis(200..1_500)).await;
    http = bin.again(&http)?;
    watch_until(&mut http, &bin, until, &counts).await?;
    Ok(http)
}

/// Postgres: crashed and restarted once, in the second half of the burst.
pub async fn restart_postgres_once(
    cluster: Restarter,
    start: Instant,
    burst: Duration,
    counts: Arc<FaultCounts>,
) -> Result<()> {
    tokio::time::sleep_until(moment(start, burst, 0.55, 0.75).into()).await;
    tokio::task::spawn_blocking(move || cluster.restart_immediate()).await??;
    counts.pg_restarts.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

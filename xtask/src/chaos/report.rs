//! What the run shows a person: a progress line every few seconds on
//! stderr, the drain's progress, and the one line of figures on stdout.

use anyhow::{Result, bail};
use sqlx::PgPool;
use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use super::{answers::Tally, faults::FaultCounts, load::Sent, verify::Findings};

const EVERY: Duration = Duration::from_secs(5);

/// Prints the burst's counts every [`EVERY`] until aborted.
pub async fn progress(start: Instant, burst: Duration, tally: Arc<Tally>, counts: Arc<FaultCounts>) {
    loop {
        tokio::time::sleep(EVERY).await;
        let get = Tally::get;
        eprintln!(
            "chaos: {:>3}/{} s  answers {} (2xx {}, 503 {}, dropped {}, other {})  kills: workers {}, http {}; postgres restarts {}",
            start.elapsed().as_secs(),
            burst.as_secs(),
            tally.answers(),
            get(&tally.success),
            get(&tally.unavailable),
            get(&tally.dropped),
            get(&tally.other),
            FaultCounts::get(&counts.worker_kills),
            FaultCounts::get(&counts.http_kills),
            FaultCounts::get(&counts.pg_restarts),
        );
    }
}

/// Waits until no job is pending, running or retrying, printing how many
/// are left every [`EVERY`].
pub async fn drain(pool: &PgPool, limit: Duration) -> Result<()> {
    let start = Instant::now();
    let mut shown = Instant::now();
    loop {
        let active = job_runner::queries::count_active_due(pool, None).await?;
        if active == 0 {
            return Ok(());
        }
        if start.elapsed() > limit {
            bail!("{active} jobs still active after {limit:?}; raise --drain-seconds, or see `cargo xtask jobs list`");
        }
        if shown.elapsed() >= EVERY {
            eprintln!("chaos: draining, {active} jobs active after {} s", start.elapsed().as_secs());
            shown = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The run in numbers.
pub struct Figures {
    deliveries: usize,
    /// Of them, older versions re-sent late.
    stale: usize,
    answers: u64,
    success: u64,
    unavailable: u64,
    dropped: u64,
    other: u64,
    /// Deliveries never answered 2xx in all their attempts.
    gave_up: usize,
    objects: usize,
    jobs: i64,
    worker_kills: u64,
    http_kills: u64,
    pg_restarts: u64,
    self_exits: u64,
    elapsed: Duration,
    wrong_version: u64,
    lost: u64,
    duplicates: u64,
    dead_jobs: i64,
}

impl Figures {
    pub fn new(
        sent: &[Sent],
        tally: &Tally,
        counts: &FaultCounts,
        findings: &Findings,
        objects: usize,
        elapsed: Duration,
    ) -> Self {
        let (get, fault) = (Tally::get, FaultCounts::get);
        Self {
            deliveries: sent.len(),
            stale: sent.iter().filter(|s| s.stale).count(),
            answers: tally.answers(),
            success: get(&tally.success),
            unavailable: get(&tally.unavailable),
            dropped: get(&tally.dropped),
            other: get(&tally.other),
            gave_up: sent.iter().filter(|s| !s.succeeded()).count(),
            objects,
            jobs: findings.jobs,
            worker_kills: fault(&counts.worker_kills),
            http_kills: fault(&counts.http_kills),
            pg_restarts: fault(&counts.pg_restarts),
            self_exits: fault(&counts.self_exits),
            elapsed,
            wrong_version: findings.wrong_version,
            lost: findings.lost,
            duplicates: findings.duplicates,
            dead_jobs: findings.dead_jobs,
        }
    }

    /// A violation, an unexpected answer, or a fault that did not happen.
    pub fn failed(&self) -> bool {
        let violated = self.wrong_version > 0 || self.lost > 0 || self.duplicates > 0 || self.dead_jobs > 0;
        let faults_missing = self.worker_kills < 2 || self.http_kills < 1 || self.pg_restarts < 1;
        violated || self.other > 0 || self.gave_up > 0 || faults_missing
    }

    pub fn line(&self) -> String {
        format!(
            "chaos: deliveries={} stale_resends={} answers={} 2xx={} 503={} dropped={} other={} gave_up={} objects={} jobs={} \
             worker_kills={} http_kills={} pg_restarts={} self_exits={} elapsed={:.1}s \
             wrong_version={} lost={} duplicates={} dead_jobs={}",
            self.deliveries,
            self.stale,
            self.answers,
            self.success,
            self.unavailable,
            self.dropped,
            self.other,
            self.gave_up,
            self.objects,
            self.jobs,
            self.worker_kills,
            self.http_kills,
            self.pg_restarts,
            self.self_exits,
            self.elapsed.as_secs_f64(),
            self.wrong_version,
            self.lost,
            self.duplicates,
            self.dead_jobs,
        )
    }
}

/// On stderr, what a failed run needs next: examples and where the logs are.
pub fn explain(figures: &Figures, tally: &Tally, findings: &Findings, logs: &Path) {
    if !figures.failed() {
        return;
    }
    let others = tally.other_examples.lock().unwrap_or_else(|p| p.into_inner());
    for other in others.iter() {
        eprintln!("chaos: unexpected answer: {other}");
    }
    for dead in &findings.dead_examples {
        eprintln!("chaos: dead job: {dead}");
    }
    eprintln!("chaos: service logs in {}", logs.display());
}

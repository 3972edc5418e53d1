//! Cron reconciliation: enqueues sync jobs once per tick across replicas.
//! It only enqueues; the job runner does the work.
//!
//! apalis-cron fires on every replica (DESIGN.md, defect 8), so this crate
//! does not use it. Each replica runs the same [`Schedules`]; a tick is
//! claimed by inserting its row in `scheduler_ticks`, in the transaction
//! that enqueues its jobs (see `fire.rs`). Postgres is the only coordinator.
//!
//! ```ignore
//! let schedules = Schedules::new()
//!     .job("sync_patients", &cfg.schedule_sync_patients, |_tick| SyncRecords { .. })
//!     .add("sync_patient_lists", &cfg.schedule_sync_patient_lists, |conn, tick| {
//!         Box::pin(async move { /* enqueue_at(&mut *conn, ...) per job */ Ok(ids) })
//!     });
//! scheduler::run(pool, schedules, shutdown).await;
//! ```

mod fire;
mod schedules;
mod spec;

pub use schedules::{EnqueueFuture, Schedules, Tick};
pub use spec::{Cron, CronError, EXAMPLE};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::time::{Duration, Instant};
use tokio::sync::watch;

use fire::{FireError, Fired, fire_due};

/// The loop wakes at least this often, so a jump of the wall clock is
/// noticed within a minute.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// Retries after a failed tick: doubling from the first to the last.
const BACKOFF: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(30));
/// A failing database makes one log line per this interval, not one per retry.
const ERROR_LOG_EVERY: Duration = Duration::from_secs(60);

/// Runs `schedules` until `shutdown` turns true. It never returns early:
/// a failing tick is logged (at most once a minute) and retried with
/// backoff; a replica back from an outage fires each schedule's latest
/// missed tick once.
pub async fn run(pool: PgPool, schedules: Schedules, mut shutdown: watch::Receiver<bool>) {
    let fired_by = job_runner::new_process_id();
    for (name, cron) in schedules.list() {
        tracing::info!(schedule = name, cron = %cron, "schedule registered (UTC)");
    }
    let active: Vec<_> = schedules.entries.iter().filter(|e| !e.cron.is_off()).collect();
    if active.is_empty() {
        tracing::info!("scheduler has no active schedule; idle until shutdown");
        let _ = shutdown.wait_for(|s| *s).await;
        return;
    }
    // The latest tick each schedule is known to have fired; it spares a
    // query for a schedule that has nothing due.
    let mut known: Vec<Option<DateTime<Utc>>> = vec![None; active.len()];
    let mut errors = ErrorLog::default();
    let mut backoff = BACKOFF.0;
    tracing::info!(process = %fired_by, schedules = active.len(), "scheduler started");
    loop {
        if *shutdown.borrow() {
            return;
        }
        let now = Utc::now();
        let mut failed = false;
        for (entry, known) in active.iter().zip(known.iter_mut()) {
            let latest = entry.cron.latest_at_or_before(now);
            if known.is_some() && latest <= *known {
                continue;
            }
            match fire_due(&pool, entry, now, &fired_by).await {
                Ok(fired) => {
                    log_fired(entry.name, &fired);
                    *known = fired.latest();
                }
                Err(e) => {
                    failed = true;
                    errors.report(entry.name, &e);
                }
            }
        }
        let wait = if failed {
            let wait = backoff;
            backoff = (backoff * 2).min(BACKOFF.1);
            wait
        } else {
            errors.recovered();
            backoff = BACKOFF.0;
            until_next_tick(&active, now, Utc::now())
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// How long from `now` until the earliest tick of any schedule after
/// `checked`, the time this pass looked at, at most [`MAX_SLEEP`]. A tick
/// that fell due while the pass was still firing is due at once: measuring
/// from `now` instead would sleep past it, and a slow pass would skip it.
fn until_next_tick(active: &[&schedules::Entry], checked: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    let next = active.iter().filter_map(|e| e.cron.next_after(checked)).min();
    next.map_or(MAX_SLEEP, |t| (t - now).to_std().unwrap_or(Duration::ZERO).min(MAX_SLEEP))
        // Wake just after the tick, never just before it, whatever the
        // difference between the monotonic and the wall clock.
        + Duration::from_millis(5)
}

fn log_fired(schedule: &str, fired: &Fired) {
    match fired {
        Fired::Enqueued { tick, jobs } if jobs.is_empty() => {
            tracing::info!(schedule, %tick, "tick fired; an equivalent job is still active, so none was enqueued")
        }
        Fired::Enqueued { tick, jobs } => tracing::info!(schedule, %tick, ?jobs, "tick fired"),
        Fired::ByOther(tick) => tracing::debug!(schedule, %tick, "tick fired by another replica"),
        Fired::NotDue(_) => {}
    }
}

/// Logs the first failure, then at most one line per [`ERROR_LOG_EVERY`]
/// with the count of those left out, and one line on recovery.
#[derive(Default)]
struct ErrorLog {
    last: Option<Instant>,
    suppressed: u64,
    failing: bool,
}

impl ErrorLog {
    fn report(&mut self, schedule: &str, error: &FireError) {
        self.failing = true;
        if self.last.is_some_and(|t| t.elapsed() < ERROR_LOG_EVERY) {
            self.suppressed += 1;
            return;
        }
        self.last = Some(Instant::now());
        let suppressed = std::mem::take(&mut self.suppressed);
        tracing::error!(
            schedule,
            %error,
            suppressed,
            "scheduler tick failed; retrying with backoff (check that Postgres is up and DATABASE_URL is right)"
        );
    }

    fn recovered(&mut self) {
        // `last` is kept, so a flapping connection still logs once per interval.
        if std::mem::take(&mut self.failing) {
            let suppressed = std::mem::take(&mut self.suppressed);
            tracing::info!(suppressed, "scheduler recovered; each schedule's latest missed tick fires once");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_tick_that_fell_due_during_a_slow_pass_is_due_at_once() {
        let schedules =
            Schedules::new().add("every_2s", &"*/2 * * * * *".parse().unwrap(), |_, _| Box::pin(async { Ok(vec![]) }));
        let active: Vec<_> = schedules.entries.iter().collect();
        let checked = t("2026-12-01T10:00:25.900Z");
        let quick = until_next_tick(&active, checked, checked);
        assert_eq!(quick, Duration::from_millis(105));
        let slow = until_next_tick(&active, checked, t("2026-12-01T10:00:26.500Z"));
        assert_eq!(slow, Duration::from_millis(5), "10:00:26 came due while firing");
        let idle = Schedules::new();
        assert_eq!(
            until_next_tick(&idle.entries.iter().collect::<Vec<_>>(), checked, checked),
            MAX_SLEEP + Duration::from_millis(5)
        );
    }
}

//! Firing one schedule's due tick: exactly once across every replica.
//!
//! The tick's row in `scheduler_ticks` (primary key: schedule and tick time)
//! is the claim. It is inserted with `ON CONFLICT DO NOTHING` in the same
//! transaction as the jobs, so of N replicas exactly one inserts it and
//! enqueues; the others wait on the key, see the conflict and enqueue
//! nothing. A replica that fails mid-way rolls both back, and the tick stays
//! free for the next try. The row stays after the jobs finish, so the tick
//! can never fire again.

use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use job_runner::describe_db_error;
use sqlx::PgPool;
use std::{panic::AssertUnwindSafe, time::Duration};
use tracing::Instrument as _;

use crate::schedules::{Entry, Tick};

/// A tick that takes longer than this (a hung connection) fails and is retried.
const FIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// What one attempt found; each carries the latest tick known to be fired.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fired {
    /// No tick is due; the latest fired one, if any.
    NotDue(Option<DateTime<Utc>>),
    /// This process fired `tick` and enqueued `jobs` (none when an
    /// equivalent job was still active).
    Enqueued { tick: DateTime<Utc>, jobs: Vec<String> },
    /// Another replica fired `tick` first.
    ByOther(DateTime<Utc>),
}

impl Fired {
    pub fn latest(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::NotDue(last) => *last,
            Self::Enqueued { tick, .. } | Self::ByOther(tick) => Some(*tick),
        }
    }
}

/// Why an attempt failed, worded for an operator (no payloads, no PHI).
#[derive(Debug, thiserror::Error)]
pub(crate) enum FireError {
    #[error("{}", describe_db_error(.0))]
    Db(#[from] sqlx::Error),
    #[error("timed out after {FIRE_TIMEOUT:?}")]
    Timeout,
    #[error("the schedule's enqueue function panicked (a bug in its registration)")]
    Panicked,
}

/// Fires `entry`'s due tick at `now`, if any, in one transaction.
pub(crate) async fn fire_due(
    pool: &PgPool,
    entry: &Entry,
    now: DateTime<Utc>,
    fired_by: &str,
) -> Result<Fired, FireError> {
    // The root of the trace each fired tick's jobs continue (their `send` spans are its children).
    let name = format!("tick {}", entry.name);
    let span = tracing::info_span!("schedule_tick", schedule = entry.name, otel.name = name.as_str());
    tokio::time::timeout(FIRE_TIMEOUT, fire(pool, entry, now, fired_by).instrument(span))
        .await
        .map_err(|_| FireError::Timeout)?
}

async fn fire(pool: &PgPool, entry: &Entry, now: DateTime<Utc>, fired_by: &str) -> Result<Fired, FireError> {
    let last: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT max(tick_at) FROM scheduler_ticks WHERE schedule = $1")
            .bind(entry.name)
            .fetch_one(pool)
            .await?;
    let Some(at) = entry.cron.due(now, last) else {
        return Ok(Fired::NotDue(last));
    };
    let mut tx = pool.begin().await?;
    // The NOT EXISTS guard keeps a replica whose clock lags from firing an
    // older tick after a newer one committed; the key makes the claim unique.
    let claimed: Option<bool> = sqlx::query_scalar(
        "INSERT INTO scheduler_ticks (schedule, tick_at, fired_by) \
         SELECT $1, $2, $3 WHERE NOT EXISTS \
           (SELECT 1 FROM scheduler_ticks WHERE schedule = $1 AND tick_at > $2) \
         ON CONFLICT (schedule, tick_at) DO NOTHING RETURNING true",
    )
    .bind(entry.name)
    .bind(at)
    .bind(fired_by)
    .fetch_optional(&mut *tx)
    .await?;
    if claimed.is_none() {
        return Ok(Fired::ByOther(at));
    }
    let tick = Tick { schedule: entry.name, at };
    let jobs = AssertUnwindSafe(async { (entry.enqueue)(&mut tx, tick).await })
        .catch_unwind()
        .await
        .map_err(|_| FireError::Panicked)??;
    sqlx::query("UPDATE scheduler_ticks SET job_ids = $3 WHERE schedule = $1 AND tick_at = $2")
        .bind(entry.name)
        .bind(at)
        .bind(&jobs)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Fired::Enqueued { tick: at, jobs })
}

//! Claiming a queue's next batch of due jobs in one statement.
//!
//! apalis-postgres fetches with `BEGIN`, `SELECT * FROM apalis.get_jobs(..)`,
//! `COMMIT`: three round trips between a wake-up and a running handler, a
//! plan made afresh on every call, and a wait for the claim to reach disk.
//! The claim here is one autocommit statement calling `job_claim`
//! (`migrations/20261207000080_claim_jobs.sql`), which makes the same
//! selection and update as `get_jobs` without waiting for the disk; that
//! file says why losing a claim to a server crash is harmless.
//!
//! Claimed rows are `Queued` under the worker's id, exactly as apalis leaves
//! them, so everything after the claim is apalis's and the hardening's,
//! unchanged: the lock to `Running` when an attempt starts, results, the
//! release of unstarted jobs at shutdown (no attempt used), orphan rescue,
//! backoff and `job_attempts` rows, and paused queues.

use apalis::prelude::{MetadataStore, Status, TaskBuilder, TaskId};
use apalis_postgres::{Error, PgTask};
use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, postgres::types::PgHstore};
use std::collections::HashMap;

/// The batch in the order `job_claim` chose it: highest priority first,
/// then longest due.
const CLAIM: &str = "SELECT id, job, job_type, attempts, max_attempts, priority, run_at, lock_at, done_at, \
     idempotency_key, metadata FROM job_claim($1, $2, $3) ORDER BY priority DESC, run_at ASC";

type ClaimedRow = (
    String,
    Vec<u8>,
    String,
    i32,
    i32,
    Option<i32>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<PgHstore>,
);

/// Claims up to `batch` due jobs of `queue` for worker `worker`, highest
/// priority first, then longest due.
pub(crate) async fn claim<'e>(
    db: impl PgExecutor<'e>,
    worker: &str,
    queue: &str,
    batch: usize,
) -> Result<Vec<PgTask>, Error> {
    let rows: Vec<ClaimedRow> = sqlx::query_as(CLAIM)
        .bind(worker)
        .bind(queue)
        .bind(i32::try_from(batch).unwrap_or(i32::MAX))
        .fetch_all(db)
        .await?;
    rows.into_iter().map(|row| task_of(row, worker)).collect()
}

/// The task apalis's own fetch would have built from the row.
fn task_of(row: ClaimedRow, worker: &str) -> Result<PgTask, Error> {
    let (id, job, queue, attempts, max_attempts, priority, run_at, lock_at, done_at, key, metadata) = row;
    let ulid = ulid::Ulid::from_string(&id)
        .map_err(|e| Error::TaskIdError(apalis::prelude::TaskIdError::Decode(e.to_string())))?;
    let metadata = metadata
        .map(|m| m.into_iter().filter_map(|(k, v)| Some((k, v?))).collect::<HashMap<_, _>>())
        .map(MetadataStore::from_map)
        .unwrap_or_default();
    let mut task = TaskBuilder::new(job)
        .task_id(TaskId::from_ulid(ulid))
        .queue(queue.into())
        .status(Status::Queued)
        .attempt(usize::try_from(attempts).unwrap_or_default())
        .max_attempts(usize::try_from(max_attempts).unwrap_or_default())
        .priority(priority.and_then(|p| usize::try_from(p).ok()).unwrap_or_default())
        .run_at_timestamp(unix_secs(run_at))
        .lock_at(lock_at.map(unix_secs))
        .done_at(done_at.map(unix_secs))
        .lock_by(Some(worker.to_owned()))
        .with_metadata(metadata);
    if let Some(key) = key {
        task = task.idempotency_key(key);
    }
    Ok(task.build())
}

fn unix_secs(t: DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_row_becomes_the_task_apalis_would_build() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let meta: PgHstore = [("traceparent", "00-ab-cd-01"), ("trace_id", "ab")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into_iter()
            .collect();
        let row = (
            ulid::Ulid::nil().to_string(),
            b"{}".to_vec(),
            "fetch_patient".to_string(),
            2,
            5,
            Some(3),
            at,
            Some(at),
            None,
            Some("patient:7".to_string()),
            Some(meta),
        );
        let task = task_of(row, "w-1").unwrap();
        let ctx = task.ctx();
        assert_eq!(task.args, b"{}");
        assert_eq!(ctx.task_id(), Some(&TaskId::from_ulid(ulid::Ulid::nil())));
        assert_eq!((ctx.attempt(), ctx.max_attempts(), ctx.priority()), (2, Some(5), Some(3)));
        assert_eq!((ctx.run_at(), ctx.lock_at(), ctx.done_at()), (Some(1_800_000_000), Some(1_800_000_000), None));
        assert_eq!((ctx.status(), ctx.lock_by()), (Status::Queued, Some("w-1")));
        assert_eq!(ctx.idempotency_key(), Some("patient:7"));
        assert_eq!(ctx.metadata().get("traceparent"), Some("00-ab-cd-01"));
    }

    #[test]
    fn an_id_that_is_not_a_ulid_is_an_error_not_a_panic() {
        let at = DateTime::from_timestamp(0, 0).unwrap();
        let row = ("nope".into(), vec![], "q".into(), 0, 1, None, at, None, None, None, None);
        assert!(matches!(task_of(row, "w"), Err(Error::TaskIdError(_))));
    }
}

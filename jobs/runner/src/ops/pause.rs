//! Pausing and resuming a queue on every replica (`cargo xtask jobs
//! pause|resume`). The pause is a row of `paused_queues`; the database
//! refuses every claim of a paused queue's jobs (trigger `job_hold_paused`),
//! so it holds from its commit on, for every worker of every process, with
//! no cache to go stale. Enqueues go on, so producers and the scheduler's
//! ticks are unaffected; jobs already claimed finish. A resume wakes each
//! process's listener for the queue, so the backlog starts at once rather
//! than at the next poll.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgExecutor, PgPool};

use super::audit::{self, ActionRow};

/// A paused queue: since when and by whom.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PausedQueue {
    pub queue: String,
    pub paused_at: DateTime<Utc>,
    pub paused_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseOutcome {
    Paused,
    AlreadyPaused,
    Resumed,
    NotPaused,
    /// No registered job has this name; nothing changed.
    UnknownQueue {
        known: Vec<String>,
    },
}

/// Pauses `queue`, one of `known` (the registry's names), for every replica.
pub async fn pause_queue(pool: &PgPool, queue: &str, actor: &str, known: &[&str]) -> Result<PauseOutcome, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let outcome = match unknown(queue, known) {
        Some(refused) => refused,
        None => {
            let inserted = sqlx::query(
                "INSERT INTO paused_queues (queue, paused_by) VALUES ($1, $2) ON CONFLICT (queue) DO NOTHING",
            )
            .bind(queue)
            .bind(actor)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 1 { PauseOutcome::Paused } else { PauseOutcome::AlreadyPaused }
        }
    };
    record(&mut tx, "pause_queue", queue, actor, &outcome).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Resumes `queue` on every replica and wakes its workers.
pub async fn resume_queue(
    pool: &PgPool,
    queue: &str,
    actor: &str,
    known: &[&str],
) -> Result<PauseOutcome, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let outcome = match unknown(queue, known) {
        Some(refused) => refused,
        None => {
            let deleted =
                sqlx::query("DELETE FROM paused_queues WHERE queue = $1").bind(queue).execute(&mut *tx).await?;
            if deleted.rows_affected() == 1 { PauseOutcome::Resumed } else { PauseOutcome::NotPaused }
        }
    };
    if outcome == PauseOutcome::Resumed {
        // Delivered at commit, when the claims are allowed again.
        sqlx::query("SELECT pg_notify($1, json_build_object('job_type', $2::text)::text)")
            .bind(crate::wakeups::CHANNEL)
            .bind(queue)
            .execute(&mut *tx)
            .await?;
    }
    record(&mut tx, "resume_queue", queue, actor, &outcome).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Whether `queue` is paused.
pub async fn is_paused<'e>(db: impl PgExecutor<'e>, queue: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM paused_queues WHERE queue = $1)").bind(queue).fetch_one(db).await
}

/// Every paused queue, by name.
pub async fn paused_queues<'e>(db: impl PgExecutor<'e>) -> Result<Vec<PausedQueue>, sqlx::Error> {
    sqlx::query_as("SELECT queue, paused_at, paused_by FROM paused_queues ORDER BY queue").fetch_all(db).await
}

fn unknown(queue: &str, known: &[&str]) -> Option<PauseOutcome> {
    if known.contains(&queue) {
        return None;
    }
    let mut known: Vec<String> = known.iter().map(|k| k.to_string()).collect();
    known.sort();
    Some(PauseOutcome::UnknownQueue { known })
}

async fn record(
    tx: &mut sqlx::PgConnection,
    action: &'static str,
    queue: &str,
    actor: &str,
    outcome: &PauseOutcome,
) -> Result<(), sqlx::Error> {
    let summary = match outcome {
        PauseOutcome::Paused => "paused",
        PauseOutcome::AlreadyPaused => "already paused",
        PauseOutcome::Resumed => "resumed",
        PauseOutcome::NotPaused => "was not paused",
        PauseOutcome::UnknownQueue { .. } => "refused: unknown queue",
    };
    // An unknown name is the operator's typing: kept short, as typed.
    let queue: String = queue.chars().take(64).collect();
    let filters = serde_json::json!({ "queue": queue });
    let row = ActionRow { actor, action, filters, dry_run: false, job_ids: Vec::new(), outcome: summary.into() };
    audit::record(tx, row).await
}

//! The bookkeeping of walks through DrChrono's bulk lists
//! (`drchrono_batches`): which batch a walk is reading, the page it is at,
//! and the ids it has been listed so far, so that a walk that waits for its
//! batch, or crashes, resumes where it was.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// A batch is reused this long after it was started; DrChrono keeps one an
/// hour, and a walk should not start reading a batch about to expire.
const REUSE_FOR: chrono::Duration = chrono::Duration::minutes(50);

/// A walk's batch, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Batch {
    pub uuid: String,
    /// When the walk's first run started: its removals and cursor count from it.
    pub walk_started: DateTime<Utc>,
    pub next_page: i32,
    pub listed: Vec<i64>,
}

/// The walk's batch at `path`, if it has one that is still fresh.
pub async fn current(pool: &PgPool, walk_key: &str, path: &str) -> Result<Option<Batch>, sqlx::Error> {
    sqlx::query_as(
        "SELECT uuid, walk_started, next_page, listed FROM drchrono_batches \
         WHERE walk_key = $1 AND path = $2 AND started_at > now() - $3::interval",
    )
    .bind(walk_key)
    .bind(path)
    .bind(format!("{} seconds", REUSE_FOR.num_seconds()))
    .fetch_optional(pool)
    .await
}

/// Records a newly started batch and returns it; the pages read so far and
/// the ids listed stay, so a batch that expired mid-walk is replaced without
/// losing them.
pub async fn started(
    pool: &PgPool,
    walk_key: &str,
    path: &str,
    uuid: &str,
    walk_started: DateTime<Utc>,
) -> Result<Batch, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO drchrono_batches (walk_key, path, uuid, walk_started) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (walk_key) DO UPDATE SET path = EXCLUDED.path, uuid = EXCLUDED.uuid, started_at = now(), \
         next_page = 1, \
         listed = CASE WHEN drchrono_batches.path = EXCLUDED.path THEN drchrono_batches.listed ELSE '{}' END, \
         walk_started = CASE WHEN drchrono_batches.path = EXCLUDED.path \
                        THEN drchrono_batches.walk_started ELSE EXCLUDED.walk_started END \
         RETURNING uuid, walk_started, next_page, listed",
    )
    .bind(walk_key)
    .bind(path)
    .bind(uuid)
    .bind(walk_started)
    .fetch_one(pool)
    .await
}

/// Page `page` is applied: the walk goes on at the next, with its ids listed.
pub async fn page_done(pool: &PgPool, walk_key: &str, page: i32, ids: &[i64]) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE drchrono_batches SET next_page = $2 + 1, listed = listed || $3 WHERE walk_key = $1")
        .bind(walk_key)
        .bind(page)
        .bind(ids)
        .execute(pool)
        .await?;
    Ok(())
}

/// The walk is over; its batch is forgotten.
pub async fn finished(pool: &PgPool, walk_key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM drchrono_batches WHERE walk_key = $1").bind(walk_key).execute(pool).await?;
    Ok(())
}

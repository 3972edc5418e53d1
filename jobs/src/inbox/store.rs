//! Rows of the inbox (`webhook_deliveries`): stored in the same transaction
//! as the job they enqueue, before the sender gets its 2xx.

use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};

/// A delivery as received (or as stored, when replayed), before it is judged.
pub struct Delivery<'a> {
    pub source: &'static str,
    pub delivery_id: Option<&'a str>,
    pub event: Option<&'a str>,
    pub object_id: Option<i64>,
    pub record_kind: Option<&'static str>,
    pub patient_id: Option<i64>,
    /// The object's `updated_at` as sent; parsed in the practice's zone by the database.
    pub object_updated_at: Option<&'a str>,
    pub time_zone: &'a str,
    /// The headers as JSON, secrets already redacted.
    pub headers: Value,
    pub body: &'a [u8],
    pub verified: bool,
    /// The inbox row this is a replay of; `None` for a live delivery.
    pub replay_of: Option<i64>,
}

/// Stores the delivery with its outcome; returns the inbox id. A delivery
/// that failed authentication keeps its size and a SHA-256 of its body, not
/// the body: anyone can send one, and it proves nothing. A replay keeps its
/// original's receipt time, so retention counts from when the body came.
pub async fn record<'e>(
    db: impl PgExecutor<'e>,
    d: &Delivery<'_>,
    outcome: &str,
    reason: Option<&str>,
) -> Result<i64, sqlx::Error> {
    use sha2::Digest as _;
    let body: &[u8] = if d.verified { d.body } else { &[] };
    let sha256 = hex::encode(sha2::Sha256::digest(d.body));
    sqlx::query_scalar(
        "INSERT INTO webhook_deliveries \
         (source, delivery_id, event, object_id, headers, body, verified, outcome, reason, \
          record_kind, patient_id, object_updated_at, body_size, body_sha256, replay_of, replayed_at, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, drchrono_time($12, $13), $14, $15, $16, \
                 CASE WHEN $16::bigint IS NULL THEN NULL ELSE now() END, \
                 coalesce((SELECT received_at FROM webhook_deliveries WHERE id = $16), now())) RETURNING id",
    )
    .bind(d.source)
    .bind(d.delivery_id)
    .bind(d.event)
    .bind(d.object_id)
    .bind(&d.headers)
    .bind(body)
    .bind(d.verified)
    .bind(outcome)
    .bind(reason)
    .bind(d.record_kind)
    .bind(d.patient_id)
    .bind(d.object_updated_at)
    .bind(d.time_zone)
    .bind(d.body.len() as i32)
    .bind(sha256)
    .bind(d.replay_of)
    .fetch_one(db)
    .await
}

/// Records which job a delivery produced, and whether it was new.
pub async fn set_job<'e>(db: impl PgExecutor<'e>, id: i64, job_id: &str, outcome: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE webhook_deliveries SET job_id = $2, outcome = $3 WHERE id = $1")
        .bind(id)
        .bind(job_id)
        .bind(outcome)
        .execute(db)
        .await?;
    Ok(())
}

/// The job an earlier copy of this delivery produced, if any, with the copy's
/// identity locked until `tx` ends: two copies arriving at once are then told
/// apart, the second seeing the first's job. A copy is one with the same
/// delivery id; a replay of a delivery that carries none is a copy of its
/// original and of the original's other replays. `None` at once for a live
/// delivery without an id.
pub async fn job_of_delivery_locked(tx: &mut PgConnection, d: &Delivery<'_>) -> Result<Option<String>, sqlx::Error> {
    let identity = match (d.delivery_id, d.replay_of) {
        (Some(delivery_id), _) => format!("{}:{delivery_id}", d.source),
        (None, Some(original)) => format!("replay:{original}"),
        (None, None) => return Ok(None),
    };
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(identity).execute(&mut *tx).await?;
    match (d.delivery_id, d.replay_of) {
        (Some(delivery_id), _) => job_of_delivery(&mut *tx, d.source, delivery_id).await,
        (None, Some(original)) => job_of_original(&mut *tx, original).await,
        (None, None) => Ok(None),
    }
}

/// The job a previous delivery with this id produced, if any.
pub async fn job_of_delivery<'e>(
    db: impl PgExecutor<'e>,
    source: &str,
    delivery_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT job_id FROM webhook_deliveries WHERE source = $1 AND delivery_id = $2 \
         AND job_id IS NOT NULL ORDER BY id LIMIT 1",
    )
    .bind(source)
    .bind(delivery_id)
    .fetch_optional(db)
    .await
}

/// The job a stored delivery, or one of its replays, produced, if any.
async fn job_of_original<'e>(db: impl PgExecutor<'e>, original: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT job_id FROM webhook_deliveries WHERE (id = $1 OR replay_of = $1) \
         AND job_id IS NOT NULL ORDER BY id LIMIT 1",
    )
    .bind(original)
    .fetch_optional(db)
    .await
}

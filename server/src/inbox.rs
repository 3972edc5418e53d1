//! The webhook inbox (`webhook_deliveries`): every delivery is stored, in the
//! same transaction as the job it enqueues, before the sender gets its 2xx.

use axum::http::HeaderMap;
use serde_json::{Map, Value};
use sqlx::PgExecutor;

/// A delivery as received, before it is judged.
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
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub verified: bool,
}

/// Headers are kept for the audit, except secrets.
fn headers_json(headers: &HeaderMap) -> Value {
    let mut map = Map::new();
    for (name, value) in headers {
        let name = name.as_str();
        let shown = if is_secret_header(name) {
            "<redacted>".to_string()
        } else {
            value.to_str().unwrap_or("<binary>").to_string()
        };
        map.insert(name.to_string(), Value::String(shown));
    }
    Value::Object(map)
}

fn is_secret_header(name: &str) -> bool {
    matches!(name, "authorization" | "x-drchrono-signature" | "x-deepcura-secret" | "cookie")
}

/// Stores the delivery with its outcome; returns the inbox id. A delivery
/// that failed authentication keeps its size and a SHA-256 of its body, not
/// the body: anyone can send one, and it proves nothing.
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
          record_kind, patient_id, object_updated_at, body_size, body_sha256) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, drchrono_time($12, $13), $14, $15) RETURNING id",
    )
    .bind(d.source)
    .bind(d.delivery_id)
    .bind(d.event)
    .bind(d.object_id)
    .bind(headers_json(d.headers))
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

/// The job a previous delivery with this id produced, if any, with the id
/// locked until `tx` ends: two copies of one delivery arriving at once are
/// then told apart, the second seeing the first's job.
/// `None` at once for a delivery that carries no id.
pub async fn job_of_delivery_locked(
    tx: &mut sqlx::PgConnection,
    d: &Delivery<'_>,
) -> Result<Option<String>, sqlx::Error> {
    let (source, Some(delivery_id)) = (d.source, d.delivery_id) else { return Ok(None) };
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))")
        .bind(source)
        .bind(delivery_id)
        .execute(&mut *tx)
        .await?;
    job_of_delivery(&mut *tx, source, delivery_id).await
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

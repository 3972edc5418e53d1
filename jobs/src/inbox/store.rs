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

/// One inbox row to write: a delivery with its outcome, and the job it
/// made or duplicates, when it is known before the row is written.
pub struct Row<'d, 'a> {
    pub delivery: &'d Delivery<'a>,
    pub outcome: &'d str,
    pub reason: Option<&'d str>,
    pub job_id: Option<&'d str>,
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
    let ids = record_many(db, &[Row { delivery: d, outcome, reason, job_id: None }]).await?;
    ids.first().copied().ok_or(sqlx::Error::RowNotFound)
}

/// Stores `rows` in one statement, as [`record`] stores one; returns their
/// inbox ids in the order of `rows`.
pub async fn record_many<'e>(db: impl PgExecutor<'e>, rows: &[Row<'_, '_>]) -> Result<Vec<i64>, sqlx::Error> {
    use sha2::Digest as _;
    let ds: Vec<&Delivery<'_>> = rows.iter().map(|r| r.delivery).collect();
    let of_deliveries = |f: &dyn Fn(&Delivery<'_>) -> Option<String>| ds.iter().map(|d| f(d)).collect::<Vec<_>>();
    let of_rows = |f: &dyn Fn(&Row<'_, '_>) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let bodies: Vec<&[u8]> = ds.iter().map(|d| if d.verified { d.body } else { &[] }).collect();
    // The ids come from the table's sequence in the order the rows are
    // inserted (ordinality), so sorting them restores the order of `rows`.
    let mut ids: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO webhook_deliveries \
         (source, delivery_id, event, object_id, headers, body, verified, outcome, reason, \
          record_kind, patient_id, object_updated_at, body_size, body_sha256, replay_of, replayed_at, received_at, \
          job_id) \
         SELECT t.source, t.delivery_id, t.event, t.object_id, t.headers, t.body, t.verified, t.outcome, t.reason, \
                t.record_kind, t.patient_id, drchrono_time(t.updated_at, t.zone), t.body_size, t.sha256, t.replay_of, \
                CASE WHEN t.replay_of IS NULL THEN NULL ELSE now() END, \
                coalesce((SELECT received_at FROM webhook_deliveries WHERE id = t.replay_of), now()), t.job_id \
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::jsonb[], $6::bytea[], $7::boolean[], \
                     $8::text[], $9::text[], $10::text[], $11::bigint[], $12::text[], $13::text[], $14::integer[], \
                     $15::text[], $16::bigint[], $17::text[]) \
              WITH ORDINALITY AS t(source, delivery_id, event, object_id, headers, body, verified, outcome, reason, \
                                   record_kind, patient_id, updated_at, zone, body_size, sha256, replay_of, job_id, n) \
         ORDER BY t.n RETURNING id",
    )
    .bind(of_deliveries(&|d| Some(d.source.to_string())))
    .bind(of_deliveries(&|d| d.delivery_id.map(str::to_string)))
    .bind(of_deliveries(&|d| d.event.map(str::to_string)))
    .bind(ds.iter().map(|d| d.object_id).collect::<Vec<_>>())
    .bind(ds.iter().map(|d| &d.headers).collect::<Vec<_>>())
    .bind(bodies)
    .bind(ds.iter().map(|d| d.verified).collect::<Vec<_>>())
    .bind(of_rows(&|r| Some(r.outcome.to_string())))
    .bind(of_rows(&|r| r.reason.map(str::to_string)))
    .bind(of_deliveries(&|d| d.record_kind.map(str::to_string)))
    .bind(ds.iter().map(|d| d.patient_id).collect::<Vec<_>>())
    .bind(of_deliveries(&|d| d.object_updated_at.map(str::to_string)))
    .bind(of_deliveries(&|d| Some(d.time_zone.to_string())))
    .bind(ds.iter().map(|d| d.body.len() as i32).collect::<Vec<_>>())
    .bind(of_deliveries(&|d| Some(hex::encode(sha2::Sha256::digest(d.body)))))
    .bind(ds.iter().map(|d| d.replay_of).collect::<Vec<_>>())
    .bind(of_rows(&|r| r.job_id.map(str::to_string)))
    .fetch_all(db)
    .await?;
    ids.sort_unstable();
    Ok(ids)
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

/// What makes two deliveries copies of one another: the same delivery id
/// from the same source; a replay of a delivery that carries none is a copy
/// of its original and of the original's other replays. `None` for a live
/// delivery without an id, which is a copy of nothing.
pub fn identity(d: &Delivery<'_>) -> Option<String> {
    match (d.delivery_id, d.replay_of) {
        (Some(delivery_id), _) => Some(format!("{}:{delivery_id}", d.source)),
        (None, Some(original)) => Some(format!("replay:{original}")),
        (None, None) => None,
    }
}

/// Locks `identities` until `tx` ends, in one order whoever asks, so two
/// transactions locking overlapping sets cannot deadlock: two copies
/// arriving at once are then told apart, the second seeing the first's job.
pub async fn lock_identities(tx: &mut PgConnection, identities: &[String]) -> Result<(), sqlx::Error> {
    if identities.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "SELECT pg_advisory_xact_lock(h) FROM \
         (SELECT DISTINCT hashtextextended(i, 0) AS h FROM unnest($1::text[]) AS i ORDER BY 1) AS locks",
    )
    .bind(identities)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The job an earlier copy of this delivery produced, if any, with the copy's
/// identity locked until `tx` ends (see [`identity`]). `None` at once for a
/// live delivery without an id.
pub async fn job_of_delivery_locked(tx: &mut PgConnection, d: &Delivery<'_>) -> Result<Option<String>, sqlx::Error> {
    let Some(identity) = identity(d) else { return Ok(None) };
    lock_identities(tx, &[identity]).await?;
    match (d.delivery_id, d.replay_of) {
        (Some(delivery_id), _) => job_of_delivery(&mut *tx, d.source, delivery_id).await,
        (None, Some(original)) => job_of_original(&mut *tx, original).await,
        (None, None) => Ok(None),
    }
}

/// For each `(source, delivery id)`, the job its first copy that made one
/// produced, in one query. One index probe per id whatever the statistics
/// say: a join would be planned as a scan of the whole inbox while the
/// table is new, and the cached plan kept as the table grows.
pub async fn jobs_of_deliveries(
    tx: &mut PgConnection,
    ids: &[(&str, &str)],
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        "SELECT k.source, k.delivery_id, w.job_id \
         FROM unnest($1::text[], $2::text[]) AS k(source, delivery_id) \
         CROSS JOIN LATERAL (SELECT job_id FROM webhook_deliveries \
           WHERE source = k.source AND delivery_id = k.delivery_id AND job_id IS NOT NULL \
           ORDER BY id LIMIT 1) AS w",
    )
    .bind(ids.iter().map(|i| i.0).collect::<Vec<_>>())
    .bind(ids.iter().map(|i| i.1).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await
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
pub async fn job_of_original<'e>(db: impl PgExecutor<'e>, original: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT job_id FROM webhook_deliveries WHERE (id = $1 OR replay_of = $1) \
         AND job_id IS NOT NULL ORDER BY id LIMIT 1",
    )
    .bind(original)
    .fetch_optional(db)
    .await
}

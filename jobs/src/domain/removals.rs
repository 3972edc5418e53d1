//! What lists stop showing, and what cannot be keyed: the two ways a record
//! could otherwise disappear from the mirror without a trace.

use sqlx::PgExecutor;

use super::{RecordKind, id_of};

/// Which rows a complete walk covered: every row of the kind, or one
/// patient's (a per-patient chart walk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    Practice,
    Patient(i64),
}

/// A walk that would mark more than this share of the live rows it covers
/// marks none: that is a list DrChrono answered short (a missing scope
/// answers an empty appointments list, not a 403), not a mass deletion.
pub const MAX_REMOVED_SHARE: f64 = 0.5;

/// Marks `removed_at` on the rows of `kind` within `coverage` that a
/// complete walk did not list (`seen` are the ids it listed) and that no one
/// wrote since the walk began (a webhook's insert during the walk is not a
/// deletion). Returns how many were marked; `change_log` records each with
/// `actor`. A practice-wide walk marks nothing, with a warning, when it
/// would mark more than [`MAX_REMOVED_SHARE`] of the stored rows.
pub async fn mark_removed(
    db: &sqlx::PgPool,
    kind: RecordKind,
    coverage: Coverage,
    seen: &[i64],
    walk_started: chrono::DateTime<chrono::Utc>,
    actor: &str,
) -> Result<u64, sqlx::Error> {
    let patient = match coverage {
        Coverage::Practice => None,
        Coverage::Patient(id) if has_patient_column(kind) => Some(id),
        // A patient filter on a kind without one lists nothing to compare.
        Coverage::Patient(_) => return Ok(0),
    };
    let (table, patient_filter) = (kind.table(), if has_patient_column(kind) { "patient_id = $3" } else { "false" });
    // Only this module's fixed table and column names are formatted in.
    let covered = format!("removed_at IS NULL AND ($3::bigint IS NULL OR {patient_filter})");
    let gone = format!("{covered} AND NOT (id = ANY($1)) AND synced_at < $2");
    let count = format!("SELECT count(*) FILTER (WHERE {gone}), count(*) FILTER (WHERE {covered}) FROM {table}");
    let (unlisted, live): (i64, i64) =
        sqlx::query_as(sqlx::AssertSqlSafe(count)).bind(seen).bind(walk_started).bind(patient).fetch_one(db).await?;
    if unlisted == 0 {
        return Ok(0);
    }
    // One patient's chart is small: losing two of its three entries is a
    // plausible edit, so the share applies to practice-wide walks only.
    if patient.is_none() && unlisted as f64 > live as f64 * MAX_REMOVED_SHARE {
        tracing::warn!(
            kind = kind.name(),
            unlisted,
            live,
            "a complete walk left out most stored rows; marking none removed. Check the granted scopes \
             (`calendar:read` for appointments), then walk again with `cargo xtask sync KIND --full`"
        );
        return Ok(0);
    }
    let update = format!("UPDATE {table} SET removed_at = now(), synced_at = now(), synced_by = $4 WHERE {gone}");
    let marked = sqlx::query(sqlx::AssertSqlSafe(update))
        .bind(seen)
        .bind(walk_started)
        .bind(patient)
        .bind(actor)
        .execute(db)
        .await?;
    Ok(marked.rows_affected())
}

fn has_patient_column(kind: RecordKind) -> bool {
    !matches!(
        kind,
        RecordKind::Patient
            | RecordKind::Doctor
            | RecordKind::Office
            | RecordKind::AppointmentProfile
            | RecordKind::LabResult
    )
}

/// The objects of a batch with no numeric id.
pub fn unkeyed(objects: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    objects.iter().filter(|o| id_of(o.get("id")).is_none()).collect()
}

/// Keeps objects that have no numeric id in `unkeyed_records`, one row per
/// (kind, id as sent), newest copy kept. Returns how many were given.
pub async fn store_unkeyed<'e>(
    db: impl PgExecutor<'e>,
    kind: RecordKind,
    objects: &[&serde_json::Value],
    actor: &str,
) -> Result<u64, sqlx::Error> {
    if objects.is_empty() {
        return Ok(0);
    }
    sqlx::query(
        "INSERT INTO unkeyed_records AS u (kind, source_id, raw, seen_by) \
         SELECT DISTINCT ON (coalesce(o->>'id', md5(o::text))) $1, coalesce(o->>'id', md5(o::text)), o, $3 \
           FROM jsonb_array_elements($2::jsonb) o \
         ON CONFLICT (kind, source_id) DO UPDATE SET raw = EXCLUDED.raw, last_seen = now(), seen_by = EXCLUDED.seen_by",
    )
    .bind(kind.name())
    .bind(sqlx::types::Json(objects))
    .bind(actor)
    .execute(db)
    .await?;
    tracing::warn!(kind = kind.name(), unkeyed = objects.len(), "objects without a numeric id kept in unkeyed_records");
    Ok(objects.len() as u64)
}

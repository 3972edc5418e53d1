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

/// Marks `removed_at` on the rows of `kind` within `coverage` that a
/// complete walk did not list (`seen` are the ids it listed) and that no one
/// wrote since the walk began (a webhook's insert during the walk is not a
/// deletion). Returns how many were marked; `change_log` records each with
/// `actor`.
pub async fn mark_removed<'e>(
    db: impl PgExecutor<'e>,
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
    let sql = format!(
        "UPDATE {table} SET removed_at = now(), synced_at = now(), synced_by = $4 \
         WHERE removed_at IS NULL AND NOT (id = ANY($1)) AND synced_at < $2 \
           AND ($3::bigint IS NULL OR {patient_filter})",
        table = kind.table(),
        patient_filter = if has_patient_column(kind) { "patient_id = $3" } else { "false" },
    );
    // Only this module's fixed table and column names are formatted in.
    let marked = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(seen)
        .bind(walk_started)
        .bind(patient)
        .bind(actor)
        .execute(db)
        .await?;
    Ok(marked.rows_affected())
}

fn has_patient_column(kind: RecordKind) -> bool {
    !matches!(kind, RecordKind::Patient | RecordKind::Doctor | RecordKind::Office)
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

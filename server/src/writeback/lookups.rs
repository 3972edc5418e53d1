//! The write API's reference checks against the synced lookups: a doctor,
//! an office and an exam room that DrChrono would refuse are refused here,
//! with every problem listed, before a call is spent. A lookup table that
//! has not been synced yet (empty) checks nothing: it cannot tell.

use serde_json::{Map, Value};
use sqlx::PgPool;

use super::validate::Problem;

/// One round trip for every reference: each answer is NULL when there is
/// nothing to check (no such field, or an empty lookup table).
const CHECK: &str = "SELECT \
       CASE WHEN $1::bigint IS NOT NULL AND EXISTS (SELECT 1 FROM doctors) \
            THEN EXISTS (SELECT 1 FROM doctors WHERE id = $1 AND removed_at IS NULL) END, \
       CASE WHEN $2::bigint IS NOT NULL AND EXISTS (SELECT 1 FROM offices) \
            THEN EXISTS (SELECT 1 FROM offices WHERE id = $2 AND removed_at IS NULL) END, \
       CASE WHEN $3::bigint IS NOT NULL AND EXISTS (SELECT 1 FROM offices WHERE id = $2 AND removed_at IS NULL) \
            THEN EXISTS (SELECT 1 FROM offices o, jsonb_array_elements(o.exam_rooms) r \
                         WHERE o.id = $2 AND r->>'index' = $3::text) END";

/// Problems with `doctor`, `office` and `exam_room` in a validated body.
pub async fn check(pool: &PgPool, fields: &Map<String, Value>) -> Result<Vec<Problem>, sqlx::Error> {
    let id = |name: &str| fields.get(name).and_then(Value::as_i64);
    let (office, room) = (id("office"), id("exam_room"));
    let known: (Option<bool>, Option<bool>, Option<bool>) = sqlx::query_as(CHECK)
        .bind(id("doctor"))
        .bind(office)
        .bind(room.filter(|_| office.is_some()))
        .fetch_one(pool)
        .await?;
    let problems = [
        (known.0, "doctor", "no such doctor in the synced doctors list (sync_lookups)"),
        (known.1, "office", "no such office in the synced offices list (sync_lookups)"),
        (known.2, "exam_room", "the office has no exam room with this index"),
    ];
    Ok(problems
        .into_iter()
        .filter(|(known, _, _)| *known == Some(false))
        .map(|(_, field, message)| Problem { field: field.into(), message: message.into() })
        .collect())
}

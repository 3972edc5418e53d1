//! The write API's reference checks against the synced lookups: a doctor,
//! an office and an exam room that DrChrono would refuse are refused here,
//! with every problem listed, before a call is spent. A lookup table that
//! has not been synced yet (empty) checks nothing: it cannot tell.

use serde_json::{Map, Value};
use sqlx::PgPool;

use super::validate::Problem;

/// Problems with `doctor`, `office` and `exam_room` in a validated body.
pub async fn check(pool: &PgPool, fields: &Map<String, Value>) -> Result<Vec<Problem>, sqlx::Error> {
    let id = |name: &str| fields.get(name).and_then(Value::as_i64);
    let mut problems = Vec::new();
    if let Some(doctor) = id("doctor")
        && known(pool, "doctors", doctor).await? == Some(false)
    {
        problems.push(problem("doctor", "no such doctor in the synced doctors list (sync_lookups)"));
    }
    if let Some(office) = id("office") {
        match known(pool, "offices", office).await? {
            Some(false) => problems.push(problem("office", "no such office in the synced offices list (sync_lookups)")),
            Some(true) => {
                if let Some(room) = id("exam_room")
                    && !has_room(pool, office, room).await?
                {
                    problems.push(problem("exam_room", "the office has no exam room with this index"));
                }
            }
            None => {}
        }
    }
    Ok(problems)
}

fn problem(field: &str, message: &str) -> Problem {
    Problem { field: field.into(), message: message.into() }
}

/// Whether `id` is a live row of `table`; `None` while the table is empty.
async fn known(pool: &PgPool, table: &'static str, id: i64) -> Result<Option<bool>, sqlx::Error> {
    let sql = format!(
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM {table}) \
                THEN EXISTS (SELECT 1 FROM {table} WHERE id = $1 AND removed_at IS NULL) END"
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(pool).await
}

async fn has_room(pool: &PgPool, office: i64, room: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM offices o, jsonb_array_elements(o.exam_rooms) r \
                        WHERE o.id = $1 AND (r->>'index')::text = $2::text)",
    )
    .bind(office)
    .bind(room)
    .fetch_one(pool)
    .await
}

//! What `cargo xtask sync` expects a walk to cost, for its estimate of when
//! the sync finishes in budget hours. DrChrono's lists give no count, so the
//! estimate comes from what the project already knows: the calls the last
//! complete walk of the kind took, or else the rows already stored at the
//! kind's page size. A kind never walked and never stored has no estimate
//! until it is walked, and the estimate says how many such kinds remain.

use anyhow::Result;
use jobs::{catalog::SyncRecords, domain::RecordKind};
use sqlx::PgPool;

/// The calls a whole walk of `kind` is expected to cost; `None` when nothing is known.
pub async fn expected_calls(pool: &PgPool, kind: RecordKind, verbose: bool) -> Result<Option<u64>> {
    let last: Option<i64> = sqlx::query_scalar(
        "SELECT sum(calls)::int8 FROM sync_runs WHERE job_id = ( \
           SELECT job_id FROM sync_runs WHERE kind = $1 AND scope = 'full' AND outcome = 'completed' \
           AND job_id IS NOT NULL ORDER BY id DESC LIMIT 1)",
    )
    .bind(kind.name())
    .fetch_one(pool)
    .await?;
    if let Some(calls) = last.filter(|c| *c > 0) {
        return Ok(Some(calls as u64));
    }
    let sql = format!("SELECT count(*) FROM {} WHERE removed_at IS NULL", kind.table());
    let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await?;
    Ok((rows > 0).then(|| pages(kind, rows as u64, verbose)))
}

/// Calls for `rows` records of `kind` as `sync_records` walks them whole.
fn pages(kind: RecordKind, rows: u64, verbose: bool) -> u64 {
    let (page, extra) = SyncRecords::whole_walk_pages(kind, verbose);
    rows.div_ceil(page as u64).max(1) + extra
}

/// "≈H budget hours to go" for `calls` still to make at `per_hour`.
pub fn hours(calls: u64, per_hour: i64) -> String {
    format!("≈{:.2} budget hours", calls as f64 / per_hour.max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_the_walks_page_sizes() {
        assert_eq!(pages(RecordKind::Patient, 10_000, false), 12, "a batch: POST, poll, 10 pages");
        assert_eq!(pages(RecordKind::Appointment, 44_939, false), 45);
        assert_eq!(pages(RecordKind::Allergy, 14_881, true), 298);
        assert_eq!(pages(RecordKind::Allergy, 14_881, false), 60);
        assert_eq!(pages(RecordKind::Medication, 1, false), 1);
    }
}

//! An allergy's `description` comes only with `verbose=true`, and verbose
//! lists come 50 a page, not 250. So the nightly chart pass walks allergies
//! plain (the upsert keeps the descriptions already stored), and this step
//! then fetches descriptions only for the entries that have none: one call
//! per patient, or one verbose practice-wide walk when that is cheaper.

use sqlx::PgPool;

use super::SyncRecords;
use crate::domain::RecordKind;

/// The largest verbose page DrChrono serves outside appointments: "about
/// 25–50" in its support pages; the estimate takes the smaller.
const VERBOSE_PAGE: i64 = 25;

/// The walks that fetch the missing descriptions, fewest calls first:
/// none when every allergy has one.
pub(super) async fn describe_walks(pool: &PgPool, schedule: Option<&str>) -> Result<Vec<SyncRecords>, sqlx::Error> {
    let (patients, allergies): (Vec<i64>, i64) = sqlx::query_as(
        "SELECT coalesce(array_agg(DISTINCT patient_id) FILTER (WHERE NOT raw ? 'description' \
                 AND patient_id IS NOT NULL), '{}'), count(*) \
         FROM allergies WHERE removed_at IS NULL",
    )
    .fetch_one(pool)
    .await?;
    let practice_wide = (allergies + VERBOSE_PAGE - 1) / VERBOSE_PAGE;
    let schedule = schedule.map(str::to_owned);
    let verbose = |walk: SyncRecords| SyncRecords { verbose: true, ..walk };
    Ok(match patients.len() as i64 {
        0 => Vec::new(),
        n if n < practice_wide => patients
            .into_iter()
            .map(|p| verbose(SyncRecords::of_patient(RecordKind::Allergy, p, schedule.clone())))
            .collect(),
        _ => vec![verbose(SyncRecords { schedule, ..SyncRecords::all(RecordKind::Allergy) })],
    })
}

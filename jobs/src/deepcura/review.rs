//! Deep Cura notes that need a person: unlinked ones, and ambiguous ones
//! with their candidate clinical notes. Ids and dates only, no note text.
//! A note an operator marked `unlinkable` needs no one and is left out.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgExecutor;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OpenNote {
    pub id: i64,
    pub session_id: String,
    pub link_status: String,
    pub appointment_id: Option<i64>,
    pub patient_id: Option<i64>,
    pub doctor_id: Option<i64>,
    pub session_date: Option<NaiveDate>,
    /// The clinical notes that matched equally well (ambiguous notes only).
    pub link_candidates: Vec<i64>,
    pub delivery_id: i64,
    pub received_at: DateTime<Utc>,
}

/// Open notes, oldest first, at most `limit`; `status` narrows to
/// `unlinked` or `ambiguous`.
pub async fn open_notes<'e>(
    db: impl PgExecutor<'e>,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<OpenNote>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, session_id, link_status, appointment_id, patient_id, doctor_id, session_date, \
                link_candidates, delivery_id, received_at \
         FROM deepcura_notes WHERE link_status IN ('unlinked', 'ambiguous') AND ($1::text IS NULL OR link_status = $1) \
         ORDER BY received_at, id LIMIT $2",
    )
    .bind(status)
    .bind(limit)
    .fetch_all(db)
    .await
}

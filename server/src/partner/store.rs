//! SQL of the partner feed: storing an event (the duplicate rule is the
//! unique index, so concurrent senders cannot both store one) and listing.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;

use super::schema::PartnerEvent;

const INSERT: &str = "INSERT INTO appointment_events \
     (event_type, appointment_id, patient_id, timestamp_sent, occurred_at, notes, request_id, body) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (appointment_id, occurred_at) DO NOTHING RETURNING id";

/// Stores the event; `None` when an event for the same appointment and instant exists.
pub async fn insert<'e>(
    db: impl PgExecutor<'e>,
    event: &PartnerEvent<'_>,
    request_id: &str,
    body: &[u8],
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(INSERT)
        .bind(event.event_type)
        .bind(event.appointment_id)
        .bind(event.patient_id)
        .bind(event.timestamp)
        .bind(event.occurred_at)
        .bind(event.notes)
        .bind(request_id)
        .bind(body)
        .fetch_optional(db)
        .await
}

pub async fn set_job<'e>(db: impl PgExecutor<'e>, id: i64, job_id: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE appointment_events SET job_id = $2 WHERE id = $1").bind(id).bind(job_id).execute(db).await?;
    Ok(())
}

/// What `GET /events` filters on; every field is optional.
#[derive(Debug, Default)]
pub struct EventFilter {
    pub appointment_id: Option<String>,
    pub patient_id: Option<String>,
    pub event_type: Option<String>,
    /// Event `timestamp` at or after this.
    pub from: Option<DateTime<Utc>>,
    /// Event `timestamp` before this.
    pub to: Option<DateTime<Utc>>,
    /// Only events with a smaller id: the previous page's `next_before`.
    pub before: Option<i64>,
    pub limit: i64,
}

/// A stored event as `GET /events` shows it (the raw body stays in the table).
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct StoredEvent {
    pub id: i64,
    pub event_type: String,
    pub appointment_id: String,
    pub patient_id: String,
    #[serde(rename = "timestamp")]
    pub timestamp_sent: String,
    pub occurred_at: DateTime<Utc>,
    pub notes: Option<String>,
    pub received_at: DateTime<Utc>,
    pub request_id: String,
    pub job_id: Option<String>,
    pub match_status: String,
    pub matched_appointment_id: Option<i64>,
}

const LIST: &str = "SELECT id, event_type, appointment_id, patient_id, timestamp_sent, occurred_at, notes, \
       received_at, request_id, job_id, match_status, matched_appointment_id \
     FROM appointment_events \
     WHERE ($1::text IS NULL OR appointment_id = $1) AND ($2::text IS NULL OR patient_id = $2) \
       AND ($3::text IS NULL OR event_type = $3) \
       AND ($4::timestamptz IS NULL OR occurred_at >= $4) AND ($5::timestamptz IS NULL OR occurred_at < $5) \
       AND ($6::bigint IS NULL OR id < $6) \
     ORDER BY id DESC LIMIT $7";

/// Newest first (by arrival).
pub async fn list<'e>(db: impl PgExecutor<'e>, f: &EventFilter) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as(LIST)
        .bind(&f.appointment_id)
        .bind(&f.patient_id)
        .bind(&f.event_type)
        .bind(f.from)
        .bind(f.to)
        .bind(f.before)
        .bind(f.limit)
        .fetch_all(db)
        .await
}

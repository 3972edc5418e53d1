//! `GET /events`: stored partner events for operators (admin token).
//!
//! Newest first. Filters: `appointment_id`, `patient_id`, `event_type`, and
//! `from`/`to` (RFC 3339) on the event's timestamp. Pages by keyset: `limit`
//! (1 to 500, default 100) and `before`, the previous page's `next_before`,
//! so a page never shifts while new events arrive.

use axum::{
    Json,
    extract::{Query, State},
    http::HeaderMap,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{AppState, bearer, error::ApiError, partner::store};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;
const EVENT_TYPES: [&str; 3] = ["appointment.scheduled", "appointment.cancelled", "appointment.updated"];

/// Everything arrives as text so that a bad value gets a message naming it.
#[derive(Debug, Default, Deserialize)]
pub struct EventQuery {
    appointment_id: Option<String>,
    patient_id: Option<String>,
    event_type: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
    limit: Option<String>,
}

fn time(name: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v).map(|t| t.to_utc()).map_err(|_| {
                ApiError::BadRequest(format!("{name} must be an RFC 3339 time such as 2025-01-10T12:30:00Z"))
            })
        })
        .transpose()
}

impl EventQuery {
    fn filter(self) -> Result<store::EventFilter, ApiError> {
        if self.event_type.as_deref().is_some_and(|t| !EVENT_TYPES.contains(&t)) {
            return Err(ApiError::BadRequest(format!("event_type must be one of {}", EVENT_TYPES.join(", "))));
        }
        // Postgres refuses NUL in text: no stored id holds one.
        for (name, value) in [("appointment_id", &self.appointment_id), ("patient_id", &self.patient_id)] {
            if value.as_deref().is_some_and(|v| v.contains('\0')) {
                return Err(ApiError::BadRequest(format!("{name} contains a NUL character (%00); remove it")));
            }
        }
        let limit =
            match self.limit.as_deref() {
                None => DEFAULT_LIMIT,
                Some(v) => v.parse::<i64>().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
                    ApiError::BadRequest(format!("limit must be a whole number from 1 to {MAX_LIMIT}"))
                })?,
            };
        let before = match self.before.as_deref() {
            None => None,
            Some(v) => Some(
                v.parse::<i64>()
                    .map_err(|_| ApiError::BadRequest("before must be an event id, as given in next_before".into()))?,
            ),
        };
        Ok(store::EventFilter {
            from: time("from", self.from.as_deref())?,
            to: time("to", self.to.as_deref())?,
            appointment_id: self.appointment_id,
            patient_id: self.patient_id,
            event_type: self.event_type,
            before,
            limit,
        })
    }
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<EventQuery>,
) -> Result<Json<Value>, ApiError> {
    bearer::require_admin(&state, &headers)?;
    let filter = query.filter()?;
    let events = store::list(&state.pool, &filter).await?;
    jobs::domain::audit::record_read(&state.pool, "api:admin", "GET /events", events.len()).await?;
    let next_before = (events.len() as i64 == filter.limit).then(|| events.last().map(|e| e.id)).flatten();
    Ok(Json(json!({ "count": events.len(), "events": events, "next_before": next_before })))
}

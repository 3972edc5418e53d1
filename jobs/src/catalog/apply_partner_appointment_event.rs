//! `apply_partner_appointment_event`: applies one stored partner event to
//! the appointment it names.
//!
//! The partner's status goes into the appointment's `partner_*` columns;
//! DrChrono's own columns are never written here. Instead a `fetch_record`
//! refetch is enqueued, so DrChrono's view of the appointment (which the
//! partner's change may have touched) is read rather than guessed. An event
//! naming no stored appointment is marked `unmatched` and does nothing else.
//! The payload is the event's id; the event's content stays in its table.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::{JobContext, catalog::FetchRecord, domain::RecordKind};
use job_runner::{BackgroundJob, JobError, JobOutcome, enqueue};

#[doc(alias("apply_partner_appointment_event", "PartnerAppointmentEvent"))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyPartnerAppointmentEvent {
    /// `appointment_events.id`.
    pub event_id: i64,
}

const LOCK_EVENT: &str = "SELECT event_type, appointment_id, occurred_at, match_status \
     FROM appointment_events WHERE id = $1 FOR UPDATE";

/// An operator's link wins; otherwise a numeric partner id is taken as DrChrono's.
const FIND_APPOINTMENT: &str = "SELECT id FROM appointments WHERE id = coalesce( \
       (SELECT appointment_id FROM partner_appointment_links WHERE partner_appointment_id = $1), \
       drchrono_id($1))";

/// Stale-safe: an event older than the status already recorded changes nothing.
/// `synced_by` names this job, so the change_log trigger records it as the actor.
const SET_PARTNER_STATUS: &str = "UPDATE appointments \
     SET partner_status = $2, partner_status_at = $3, partner_event_id = $4, synced_by = $5 \
     WHERE id = $1 AND (partner_status_at IS NULL OR partner_status_at <= $3) RETURNING id";

const MARK_EVENT: &str = "UPDATE appointment_events \
     SET match_status = $2, matched_appointment_id = $3, applied_at = now() WHERE id = $1";

/// The partner status an event type records: `appointment.cancelled` → `cancelled`.
pub fn partner_status(event_type: &str) -> Option<&'static str> {
    match event_type {
        "appointment.scheduled" => Some("scheduled"),
        "appointment.cancelled" => Some("cancelled"),
        "appointment.updated" => Some("updated"),
        _ => None,
    }
}

struct StoredEvent {
    event_type: String,
    appointment_id: String,
    occurred_at: DateTime<Utc>,
    match_status: String,
}

async fn lock_event(db: &mut PgConnection, id: i64) -> Result<Option<StoredEvent>, sqlx::Error> {
    let row: Option<(String, String, DateTime<Utc>, String)> =
        sqlx::query_as(LOCK_EVENT).bind(id).fetch_optional(db).await?;
    Ok(row.map(|(event_type, appointment_id, occurred_at, match_status)| StoredEvent {
        event_type,
        appointment_id,
        occurred_at,
        match_status,
    }))
}

async fn mark(db: &mut PgConnection, id: i64, status: &str, appointment: Option<i64>) -> Result<(), sqlx::Error> {
    sqlx::query(MARK_EVENT).bind(id).bind(status).bind(appointment).execute(db).await?;
    Ok(())
}

impl ApplyPartnerAppointmentEvent {
    /// Records the status on `appointment` and enqueues its refetch; returns the event's new match status.
    async fn apply(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
        appointment: i64,
    ) -> Result<&'static str, JobError> {
        let status = partner_status(&event.event_type).ok_or_else(|| {
            JobError::permanent(anyhow::anyhow!(
                "event {} has an event type this job does not know; fix the row or the job",
                self.event_id
            ))
        })?;
        let actor = format!("job:{}:event:{}", Self::NAME, self.event_id);
        let written: Option<i64> = sqlx::query_scalar(SET_PARTNER_STATUS)
            .bind(appointment)
            .bind(status)
            .bind(event.occurred_at)
            .bind(self.event_id)
            .bind(actor)
            .fetch_optional(&mut *db)
            .await?;
        if written.is_none() {
            return Ok("superseded");
        }
        enqueue(&mut *db, &FetchRecord { kind: RecordKind::Appointment, id: appointment }).await?;
        Ok("applied")
    }
}

impl BackgroundJob for ApplyPartnerAppointmentEvent {
    const NAME: &'static str = "apply_partner_appointment_event";
    const MAX_ATTEMPTS: i32 = 10;
    type Context = JobContext;

    fn dedup_key(&self) -> Option<String> {
        Some(self.event_id.to_string())
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        let mut tx = ctx.pool.begin().await?;
        let Some(event) = lock_event(&mut tx, self.event_id).await? else {
            return Ok(JobOutcome::skipped("event no longer stored"));
        };
        if event.match_status != "pending" {
            return Ok(JobOutcome::skipped(format!("event already {}", event.match_status)));
        }
        let found: Option<i64> =
            sqlx::query_scalar(FIND_APPOINTMENT).bind(&event.appointment_id).fetch_optional(&mut *tx).await?;
        let outcome = match found {
            Some(appointment) => self.apply(&mut tx, &event, appointment).await?,
            None => "unmatched",
        };
        mark(&mut tx, self.event_id, outcome, found).await?;
        tx.commit().await?;
        tracing::info!(event_id = self.event_id, appointment_id = found, outcome, "partner event applied");
        Ok(match outcome {
            "applied" => JobOutcome::applied(1),
            "superseded" => JobOutcome::skipped("a newer partner event already set the status"),
            _ => JobOutcome::skipped("no stored appointment has this id; event marked unmatched"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_type_has_a_partner_status() {
        assert_eq!(partner_status("appointment.cancelled"), Some("cancelled"));
        assert_eq!(partner_status("appointment.scheduled"), Some("scheduled"));
        assert_eq!(partner_status("appointment.updated"), Some("updated"));
        assert_eq!(partner_status("appointment.deleted"), None);
    }
}

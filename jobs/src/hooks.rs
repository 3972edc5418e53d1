//! Reactions to domain changes that start further work. Every upsert of
//! DrChrono records passes through [`records_written`], inside its
//! transaction, so follow-up jobs are enqueued exactly when the rows commit,
//! whether the rows came from a webhook, a fetch or a reconciliation walk.

use sqlx::PgConnection;

use crate::{
    deepcura::link,
    domain::RecordKind,
    jobs::{ApplyPartnerAppointmentEvent, ArchivePdf, LinkNote},
    runner::enqueue_many,
};

/// Rows of `kind` were inserted or changed; `newly_locked` are the clinical
/// notes among them that were not stored as locked before.
pub async fn records_written(
    db: &mut PgConnection,
    kind: RecordKind,
    ids: &[i64],
    newly_locked: &[i64],
    time_zone: &str,
) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    clinical_notes_locked(db, newly_locked).await?;
    relink_deepcura_notes(db, kind, ids, time_zone).await?;
    if kind == RecordKind::Appointment {
        rematch_partner_events(db, ids).await?;
    }
    Ok(())
}

/// Clinical notes became locked (signed): each gets an `archive_pdf` job,
/// all in one statement. A note whose job is still active gets no second.
async fn clinical_notes_locked(db: &mut PgConnection, note_ids: &[i64]) -> Result<(), sqlx::Error> {
    if note_ids.is_empty() {
        return Ok(());
    }
    let jobs: Vec<ArchivePdf> = note_ids.iter().map(|&clinical_note_id| ArchivePdf { clinical_note_id }).collect();
    let enqueued = enqueue_many(db, &jobs).await?;
    tracing::info!(
        locked = note_ids.len(),
        enqueued = enqueued.len(),
        "clinical notes locked; PDF archive jobs enqueued"
    );
    Ok(())
}

/// An appointment or clinical note arrived: Deep Cura notes it could match
/// are linked again.
async fn relink_deepcura_notes(
    db: &mut PgConnection,
    kind: RecordKind,
    ids: &[i64],
    time_zone: &str,
) -> Result<(), sqlx::Error> {
    let notes = link::notes_to_relink(db, kind, ids, time_zone).await?;
    if !notes.is_empty() {
        tracing::info!(kind = kind.name(), deepcura_notes = notes.len(), "relinking Deep Cura notes");
        let jobs: Vec<LinkNote> = notes.into_iter().map(|note| LinkNote { note }).collect();
        enqueue_many(&mut *db, &jobs).await?;
    }
    Ok(())
}

/// Appointments arrived: partner events that named them before they were
/// stored (marked `unmatched`) go back to `pending` and are applied again,
/// so an event that came first is not lost.
async fn rematch_partner_events(db: &mut PgConnection, ids: &[i64]) -> Result<(), sqlx::Error> {
    let events: Vec<i64> = sqlx::query_scalar(
        "UPDATE appointment_events SET match_status = 'pending' \
         WHERE match_status = 'unmatched' AND (drchrono_id(appointment_id) = ANY($1) \
               OR appointment_id IN (SELECT partner_appointment_id FROM partner_appointment_links \
                                     WHERE appointment_id = ANY($1))) \
         RETURNING id",
    )
    .bind(ids)
    .fetch_all(&mut *db)
    .await?;
    if !events.is_empty() {
        tracing::info!(partner_events = events.len(), "re-applying partner events whose appointment arrived");
        let jobs: Vec<_> = events.into_iter().map(|event_id| ApplyPartnerAppointmentEvent { event_id }).collect();
        enqueue_many(&mut *db, &jobs).await?;
    }
    Ok(())
}

//! `apply_records`: the one way DrChrono records are written, and the one
//! place that says which jobs a write starts. Who enqueues `archive_pdf`,
//! `link_note`, or a partner event's re-apply? This file, in the same
//! transaction as the rows, whether they came from a webhook, a fetch, a
//! reconciliation walk or a write-back.

use serde_json::Value;
use sqlx::{Acquire, PgConnection, Postgres};

use super::{ApplyPartnerAppointmentEvent, ArchivePdf, LinkNote};
use crate::{
    JobContext,
    deepcura::link,
    domain::{Locale, RecordKind, UpsertCounts, Written, upsert_batch},
    writeback::{self, Sent},
};
use job_runner::{JobError, JobOutcome, enqueue_many};

/// Upserts a batch of API objects of one kind (see
/// [`upsert_batch`](crate::domain::upsert_batch)) and enqueues the work the
/// written rows start, all in one transaction (a savepoint inside the
/// caller's): rows and their follow-up jobs commit together or not at all.
pub async fn apply_records<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    kind: RecordKind,
    objects: &[Value],
    actor: &str,
    locale: &Locale<'_>,
) -> Result<UpsertCounts, sqlx::Error> {
    let mut tx = db.begin().await?;
    let written = upsert_batch(&mut *tx, kind, objects, actor, locale).await?;
    start_follow_ups(&mut tx, kind, &written, locale.time_zone).await?;
    tx.commit().await?;
    Ok(written.counts)
}

/// Write-back, for `push_appointment` and `push_patient`: sends request `id`
/// to DrChrono, then writes DrChrono's copy and marks the request done in
/// one transaction.
pub(super) async fn push_write_request(ctx: &JobContext, kind: RecordKind, id: i64) -> Result<JobOutcome, JobError> {
    let pushed = match writeback::send(ctx, kind, id).await? {
        Sent::Skipped(reason) => return Ok(JobOutcome::skipped(reason)),
        Sent::Pushed(pushed) => pushed,
    };
    let mut tx = ctx.pool.begin().await?;
    apply_records(&mut *tx, kind, std::slice::from_ref(&pushed.object), &pushed.actor, &ctx.settings.locale()).await?;
    writeback::record(&mut tx, &pushed).await?;
    tx.commit().await?;
    let (drchrono_id, resolution) = (pushed.drchrono_id, pushed.resolution);
    tracing::info!(kind = kind.name(), write_request = id, drchrono_id, resolution, "write request pushed");
    Ok(JobOutcome::applied(1))
}

/// What rows of `kind` start once written:
/// - a clinical note stored newly locked: `archive_pdf`;
/// - an appointment or clinical note that a Deep Cura note could match: `link_note`;
/// - an appointment that an `unmatched` partner event named: `apply_partner_appointment_event`.
async fn start_follow_ups(
    db: &mut PgConnection,
    kind: RecordKind,
    written: &Written,
    time_zone: &str,
) -> Result<(), sqlx::Error> {
    if written.ids.is_empty() {
        return Ok(());
    }
    clinical_notes_locked(db, &written.newly_locked).await?;
    relink_deepcura_notes(db, kind, &written.ids, time_zone).await?;
    if kind == RecordKind::Appointment {
        rematch_partner_events(db, &written.ids).await?;
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

//! Reactions to domain changes that start further work. Every upsert of
//! DrChrono records passes through [`records_written`], inside its
//! transaction, so follow-up jobs are enqueued exactly when the rows commit,
//! whether the rows came from a webhook, a fetch or a reconciliation walk.

use sqlx::PgConnection;

use crate::{domain::RecordKind, jobs::ArchivePdf, runner::enqueue_many};

/// Rows of `kind` were inserted or changed; `newly_locked` are the clinical
/// notes among them that were not stored as locked before.
pub async fn records_written(
    db: &mut PgConnection,
    kind: RecordKind,
    ids: &[i64],
    newly_locked: &[i64],
) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    clinical_notes_locked(db, newly_locked).await?;
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
    tracing::info!(locked = note_ids.len(), enqueued = enqueued.len(), "clinical notes locked; PDF archive jobs enqueued");
    Ok(())
}

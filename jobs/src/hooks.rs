//! Reactions to domain changes that start further work. Every upsert of
//! DrChrono records passes through [`records_written`], inside its
//! transaction, so follow-up jobs are enqueued exactly when the rows commit,
//! whether the rows came from a webhook, a fetch or a reconciliation walk.

use sqlx::PgConnection;

use crate::{
    deepcura::link,
    domain::RecordKind,
    jobs::LinkNote,
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
    for &note_id in newly_locked {
        clinical_note_locked(db, note_id).await?;
    }
    relink_deepcura_notes(db, kind, ids, time_zone).await
}

/// A clinical note became locked (signed). The note PDF archive job is
/// enqueued from here once it exists; until then the lock is logged.
async fn clinical_note_locked(_db: &mut PgConnection, note_id: i64) -> Result<(), sqlx::Error> {
    tracing::info!(note_id, "clinical note locked");
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

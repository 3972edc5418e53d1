//! Reactions to domain changes that start further work. Each hook is the one
//! place a follow-up job is enqueued, so producers never need to know it.

use sqlx::PgConnection;

/// A clinical note became locked (signed). The note PDF archive job is
/// enqueued from here once it exists; until then the lock is recorded by the
/// upsert itself and logged here.
pub async fn clinical_note_locked(_db: &mut PgConnection, note_id: i64) -> Result<(), sqlx::Error> {
    tracing::info!(note_id, "clinical note locked");
    Ok(())
}

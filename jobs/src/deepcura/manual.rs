//! Settling a Deep Cura note by hand, from the review list: link it to a
//! clinical note an operator chose, or mark it as not linkable. Both set
//! `link_method = 'manual'`, which `link_note` never overrides, so the
//! choice survives every later run of the automatic linker. Every use,
//! refusals included, is a row in `operator_actions` (ids only; the
//! operator's reason stays on the note, since it may name the patient).

use serde_json::json;
use sqlx::{PgConnection, PgPool};

use crate::domain::audit::{self, OperatorAction};

/// Why a manual link was refused. Each message says what to do instead.
#[derive(Debug, thiserror::Error)]
pub enum ManualLinkError {
    #[error("no Deep Cura note {0}; `cargo xtask deepcura unlinked` lists the notes awaiting review")]
    NoSuchNote(i64),
    #[error(
        "no clinical note {0} is stored; check the id in DrChrono, and if the note is new there, \
         bring it in with `cargo xtask sync clinical-notes` and try again"
    )]
    NoSuchClinicalNote(i64),
    #[error(
        "clinical note {clinical_note} belongs to patient {clinical_patient}, not to patient {note_patient} \
         of Deep Cura note {note}; choose one of that patient's notes (`cargo xtask deepcura unlinked` \
         shows its candidates)"
    )]
    OtherPatient { note: i64, note_patient: i64, clinical_note: i64, clinical_patient: i64 },
    #[error("the database failed ({0}); check that it is reachable (DATABASE_URL) and run the command again")]
    Database(#[from] sqlx::Error),
}

impl ManualLinkError {
    /// The refusal as `operator_actions.outcome` records it: no PHI, no free text.
    fn summary(&self) -> &'static str {
        match self {
            Self::NoSuchNote(_) => "refused: no such Deep Cura note",
            Self::NoSuchClinicalNote(_) => "refused: no such clinical note",
            Self::OtherPatient { .. } => "refused: the clinical note belongs to another patient",
            Self::Database(_) => "failed",
        }
    }
}

/// Links Deep Cura note `note` to `clinical_note` for `actor`. A note whose
/// patient is unknown may take any clinical note; otherwise the clinical
/// note must be that patient's.
pub async fn link_by_hand(pool: &PgPool, note: i64, clinical_note: i64, actor: &str) -> Result<(), ManualLinkError> {
    let filters = json!({ "deepcura_note": note, "clinical_note": clinical_note });
    let mut tx = pool.begin().await?;
    let result = link_checked(&mut tx, note, clinical_note, actor).await;
    finish(tx, actor, "deepcura_link", filters, result, "linked by hand").await
}

/// Marks Deep Cura note `note` as not linkable: it leaves the review list,
/// and no automatic link will be made for it.
pub async fn mark_unlinkable(
    pool: &PgPool,
    note: i64,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), ManualLinkError> {
    let filters = json!({ "deepcura_note": note, "reason_given": reason.is_some() });
    let mut tx = pool.begin().await?;
    let result = mark_checked(&mut tx, note, reason, actor).await;
    finish(tx, actor, "deepcura_unlinkable", filters, result, "marked not linkable").await
}

/// Records the action (a refusal too) and commits; a database failure
/// rolls everything back instead.
async fn finish(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    actor: &str,
    action: &str,
    filters: serde_json::Value,
    result: Result<(), ManualLinkError>,
    done: &'static str,
) -> Result<(), ManualLinkError> {
    if let Err(ManualLinkError::Database(e)) = result {
        return Err(ManualLinkError::Database(e));
    }
    let outcome = result.as_ref().map_or_else(ManualLinkError::summary, |()| done);
    let row = OperatorAction { actor, action, filters, dry_run: false, job_ids: &[], delivery_ids: &[], outcome };
    audit::record_action(&mut *tx, &row).await?;
    tx.commit().await?;
    result
}

/// The note's patient, with its row locked against a concurrent `link_note`.
async fn lock_note(tx: &mut PgConnection, note: i64) -> Result<Option<i64>, ManualLinkError> {
    let patient: Option<Option<i64>> =
        sqlx::query_scalar("SELECT patient_id FROM deepcura_notes WHERE id = $1 FOR UPDATE")
            .bind(note)
            .fetch_optional(&mut *tx)
            .await?;
    patient.ok_or(ManualLinkError::NoSuchNote(note))
}

async fn mark_checked(
    tx: &mut PgConnection,
    note: i64,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), ManualLinkError> {
    lock_note(tx, note).await?;
    settle(tx, note, None, reason, actor).await
}

/// Writes an operator's decision: linked to `clinical_note`, or, without
/// one, not linkable for `reason`.
async fn settle(
    tx: &mut PgConnection,
    note: i64,
    clinical_note: Option<i64>,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), ManualLinkError> {
    sqlx::query(
        "UPDATE deepcura_notes SET link_method = 'manual', link_candidates = '{}', clinical_note_id = $2, \
         link_status = CASE WHEN $2::bigint IS NULL THEN 'unlinkable' ELSE 'linked' END, \
         linked_at = CASE WHEN $2::bigint IS NULL THEN NULL ELSE now() END, unlinkable_reason = $3, \
         synced_at = now(), synced_by = $4 \
         WHERE id = $1",
    )
    .bind(note)
    .bind(clinical_note)
    .bind(reason)
    .bind(format!("operator:{actor}"))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn link_checked(
    tx: &mut PgConnection,
    note: i64,
    clinical_note: i64,
    actor: &str,
) -> Result<(), ManualLinkError> {
    let note_patient = lock_note(tx, note).await?;
    let clinical_patient: Option<Option<i64>> =
        sqlx::query_scalar("SELECT patient_id FROM clinical_notes WHERE id = $1")
            .bind(clinical_note)
            .fetch_optional(&mut *tx)
            .await?;
    let clinical_patient = clinical_patient.ok_or(ManualLinkError::NoSuchClinicalNote(clinical_note))?;
    if let (Some(note_patient), Some(clinical_patient)) = (note_patient, clinical_patient)
        && note_patient != clinical_patient
    {
        return Err(ManualLinkError::OtherPatient { note, note_patient, clinical_note, clinical_patient });
    }
    settle(tx, note, Some(clinical_note), None, actor).await
}

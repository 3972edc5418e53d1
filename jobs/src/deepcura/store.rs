//! Writes a parsed Gridhook to `deepcura_notes`, one row per session.

use serde_json::Value;
use sqlx::PgConnection;

use super::GridhookNote;
use crate::drchrono::Keyring;

/// The associated data of the sealed raw JSON: table, column and session,
/// so a sealed copy moved to another row does not open.
pub(crate) fn raw_aad(session_id: &str) -> String {
    format!("deepcura_notes.raw:{session_id}")
}

/// `raw_fingerprint`: recognises an identical re-delivery without opening
/// the stored copy.
pub(crate) fn raw_fingerprint(keys: &Keyring, raw_text: &str) -> Vec<u8> {
    keys.fingerprint(&["deepcura_notes.raw", raw_text])
}

/// The row a delivery was stored in, and whether this delivery changed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredNote {
    pub id: i64,
    pub changed: bool,
}

/// Inserts or updates the note of `note.session_id`. A re-delivery with the
/// same content, or an older version (by the note's own time) arriving
/// after a newer one, leaves the row (and `change_log`) untouched.
pub async fn store_note(
    db: &mut PgConnection,
    delivery: i64,
    note: &GridhookNote,
    raw: &Value,
    keys: &Keyring,
    actor: &str,
) -> Result<StoredNote, sqlx::Error> {
    let raw_text = raw.to_string();
    let sealed = keys.seal(&raw_aad(&note.session_id), &raw_text);
    let fingerprint = raw_fingerprint(keys, &raw_text);
    let written: Option<i64> = sqlx::query_scalar(include_str!("store_note.sql"))
        .bind(&note.session_id)
        .bind(delivery)
        .bind(note.appointment_id)
        .bind(note.patient_id)
        .bind(note.doctor_id)
        .bind(note.session_date)
        .bind(&note.icd10_codes)
        .bind(&note.cpt_codes)
        .bind(&note.medication_mentions)
        .bind(&note.billing_summary)
        .bind(&note.risk_assessment)
        .bind(sealed)
        .bind(fingerprint)
        .bind(actor)
        .bind(note.note_time)
        .fetch_optional(&mut *db)
        .await?;
    let stored = match written {
        Some(id) => StoredNote { id, changed: true },
        None => {
            let id = sqlx::query_scalar("SELECT id FROM deepcura_notes WHERE session_id = $1")
                .bind(&note.session_id)
                .fetch_one(&mut *db)
                .await?;
            StoredNote { id, changed: false }
        }
    };
    sqlx::query("UPDATE webhook_deliveries SET deepcura_note_id = $2 WHERE id = $1")
        .bind(delivery)
        .bind(stored.id)
        .execute(&mut *db)
        .await?;
    Ok(stored)
}

/// Opens a note's sealed raw JSON, for operators who need every field;
/// `None` when it is not there, was pruned or opens with neither key.
pub async fn open_raw(db: &mut PgConnection, id: i64, keys: &Keyring) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String, Vec<u8>)> =
        sqlx::query_as("SELECT session_id, raw_sealed FROM deepcura_notes WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.and_then(|(session, sealed)| match keys.open(&raw_aad(&session), &sealed) {
        Ok(raw) => Some(raw),
        Err(e) => {
            if !sealed.is_empty() {
                tracing::warn!(deepcura_note = id, error = %e, "a Deep Cura note's sealed text did not open");
            }
            None
        }
    }))
}

/// A note's text, unsealed: the SOAP sections and the transcript.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NoteText {
    pub subjective: Option<String>,
    pub objective: Option<String>,
    pub assessment: Option<String>,
    pub plan: Option<String>,
    pub transcript: Option<String>,
}

/// Unseals a note's text. It is stored only sealed, so this is the one way
/// to read it, and a caller that does so is reading PHI on purpose.
pub async fn open_text(db: &mut PgConnection, id: i64, keys: &Keyring) -> Result<Option<NoteText>, sqlx::Error> {
    let Some(raw) = open_raw(db, id, keys).await? else { return Ok(None) };
    let Ok((note, _)) = GridhookNote::parse(raw.as_bytes()) else { return Ok(None) };
    Ok(Some(NoteText {
        subjective: note.subjective,
        objective: note.objective,
        assessment: note.assessment,
        plan: note.plan,
        transcript: note.transcript,
    }))
}

//! Linking a Deep Cura note to its DrChrono clinical note:
//! 1. the clinical note of the Gridhook's appointment;
//! 2. else the one clinical note of the patient on the session date (its
//!    own date, or its appointment's day in the practice's zone); several
//!    leave the note `ambiguous` with the candidates;
//! 3. else `unlinked` until a matching note or appointment arrives.
//!
//! Links made on patient and date are re-examined when a record arrives
//! for that patient and day, since the note of the named appointment, or a
//! second note, may not have been synced yet.

use sqlx::PgConnection;

use crate::domain::RecordKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Linked { clinical_note: i64, method: &'static str },
    Ambiguous(Vec<i64>),
    Unlinked,
}

impl Link {
    fn status(&self) -> &'static str {
        match self {
            Self::Linked { .. } => "linked",
            Self::Ambiguous(_) => "ambiguous",
            Self::Unlinked => "unlinked",
        }
    }

    fn from_candidates(candidates: Vec<i64>, method: &'static str) -> Option<Self> {
        match candidates.as_slice() {
            [] => None,
            [only] => Some(Self::Linked { clinical_note: *only, method }),
            _ => Some(Self::Ambiguous(candidates)),
        }
    }
}

const BY_APPOINTMENT: &str = "SELECT id FROM clinical_notes WHERE appointment_id = $1 ORDER BY id";

const BY_PATIENT_DAY: &str = "SELECT n.id FROM clinical_notes n \
     LEFT JOIN appointments a ON a.id = n.appointment_id \
     WHERE n.patient_id = $1 AND NOT coalesce(a.deleted, false) \
       AND coalesce(n.note_date, (a.scheduled_time AT TIME ZONE $3)::date) = $2 \
     ORDER BY n.id";

/// Decides the link of one Deep Cura note from what the tables hold now.
pub async fn decide(db: &mut PgConnection, note: i64, time_zone: &str) -> Result<Link, sqlx::Error> {
    let (appointment, patient, day): (Option<i64>, Option<i64>, Option<chrono::NaiveDate>) =
        sqlx::query_as("SELECT appointment_id, patient_id, session_date FROM deepcura_notes WHERE id = $1")
            .bind(note)
            .fetch_one(&mut *db)
            .await?;
    if let Some(appointment) = appointment {
        let found: Vec<i64> = sqlx::query_scalar(BY_APPOINTMENT).bind(appointment).fetch_all(&mut *db).await?;
        if let Some(link) = Link::from_candidates(found, "appointment") {
            return Ok(link);
        }
    }
    if let (Some(patient), Some(day)) = (patient, day) {
        let found: Vec<i64> =
            sqlx::query_scalar(BY_PATIENT_DAY).bind(patient).bind(day).bind(time_zone).fetch_all(&mut *db).await?;
        if let Some(link) = Link::from_candidates(found, "patient_date") {
            return Ok(link);
        }
    }
    Ok(Link::Unlinked)
}

/// Stores `link` for the note; returns false when it was stored already
/// (no write, so `change_log` records real changes only).
pub async fn store(db: &mut PgConnection, note: i64, link: &Link, actor: &str) -> Result<bool, sqlx::Error> {
    let (clinical_note, method, candidates) = match link {
        Link::Linked { clinical_note, method } => (Some(*clinical_note), Some(*method), vec![*clinical_note]),
        Link::Ambiguous(candidates) => (None, None, candidates.clone()),
        Link::Unlinked => (None, None, Vec::new()),
    };
    let written = sqlx::query(
        "UPDATE deepcura_notes SET link_status = $2, clinical_note_id = $3, link_method = $4, \
         link_candidates = $5, linked_at = CASE WHEN $3 IS NULL THEN NULL ELSE now() END, \
         synced_at = now(), synced_by = $6 \
         WHERE id = $1 AND (link_status, clinical_note_id, link_method, link_candidates) \
               IS DISTINCT FROM ($2, $3, $4, $5)",
    )
    .bind(note)
    .bind(link.status())
    .bind(clinical_note)
    .bind(method)
    .bind(candidates)
    .bind(actor)
    .execute(db)
    .await?;
    Ok(written.rows_affected() > 0)
}

/// Deep Cura notes whose link may change now that these appointments or
/// clinical notes were written: the unlinked and ambiguous ones, and those
/// linked on patient and date, that name one of them or share its patient
/// and day. Notes an operator settled (`manual`) are not looked at again.
pub async fn notes_to_relink(
    db: &mut PgConnection,
    kind: RecordKind,
    ids: &[i64],
    time_zone: &str,
) -> Result<Vec<i64>, sqlx::Error> {
    let arrived = match kind {
        RecordKind::ClinicalNote => {
            "SELECT n.appointment_id, n.patient_id, \
                    coalesce(n.note_date, (a.scheduled_time AT TIME ZONE $2)::date) AS day \
             FROM clinical_notes n LEFT JOIN appointments a ON a.id = n.appointment_id \
             WHERE n.id = ANY($1)"
        }
        RecordKind::Appointment => {
            "SELECT a.id AS appointment_id, a.patient_id, (a.scheduled_time AT TIME ZONE $2)::date AS day \
             FROM appointments a WHERE a.id = ANY($1)"
        }
        _ => return Ok(Vec::new()),
    };
    let sql = format!(
        "WITH arrived AS ({arrived}) \
         SELECT DISTINCT d.id FROM deepcura_notes d JOIN arrived r \
           ON d.appointment_id = r.appointment_id \
           OR (d.patient_id = r.patient_id AND d.session_date = r.day) \
         WHERE (d.link_status <> 'linked' OR d.link_method = 'patient_date') \
           AND d.link_method IS DISTINCT FROM 'manual' \
         ORDER BY d.id"
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(ids).bind(time_zone).fetch_all(db).await
}

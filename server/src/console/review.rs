//! The review queues: Deep Cura notes no clinical note could be matched
//! to, note PDFs that need a person, partner events that matched no
//! appointment, patients whose phones did not parse. Ids, counts, dates and
//! states only. The actions are `cargo xtask deepcura link|unlinkable` and
//! `cargo xtask pdf recheck`.

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, Utc};
use jobs::{
    archive::store,
    catalog::archive_pdf::{self, Recheck},
    deepcura::{manual, review::open_notes},
    domain::audit,
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{ConsoleError, PAGE_SIZE, auth::Session, csrf::Action, layout, overview::NoFields};
use crate::AppState;

#[derive(sqlx::FromRow)]
struct Unmatched {
    id: i64,
    event_type: String,
    appointment_id: String,
    received_at: DateTime<Utc>,
    job_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Unparsed {
    id: i64,
    phones_unparsed: i16,
}

/// `GET /console/review`, each list its first [`PAGE_SIZE`]:
/// `deepcura_notes_open_by_arrival`, `pdf_checks_needing_review`,
/// `appointment_events_unmatched` and `patients_phones_unparsed`. Audited
/// as a read of the notes and patients it lists (ids only).
pub async fn page(State(state): State<AppState>, session: Session) -> Result<Markup, ConsoleError> {
    let pool = &state.pool;
    let notes = open_notes(pool, None, PAGE_SIZE).await?;
    let pdfs = store::needing_review(pool, PAGE_SIZE).await?;
    let events: Vec<Unmatched> = sqlx::query_as(
        "SELECT id, event_type, appointment_id, received_at, job_id FROM appointment_events \
         WHERE match_status = 'unmatched' ORDER BY id DESC LIMIT $1",
    )
    .bind(PAGE_SIZE)
    .fetch_all(pool)
    .await?;
    let phones: Vec<Unparsed> =
        sqlx::query_as("SELECT id, phones_unparsed FROM patients WHERE phones_unparsed > 0 ORDER BY id DESC LIMIT $1")
            .bind(PAGE_SIZE)
            .fetch_all(pool)
            .await?;
    audit::record_read(pool, session.role.actor(), "GET /console/review", notes.len() + pdfs.len() + phones.len())
        .await?;
    let body = html! {
        section id="unlinked-notes" {
            h2 { "Deep Cura notes without a clinical note" }
            table {
                thead { tr { th { "note" } th { "status" } th { "appointment" } th { "patient" } th { "session date" } th { "candidates" } th { "received" } th {} } }
                tbody {
                    @for n in &notes {
                        tr data-note-id=(n.id) data-status=(n.link_status) {
                            td { (n.id) } td { (n.link_status) } td { (opt(n.appointment_id)) } td { (opt(n.patient_id)) }
                            td { (n.session_date.map_or_else(|| "-".into(), |d| d.to_string())) }
                            td { (n.link_candidates.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")) }
                            td { (layout::time(Some(n.received_at))) }
                            td {
                                (layout::action_form(&session, &format!("/console/deepcura/{}/link", n.id), None, "link", "Link",
                                    html! { input name="clinical_note" inputmode="numeric" required placeholder="clinical note id"; }))
                                (layout::action_form(&session, &format!("/console/deepcura/{}/unlinkable", n.id), None, "unlinkable", "Not linkable", html! {}))
                            }
                        }
                    }
                }
            }
            @if notes.is_empty() { p.empty { "No Deep Cura note awaits review." } }
        }
        section id="pdf-review" {
            h2 { "Note PDFs that need review" }
            table {
                thead { tr { th { "clinical note" } th { "patient" } th { "reason" } th { "pages" } th { "bytes" } th { "checked" } th {} } }
                tbody {
                    @for p in &pdfs {
                        tr data-note-id=(p.clinical_note_id) {
                            td { (p.clinical_note_id) } td { (opt(p.patient_id)) } td { (p.reason.as_deref().unwrap_or("-")) }
                            td { (opt(p.pages.map(i64::from))) } td { (opt(p.size_bytes)) } td { (layout::time(Some(p.checked_at))) }
                            td { (layout::action_form(&session, &format!("/console/pdfs/{}/recheck", p.clinical_note_id), None, "recheck", "Recheck", html! {})) }
                        }
                    }
                }
            }
            @if pdfs.is_empty() { p.empty { "No note PDF needs review." } }
        }
        section id="partner-unmatched" {
            h2 { "Partner events that matched no appointment" }
            table {
                thead { tr { th { "event" } th { "type" } th { "partner appointment" } th { "received" } th { "job" } } }
                tbody {
                    @for e in &events {
                        tr data-event-id=(e.id) {
                            td { (e.id) } td { (e.event_type) } td { (e.appointment_id) } td { (layout::time(Some(e.received_at))) }
                            td { @if let Some(job) = &e.job_id { a href={ "/console/jobs/" (job) } { (job) } } @else { "-" } }
                        }
                    }
                }
            }
            @if events.is_empty() { p.empty { "No unmatched partner event." } }
        }
        section id="unparsed-phones" {
            h2 { "Patients with phones that did not parse" }
            table {
                thead { tr { th { "patient" } th { "phones unparsed" } } }
                tbody { @for p in &phones { tr data-patient-id=(p.id) { td { (p.id) } td { (p.phones_unparsed) } } } }
            }
            @if phones.is_empty() { p.empty { "Every stored phone parsed." } }
        }
    };
    Ok(layout::page(&session, "Review", body))
}

fn opt(v: Option<i64>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

async fn back(state: &AppState, session: &Session, message: &str) -> Result<Response, ConsoleError> {
    session.set_flash(&state.pool, message).await?;
    Ok(Redirect::to("/console/review").into_response())
}

/// A manual link's refusal as the page says it; a database failure is the page's error.
fn refused(e: manual::ManualLinkError) -> Result<String, ConsoleError> {
    match e {
        manual::ManualLinkError::Database(e) => Err(ConsoleError::Database(e)),
        other => Ok(format!("Refused: {other}")),
    }
}

#[derive(Deserialize)]
pub struct LinkForm {
    clinical_note: String,
}

/// `POST /console/deepcura/{id}/link`, as `cargo xtask deepcura link ID --clinical-note N`.
pub async fn link(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<LinkForm>,
) -> Result<Response, ConsoleError> {
    let clinical_note: i64 = action.form.clinical_note.trim().parse().map_err(|_| {
        ConsoleError::BadRequest("the clinical note is a DrChrono id, a number; go back and enter it again".into())
    })?;
    let message = match manual::link_by_hand(&state.pool, id, clinical_note, action.session.role.actor()).await {
        Ok(()) => format!("Deep Cura note {id} is linked to clinical note {clinical_note} by hand."),
        Err(e) => refused(e)?,
    };
    back(&state, &action.session, &message).await
}

/// `POST /console/deepcura/{id}/unlinkable`, as `cargo xtask deepcura unlinkable ID`.
pub async fn unlinkable(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<NoFields>,
) -> Result<Response, ConsoleError> {
    let message = match manual::mark_unlinkable(&state.pool, id, None, action.session.role.actor()).await {
        Ok(()) => format!("Deep Cura note {id} is marked not linkable and left the list."),
        Err(e) => refused(e)?,
    };
    back(&state, &action.session, &message).await
}

/// `POST /console/pdfs/{note}/recheck`, as `cargo xtask pdf recheck NOTE`:
/// forgets the needs-review verdict and enqueues the note's `archive_pdf`
/// job, recorded in `operator_actions`.
pub async fn recheck(
    State(state): State<AppState>,
    Path(note): Path<i64>,
    action: Action<NoFields>,
) -> Result<Response, ConsoleError> {
    let message = match archive_pdf::recheck(&state.pool, note, action.session.role.actor()).await? {
        Recheck::NoVerdict => format!("Note {note}'s current version has no needs-review verdict."),
        Recheck::Enqueued(job) => format!("Note {note}: verdict forgotten; archive_pdf job {job} enqueued."),
        Recheck::AlreadyQueued => format!("Note {note}: verdict forgotten; its archive_pdf job is already queued."),
    };
    back(&state, &action.session, &message).await
}

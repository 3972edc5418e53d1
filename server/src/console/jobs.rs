//! The jobs list and one job's page, with its retry, discard and cancel
//! (`cargo xtask retry-failed --id`, `cargo xtask jobs discard|cancel`).

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use job_runner::ops::{self, ByIdReport, ByIdRequest, JobFilter, PageFilter, RetryOutcome, RetryRequest, Verdict};
use maud::{Markup, html};
use serde::Deserialize;

use super::{ConsoleError, PAGE_SIZE, auth::Session, csrf::Action, layout, nonblank};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    queue: Option<String>,
    state: Option<String>,
    class: Option<String>,
    /// Only jobs enqueued before this job (ids sort by enqueue time).
    before: Option<String>,
    /// Enqueued at or after, and before: `2h` (ago), a date, or an RFC 3339 time.
    since: Option<String>,
    until: Option<String>,
}

/// A `since`/`until` field as `jobs list --since` takes it.
fn time_field(name: &str, value: Option<&str>) -> Result<Option<chrono::DateTime<chrono::Utc>>, ConsoleError> {
    value
        .map(|v| ops::parse_since(v, chrono::Utc::now()))
        .transpose()
        .map_err(|e| ConsoleError::BadRequest(format!("{name}: {e}")))
}

/// `GET /console/jobs`, newest first: [`ops::page`] says which index serves it.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<ListQuery>,
) -> Result<Markup, ConsoleError> {
    let states = nonblank(&q.state).map(ops::states_named).unwrap_or_default();
    if nonblank(&q.state).is_some() && states.is_empty() {
        let names = ops::OVERVIEW_STATES.join(", ");
        return Err(ConsoleError::BadRequest(format!("unknown state; choose one of {names} from the filter")));
    }
    let filter = PageFilter {
        queue: nonblank(&q.queue).map(str::to_string),
        states,
        error_class: nonblank(&q.class).map(str::to_string),
        before: nonblank(&q.before).map(str::to_string),
        enqueued_since: time_field("since", nonblank(&q.since))?,
        enqueued_until: time_field("until", nonblank(&q.until))?,
    };
    let rows = ops::page(&state.pool, &filter, PAGE_SIZE).await?;
    let filters = [
        ("queue", nonblank(&q.queue)),
        ("state", nonblank(&q.state)),
        ("class", nonblank(&q.class)),
        ("since", nonblank(&q.since)),
        ("until", nonblank(&q.until)),
    ];
    let body = html! {
        form id="job-filter" method="get" action="/console/jobs" {
            label { "queue " input name="queue" value=[nonblank(&q.queue)]; }
            label { "state "
                select name="state" {
                    option value="" { "any" }
                    @for s in ops::OVERVIEW_STATES { option value=(s) selected[nonblank(&q.state) == Some(s)] { (s) } }
                }
            }
            label { "error class " input name="class" value=[nonblank(&q.class)]; }
            label { "enqueued since " input name="since" placeholder="2h, 2026-12-01" value=[nonblank(&q.since)]; }
            label { "until " input name="until" placeholder="30m" value=[nonblank(&q.until)]; }
            button type="submit" { "Filter" }
        }
        table id="jobs" {
            thead { tr { th { "id" } th { "queue" } th { "state" } th { "attempts" } th { "enqueued" } th { "last error class" } } }
            tbody {
                @for r in &rows {
                    @let job_state = r.state();
                    tr data-job-id=(r.id) data-state=(job_state) {
                        td { a.job-link href={ "/console/jobs/" (r.id) } { (r.id) } }
                        td { (r.queue) } td.state { (job_state) } td { (r.attempts) "/" (r.max_attempts) }
                        td { (layout::time(r.enqueued_at)) } td { (r.error_class.as_deref().unwrap_or("-")) }
                    }
                }
            }
        }
        @if rows.is_empty() { p.empty { "No job matches." } }
        (layout::next_link("/console/jobs", &filters, rows.last().map(|r| r.id.clone()), rows.len() as i64 == PAGE_SIZE))
    };
    Ok(layout::page(&session, "Jobs", body))
}

/// `GET /console/jobs/{id}`: `jobs_pkey` and `job_attempts_by_job`. Audited
/// as a read, as `cargo xtask jobs show` is.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Markup, ConsoleError> {
    let job = ops::show(&state.pool, &id).await?;
    jobs::domain::audit::record_read(
        &state.pool,
        session.role.actor(),
        "GET /console/jobs/{id}",
        usize::from(job.is_some()),
    )
    .await?;
    let Some(job) = job else {
        return Err(ConsoleError::NotFound("no such job; the jobs page lists recent ones".into()));
    };
    let trace_ui = state
        .settings
        .telemetry
        .trace_ui_url
        .as_deref()
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    let args = serde_json::to_string_pretty(&job.args).unwrap_or_default();
    let path = format!("/console/jobs/{}", job.id);
    let body = html! {
        section id="job" data-job-id=(job.id) {
            dl {
                dt { "state" } dd { span id="job-state" { (job.state) } }
                dt { "queue" } dd { (job.queue) }
                dt { "attempts" } dd { (job.attempts) " of " (job.max_attempts) }
                dt { "enqueued" } dd { (layout::time(job.enqueued_at)) }
                dt { "runs at" } dd { (layout::time(Some(job.run_at))) }
                @if let (Some(kind), Some(record)) = (&job.record_type, job.record_id) { dt { "record" } dd { (kind) " " (record) } }
                @if let Some(by) = &job.discarded_by { dt { "discarded" } dd { "by " (by) " at " (layout::time(job.discarded_at)) } }
            }
            h2 { "Arguments (ids only)" }
            pre id="job-args" { (args) }
            div.job-actions {
                @if matches!(job.state.as_str(), "dead" | "discarded") {
                    (layout::action_form(&session, &format!("{path}/retry"), Some("retry"), "retry", "Retry", html! {}))
                }
                @if job.state == "dead" {
                    (layout::action_form(&session, &format!("{path}/discard"), Some("discard"), "discard", "Discard",
                        html! { input name="reason" maxlength="500" placeholder="why (a cause or a ticket, never patient details)"; }))
                }
                @if matches!(job.state.as_str(), "pending" | "retrying") {
                    (layout::action_form(&session, &format!("{path}/cancel"), Some("cancel"), "cancel", "Cancel", html! {}))
                }
            }
            h2 { "Attempts" }
            table id="attempts" {
                thead { tr { th { "#" } th { "outcome" } th { "class" } th { "message" } th { "worker" } th { "started" } th { "duration" } th { "trace" } } }
                tbody {
                    @for a in &job.history {
                        tr.attempt data-outcome=(a.outcome) {
                            td { (a.attempt) } td { (a.outcome) } td { (a.error_class.as_deref().unwrap_or("-")) }
                            td { (a.message.as_deref().unwrap_or("")) } td { (a.worker_id.as_deref().unwrap_or("-")) }
                            td { (layout::time(Some(a.started_at))) }
                            td { ((a.finished_at - a.started_at).num_milliseconds()) " ms" }
                            td { @match (trace_ui, &a.trace_id) {
                                (Some(ui), Some(trace)) => a.trace href=(ui.replace("{trace_id}", trace)) { (trace) },
                                (None, Some(trace)) => code { (trace) },
                                _ => "-",
                            } }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&session, &format!("Job {}", job.id), body))
}

#[derive(Deserialize)]
pub struct Reason {
    reason: Option<String>,
}

fn request(id: &str, session: &Session) -> ByIdRequest {
    ByIdRequest { ids: vec![id.to_string()], dry_run: false, actor: session.role.actor().to_string() }
}

/// Flashes the one verdict of `report` and goes back to the job.
async fn back(state: &AppState, session: &Session, id: &str, message: String) -> Result<Response, ConsoleError> {
    session.set_flash(&state.pool, &message).await?;
    let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    Ok(Redirect::to(&format!("/console/jobs/{id}")).into_response())
}

fn verdict(report: &ByIdReport, done: &str) -> String {
    match report.jobs.first().map(|j| &j.verdict) {
        Some(Verdict::Done) => done.to_string(),
        Some(Verdict::Refused { why }) => format!("Refused: {why}"),
        Some(Verdict::NotFound) | None => "No such job.".into(),
    }
}

/// `POST /console/jobs/{id}/retry`, as `cargo xtask retry-failed --id ID`.
pub async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    action: Action<super::overview::NoFields>,
) -> Result<Response, ConsoleError> {
    let filter = JobFilter { ids: vec![id.clone()], ..Default::default() };
    let req =
        RetryRequest { filter, limit: None, dry_run: false, all: false, actor: action.session.role.actor().into() };
    let registry = jobs::registry::all();
    let report = ops::retry_failed(&state.pool, &req, |queue| registry.max_attempts(queue).unwrap_or(5)).await?;
    let message = match report.outcome {
        RetryOutcome::Revived { revived, .. } if !revived.is_empty() => {
            "Revived: the job is pending with a fresh attempt budget.".into()
        }
        RetryOutcome::Revived { .. } => {
            "Not revived: another active job holds the same key, so it would duplicate work.".into()
        }
        RetryOutcome::NothingMatched => "Not revived: only a dead or discarded job can be retried.".into(),
        RetryOutcome::Refused { matched } => format!("Refused: {matched} jobs matched."),
        RetryOutcome::DryRun => "Dry run: nothing changed.".into(),
    };
    back(&state, &action.session, &id, message).await
}

/// `POST /console/jobs/{id}/discard`, as `cargo xtask jobs discard ID --reason R`.
pub async fn discard(
    State(state): State<AppState>,
    Path(id): Path<String>,
    action: Action<Reason>,
) -> Result<Response, ConsoleError> {
    let reason = nonblank(&action.form.reason);
    let report = ops::discard(&state.pool, &request(&id, &action.session), reason).await?;
    back(&state, &action.session, &id, verdict(&report, "Discarded: kept, out of the dead counts and alerts.")).await
}

/// `POST /console/jobs/{id}/cancel`, as `cargo xtask jobs cancel ID`.
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    action: Action<super::overview::NoFields>,
) -> Result<Response, ConsoleError> {
    let report = ops::cancel(&state.pool, &request(&id, &action.session)).await?;
    back(&state, &action.session, &id, verdict(&report, "Cancelled: it will not run; its key is free again.")).await
}

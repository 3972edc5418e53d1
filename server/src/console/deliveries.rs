//! The inbox: stored deliveries with their source, event, outcome, record
//! and job (never a body or a header), and replaying one
//! (`cargo xtask deliveries replay --id ID [--dry-run]`).

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use jobs::inbox::{
    DeliveryFilter, DeliveryRow,
    replay::{self, ReplayOutcome, ReplayRequest, ReplaySettings, Verdict},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{ConsoleError, PAGE_SIZE, auth::Session, csrf::Action, layout, nonblank};
use crate::AppState;

#[derive(Deserialize)]
pub struct ListQuery {
    source: Option<String>,
    event: Option<String>,
    outcome: Option<String>,
    before: Option<i64>,
}

/// A page of deliveries, newest first: `webhook_deliveries_by_outcome` with
/// an outcome, else `webhook_deliveries_pkey` backwards from `before`
/// (source and event are checked along the scan). Only the filters given
/// are in the SQL, so the plan can use the index each one allows.
async fn page(pool: &sqlx::PgPool, q: &ListQuery) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    let mut sql = sqlx::QueryBuilder::new(
        "SELECT d.id, d.received_at, d.source, d.event, d.outcome, d.record_kind, d.object_id, d.deepcura_note_id, \
                d.job_id, d.replay_of, octet_length(d.body) > 0 AS has_body \
         FROM webhook_deliveries d WHERE true",
    );
    for (column, value) in [("source", &q.source), ("event", &q.event), ("outcome", &q.outcome)] {
        if let Some(value) = nonblank(value) {
            sql.push(format_args!(" AND d.{column} = ")).push_bind(value.to_string());
        }
    }
    if let Some(before) = q.before {
        sql.push(" AND d.id < ").push_bind(before);
    }
    sql.push(" ORDER BY d.id DESC LIMIT ").push_bind(PAGE_SIZE);
    sql.build_query_as().fetch_all(pool).await
}

/// `GET /console/deliveries`: [`page`] says which index serves it.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<ListQuery>,
) -> Result<Markup, ConsoleError> {
    let rows = page(&state.pool, &q).await?;
    let filters = [("source", nonblank(&q.source)), ("event", nonblank(&q.event)), ("outcome", nonblank(&q.outcome))];
    let body = html! {
        form.filters id="delivery-filter" method="get" action="/console/deliveries" {
            label { "source " input name="source" value=[nonblank(&q.source)] placeholder="drchrono, deepcura"; }
            label { "event " input name="event" value=[nonblank(&q.event)]; }
            label { "outcome " input name="outcome" value=[nonblank(&q.outcome)] placeholder="not_modelled, rejected_auth"; }
            button type="submit" { "Filter" }
        }
        table id="deliveries" {
            thead { tr { th { "id" } th { "received" } th { "source" } th { "event" } th { "outcome" } th { "record" } th { "job" } th {} } }
            tbody {
                @for d in &rows {
                    tr data-delivery-id=(d.id) data-outcome=(d.outcome) {
                        td { (d.id) } td { (layout::time(Some(d.received_at))) } td { (d.source) }
                        td { (d.event.as_deref().unwrap_or("-")) } td.outcome { (d.outcome) }
                        td { (d.record_kind.as_deref().unwrap_or(if d.deepcura_note_id.is_some() { "deepcura_note" } else { "-" })) " "
                             (d.object_id.or(d.deepcura_note_id).map_or_else(String::new, |id| id.to_string())) }
                        td { @if let Some(job) = &d.job_id { a.job-link href={ "/console/jobs/" (job) } { (job) } } @else { "-" } }
                        td {
                            @if let Some(original) = d.replay_of { "replay of " (original) }
                            @else if d.has_body {
                                (layout::action_form(&session, &format!("/console/deliveries/{}/replay", d.id), None, "replay", "Replay", html! {}))
                                (layout::action_form(&session, &format!("/console/deliveries/{}/replay", d.id), None, "replay-dry-run", "Dry run",
                                    html! { input type="hidden" name="dry_run" value="true"; }))
                            } @else { "no body kept" }
                        }
                    }
                }
            }
        }
        @if rows.is_empty() { p.empty { "No delivery matches." } }
        (layout::next_link("/console/deliveries", &filters, rows.last().map(|r| r.id.to_string()), rows.len() as i64 == PAGE_SIZE))
    };
    Ok(layout::page(&session, "Deliveries", body))
}

#[derive(Deserialize)]
pub struct ReplayForm {
    dry_run: Option<String>,
}

/// `POST /console/deliveries/{id}/replay`: admitted again as if it had just
/// arrived, with the same dedup, so a second replay enqueues nothing.
pub async fn replay(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    action: Action<ReplayForm>,
) -> Result<Response, ConsoleError> {
    let dry_run = action.form.dry_run.as_deref() == Some("true");
    let request = ReplayRequest {
        filter: DeliveryFilter { ids: vec![id], ..Default::default() },
        dry_run,
        all: false,
        actor: action.session.role.actor().into(),
    };
    let settings = ReplaySettings {
        time_zone: state.settings.practice_timezone.name(),
        deepcura_scheme: state.settings.deepcura_scheme,
    };
    let report = replay::replay(&state.pool, &request, settings).await?;
    let message = match (&report.outcome, report.items.first().map(|i| &i.verdict)) {
        (ReplayOutcome::NothingMatched, _) | (_, None) => format!("No stored delivery {id}."),
        (_, Some(Verdict::Enqueued { queue, job_id: Some(job) })) => {
            format!("Replayed delivery {id}: enqueued {queue} job {job}.")
        }
        (_, Some(Verdict::Enqueued { queue, job_id: None })) => {
            format!("Dry run: delivery {id} would enqueue {queue}; nothing changed.")
        }
        (_, Some(Verdict::Duplicate { job_id })) => {
            format!(
                "Delivery {id} is a duplicate: its job exists ({}); nothing enqueued.",
                job_id.as_deref().unwrap_or("-")
            )
        }
        (_, Some(Verdict::NotApplied { outcome, .. })) => {
            format!("Delivery {id} replayed{}, and is still {outcome}.", if dry_run { " (dry run)" } else { "" })
        }
        (_, Some(Verdict::Refused { reason })) => format!("Refused: {reason}"),
    };
    action.session.set_flash(&state.pool, &message).await?;
    Ok(Redirect::to("/console/deliveries").into_response())
}

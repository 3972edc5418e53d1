//! The sync runs: each walk with its progress, calls, pages and outcome.

use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::{ConsoleError, PAGE_SIZE, auth::Session, layout};
use crate::AppState;

#[derive(Deserialize)]
pub struct RunsQuery {
    before: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Run {
    id: i64,
    schedule: Option<String>,
    kind: String,
    scope: Option<String>,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    outcome: String,
    seen: i64,
    created: i64,
    updated: i64,
    unchanged: i64,
    failed: i64,
    removed: i64,
    calls: i64,
    pages: i64,
    job_id: Option<String>,
}

/// `GET /console/runs`, newest first: `sync_runs_pkey` backwards from `before`.
/// A run's error text is left out: it may quote what DrChrono sent.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<RunsQuery>,
) -> Result<Markup, ConsoleError> {
    let runs: Vec<Run> = sqlx::query_as(
        "SELECT id, schedule, kind, scope, started_at, finished_at, outcome, seen, created, updated, unchanged, \
                failed, removed, calls, pages, job_id \
         FROM sync_runs WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
    )
    .bind(q.before)
    .bind(PAGE_SIZE)
    .fetch_all(&state.pool)
    .await?;
    let body = html! {
        table id="runs" {
            thead { tr { th { "id" } th { "schedule" } th { "kind" } th { "scope" } th { "started" } th { "finished" }
                         th { "outcome" } th { "seen" } th { "created" } th { "updated" } th { "unchanged" }
                         th { "failed" } th { "removed" } th { "calls" } th { "pages" } th { "job" } } }
            tbody {
                @for r in &runs {
                    tr data-run-id=(r.id) data-outcome=(r.outcome) {
                        td { (r.id) } td { (r.schedule.as_deref().unwrap_or("-")) } td { (r.kind) }
                        td { (r.scope.as_deref().unwrap_or("-")) } td { (layout::time(Some(r.started_at))) }
                        td { (layout::time(r.finished_at)) } td.outcome { (r.outcome) } td { (r.seen) } td { (r.created) }
                        td { (r.updated) } td { (r.unchanged) } td { (r.failed) } td { (r.removed) } td { (r.calls) }
                        td { (r.pages) }
                        td { @if let Some(job) = &r.job_id { a href={ "/console/jobs/" (job) } { (job) } } @else { "-" } }
                    }
                }
            }
        }
        @if runs.is_empty() { p.empty { "No sync run yet." } }
        (layout::next_link("/console/runs", &[], runs.last().map(|r| r.id.to_string()), runs.len() as i64 == PAGE_SIZE))
    };
    Ok(layout::page(&session, "Sync runs", body))
}

//! The overview: each queue's depth and state, the DrChrono budget and
//! token, the last tick of each schedule; and pausing and resuming a queue
//! (`cargo xtask jobs pause|resume`).

use std::collections::BTreeMap;

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, Utc};
use job_runner::ops::{self, Depth, PauseOutcome};
use maud::{Markup, html};
use serde::Deserialize;

use super::{ConsoleError, auth::Session, csrf::Action, layout};
use crate::AppState;

#[derive(sqlx::FromRow)]
struct Throughput {
    queue: String,
    done: i64,
    failed: i64,
}

/// Each queue's depth (`jobs_by_status_newest`) and its attempts in the
/// last hour (`job_attempts_by_time`): the finished jobs are never counted.
async fn depths(pool: &sqlx::PgPool) -> Result<(Vec<Depth>, Vec<Throughput>), sqlx::Error> {
    let depths = ops::depths(pool).await?;
    let throughput = sqlx::query_as(
        "SELECT queue, count(*) FILTER (WHERE outcome = 'succeeded') AS done, \
                count(*) FILTER (WHERE outcome <> 'succeeded') AS failed \
         FROM job_attempts WHERE finished_at > now() - interval '1 hour' GROUP BY queue",
    )
    .fetch_all(pool)
    .await?;
    Ok((depths, throughput))
}

#[derive(sqlx::FromRow)]
struct Budget {
    app: String,
    calls_this_hour: i32,
    blocked_until: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct Token {
    key: String,
    access_expires_at: Option<DateTime<Utc>>,
    needs_reauth: bool,
    refreshed_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct LastTick {
    schedule: String,
    tick_at: Option<DateTime<Utc>>,
    fired_at: Option<DateTime<Utc>>,
    jobs: Option<i32>,
}

/// `GET /console`. The budget and token tables hold a row per app; the
/// last tick per schedule is one probe of `scheduler_ticks_pkey` each.
pub async fn page(State(state): State<AppState>, session: Session) -> Result<Markup, ConsoleError> {
    let pool = &state.pool;
    let (depths, throughput) = depths(pool).await?;
    let paused = ops::paused_queues(pool).await?;
    let budgets: Vec<Budget> = sqlx::query_as(
        "SELECT app, CASE WHEN window_start >= date_trunc('hour', now()) THEN calls ELSE 0 END AS calls_this_hour, \
                blocked_until FROM drchrono_rate_budget ORDER BY app LIMIT 10",
    )
    .fetch_all(pool)
    .await?;
    let tokens: Vec<Token> = sqlx::query_as(
        "SELECT key, access_expires_at, needs_reauth, refreshed_at FROM oauth_tokens ORDER BY key LIMIT 10",
    )
    .fetch_all(pool)
    .await?;
    let names: Vec<&str> = crate::schedules(&state.settings).list().into_iter().map(|(name, _)| name).collect();
    let ticks: Vec<LastTick> = sqlx::query_as(
        "SELECT s.schedule, t.tick_at, t.fired_at, cardinality(t.job_ids) AS jobs \
         FROM unnest($1::text[]) AS s(schedule) LEFT JOIN LATERAL \
              (SELECT tick_at, fired_at, job_ids FROM scheduler_ticks WHERE schedule = s.schedule \
               ORDER BY tick_at DESC LIMIT 1) t ON true ORDER BY s.schedule",
    )
    .bind(&names)
    .fetch_all(pool)
    .await?;

    let mut queues: BTreeMap<String, (Depth, i64, i64)> = jobs::registry::all()
        .names()
        .into_iter()
        .map(|q| (q.to_string(), (Depth { queue: q.to_string(), ..Default::default() }, 0, 0)))
        .collect();
    for d in depths {
        let name = d.queue.clone();
        queues.entry(name).or_insert_with(|| (Depth::default(), 0, 0)).0 = d;
    }
    for t in throughput {
        let entry = queues
            .entry(t.queue.clone())
            .or_insert_with(|| (Depth { queue: t.queue.clone(), ..Default::default() }, 0, 0));
        (entry.1, entry.2) = (t.done, t.failed);
    }
    let limit = state.settings.drchrono_calls_per_hour;
    let body = html! {
        section id="overview" {
            h2 { "Queues" }
            table id="queues" {
                thead { tr { th { "queue" } th { "pending" } th { "oldest pending" } th { "running" } th { "retrying" }
                             th { "dead" } th { "done last hour" } th { "failed last hour" } th { "paused" } th {} } }
                tbody {
                    @for (name, (d, done, failed)) in &queues {
                        @let is_paused = paused.iter().any(|p| &p.queue == name);
                        tr data-queue=(name) {
                            td { a href={ "/console/jobs?queue=" (name) } { (name) } }
                            td.pending { (d.pending) }
                            td.oldest { (d.oldest_pending_secs.map_or_else(|| "-".into(), |s| format!("{s:.0} s"))) }
                            td.running { (d.running) }
                            td.retrying { (d.retrying) }
                            td.dead { a href={ "/console/jobs?state=dead&queue=" (name) } { (d.dead) } }
                            td.done { (done) }
                            td.failed { (failed) }
                            td.paused { (if is_paused { "yes" } else { "no" }) }
                            td {
                                @if is_paused {
                                    (layout::action_form(&session, &format!("/console/queues/{name}/resume"), None, "resume", "Resume", html! {}))
                                } @else {
                                    (layout::action_form(&session, &format!("/console/queues/{name}/pause"), None, "pause", "Pause", html! {}))
                                }
                            }
                        }
                    }
                }
            }
        }
        section id="drchrono" {
            h2 { "DrChrono" }
            @if budgets.is_empty() { p.budget { "No call this hour yet: " (limit) " of " (limit) " calls left." } }
            @for b in &budgets {
                p.budget data-app=(b.app) {
                    (b.app) ": " (i64::from(limit) - i64::from(b.calls_this_hour)) " of " (limit) " calls left this hour; "
                    @match b.blocked_until.filter(|t| *t > Utc::now()) {
                        Some(until) => { "blocked by a 429 until " (layout::time(Some(until))) }
                        None => { "no 429 block" }
                    }
                }
            }
            @if tokens.is_empty() { p.token data-state="none" { "No token stored: run `drchrono-sync connect`." } }
            @for t in &tokens {
                @let token_state = if t.needs_reauth { "needs_reauth" } else { "ok" };
                p.token data-state=(token_state) {
                    "token " (t.key) ": " (if t.needs_reauth { "needs re-authorization (`drchrono-sync connect`)" } else { "valid" })
                    "; access expires " (layout::time(t.access_expires_at)) "; refreshed " (layout::time(t.refreshed_at))
                }
            }
        }
        section id="schedules" {
            h2 { "Schedules" }
            table {
                thead { tr { th { "schedule" } th { "last tick" } th { "fired at" } th { "jobs enqueued" } } }
                tbody {
                    @for t in &ticks {
                        tr data-schedule=(t.schedule) {
                            td { (t.schedule) } td { (layout::time(t.tick_at)) } td { (layout::time(t.fired_at)) }
                            td { (t.jobs.map_or_else(|| "-".into(), |n| n.to_string())) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&session, "Overview", body))
}

#[derive(Deserialize)]
pub struct NoFields {}

/// `POST /console/queues/{queue}/pause`, as `cargo xtask jobs pause QUEUE`.
pub async fn pause(
    State(state): State<AppState>,
    Path(queue): Path<String>,
    action: Action<NoFields>,
) -> Result<Response, ConsoleError> {
    let known = jobs::registry::all().names();
    let outcome = ops::pause_queue(&state.pool, &queue, action.session.role.actor(), &known).await?;
    answer(&state, &action.session, &queue, outcome).await
}

/// `POST /console/queues/{queue}/resume`, as `cargo xtask jobs resume QUEUE`.
pub async fn resume(
    State(state): State<AppState>,
    Path(queue): Path<String>,
    action: Action<NoFields>,
) -> Result<Response, ConsoleError> {
    let known = jobs::registry::all().names();
    let outcome = ops::resume_queue(&state.pool, &queue, action.session.role.actor(), &known).await?;
    answer(&state, &action.session, &queue, outcome).await
}

async fn answer(
    state: &AppState,
    session: &Session,
    queue: &str,
    outcome: PauseOutcome,
) -> Result<Response, ConsoleError> {
    let message = match outcome {
        PauseOutcome::Paused => format!("Paused {queue} on every replica: running jobs finish, enqueues go on."),
        PauseOutcome::AlreadyPaused => format!("{queue} was already paused; nothing changed."),
        PauseOutcome::Resumed => format!("Resumed {queue}: its waiting jobs start now."),
        PauseOutcome::NotPaused => format!("{queue} was not paused; nothing changed."),
        PauseOutcome::UnknownQueue { .. } => {
            return Err(ConsoleError::NotFound("no such queue; the overview lists them".into()));
        }
    };
    session.set_flash(&state.pool, &message).await?;
    Ok(Redirect::to("/console").into_response())
}

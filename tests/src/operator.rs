//! What the operator-action tests share: requests by id, the audit rows
//! they leave, and the dead-jobs series as `/metrics` renders it.

use job_runner::ops::{ByIdReport, ByIdRequest, Verdict};
use sqlx::PgPool;

pub const ACTOR: &str = "test-operator";

/// A discard or cancel of `ids` by [`ACTOR`].
pub fn by_id(ids: &[&str], dry_run: bool) -> ByIdRequest {
    ByIdRequest { ids: ids.iter().map(|id| id.to_string()).collect(), dry_run, actor: ACTOR.into() }
}

/// The refusal of job `id` in `report`; panics when it was not refused.
pub fn refusal<'r>(report: &'r ByIdReport, id: &str) -> &'r str {
    match &report.jobs.iter().find(|j| j.id == id).unwrap_or_else(|| panic!("no verdict for {id}")).verdict {
        Verdict::Refused { why } => why,
        other => panic!("job {id} was not refused: {other:?}"),
    }
}

/// One `operator_actions` row: action, actor, dry run, job ids, outcome, filters.
pub type ActionRow = (String, String, bool, Vec<String>, String, serde_json::Value);

/// Every operator action recorded, oldest first.
pub async fn actions(pool: &PgPool) -> Vec<ActionRow> {
    sqlx::query_as("SELECT action, actor, dry_run, job_ids, outcome, filters FROM operator_actions ORDER BY id")
        .fetch_all(pool)
        .await
        .expect("operator_actions query")
}

/// `drchrono_sync_dead_jobs{queue=...}` as the runner renders it for `/metrics`.
pub async fn dead_metric(pool: &PgPool, queue: &'static str) -> f64 {
    queue_metric(pool, "drchrono_sync_dead_jobs", queue).await
}

/// The runner's series `name{queue=...}`, rendered as for `/metrics`.
pub async fn queue_metric(pool: &PgPool, name: &str, queue: &'static str) -> f64 {
    let mut text = job_runner::metrics::Text::default();
    job_runner::metrics::render_queues(&mut text, pool, &[queue]).await.expect("render queue metrics");
    let series = format!("{name}{{queue=\"{queue}\"}} ");
    let text = text.into_string();
    let line = text.lines().find_map(|l| l.strip_prefix(&series)).unwrap_or_else(|| panic!("no {series} in {text}"));
    line.parse().expect("a number")
}

/// The `state` column of `job_overview` for job `id`.
pub async fn overview_state(pool: &PgPool, id: &str) -> String {
    sqlx::query_scalar("SELECT state FROM job_overview WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("job_overview")
}

//! Write-back: pushes a stored write request (`write_requests`) to DrChrono
//! and upserts what DrChrono then holds, like any synced record, naming the
//! requester as the `change_log` actor.
//!
//! A create must never make two records. Before POSTing, the job commits
//! `post_started_at`; an attempt that finds it set cannot know whether the
//! earlier POST reached DrChrono (the worker may have died after the 201 and
//! before our commit), so it first looks for what that POST would have made
//! (an appointment in the same slot, a patient of the same name created
//! since) and adopts it ([`adopt`]).

mod adopt;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

use crate::{
    JobContext,
    domain::{RecordKind, id_of, upsert_batch},
    drchrono::DrChronoClient,
    runner::{JobError, JobOutcome, current_job_id},
};

/// Set to `1` only by tests: the process aborts right after DrChrono's 201,
/// before the result is committed, to prove a retry adopts instead of
/// creating a second record.
pub const FAULT_ABORT_AFTER_CREATE: &str = "DRCHRONO_SYNC_FAULT_ABORT_AFTER_CREATE";

struct Request {
    op: String,
    drchrono_id: Option<i64>,
    body: Value,
    requested_by: String,
    post_started_at: Option<DateTime<Utc>>,
    completed: bool,
}

const LOAD: &str = "SELECT op, drchrono_id, body, requested_by, post_started_at, \
     completed_at IS NOT NULL FROM write_requests WHERE id = $1 AND kind = $2";

/// Pushes request `id` of `kind` to DrChrono.
pub async fn push(ctx: &JobContext, kind: RecordKind, id: i64) -> Result<JobOutcome, JobError> {
    let row: Option<(String, Option<i64>, Value, String, Option<DateTime<Utc>>, bool)> =
        sqlx::query_as(LOAD).bind(id).bind(kind.name()).fetch_optional(&ctx.pool).await?;
    let Some((op, drchrono_id, body, requested_by, post_started_at, completed)) = row else {
        return Ok(JobOutcome::skipped("write request no longer stored"));
    };
    let request = Request { op, drchrono_id, body, requested_by, post_started_at, completed };
    if request.completed {
        return Ok(JobOutcome::skipped("write request already pushed"));
    }
    let actor = format!("api:{}:job:{}", request.requested_by, current_job_id().unwrap_or_default());
    let client = DrChronoClient::new(ctx);
    let (drchrono_id, object, resolution) = match (request.op.as_str(), request.drchrono_id) {
        ("update", Some(record)) => update(&client, kind, record, &request.body).await?,
        _ => create(ctx, &client, kind, id, &request).await?,
    };
    finish(ctx, kind, id, drchrono_id, &object, resolution, &actor).await?;
    tracing::info!(kind = kind.name(), write_request = id, drchrono_id, resolution, "write request pushed");
    Ok(JobOutcome::applied(1))
}

async fn update(
    client: &DrChronoClient<'_>,
    kind: RecordKind,
    record: i64,
    body: &Value,
) -> Result<(i64, Value, &'static str), JobError> {
    let path = format!("{}/{record}", kind.api_path());
    if !client.patch_object(&path, body).await? {
        return Err(JobError::permanent(anyhow::anyhow!(
            "DrChrono has no {} {record} (404 on PATCH); send a create instead",
            kind.name()
        )));
    }
    let object = client
        .get_object(&path)
        .await?
        .with_context(|| {
            format!("DrChrono lost {} {record} right after the PATCH; it will be read again on retry", kind.name())
        })
        .map_err(JobError::retryable)?;
    Ok((record, object, "patched"))
}

async fn create(
    ctx: &JobContext,
    client: &DrChronoClient<'_>,
    kind: RecordKind,
    id: i64,
    request: &Request,
) -> Result<(i64, Value, &'static str), JobError> {
    if let Some(started) = request.post_started_at
        && let Some(found) =
            adopt::find_earlier(client, kind, &request.body, started, ctx.settings.practice_timezone).await?
    {
        let record = id_of(found.get("id"))
            .context("the adopted record has no id; it will be looked up again on retry")
            .map_err(JobError::retryable)?;
        tracing::warn!(write_request = id, drchrono_id = record, "an earlier POST had created the record; adopted");
        return Ok((record, found, "adopted"));
    }
    mark_post_started(&ctx.pool, id).await?;
    let created = client.create_object(&kind.api_path(), &request.body).await?;
    let record = id_of(created.get("id"))
        .context("DrChrono's 201 carried no id; the request will be looked up on retry")
        .map_err(JobError::retryable)?;
    if std::env::var(FAULT_ABORT_AFTER_CREATE).as_deref() == Ok("1") {
        tracing::error!(write_request = id, "fault injection: aborting after DrChrono's 201");
        std::process::abort();
    }
    Ok((record, created, "created"))
}

async fn mark_post_started(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE write_requests SET post_started_at = now() WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map(drop)
}

/// Upserts DrChrono's copy and records the outcome, in one transaction.
async fn finish(
    ctx: &JobContext,
    kind: RecordKind,
    id: i64,
    drchrono_id: i64,
    object: &Value,
    resolution: &str,
    actor: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = ctx.pool.begin().await?;
    upsert_batch(&mut *tx, kind, std::slice::from_ref(object), actor, &ctx.settings.locale()).await?;
    sqlx::query("UPDATE write_requests SET drchrono_id = $2, resolution = $3, completed_at = now() WHERE id = $1")
        .bind(id)
        .bind(drchrono_id)
        .bind(resolution)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

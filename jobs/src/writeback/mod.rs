//! Write-back: sends a stored write request (`write_requests`) to DrChrono
//! ([`send`]) and records the outcome ([`record`]) in the transaction that
//! writes what DrChrono then holds, like any synced record, naming the
//! requester as the `change_log` actor (the push jobs do both).
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
use sqlx::{PgConnection, PgPool};

use crate::{
    JobContext,
    domain::{RecordKind, id_of},
    drchrono::DrChronoClient,
    faults::{self, FaultPoint},
};
use job_runner::{JobError, current_job_id};

#[derive(sqlx::FromRow)]
struct Request {
    op: String,
    drchrono_id: Option<i64>,
    body: Value,
    requested_by: String,
    post_started_at: Option<DateTime<Utc>>,
    completed: bool,
}

const LOAD: &str = "SELECT op, drchrono_id, body, requested_by, post_started_at, \
     completed_at IS NOT NULL AS completed FROM write_requests WHERE id = $1 AND kind = $2";

/// What [`send`] did.
#[derive(Debug)]
pub enum Sent {
    /// Nothing to send; the reason is the job's outcome.
    Skipped(&'static str),
    /// DrChrono holds the record now; [`record`] it with the object written.
    Pushed(Pushed),
}

/// A request DrChrono carried out.
#[derive(Debug)]
pub struct Pushed {
    /// `write_requests.id`.
    pub request: i64,
    pub drchrono_id: i64,
    /// DrChrono's copy of the record, to write as a synced record.
    pub object: Value,
    /// `created`, `adopted` or `updated`.
    pub resolution: &'static str,
    /// The `change_log` actor: the requester and the job.
    pub actor: String,
}

/// Sends request `id` of `kind` to DrChrono (POST, or PATCH for an update),
/// unless it is gone or already done.
pub async fn send(ctx: &JobContext, kind: RecordKind, id: i64) -> Result<Sent, JobError> {
    let row: Option<Request> = sqlx::query_as(LOAD).bind(id).bind(kind.name()).fetch_optional(&ctx.pool).await?;
    let Some(request) = row else {
        return Ok(Sent::Skipped("write request no longer stored"));
    };
    if request.completed {
        return Ok(Sent::Skipped("write request already pushed"));
    }
    let actor = format!("api:{}:job:{}", request.requested_by, current_job_id().unwrap_or_default());
    let client = ctx.drchrono();
    let (drchrono_id, object, resolution) = match (request.op.as_str(), request.drchrono_id) {
        ("update", Some(record)) => update(&client, kind, record, &request.body).await?,
        _ => create(ctx, &client, kind, id, &request).await?,
    };
    Ok(Sent::Pushed(Pushed { request: id, drchrono_id, object, resolution, actor }))
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
    let created = client.create_object(kind.api_path(), &request.body).await?;
    let record = id_of(created.get("id"))
        .context("DrChrono's 201 carried no id; the request will be looked up on retry")
        .map_err(JobError::retryable)?;
    // The crash test stops here to prove a retry adopts instead of creating a second record.
    faults::reached(FaultPoint::AfterDrChronoCreate);
    Ok((record, created, "created"))
}

async fn mark_post_started(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE write_requests SET post_started_at = now() WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map(drop)
}

/// Marks the request done with DrChrono's id and how it was resolved; in
/// the transaction that writes [`Pushed::object`].
pub async fn record(db: &mut PgConnection, pushed: &Pushed) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE write_requests SET drchrono_id = $2, resolution = $3, completed_at = now() WHERE id = $1")
        .bind(pushed.request)
        .bind(pushed.drchrono_id)
        .bind(pushed.resolution)
        .execute(db)
        .await?;
    Ok(())
}

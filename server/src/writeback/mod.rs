//! The write API's store: a validated request goes into `write_requests`
//! and its push job into the queue, in one transaction. Handlers live in
//! `routes::writes`; the DrChrono calls happen only in the push jobs.

pub mod lookups;
pub mod validate;

use job_runner::enqueue;
use jobs::catalog::{PushAppointment, PushPatient};
use serde_json::{Map, Value};
use sqlx::PgPool;

pub use validate::WriteKind;

/// A request to store.
pub struct NewWrite<'a> {
    pub kind: WriteKind,
    /// `None` for a create; the DrChrono id for an update.
    pub drchrono_id: Option<i64>,
    pub body: Map<String, Value>,
    /// The token kind that asked: `admin` or `partner`.
    pub requested_by: &'a str,
    pub idempotency_key: Option<&'a str>,
}

pub enum Stored {
    /// A new request; its job was enqueued.
    New { request: i64, job_id: String },
    /// The Idempotency-Key was used before for this same request.
    Replayed { request: i64, job_id: String },
    /// The Idempotency-Key was used before for a different request.
    KeyReused,
}

const INSERT: &str = "INSERT INTO write_requests (kind, op, drchrono_id, body, requested_by, idempotency_key, job_id) \
     VALUES ($1, $2, $3, $4, $5, $6, '') \
     ON CONFLICT (requested_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id";

const EARLIER: &str = "SELECT id, job_id, kind, op, drchrono_id, body FROM write_requests \
     WHERE requested_by = $1 AND idempotency_key = $2";

pub async fn store(pool: &PgPool, w: NewWrite<'_>) -> Result<Stored, sqlx::Error> {
    let op = if w.drchrono_id.is_some() { "update" } else { "create" };
    let body = Value::Object(w.body);
    let mut tx = pool.begin().await?;
    let inserted: Option<i64> = sqlx::query_scalar(INSERT)
        .bind(w.kind.name())
        .bind(op)
        .bind(w.drchrono_id)
        .bind(&body)
        .bind(w.requested_by)
        .bind(w.idempotency_key)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(request) = inserted else {
        // A concurrent first use has committed by now: ON CONFLICT waited for it.
        let (request, job_id, kind, earlier_op, id, earlier_body): (i64, String, String, String, Option<i64>, Value) =
            sqlx::query_as(EARLIER).bind(w.requested_by).bind(w.idempotency_key).fetch_one(&mut *tx).await?;
        // A create's row learns its DrChrono id later; only an update names one up front.
        let same_target = op == "create" || id == w.drchrono_id;
        let same = kind == w.kind.name() && earlier_op == op && same_target && earlier_body == body;
        return Ok(if same { Stored::Replayed { request, job_id } } else { Stored::KeyReused });
    };
    let job_id = match w.kind {
        WriteKind::Appointment => enqueue(&mut *tx, &PushAppointment { request }).await?,
        WriteKind::Patient => enqueue(&mut *tx, &PushPatient { request }).await?,
    }
    .ok_or_else(|| sqlx::Error::Protocol("a new write request's job key was already active".into()))?;
    sqlx::query("UPDATE write_requests SET job_id = $2 WHERE id = $1")
        .bind(request)
        .bind(&job_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Stored::New { request, job_id })
}

/// What `GET /api/jobs/{id}` reports: the job, and the write request it
/// carries out (if it is a write-back job).
pub struct JobReport {
    pub job: job_runner::queries::JobReport,
    pub write_request: Option<i64>,
    pub drchrono_id: Option<i64>,
    pub resolution: Option<String>,
}

pub async fn job(pool: &PgPool, id: &str) -> Result<Option<JobReport>, sqlx::Error> {
    let Some(job) = job_runner::queries::report(pool, id).await? else { return Ok(None) };
    let write: Option<(i64, Option<i64>, Option<String>)> =
        sqlx::query_as("SELECT id, drchrono_id, resolution FROM write_requests WHERE job_id = $1 LIMIT 1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    let (write_request, drchrono_id, resolution) = match write {
        Some((w, d, r)) => (Some(w), d, r),
        None => (None, None, None),
    };
    Ok(Some(JobReport { job, write_request, drchrono_id, resolution }))
}

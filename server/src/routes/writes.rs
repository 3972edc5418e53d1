//! The write API: `POST /api/appointments`, `PATCH /api/appointments/{id}`,
//! `POST /api/patients`, `PATCH /api/patients/{id}`, and `GET /api/jobs/{id}`,
//! behind the admin or the partner token.
//!
//! A valid request is stored and its push job enqueued in one transaction;
//! the answer is 202 with the job id. Handlers never call DrChrono. An
//! `Idempotency-Key` (per token kind) returns the first request's job for a
//! repeat, and 422 when the key comes back with a different request.

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, patch, post},
};
use job_runner::JobState;
use serde_json::{Value, json};

use crate::{
    AppState, bearer,
    error::ApiError,
    writeback::{self, NewWrite, Stored, WriteKind, validate},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/appointments", post(create_appointment))
        .route("/api/appointments/{id}", patch(update_appointment))
        .route("/api/patients", post(create_patient))
        .route("/api/patients/{id}", patch(update_patient))
        .route("/api/jobs/{id}", get(job))
}

async fn create_appointment(state: State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    accept(state, headers, WriteKind::Appointment, None, body).await
}

async fn update_appointment(
    state: State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    accept(state, headers, WriteKind::Appointment, Some(id), body).await
}

async fn create_patient(state: State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    accept(state, headers, WriteKind::Patient, None, body).await
}

async fn update_patient(
    state: State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    accept(state, headers, WriteKind::Patient, Some(id), body).await
}

fn invalid(problems: &[validate::Problem]) -> Response {
    let message = problems.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; ");
    let body = json!({"error": "Validation failed", "message": message, "violations": problems});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()))
        .map(Some)
        .ok_or_else(|| ApiError::BadRequest("Idempotency-Key must be 1 to 255 visible ASCII characters".into()))
}

async fn accept(
    State(state): State<AppState>,
    headers: HeaderMap,
    kind: WriteKind,
    id: Option<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let requested_by = bearer::admin_or_partner(&state, &headers)?;
    let key = idempotency_key(&headers)?;
    let drchrono_id = match id {
        None => None,
        Some(id) => Some(id.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "the {} id in the path must be a DrChrono id (a positive integer)",
                kind.name()
            ))
        })?),
    };
    let Ok(parsed) = serde_json::from_slice::<Value>(&body) else {
        return Err(ApiError::BadRequest("the body must be JSON".into()));
    };
    if let Some(field) = crate::json_guard::nul_field(&parsed) {
        return Err(ApiError::BadRequest(crate::json_guard::nul_message(&field)));
    }
    let fields = match validate::validate(kind, drchrono_id.is_none(), &parsed) {
        Ok(fields) => fields,
        Err(problems) => return Ok(invalid(&problems)),
    };
    let problems = writeback::lookups::check(&state.pool, &fields).await?;
    if !problems.is_empty() {
        return Ok(invalid(&problems));
    }
    let write = NewWrite { kind, drchrono_id, body: fields, requested_by, idempotency_key: key };
    let (request, job_id, replayed) = match writeback::store(&state.pool, write).await? {
        Stored::New { request, job_id } => (request, job_id, false),
        Stored::Replayed { request, job_id } => (request, job_id, true),
        Stored::KeyReused => {
            let message = "this Idempotency-Key was used for a different request; send a new key";
            let body = json!({"error": "Idempotency-Key reused", "message": message});
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
        }
    };
    tracing::info!(
        kind = kind.name(),
        write_request = request,
        job_id,
        replayed,
        requested_by,
        "write request accepted"
    );
    let body = json!({"status": "accepted", "job_id": job_id, "write_request": request, "replayed": replayed});
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// The API's state: a job fetched by a worker counts as running.
fn state_of(state: JobState) -> &'static str {
    match state {
        JobState::Queued => JobState::Running.name(),
        other => other.name(),
    }
}

async fn job(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, ApiError> {
    let role = bearer::admin_or_partner(&state, &headers)?;
    // Postgres refuses NUL in text: no job id holds one, and asking must not be a 500.
    if id.contains('\0') {
        return Err(ApiError::BadRequest(
            "the job id contains a NUL character; use the job_id of the 202 answer".into(),
        ));
    }
    let found = writeback::job(&state.pool, &id).await?;
    let actor = format!("api:{role}");
    jobs::domain::audit::record_read(&state.pool, &actor, "GET /api/jobs/{id}", usize::from(found.is_some())).await?;
    let Some(job) = found else {
        let body = json!({"error": "Not Found", "message": "no job with this id; check the id from the 202 answer"});
        return Ok((StatusCode::NOT_FOUND, Json(body)).into_response());
    };
    let body = json!({
        "job_id": id,
        "job": job.job.queue,
        "state": state_of(job.job.state),
        "attempts": job.job.attempts,
        "max_attempts": job.job.max_attempts,
        "write_request": job.write_request,
        "drchrono_id": job.drchrono_id,
        "resolution": job.resolution,
    });
    Ok(Json(body).into_response())
}

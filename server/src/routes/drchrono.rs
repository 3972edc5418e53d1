//! `GET|POST /webhooks/drchrono` (alias `/api/webhook`).
//!
//! Handlers never call DrChrono: they verify, store the delivery and enqueue
//! its job in one transaction, then answer. A 2xx means the event is durable.

use axum::{
    Extension, Json,
    body::Bytes,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use job_runner::{BackgroundJob, enqueue};
use jobs::catalog::UpsertRecord;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    drchrono_auth::{delivery_is_authentic, hmac_hex, valid_msg},
    drchrono_events::{Route, facts, route},
    rejections::Gate,
};
use crate::{
    AppState,
    config::secrets::{Inbound, Secrets},
    error::ApiError,
    inbox::{self, Delivery},
    json_guard,
};

const SOURCE: &str = "drchrono";

#[derive(Deserialize)]
pub struct Verify {
    msg: Option<String>,
}

fn secrets(state: &AppState) -> Result<Secrets<'_>, ApiError> {
    let secrets = state.settings.secrets(Inbound::DrChronoWebhook);
    if secrets.is_off() {
        return Err(ApiError::NotConfigured("DRCHRONO_WEBHOOK_SECRET is not set on the service"));
    }
    Ok(secrets)
}

/// The verification handshake DrChrono performs when a webhook is saved.
pub async fn verify(State(state): State<AppState>, Query(q): Query<Verify>) -> Result<Response, ApiError> {
    // The handshake runs when a secret is saved in DrChrono's console: it
    // answers for the current secret (the previous one during a rotation).
    let secrets = secrets(&state)?;
    let secret = secrets.current.or(secrets.previous).unwrap_or_default();
    let msg = q.msg.unwrap_or_default();
    if !valid_msg(&msg) {
        return Err(ApiError::BadRequest(format!(
            "msg must be 1 to {} characters of letters, digits or -_.:=",
            super::drchrono_auth::MAX_MSG_LEN
        )));
    }
    Ok(Json(json!({ "secret_token": hmac_hex(secret, msg.as_bytes()) })).into_response())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub async fn deliver(
    State(state): State<AppState>,
    Extension(gate): Extension<Gate>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let secrets = secrets(&state)?;
    let signature = header(&headers, "x-drchrono-signature");
    let verified = secrets.matched(|secret| delivery_is_authentic(secret, signature, &body)).is_some();
    let time_zone = state.settings.practice_timezone.name();
    let mut delivery = Delivery {
        source: SOURCE,
        delivery_id: header(&headers, "x-drchrono-delivery"),
        event: header(&headers, "x-drchrono-event"),
        object_id: None,
        record_kind: None,
        patient_id: None,
        object_updated_at: None,
        time_zone,
        headers: &headers,
        body: &body,
        verified,
    };
    if !delivery.verified {
        return super::rejections::refuse(&state, &gate, &delivery, "signature does not match").await;
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) | Err(_) => {
            let reason = "body is not a JSON object";
            inbox::record(&state.pool, &delivery, "malformed", Some(reason)).await?;
            jobs::metrics::webhook_delivery(SOURCE, "malformed");
            return Err(ApiError::BadRequest(reason.into()));
        }
    };
    if let Some(field) = json_guard::nul_field(&parsed) {
        let reason = json_guard::nul_message(&field);
        inbox::record(&state.pool, &delivery, "malformed", Some(&reason)).await?;
        jobs::metrics::webhook_delivery(SOURCE, "malformed");
        return Err(ApiError::BadRequest(reason));
    }
    let event = event_of(delivery.event, &parsed);
    delivery.event = Some(&event);
    let route = route(&event, &parsed);
    let object = facts(&route, &parsed);
    delivery.object_id = object.object_id;
    delivery.record_kind = object.kind.map(|k| k.name());
    delivery.patient_id = object.patient_id;
    delivery.object_updated_at = object.updated_at;
    accept(&state, &delivery, route).await
}

/// The delivery's event: the body's, when the body names one. The header
/// is not covered by the signature, so a signed body replayed under another
/// `X-drchrono-event` must not turn one event into another.
fn event_of(header: Option<&str>, body: &Value) -> String {
    let named = body.get("event").and_then(Value::as_str).filter(|e| !e.is_empty());
    if let (Some(header), Some(named)) = (header, named)
        && header != named
    {
        tracing::warn!(header, body = named, "X-drchrono-event differs from the body's event; the body's is used");
    }
    named.or(header).unwrap_or_default().to_string()
}

/// Stores the delivery and enqueues its job in one transaction.
async fn accept(state: &AppState, d: &Delivery<'_>, route: Route) -> Result<Response, ApiError> {
    let mut tx = state.pool.begin().await?;
    if let Some(previous) = inbox::job_of_delivery_locked(&mut tx, d).await? {
        let id = inbox::record(&mut *tx, d, "duplicate", Some("delivery id seen before")).await?;
        tx.commit().await?;
        jobs::metrics::webhook_delivery(SOURCE, "duplicate");
        return Ok(accepted(id, Some(&previous), "duplicate"));
    }
    let (outcome, reason) = match &route {
        Route::Ping => ("ping", None),
        Route::NotModelled => ("not_modelled", Some("DrChrono event for data this service does not mirror")),
        Route::Unhandled(why) => ("unhandled", Some(*why)),
        Route::Upsert { .. } | Route::Fetch(_) => ("accepted", None),
    };
    let id = inbox::record(&mut *tx, d, outcome, reason).await?;
    let (job_id, outcome) = match route {
        Route::Ping | Route::NotModelled | Route::Unhandled(_) => (None, outcome),
        Route::Fetch(job) => enqueue_or_existing(&mut tx, id, &job).await?,
        Route::Upsert { kind, object_id, updated_at } => {
            let job = UpsertRecord { kind, object_id, updated_at };
            enqueue_or_existing(&mut tx, id, &job).await?
        }
    };
    tx.commit().await?;
    jobs::metrics::webhook_delivery(SOURCE, outcome);
    tracing::info!(inbox_id = id, event = d.event, object_id = d.object_id, outcome, "DrChrono delivery stored");
    Ok(accepted(id, job_id.as_deref(), outcome))
}

/// Enqueues `job`, or, when an active job already holds its key, points the
/// delivery at that job and marks it a duplicate. Returns the job id and the outcome.
async fn enqueue_or_existing<J: BackgroundJob>(
    tx: &mut sqlx::PgConnection,
    inbox_id: i64,
    job: &J,
) -> Result<(Option<String>, &'static str), ApiError> {
    if let Some(job_id) = enqueue(&mut *tx, job).await? {
        inbox::set_job(&mut *tx, inbox_id, &job_id, "accepted").await?;
        return Ok((Some(job_id), "accepted"));
    }
    let key = job.dedup_key().unwrap_or_default();
    let existing = job_runner::queries::active_job_with_key(&mut *tx, J::NAME, &key).await?.unwrap_or_default();
    inbox::set_job(&mut *tx, inbox_id, &existing, "duplicate").await?;
    Ok((Some(existing), "duplicate"))
}

fn accepted(inbox_id: i64, job_id: Option<&str>, outcome: &str) -> Response {
    let body = json!({ "status": "accepted", "delivery_id": inbox_id, "job_id": job_id, "outcome": outcome });
    (StatusCode::OK, Json(body)).into_response()
}

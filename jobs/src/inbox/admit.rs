//! Admission: what a verified delivery becomes. The webhook routes and the
//! operator's replay both call these, so a replayed delivery meets exactly
//! the parsing, routing and deduplication a live one does.

use job_runner::{BackgroundJob, enqueue};
use serde_json::Value;
use sqlx::PgConnection;

use super::{Delivery, json_guard, store};
use crate::{
    catalog::DecryptGridhook,
    deepcura::{Scheme, check_shape, decode_base64},
};

/// The inbox outcome of an admitted delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    /// A copy of a delivery that already made its job, or work an active job already holds.
    Duplicate,
    Ping,
    NotModelled,
    Unhandled,
    /// Refused (the sender gets a 400); the reason says why.
    Malformed,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Duplicate => "duplicate",
            Self::Ping => "ping",
            Self::NotModelled => "not_modelled",
            Self::Unhandled => "unhandled",
            Self::Malformed => "malformed",
        }
    }
}

/// What admission stored and enqueued. Ids, names and fixed reasons only.
#[derive(Debug, Clone)]
pub struct Admission {
    pub inbox_id: i64,
    pub outcome: Outcome,
    pub reason: Option<String>,
    /// The job made, or the earlier one a duplicate points at.
    pub job_id: Option<String>,
    /// The queue of that job.
    pub queue: Option<&'static str>,
    pub record_kind: Option<&'static str>,
    pub object_id: Option<i64>,
}

impl Admission {
    fn new(inbox_id: i64, outcome: Outcome, reason: Option<String>, d: &Delivery<'_>) -> Self {
        Self {
            inbox_id,
            outcome,
            reason,
            job_id: None,
            queue: None,
            record_kind: d.record_kind,
            object_id: d.object_id,
        }
    }
}

/// Stores a malformed delivery and says why.
async fn malformed(tx: &mut PgConnection, d: &Delivery<'_>, reason: String) -> Result<Admission, sqlx::Error> {
    let id = store::record(&mut *tx, d, Outcome::Malformed.name(), Some(&reason)).await?;
    tracing::warn!(inbox_id = id, source = d.source, reason, "delivery malformed");
    Ok(Admission::new(id, Outcome::Malformed, Some(reason), d))
}

/// Stores a copy of a delivery that already made `previous`.
async fn duplicate(tx: &mut PgConnection, d: &Delivery<'_>, previous: String) -> Result<Admission, sqlx::Error> {
    let reason = "delivery id seen before";
    let id = store::record(&mut *tx, d, Outcome::Duplicate.name(), Some(reason)).await?;
    tracing::info!(inbox_id = id, source = d.source, job_id = previous, "delivery is a duplicate");
    Ok(Admission { job_id: Some(previous), ..Admission::new(id, Outcome::Duplicate, Some(reason.into()), d) })
}

/// A verified DrChrono delivery: parsed, routed, stored and its job
/// enqueued, all in `tx`, in the current span's trace; a batch of one.
pub async fn drchrono(tx: &mut PgConnection, d: Delivery<'_>) -> Result<Admission, sqlx::Error> {
    let mut admissions = super::admit_drchrono::admit_all(tx, vec![d], &[tracing::Span::current()]).await?;
    admissions.pop().ok_or(sqlx::Error::RowNotFound)
}

/// Enqueues `job`, or, when an active job already holds its key, points the
/// delivery at that job and marks it a duplicate.
async fn enqueue_or_existing<J: BackgroundJob>(
    tx: &mut PgConnection,
    admission: Admission,
    job: &J,
) -> Result<Admission, sqlx::Error> {
    let (job_id, outcome) = match enqueue(&mut *tx, job).await? {
        Some(job_id) => (job_id, Outcome::Accepted),
        None => {
            let key = job.dedup_key().unwrap_or_default();
            let existing = job_runner::queries::active_job_with_key(&mut *tx, J::NAME, &key).await?;
            (existing.unwrap_or_default(), Outcome::Duplicate)
        }
    };
    store::set_job(&mut *tx, admission.inbox_id, &job_id, outcome.name()).await?;
    Ok(Admission { outcome, job_id: Some(job_id), queue: Some(J::NAME), ..admission })
}

/// A verified Deep Cura Gridhook: its shape checked for `scheme`, stored
/// still encrypted and `decrypt_gridhook` enqueued, all in `tx`. Nothing is
/// decrypted here.
pub async fn deepcura(tx: &mut PgConnection, d: Delivery<'_>, scheme: Scheme) -> Result<Admission, sqlx::Error> {
    if let Err(reason) = check_gridhook(d.body, scheme) {
        return malformed(tx, &d, reason).await;
    }
    if let Some(previous) = store::job_of_delivery_locked(tx, &d).await? {
        return duplicate(tx, &d, previous).await;
    }
    let id = store::record(&mut *tx, &d, Outcome::Accepted.name(), None).await?;
    let admission = Admission::new(id, Outcome::Accepted, None, &d);
    let admission = enqueue_or_existing(tx, admission, &DecryptGridhook { delivery: id }).await?;
    tracing::info!(inbox_id = id, job_id = admission.job_id, "Deep Cura delivery stored");
    Ok(admission)
}

/// The body must be `{"encrypted_payload": "<base64>"}`, decoding to what
/// can be a Gridhook of the configured scheme; the reason says what is wrong.
fn check_gridhook(body: &[u8], scheme: Scheme) -> Result<(), String> {
    let parsed: Value = serde_json::from_slice(body).map_err(|_| "body is not JSON".to_string())?;
    if let Some(field) = json_guard::nul_field(&parsed) {
        return Err(json_guard::nul_message(&field));
    }
    let payload = match parsed.get("encrypted_payload") {
        Some(Value::String(s)) => s,
        Some(_) => return Err("encrypted_payload must be a base64 string".into()),
        None => return Err("body has no encrypted_payload".into()),
    };
    let bytes = decode_base64(payload).map_err(|_| "encrypted_payload is not valid base64".to_string())?;
    if bytes.is_empty() {
        return Err("encrypted_payload is empty".into());
    }
    check_shape(scheme, bytes.len()).map_err(|e| format!("encrypted_payload cannot be a Gridhook: {e}"))
}

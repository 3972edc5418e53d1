//! `decrypt_gridhook`: opens a stored Deep Cura delivery, parses it into
//! `deepcura_notes` (one row per session) and enqueues `link_note`.
//!
//! A payload that does not decrypt or parse fails permanently at once: the
//! same bytes under the same key fail the same way, so a retry loop would
//! only hide it. Once the configuration is fixed, `cargo xtask
//! retry-failed` revives the job, and the delivery is still in the inbox.

use anyhow::{Context as _, anyhow};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::LinkNote;
use crate::{
    JobContext,
    deepcura::{Cipher, GridhookNote, decode_base64, store_note},
};
use job_runner::{BackgroundJob, JobError, JobOutcome, enqueue};

#[doc(alias("decrypt_gridhook"))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecryptGridhook {
    /// The inbox row (`webhook_deliveries.id`) holding the encrypted payload.
    pub delivery: i64,
}

impl BackgroundJob for DecryptGridhook {
    const NAME: &'static str = "decrypt_gridhook";
    const MAX_ATTEMPTS: i32 = 10;
    type Context = JobContext;

    fn dedup_key(&self) -> Option<String> {
        Some(self.delivery.to_string())
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        let settings = &ctx.settings;
        let cipher = settings.deepcura_cipher.as_ref().ok_or_else(|| {
            JobError::permanent(anyhow!(
                "DEEPCURA_SHARED_SECRET is not set on the worker; set it, then revive with `cargo xtask retry-failed --queue decrypt_gridhook`"
            ))
        })?;
        let keys = settings.drchrono.token_keys.as_ref().ok_or_else(|| {
            JobError::permanent(anyhow!(
                "TOKEN_ENCRYPTION_KEY is not set on the worker (decrypted notes are stored sealed with it); set it, then revive with `cargo xtask retry-failed --queue decrypt_gridhook`"
            ))
        })?;
        let body: Vec<u8> =
            sqlx::query_scalar("SELECT body FROM webhook_deliveries WHERE id = $1 AND source = 'deepcura'")
                .bind(self.delivery)
                .fetch_optional(&ctx.pool)
                .await?
                .ok_or_else(|| JobError::permanent(anyhow!("no Deep Cura delivery {} in the inbox", self.delivery)))?;
        let payload = encrypted_payload(&body)
            .with_context(|| format!("delivery {}", self.delivery))
            .map_err(JobError::permanent)?;
        let opened = open(cipher, &payload).or_else(|e| match &settings.deepcura_previous_cipher {
            Some(previous) => open(previous, &payload).inspect(|_| {
                tracing::warn!(
                    delivery = self.delivery,
                    "Gridhook opened with DEEPCURA_SHARED_SECRET_PREVIOUS; finish the rotation in Deep Cura"
                );
            }),
            None => Err(e),
        });
        let (note, raw) = opened.with_context(|| format!("delivery {}", self.delivery)).map_err(JobError::permanent)?;
        let actor = format!("job:{}:delivery:{}", Self::NAME, self.delivery);
        let mut tx = ctx.pool.begin().await?;
        let stored = store_note(&mut tx, self.delivery, &note, &raw, keys, &actor).await?;
        enqueue(&mut *tx, &LinkNote { note: stored.id }).await?;
        tx.commit().await?;
        tracing::info!(
            delivery = self.delivery,
            deepcura_note = stored.id,
            changed = stored.changed,
            "Gridhook stored"
        );
        Ok(if stored.changed {
            JobOutcome::applied(1)
        } else {
            JobOutcome::skipped("note already stored from this or a newer delivery")
        })
    }
}

/// Decrypts and parses a Gridhook payload with `cipher`. A wrong key
/// usually fails the padding and now and then passes it with bytes that
/// are not a note; both are failures, so a previous key can be tried next.
fn open(cipher: &Cipher, payload: &[u8]) -> anyhow::Result<(GridhookNote, Value)> {
    let plain =
        cipher.decrypt(payload).with_context(|| format!("did not decrypt with scheme {}", cipher.scheme().name()))?;
    Ok(GridhookNote::parse(&plain)?)
}

/// The decoded `encrypted_payload` of a stored body. The endpoint checked
/// it already; a failure here means the row was changed since.
fn encrypted_payload(body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let body: Value = serde_json::from_slice(body).context("stored body is not JSON")?;
    let text =
        body.get("encrypted_payload").and_then(Value::as_str).context("stored body has no encrypted_payload string")?;
    decode_base64(text).context("encrypted_payload is not base64")
}

//! Sends webhook deliveries the way DrChrono does, so the service's receiver
//! is tested against the real wire shape (and the older, documented-internally
//! shape it must also tolerate).
//!
//! The real `X-drchrono-signature` is the secret itself, not a body
//! signature; that looks wrong but is what DrChrono sends.

use std::time::Duration;

use anyhow::Context as _;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngExt as _;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::EVENTS;

/// Lowercase hex HMAC-SHA256 keyed by `secret`: the verification answer
/// DrChrono expects for `msg`, and the legacy body signature.
pub fn expected_secret_token(secret: &str, msg: &str) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), msg.as_bytes()))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// One configured DrChrono webhook: a callback URL and its secret token.
#[derive(Clone)]
pub struct WebhookSender {
    url: String,
    secret: String,
    webhook_id: i64,
    practice_group_id: i64,
    http: reqwest::Client,
}

impl std::fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSender").field("url", &self.url).finish_non_exhaustive()
    }
}

impl WebhookSender {
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> Self {
        // DrChrono treats a 302 as a failure, so redirects are not followed:
        // the test sees exactly what DrChrono would.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self { url: url.into(), secret: secret.into(), webhook_id: 4242, practice_group_id: 15062, http }
    }

    /// Overrides the top-level `practice_group_id` live deliveries carry.
    pub fn with_practice_group_id(mut self, practice_group_id: i64) -> Self {
        self.practice_group_id = practice_group_id;
        self
    }

    /// The current shape, with a fresh delivery id.
    pub async fn send(&self, event: &str, object: &Value) -> anyhow::Result<reqwest::Response> {
        self.send_with_delivery_id(event, object, &fresh_delivery_id()).await
    }

    /// The current shape with a chosen delivery id, to simulate a
    /// redelivery (whether DrChrono keeps the id is unknown).
    pub async fn send_with_delivery_id(
        &self,
        event: &str,
        object: &Value,
        delivery_id: &str,
    ) -> anyhow::Result<reqwest::Response> {
        // The webhook is subscribed to every event, as in the `receiver`
        // block of a real delivery.
        let body = json!({
            "receiver": { "id": self.webhook_id, "url": self.url, "events": EVENTS },
            "object": object,
            "practice_group_id": self.practice_group_id,
        });
        self.http
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("X-drchrono-event", event)
            .header("X-drchrono-signature", &self.secret)
            .header("X-drchrono-delivery", delivery_id)
            .body(serde_json::to_vec(&body)?)
            .send()
            .await
            .with_context(|| format!("webhook delivery to {} failed", self.url))
    }

    /// The older shape from internal notes: the id only, and a hex HMAC of
    /// the exact body bytes sent. No event or delivery header, so the
    /// receiver must cope with the body alone.
    pub async fn send_legacy(&self, event: &str, object_id: i64) -> anyhow::Result<reqwest::Response> {
        let body = serde_json::to_vec(&json!({ "event": event, "object_id": object_id }))?;
        let signature = hex::encode(hmac_sha256(self.secret.as_bytes(), &body));
        self.http
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("X-drchrono-signature", signature)
            .body(body)
            .send()
            .await
            .with_context(|| format!("legacy webhook delivery to {} failed", self.url))
    }

    /// The verification handshake DrChrono runs when a webhook is saved.
    pub async fn verify(&self, msg: &str) -> anyhow::Result<reqwest::Response> {
        self.http
            .get(&self.url)
            .query(&[("msg", msg)])
            .send()
            .await
            .with_context(|| format!("webhook verification of {} failed", self.url))
    }
}

/// A random UUID-shaped id: the real format is not documented, and only
/// uniqueness matters to the receiver.
fn fresh_delivery_id() -> String {
    let hex = format!("{:032x}", rand::rng().random::<u128>());
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors computed independently with Python's `hmac` module.
    #[test]
    fn secret_token_matches_independent_hmac() {
        assert_eq!(
            expected_secret_token("key", "msg"),
            "2d93cbc1be167bcb1637a4a23cbff01a7878f0c50ee833954ea5221bb1b8c628"
        );
        assert_eq!(
            expected_secret_token("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn delivery_ids_are_fresh() {
        let (a, b) = (fresh_delivery_id(), fresh_delivery_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
    }
}

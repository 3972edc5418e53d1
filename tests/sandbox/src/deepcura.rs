//! A Deep Cura sender: builds a Gridhook for a visit the sandbox holds,
//! encrypts it in either scheme the internal notes describe, and posts it
//! the way Deep Cura does. The cipher is written here independently of the
//! service's, so a mistake in one is not mirrored by the other.

use std::time::Duration;

use aes::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{Kind, Sandbox};

/// How a Gridhook is encrypted (AES-256-CBC, PKCS#7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridhookScheme {
    /// key = SHA-256(secret); payload = IV ‖ ciphertext, random IV.
    Sha256Iv,
    /// key = scrypt(secret, "salt", N=16384, r=8, p=1, 32 bytes); zero IV.
    LegacyScrypt,
}

/// Encrypts `plain` and returns the base64 `encrypted_payload`.
pub fn encrypt_gridhook(secret: &str, scheme: GridhookScheme, plain: &[u8]) -> String {
    let (key, iv): ([u8; 32], [u8; 16]) = match scheme {
        GridhookScheme::Sha256Iv => (Sha256::digest(secret.as_bytes()).into(), rand::random()),
        GridhookScheme::LegacyScrypt => {
            let params = scrypt::Params::new(14, 8, 1).unwrap_or_else(|_| unreachable!("valid parameters"));
            let mut key = [0u8; 32];
            scrypt::scrypt(secret.as_bytes(), b"salt", &params, &mut key)
                .unwrap_or_else(|_| unreachable!("32-byte output"));
            (key, [0u8; 16])
        }
    };
    let ciphertext = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &iv)
        .unwrap_or_else(|_| unreachable!("32-byte key, 16-byte IV"))
        .encrypt_padded_vec::<Pkcs7>(plain);
    let payload = match scheme {
        GridhookScheme::Sha256Iv => [&iv[..], &ciphertext].concat(),
        GridhookScheme::LegacyScrypt => ciphertext,
    };
    base64::engine::general_purpose::STANDARD.encode(payload)
}

/// Posts Gridhooks to one URL with one shared secret.
#[derive(Clone)]
pub struct DeepCuraSender {
    url: String,
    secret: String,
    scheme: GridhookScheme,
    http: reqwest::Client,
}

impl std::fmt::Debug for DeepCuraSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeepCuraSender").field("url", &self.url).field("scheme", &self.scheme).finish_non_exhaustive()
    }
}

impl DeepCuraSender {
    pub fn new(url: impl Into<String>, secret: impl Into<String>, scheme: GridhookScheme) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap_or_default();
        Self { url: url.into(), secret: secret.into(), scheme, http }
    }

    /// Encrypts `note` and sends it with the `x-deepcura-secret` header.
    pub async fn send(&self, note: &Value) -> anyhow::Result<reqwest::Response> {
        let payload = encrypt_gridhook(&self.secret, self.scheme, note.to_string().as_bytes());
        self.send_body(&json!({ "encrypted_payload": payload }), Some(&self.secret)).await
    }

    /// Sends any body, with `secret` in `x-deepcura-secret` (none when `None`):
    /// for bad input and bad credentials.
    pub async fn send_body(&self, body: &Value, secret: Option<&str>) -> anyhow::Result<reqwest::Response> {
        let mut request = self.http.post(&self.url).json(body);
        if let Some(secret) = secret {
            request = request.header("x-deepcura-secret", secret);
        }
        Ok(request.send().await?)
    }

    /// [`send`](Self::send) with an `x-deepcura-delivery` id, as a sender
    /// that retries the same delivery would.
    pub async fn send_with_delivery_id(&self, note: &Value, delivery_id: &str) -> anyhow::Result<reqwest::Response> {
        let payload = encrypt_gridhook(&self.secret, self.scheme, note.to_string().as_bytes());
        let body = json!({ "encrypted_payload": payload });
        let request = self.http.post(&self.url).header("x-deepcura-secret", &self.secret);
        Ok(request.header("x-deepcura-delivery", delivery_id).json(&body).send().await?)
    }

    /// Sends `note` authenticated by `Authorization: Bearer` instead.
    pub async fn send_with_bearer(&self, note: &Value) -> anyhow::Result<reqwest::Response> {
        let payload = encrypt_gridhook(&self.secret, self.scheme, note.to_string().as_bytes());
        let body = json!({ "encrypted_payload": payload });
        Ok(self.http.post(&self.url).bearer_auth(&self.secret).json(&body).send().await?)
    }
}

impl Sandbox {
    /// The decrypted Gridhook Deep Cura would send for an appointment's
    /// visit: its ids and day, SOAP sections, a transcript that names the
    /// patient (PHI, for leak tests), codes, medications, billing and risk.
    pub fn gridhook_for(&self, appointment: i64) -> Option<Value> {
        let visit = self.record(Kind::Appointment, appointment)?;
        let patient_id = visit.get("patient")?.as_i64()?;
        let first_name = self.patient(patient_id)?.get("first_name").cloned().unwrap_or(Value::Null);
        let day = visit.get("scheduled_time")?.as_str()?.get(..10)?.to_owned();
        Some(json!({
            "session_id": format!("dc-session-{appointment}"),
            "appointment_id": appointment,
            "patient_id": patient_id,
            "doctor_id": visit.get("doctor"),
            "session_date": day,
            "updated_at": format!("{day}T17:00:00Z"),
            "transcript": format!("Doctor: Good morning {}, what brings you in? Patient: A cough for a week.", first_name.as_str().unwrap_or("")),
            "soap": {
                "subjective": "Cough for one week, no fever.",
                "objective": "Lungs clear to auscultation. Temp 98.6 F.",
                "assessment": "Acute upper respiratory infection.",
                "plan": "Fluids, rest, return if worse."
            },
            "icd10_codes": [{ "code": "J06.9", "description": "Acute upper respiratory infection, unspecified", "confidence": 0.93 }],
            "cpt_codes": [{ "code": "99213", "description": "Office visit, established patient, low complexity", "units": 1 }],
            "medication_mentions": [{ "name": "dextromethorphan", "dose": "10 mg", "frequency": "every 4 hours as needed" }],
            "billing_summary": { "primary_cpt": "99213", "total_units": 1 },
            "risk_assessment": { "level": "low", "factors": [] },
            "model_version": "gridhook-2026.3"
        }))
    }
}

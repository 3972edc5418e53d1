//! What every job handler reads: the pool, one HTTP client, configuration.

use chrono_tz::Tz;
use sqlx::PgPool;
use std::{sync::Arc, time::Duration};

use crate::{
    archive::{ArchiveSettings, S3Slot},
    deepcura::Cipher,
    domain::{Locale, PhoneCountry},
    drchrono::TokenKey,
};

/// Job-side configuration, loaded once by the service.
#[derive(Clone)]
pub struct JobSettings {
    /// API origin, such as `https://drchrono.com` or the sandbox's address.
    pub drchrono_api_base: String,
    /// With `token_encryption_key`: the first access token, stored encrypted
    /// on first start. Without key and client credentials: used as is, in
    /// memory (no refresh), for read-only set-ups and older tests.
    pub drchrono_access_token: Option<String>,
    /// The first refresh token, stored encrypted on first start.
    pub drchrono_refresh_token: Option<String>,
    pub drchrono_client_id: Option<String>,
    pub drchrono_client_secret: Option<String>,
    /// Encrypts the stored tokens (AES-256-GCM).
    pub token_encryption_key: Option<TokenKey>,
    /// The shared hourly budget of API calls, for every process together.
    pub drchrono_calls_per_hour: u32,
    /// Reconciliation may use this share (percent) of the hourly budget;
    /// webhook-driven work may use all of it.
    pub drchrono_reconcile_percent: u8,
    /// Per request, token refreshes included.
    pub drchrono_timeout: Duration,
    /// Pauses between re-requests of one failed list page (5xx, HTML, timeout).
    pub drchrono_page_retry_delays: Vec<Duration>,
    pub practice_timezone: Tz,
    /// The country of phone numbers written without a country code.
    pub phone_default_country: PhoneCountry,
    /// Opens Deep Cura Gridhooks; `None` without `DEEPCURA_SHARED_SECRET`.
    pub deepcura_cipher: Option<Cipher>,
    /// The note PDF archive: provider name, S3 bucket and access, download cap.
    pub archive: ArchiveSettings,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            drchrono_api_base: "https://drchrono.com".into(),
            drchrono_access_token: None,
            drchrono_refresh_token: None,
            drchrono_client_id: None,
            drchrono_client_secret: None,
            token_encryption_key: None,
            drchrono_calls_per_hour: 500,
            drchrono_reconcile_percent: 80,
            drchrono_timeout: Duration::from_secs(30),
            drchrono_page_retry_delays: vec![
                Duration::from_millis(250),
                Duration::from_millis(1000),
                Duration::from_millis(3000),
            ],
            practice_timezone: chrono_tz::America::New_York,
            phone_default_country: PhoneCountry::US,
            deepcura_cipher: None,
            archive: ArchiveSettings::default(),
        }
    }
}

impl std::fmt::Debug for JobSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |o: &Option<String>| o.as_ref().map(|_| "<redacted>");
        f.debug_struct("JobSettings")
            .field("drchrono_api_base", &self.drchrono_api_base)
            .field("drchrono_access_token", &redacted(&self.drchrono_access_token))
            .field("drchrono_refresh_token", &redacted(&self.drchrono_refresh_token))
            .field("drchrono_client_id", &self.drchrono_client_id)
            .field("drchrono_client_secret", &redacted(&self.drchrono_client_secret))
            .field("token_encryption_key", &self.token_encryption_key)
            .field("drchrono_calls_per_hour", &self.drchrono_calls_per_hour)
            .field("drchrono_reconcile_percent", &self.drchrono_reconcile_percent)
            .field("drchrono_timeout", &self.drchrono_timeout)
            .field("practice_timezone", &self.practice_timezone)
            .field("phone_default_country", &self.phone_default_country)
            .field("deepcura_cipher", &self.deepcura_cipher)
            .field("archive", &self.archive)
            .finish_non_exhaustive()
    }
}

impl JobSettings {
    /// What every upsert reads the practice's conventions from.
    pub fn locale(&self) -> Locale<'_> {
        Locale { time_zone: self.practice_timezone.name(), phone_country: self.phone_default_country }
    }
}

#[derive(Clone, Debug)]
pub struct JobContext {
    pub pool: PgPool,
    pub http: reqwest::Client,
    pub settings: Arc<JobSettings>,
    /// The archive's S3 client, built on first use.
    pub s3: S3Slot,
}

impl JobContext {
    pub fn new(pool: PgPool, settings: JobSettings) -> Self {
        crate::domain::mapping::warm_up();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("the HTTP client builds with static settings");
        Self { pool, http, settings: Arc::new(settings), s3: S3Slot::default() }
    }
}

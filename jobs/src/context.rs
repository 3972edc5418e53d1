//! What every job handler reads: the pool, one HTTP client, configuration.

use chrono_tz::Tz;
use sqlx::PgPool;
use std::sync::Arc;

use crate::{
    archive::{ArchiveSettings, S3Slot},
    deepcura::Cipher,
    domain::{Locale, PhoneCountry},
    drchrono::{ClientSettings, DrChronoClient, Priority},
};

/// The practice's time zone unless `PRACTICE_TIMEZONE` says otherwise.
pub const DEFAULT_PRACTICE_TIMEZONE: &str = "America/New_York";
/// The country of phone numbers without a country code unless `PHONE_DEFAULT_COUNTRY` says otherwise.
pub const DEFAULT_PHONE_COUNTRY: &str = "US";

/// Job-side configuration, loaded once by the service.
#[derive(Clone)]
pub struct JobSettings {
    /// The DrChrono client: API origin, tokens, budget, timeouts.
    pub drchrono: ClientSettings,
    pub practice_timezone: Tz,
    /// The country of phone numbers written without a country code.
    pub phone_default_country: PhoneCountry,
    /// Opens Deep Cura Gridhooks; `None` without `DEEPCURA_SHARED_SECRET`.
    pub deepcura_cipher: Option<Cipher>,
    /// During a rotation, the cipher of `DEEPCURA_SHARED_SECRET_PREVIOUS`:
    /// tried when the current one does not open a Gridhook.
    pub deepcura_previous_cipher: Option<Cipher>,
    /// The note PDF archive: provider name, S3 bucket and access, download cap.
    pub archive: ArchiveSettings,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            drchrono: ClientSettings::default(),
            practice_timezone: DEFAULT_PRACTICE_TIMEZONE.parse().expect("the default time zone is a tz name"),
            phone_default_country: DEFAULT_PHONE_COUNTRY.parse().expect("the default country is a known region"),
            deepcura_cipher: None,
            deepcura_previous_cipher: None,
            archive: ArchiveSettings::default(),
        }
    }
}

impl std::fmt::Debug for JobSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobSettings")
            .field("drchrono", &self.drchrono)
            .field("practice_timezone", &self.practice_timezone)
            .field("phone_default_country", &self.phone_default_country)
            .field("deepcura_cipher", &self.deepcura_cipher)
            .field("deepcura_previous_cipher", &self.deepcura_previous_cipher)
            .field("archive", &self.archive)
            .finish()
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
        let http = crate::drchrono::http_client();
        Self { pool, http, settings: Arc::new(settings), s3: S3Slot::default() }
    }

    /// A DrChrono client for webhook-driven work (the whole hourly budget).
    pub fn drchrono(&self) -> DrChronoClient<'_> {
        self.drchrono_for(Priority::Webhook)
    }

    /// A DrChrono client whose calls come from `priority`'s share of the budget.
    pub fn drchrono_for(&self, priority: Priority) -> DrChronoClient<'_> {
        DrChronoClient::with_priority(&self.pool, &self.http, &self.settings.drchrono, priority)
    }
}

//! What every job handler reads: the pool, one HTTP client, configuration.

use chrono_tz::Tz;
use sqlx::PgPool;
use std::sync::Arc;

/// Job-side configuration, loaded once by the service.
#[derive(Clone)]
pub struct JobSettings {
    /// API origin, such as `https://drchrono.com` or the sandbox's address.
    pub drchrono_api_base: String,
    pub drchrono_access_token: Option<String>,
    pub practice_timezone: Tz,
}

impl std::fmt::Debug for JobSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobSettings")
            .field("drchrono_api_base", &self.drchrono_api_base)
            .field("drchrono_access_token", &self.drchrono_access_token.as_ref().map(|_| "<redacted>"))
            .field("practice_timezone", &self.practice_timezone)
            .finish()
    }
}

#[derive(Clone, Debug)]
pub struct JobContext {
    pub pool: PgPool,
    pub http: reqwest::Client,
    pub settings: Arc<JobSettings>,
}

impl JobContext {
    pub fn new(pool: PgPool, settings: JobSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("the HTTP client builds with static settings");
        Self { pool, http, settings: Arc::new(settings) }
    }
}

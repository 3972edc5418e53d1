//! What the DrChrono client is configured with. The service fills it from
//! its environment (`server::Settings`); the client reads nothing else.

use std::time::Duration;

use super::Keyring;

/// Defaults of the settings that have one; the service's command line
/// (`server::Settings`) uses the same constants.
pub const DEFAULT_API_BASE: &str = "https://drchrono.com";
pub const DEFAULT_CALLS_PER_HOUR: u32 = 500;
pub const DEFAULT_RECONCILE_PERCENT: u8 = 80;
/// DrChrono throttles an application at 10 calls in any one second; the
/// fleet paces itself at 6, so scheduling jitter between processes cannot
/// bunch eleven calls into one second.
pub const DEFAULT_CALLS_PER_SECOND: u32 = 6;
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// How long a walk waits before polling a bulk batch that was in progress.
pub const DEFAULT_BATCH_POLL_MS: u64 = 3000;

#[derive(Clone)]
pub struct ClientSettings {
    /// API origin, such as `https://drchrono.com` or the sandbox's address.
    pub api_base: String,
    /// With `token_keys`: the first access token, stored encrypted
    /// on first start. Without key and client credentials: used as is, in
    /// memory (no refresh), for read-only set-ups and older tests.
    pub access_token: Option<String>,
    /// The first refresh token, stored encrypted on first start.
    pub refresh_token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Seal and open the stored tokens (AES-256-GCM): `TOKEN_ENCRYPTION_KEY`,
    /// and `TOKEN_ENCRYPTION_KEY_PREVIOUS` during a rotation.
    pub token_keys: Option<Keyring>,
    /// The shared hourly budget of API calls, for every process together.
    pub calls_per_hour: u32,
    /// Calls per second for every process together, spaced evenly; 0 turns
    /// pacing off.
    pub calls_per_second: u32,
    /// Reconciliation may use this share (percent) of the hourly budget;
    /// webhook-driven work may use all of it.
    pub reconcile_percent: u8,
    /// Per request, token refreshes included.
    pub timeout: Duration,
    /// Pauses between re-requests of one failed list page (5xx, HTML, timeout).
    pub page_retry_delays: Vec<Duration>,
    /// The wait before polling again a bulk batch DrChrono is preparing;
    /// the walk's job runs again then, no worker sleeps.
    pub batch_poll_wait: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            api_base: DEFAULT_API_BASE.into(),
            access_token: None,
            refresh_token: None,
            client_id: None,
            client_secret: None,
            token_keys: None,
            calls_per_hour: DEFAULT_CALLS_PER_HOUR,
            calls_per_second: DEFAULT_CALLS_PER_SECOND,
            reconcile_percent: DEFAULT_RECONCILE_PERCENT,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            page_retry_delays: vec![
                Duration::from_millis(250),
                Duration::from_millis(1000),
                Duration::from_millis(3000),
            ],
            batch_poll_wait: Duration::from_millis(DEFAULT_BATCH_POLL_MS),
        }
    }
}

impl std::fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |o: &Option<String>| o.as_ref().map(|_| "<redacted>");
        f.debug_struct("ClientSettings")
            .field("api_base", &self.api_base)
            .field("access_token", &redacted(&self.access_token))
            .field("refresh_token", &redacted(&self.refresh_token))
            .field("client_id", &self.client_id)
            .field("client_secret", &redacted(&self.client_secret))
            .field("token_keys", &self.token_keys)
            .field("calls_per_hour", &self.calls_per_hour)
            .field("calls_per_second", &self.calls_per_second)
            .field("reconcile_percent", &self.reconcile_percent)
            .field("timeout", &self.timeout)
            .field("page_retry_delays", &self.page_retry_delays)
            .field("batch_poll_wait", &self.batch_poll_wait)
            .finish()
    }
}

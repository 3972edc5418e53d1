//! Service configuration, read once from the environment (a `.env` file is
//! honoured). `drchrono-sync --help` lists every variable.

pub mod archive;
pub mod limits;
mod parsers;
mod redact;
mod retention;
pub mod secrets;
mod telemetry;
#[cfg(test)]
mod tests;

use clap::Args;
use std::{net::SocketAddr, time::Duration};

pub use limits::LimitSettings;
use parsers::{CronParser, TokenKeyParser};
pub use telemetry::{OtlpProtocol, TelemetrySettings};

/// Settings shared by every role. `Debug` is written by hand (`redact`):
/// it says which secrets are set, never what they are.
#[derive(Clone, Args)]
pub struct Settings {
    /// Postgres connection string. `cargo xtask db url` finds or starts a local server.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// HTTP listen address. `PORT` alone also works (binds 0.0.0.0:PORT).
    #[arg(long, env = "BIND_ADDR")]
    pub bind_addr: Option<SocketAddr>,

    #[arg(long, env = "PORT", hide = true)]
    pub port: Option<u16>,

    /// The DrChrono webhook's secret token; required by the DrChrono endpoint.
    #[arg(long, env = "DRCHRONO_WEBHOOK_SECRET", hide_env_values = true)]
    pub drchrono_webhook_secret: Option<String>,

    /// The webhook secret being rotated out; deliveries signed with it are still accepted.
    #[arg(long, env = "DRCHRONO_WEBHOOK_SECRET_PREVIOUS", hide_env_values = true)]
    pub drchrono_webhook_secret_previous: Option<String>,

    /// DrChrono API origin (the sandbox's address in tests); `https`, except on loopback.
    #[arg(long, env = "DRCHRONO_API_BASE", default_value = jobs::drchrono::settings::DEFAULT_API_BASE)]
    pub drchrono_api_base: String,

    /// First access token. With TOKEN_ENCRYPTION_KEY it is stored encrypted on
    /// first start (only if no token row exists); without key and client
    /// credentials it is used as is, never refreshed.
    #[arg(long, env = "DRCHRONO_ACCESS_TOKEN", hide_env_values = true)]
    pub drchrono_access_token: Option<String>,

    /// First refresh token, stored encrypted on first start; it rotates on every refresh.
    #[arg(long, env = "DRCHRONO_REFRESH_TOKEN", hide_env_values = true)]
    pub drchrono_refresh_token: Option<String>,

    /// OAuth client id, for token refreshes at {DRCHRONO_API_BASE}/o/token/.
    #[arg(long, env = "DRCHRONO_CLIENT_ID")]
    pub drchrono_client_id: Option<String>,

    /// OAuth client secret.
    #[arg(long, env = "DRCHRONO_CLIENT_SECRET", hide_env_values = true)]
    pub drchrono_client_secret: Option<String>,

    /// Base64 of 32 random bytes (`openssl rand -base64 32`); seals the
    /// stored tokens and Deep Cura notes. Required wherever tokens are stored or refreshed.
    #[arg(long, env = "TOKEN_ENCRYPTION_KEY", hide_env_values = true, value_parser = TokenKeyParser)]
    pub token_encryption_key: Option<jobs::drchrono::TokenKey>,

    /// The key being rotated out: what it sealed still opens (nothing new is
    /// sealed with it) until `cargo xtask rotate-key` has re-sealed it all.
    #[arg(long, env = "TOKEN_ENCRYPTION_KEY_PREVIOUS", hide_env_values = true, value_parser = TokenKeyParser)]
    pub token_encryption_key_previous: Option<jobs::drchrono::TokenKey>,

    /// DrChrono calls per clock hour, shared by every process (DrChrono resets at the top of the hour).
    #[arg(long, env = "DRCHRONO_CALLS_PER_HOUR", default_value_t = jobs::drchrono::settings::DEFAULT_CALLS_PER_HOUR)]
    pub drchrono_calls_per_hour: u32,

    /// DrChrono calls per second, shared by every process and spaced evenly (DrChrono refuses past 10); 0 turns pacing off.
    #[arg(long, env = "DRCHRONO_CALLS_PER_SECOND", default_value_t = jobs::drchrono::settings::DEFAULT_CALLS_PER_SECOND)]
    pub drchrono_calls_per_second: u32,

    /// Share of the hourly budget (percent) reconciliation may use; webhook work may use all of it.
    #[arg(long, env = "DRCHRONO_RECONCILE_PERCENT", default_value_t = jobs::drchrono::settings::DEFAULT_RECONCILE_PERCENT,
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub drchrono_reconcile_percent: u8,

    /// Wait before polling again a DrChrono bulk batch that is in progress, in milliseconds.
    #[arg(long, env = "DRCHRONO_BATCH_POLL_MS", default_value_t = jobs::drchrono::settings::DEFAULT_BATCH_POLL_MS)]
    pub drchrono_batch_poll_ms: u64,

    /// Timeout of one DrChrono request, in seconds.
    #[arg(long, env = "DRCHRONO_TIMEOUT_SECS", default_value_t = jobs::drchrono::settings::DEFAULT_TIMEOUT_SECS)]
    pub drchrono_timeout_secs: u64,

    /// IANA time zone for DrChrono's naive timestamps.
    #[arg(long, env = "PRACTICE_TIMEZONE", default_value = jobs::context::DEFAULT_PRACTICE_TIMEZONE)]
    pub practice_timezone: chrono_tz::Tz,

    /// ISO 3166-1 alpha-2 country of phone numbers written without a `+` country code.
    #[arg(long, env = "PHONE_DEFAULT_COUNTRY", default_value = jobs::context::DEFAULT_PHONE_COUNTRY)]
    pub phone_default_country: jobs::domain::PhoneCountry,

    /// Bearer token partners send to POST /webhook/appointments; the partner feed answers 503 without it.
    #[arg(long, env = "PARTNER_TOKEN", hide_env_values = true)]
    pub partner_token: Option<String>,

    /// The partner token being rotated out; still accepted.
    #[arg(long, env = "PARTNER_TOKEN_PREVIOUS", hide_env_values = true)]
    pub partner_token_previous: Option<String>,

    /// Bearer token for /admin and other operator endpoints; they are off without it.
    #[arg(long, env = "ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// The admin token being rotated out; still accepted.
    #[arg(long, env = "ADMIN_TOKEN_PREVIOUS", hide_env_values = true)]
    pub admin_token_previous: Option<String>,

    /// Token of the console's read-only login (`/console`): it sees every page and acts on nothing.
    /// ADMIN_TOKEN logs in with every action; the read-only login is off without this.
    #[arg(long, env = "CONSOLE_READONLY_TOKEN", hide_env_values = true)]
    pub console_readonly_token: Option<String>,

    /// Deep Cura Gridhook shared secret; `/webhooks/deepcura` answers 503 without it.
    #[arg(long, env = "DEEPCURA_SHARED_SECRET", hide_env_values = true)]
    pub deepcura_shared_secret: Option<String>,

    /// The Deep Cura secret being rotated out: its header is still accepted
    /// and its Gridhooks still decrypt.
    #[arg(long, env = "DEEPCURA_SHARED_SECRET_PREVIOUS", hide_env_values = true)]
    pub deepcura_shared_secret_previous: Option<String>,

    /// How Gridhook payloads are encrypted: `sha256-iv` (key SHA-256 of the
    /// secret, IV first) or `legacy-scrypt` (scrypt key, zero IV).
    #[arg(long, env = "DEEPCURA_SCHEME", default_value = "sha256-iv")]
    pub deepcura_scheme: jobs::deepcura::Scheme,

    /// Largest webhook body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "WEBHOOK_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub webhook_max_body_bytes: usize,

    /// Keep old and new values in `change_log`, not only the changed fields' names and keyed
    /// hashes (emptied after RETENTION_AUDIT_VALUES_DAYS).
    #[arg(long, env = "AUDIT_VALUES", default_value_t = false, action = clap::ArgAction::Set)]
    pub audit_values: bool,

    /// `text` or `json`.
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,

    #[command(flatten)]
    pub limits: LimitSettings,

    #[command(flatten)]
    pub runner: RunnerSettings,

    #[command(flatten)]
    pub schedules: ScheduleSettings,

    #[command(flatten)]
    pub telemetry: TelemetrySettings,

    #[command(flatten)]
    pub archive: archive::ArchiveArgs,

    #[command(flatten)]
    pub retention: retention::RetentionSettings,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Job runner tuning.
#[derive(Debug, Clone, Args)]
pub struct RunnerSettings {
    /// Seconds between worker heartbeats.
    #[arg(long, env = "JOB_HEARTBEAT_SECS", default_value_t = job_runner::RunnerConfig::DEFAULT_HEARTBEAT_SECS)]
    pub job_heartbeat_secs: u64,

    /// Missed heartbeats after which a worker's jobs are rescued (3 x 10 s = 30 s).
    #[arg(long, env = "JOB_MISSED_HEARTBEATS", default_value_t = job_runner::RunnerConfig::DEFAULT_MISSED_HEARTBEATS)]
    pub job_missed_heartbeats: usize,

    /// Fallback poll interval in ms; bounds how late a delayed job or a retry starts.
    #[arg(long, env = "JOB_POLL_MS", default_value_t = job_runner::RunnerConfig::DEFAULT_POLL_MS)]
    pub job_poll_ms: u64,

    /// Jobs fetched per round trip.
    #[arg(long, env = "JOB_BATCH_SIZE", default_value_t = job_runner::RunnerConfig::DEFAULT_BATCH_SIZE)]
    pub job_batch_size: usize,

    /// Comma-separated queues this process works (all when unset).
    #[arg(long, env = "JOB_QUEUES", value_delimiter = ',')]
    pub job_queues: Option<Vec<String>>,
}

/// Reconciliation schedules. Each value is a 6-field cron expression, read
/// in UTC (sec min hour day-of-month month day-of-week, e.g. `0 */15 * * * *`),
/// or `off`. Every replica must use the same values; each tick enqueues its
/// job once across all of them, and a replica that was down fires only the
/// latest missed tick.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Schedules (6-field cron in UTC: sec min hour day-of-month month day-of-week; or `off`)")]
pub struct ScheduleSettings {
    /// Patients list walk; by default every 15 minutes.
    #[arg(long, env = "SCHEDULE_SYNC_PATIENTS", default_value = "0 */15 * * * *", value_parser = CronParser)]
    pub schedule_sync_patients: scheduler::Cron,

    /// Appointments walk; by default every 10 minutes.
    #[arg(long, env = "SCHEDULE_SYNC_APPOINTMENTS", default_value = "0 */10 * * * *", value_parser = CronParser)]
    pub schedule_sync_appointments: scheduler::Cron,

    /// Clinical notes walk; by default every 15 minutes at :05, :20, :35, :50 (apart from patients).
    #[arg(long, env = "SCHEDULE_SYNC_CLINICAL_NOTES", default_value = "0 5-59/15 * * * *", value_parser = CronParser)]
    pub schedule_sync_clinical_notes: scheduler::Cron,

    /// Medications, problems and allergies of changed patients, per patient or practice-wide,
    /// whichever costs fewer calls; by default hourly at :40.
    #[arg(long, env = "SCHEDULE_SYNC_PATIENT_LISTS", default_value = "0 40 * * * *", value_parser = CronParser)]
    pub schedule_sync_patient_lists: scheduler::Cron,

    /// The practice-wide chart pass (every medication, problem and allergy; marks deletions);
    /// by default nightly at 02:15 UTC.
    #[arg(long, env = "SCHEDULE_SYNC_CHARTS", default_value = "0 15 2 * * *", value_parser = CronParser)]
    pub schedule_sync_charts: scheduler::Cron,

    /// Every patient through a verbose bulk batch: insurance, flags and custom demographics
    /// (verbose-only fields), and patients deleted at DrChrono; by default nightly at 02:05 UTC.
    #[arg(long, env = "SCHEDULE_SYNC_PATIENT_DETAILS", default_value = "0 5 2 * * *", value_parser = CronParser)]
    pub schedule_sync_patient_details: scheduler::Cron,

    /// The doctors and offices (with exam rooms) lists, which write-back validation reads;
    /// by default daily at 02:45 UTC.
    #[arg(long, env = "SCHEDULE_SYNC_LOOKUPS", default_value = "0 45 2 * * *", value_parser = CronParser)]
    pub schedule_sync_lookups: scheduler::Cron,

    /// Lab orders, chart lab results, tasks and billing line items changed since the last walk
    /// (their lists take `since`); by default hourly at :50.
    #[arg(long, env = "SCHEDULE_SYNC_ORDERS", default_value = "0 50 * * * *", value_parser = CronParser)]
    pub schedule_sync_orders: scheduler::Cron,

    /// Every lab order, lab result (of orders, which have no `since`, and of the chart), task and
    /// line item; marks what DrChrono no longer lists as removed; by default nightly at 02:25 UTC.
    #[arg(long, env = "SCHEDULE_SYNC_ORDERS_FULL", default_value = "0 25 2 * * *", value_parser = CronParser)]
    pub schedule_sync_orders_full: scheduler::Cron,

    /// Retention cleanup of finished jobs and old deliveries; by default daily at 03:30 UTC.
    #[arg(long, env = "SCHEDULE_CLEANUP", default_value = "0 30 3 * * *", value_parser = CronParser)]
    pub schedule_cleanup: scheduler::Cron,
}

impl Settings {
    pub fn database_url(&self) -> anyhow::Result<&str> {
        self.database_url.as_deref().ok_or_else(|| {
            anyhow::anyhow!(
                "DATABASE_URL is not set; set it, or run `cargo xtask db url` to find or start a local Postgres"
            )
        })
    }

    /// What stops the process at start, as one line naming the variable and
    /// the fix: a short secret, or a DrChrono origin over plain http.
    pub fn check_at_start(&self) -> Result<(), String> {
        self.check_secrets()?;
        if self.token_encryption_key.is_none() && self.token_encryption_key_previous.is_some() {
            return Err("TOKEN_ENCRYPTION_KEY_PREVIOUS is set but TOKEN_ENCRYPTION_KEY is not; during a rotation \
                        TOKEN_ENCRYPTION_KEY is the new key and _PREVIOUS the old one"
                .into());
        }
        jobs::drchrono::check_api_base(&self.drchrono_api_base)
    }

    pub fn bind_addr(&self) -> SocketAddr {
        self.bind_addr
            .or_else(|| self.port.map(|p| SocketAddr::from(([0, 0, 0, 0], p))))
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)))
    }

    /// `TOKEN_ENCRYPTION_KEY`, with `TOKEN_ENCRYPTION_KEY_PREVIOUS` to open
    /// what the old key sealed; `None` without the first.
    pub fn token_keys(&self) -> Option<jobs::drchrono::Keyring> {
        let current = self.token_encryption_key.clone()?;
        Some(jobs::drchrono::Keyring::new(current, self.token_encryption_key_previous.clone()))
    }

    pub fn job_settings(&self) -> jobs::JobSettings {
        let deepcura = self.secrets(secrets::Inbound::DeepCura);
        jobs::JobSettings {
            drchrono: jobs::drchrono::ClientSettings {
                api_base: self.drchrono_api_base.clone(),
                access_token: secrets::present(&self.drchrono_access_token).map(str::to_string),
                refresh_token: secrets::present(&self.drchrono_refresh_token).map(str::to_string),
                client_id: secrets::present(&self.drchrono_client_id).map(str::to_string),
                client_secret: secrets::present(&self.drchrono_client_secret).map(str::to_string),
                token_keys: self.token_keys(),
                calls_per_hour: self.drchrono_calls_per_hour,
                calls_per_second: self.drchrono_calls_per_second,
                reconcile_percent: self.drchrono_reconcile_percent,
                timeout: Duration::from_secs(self.drchrono_timeout_secs.max(1)),
                batch_poll_wait: Duration::from_millis(self.drchrono_batch_poll_ms),
                ..Default::default()
            },
            practice_timezone: self.practice_timezone,
            phone_default_country: self.phone_default_country,
            deepcura_cipher: deepcura.current.map(|secret| jobs::deepcura::Cipher::new(secret, self.deepcura_scheme)),
            deepcura_previous_cipher: deepcura
                .previous
                .map(|secret| jobs::deepcura::Cipher::new(secret, self.deepcura_scheme)),
            archive: self.archive.settings(),
        }
    }

    pub fn runner_config(&self) -> job_runner::RunnerConfig {
        let r = &self.runner;
        job_runner::RunnerConfig {
            heartbeat_interval: Duration::from_secs(r.job_heartbeat_secs.max(1)),
            missed_heartbeats: r.job_missed_heartbeats.max(2),
            poll_interval: Duration::from_millis(r.job_poll_ms.max(10)),
            batch_size: r.job_batch_size.max(1),
            queues: r.job_queues.clone(),
            ..Default::default()
        }
    }
}

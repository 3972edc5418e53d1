//! How much the service takes on at once, and for how long: the HTTP
//! timeouts and concurrency limit, and the database pool. Past a limit the
//! service answers at once (a closed connection, 408 or 503 with
//! `Retry-After`) instead of queueing without bound.

use clap::Args;
use std::time::Duration;

pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 64;
pub const DEFAULT_DATABASE_MAX_CONNECTIONS: u32 = 20;
pub const DEFAULT_DATABASE_ACQUIRE_TIMEOUT_MS: u64 = 5000;
pub const DEFAULT_WEBHOOK_REJECTED_PER_MINUTE: u32 = 30;
pub const DEFAULT_INGEST_MAX_BATCH: usize = 64;
pub const DEFAULT_INGEST_COMMITS_IN_FLIGHT: usize = 2;

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitSettings {
    /// Seconds a client has to send a request's line and headers; the
    /// connection is closed past it, so a slow client cannot hold it open.
    /// It also closes a keep-alive connection idle that long.
    #[arg(long, env = "HTTP_HEADER_READ_TIMEOUT_SECS", default_value_t = DEFAULT_HEADER_READ_TIMEOUT_SECS)]
    pub http_header_read_timeout_secs: u64,

    /// Seconds to read a request's body and answer it; past it the answer is 408.
    #[arg(long, env = "HTTP_REQUEST_TIMEOUT_SECS", default_value_t = DEFAULT_REQUEST_TIMEOUT_SECS)]
    pub http_request_timeout_secs: u64,

    /// Requests handled at once; the ones beyond get 503 with Retry-After.
    #[arg(long, env = "HTTP_MAX_CONCURRENT_REQUESTS", default_value_t = DEFAULT_MAX_CONCURRENT_REQUESTS)]
    pub http_max_concurrent_requests: usize,

    /// Database connections of this process.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = DEFAULT_DATABASE_MAX_CONNECTIONS)]
    pub database_max_connections: u32,

    /// Milliseconds a request waits for a free database connection; past it the answer is 503 with Retry-After.
    #[arg(long, env = "DATABASE_ACQUIRE_TIMEOUT_MS", default_value_t = DEFAULT_DATABASE_ACQUIRE_TIMEOUT_MS)]
    pub database_acquire_timeout_ms: u64,

    /// Deliveries that fail authentication, stored per sending address per
    /// minute. Past it, that address's failing deliveries get 429 with
    /// Retry-After and are not stored; authentic ones always pass.
    #[arg(long, env = "WEBHOOK_REJECTED_PER_MINUTE", default_value_t = DEFAULT_WEBHOOK_REJECTED_PER_MINUTE)]
    pub webhook_rejected_per_minute: u32,

    /// DrChrono deliveries written in one transaction at most (group
    /// commit). Deliveries wait for no batch to fill: those that arrive
    /// while commits are under way go together with the next one.
    #[arg(long, env = "INGEST_MAX_BATCH", default_value_t = DEFAULT_INGEST_MAX_BATCH)]
    pub ingest_max_batch: usize,

    /// Webhook transactions under way at once; a delivery arriving while
    /// all are busy waits for the next, with the others that arrive.
    #[arg(long, env = "INGEST_COMMITS_IN_FLIGHT", default_value_t = DEFAULT_INGEST_COMMITS_IN_FLIGHT)]
    pub ingest_commits_in_flight: usize,
}

impl LimitSettings {
    /// Zero would turn the timeout into "close at once"; one second is the floor.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.http_header_read_timeout_secs.max(1))
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.http_request_timeout_secs.max(1))
    }

    /// At least one request, or nothing would ever be answered.
    pub fn max_concurrent_requests(&self) -> usize {
        self.http_max_concurrent_requests.max(1)
    }

    /// At least one, so a secret typo still leaves a stored trace.
    pub fn rejected_per_minute(&self) -> u32 {
        self.webhook_rejected_per_minute.max(1)
    }

    /// At least one delivery per transaction.
    pub fn ingest_max_batch(&self) -> usize {
        self.ingest_max_batch.max(1)
    }

    /// At least one transaction, or nothing would be stored.
    pub fn ingest_commits_in_flight(&self) -> usize {
        self.ingest_commits_in_flight.max(1)
    }

    pub fn database_acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.database_acquire_timeout_ms.max(10))
    }
}

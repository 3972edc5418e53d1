//! Operator tools over the job tables: revive dead jobs, and inspect
//! queues and jobs. `cargo xtask retry-failed` and `cargo xtask jobs` are
//! thin shells over this module and lay its answers out as text.

mod filters;
mod inspect;
mod retry;

pub use filters::{JobFilter, parse_since};
pub use inspect::{Attempt, JobDetail, JobRow, QueueStats, attempts, list, show, stats};
pub use retry::{DeadJob, RetryOutcome, RetryReport, RetryRequest, UNFILTERED_LIMIT, retry_failed};

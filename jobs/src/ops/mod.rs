//! Operator tools over the job tables: revive dead jobs, and inspect
//! queues and jobs. `cargo xtask retry-failed` and `cargo xtask jobs` are
//! thin shells over this module; the text layouts (80 columns) are here
//! too, so tests hold them to that width.

mod filters;
mod inspect;
mod retry;
mod text;

pub use filters::{JobFilter, parse_since};
pub use inspect::{Attempt, JobDetail, JobRow, QueueStats, list, show, stats};
pub use retry::{DeadJob, RetryOutcome, RetryReport, RetryRequest, UNFILTERED_LIMIT, retry_failed};
pub use text::{job_detail_text, job_list_text, retry_text, stats_text};

//! Operator tools over the job tables: revive, discard and cancel jobs,
//! pause and resume queues, and inspect queues and jobs. `cargo xtask
//! retry-failed` and `cargo xtask jobs` are thin shells over this module and
//! lay its answers out as text; every action is recorded in
//! `operator_actions` under the actor the caller names.

mod audit;
mod browse;
mod by_id;
mod cancel;
mod discard;
mod filters;
mod inspect;
mod pause;
mod retry;

pub use browse::{Depth, OVERVIEW_STATES, PageFilter, PageRow, depths, first_id_at, overview_name, page, states_named};
pub use by_id::{ByIdReport, ByIdRequest, JobVerdict, Verdict};
pub use cancel::cancel;
pub use discard::{MAX_REASON_CHARS, discard};
pub use filters::{JobFilter, parse_since};
pub use inspect::{Attempt, JobDetail, JobRow, QueueStats, attempts, list, show, stats};
pub use pause::{PauseOutcome, PausedQueue, is_paused, pause_queue, paused_queues, resume_queue};
pub use retry::{DeadJob, RetryOutcome, RetryReport, RetryRequest, UNFILTERED_LIMIT, retry_failed};

//! The domain's jobs and everything they run on: the DrChrono client, the
//! domain upserts, Deep Cura, the note archive, write-back and the
//! migrations. The runner they run on is the `job_runner` crate.
//!
//! Nothing here answers HTTP; handlers in `server` only enqueue.

pub mod archive;
pub mod catalog;
pub mod context;
pub mod deepcura;
pub mod domain;
pub mod drchrono;
pub mod faults;
pub mod inbox;
pub mod metrics;
pub mod migrate;
pub mod registry;
pub mod rotation;
pub mod telemetry;
pub mod writeback;

pub use context::{JobContext, JobSettings};

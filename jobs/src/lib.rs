//! Typed jobs and everything they run on: the hardened runner, the DrChrono
//! client, the domain upserts and the migrations.
//!
//! Nothing here answers HTTP; handlers in `server` only enqueue.

pub mod archive;
pub mod context;
pub mod deepcura;
pub mod domain;
pub mod drchrono;
pub mod hooks;
pub mod jobs;
pub mod metrics;
pub mod migrate;
pub mod ops;
pub mod registry;
pub mod runner;
pub mod telemetry;
pub mod writeback;

pub use context::{JobContext, JobSettings};

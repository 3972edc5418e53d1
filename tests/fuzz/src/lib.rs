//! The service's own fuzzer: malformed bodies, queries and paths with valid
//! credentials for every inbound endpoint, from a seeded generator (the
//! same seed and case index always give the same request), and the checks
//! of what came back and of the jobs they became. `cargo xtask fuzz` runs
//! it at scale; the test suite runs a small fixed-seed slice.

mod gridhook;
mod inbound;
mod queries;
mod values;

pub mod case;
pub mod jobs;
pub mod mutate;
pub mod panics;
pub mod rng;
pub mod run;
pub mod samples;
pub mod send;
pub mod tally;

pub use case::{Case, Endpoint, generate};
pub use run::{Plan, run};
pub use samples::{Samples, Target};
pub use tally::Tally;

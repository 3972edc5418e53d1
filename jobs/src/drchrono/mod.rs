//! The DrChrono REST client. Every call is budgeted work and happens only
//! inside jobs, never on a request path.

mod client;

pub use client::{ApiError, DrChronoClient};

//! Client spans of calls to DrChrono and to the archive's storage. The
//! queue's own spans and the `traceparent` plumbing are the runner's
//! ([`job_runner::telemetry`]).
//!
//! Spans here carry paths and status codes; never a query string, a header
//! value other than `traceparent`, or any PHI.

mod client;

pub use client::{client_span, record_status};
pub use job_runner::telemetry::inject_traceparent;

//! Captures every log line of the test process, at debug level for every
//! crate, so a test can assert what never appears in them (PHI).
//!
//! The capture is the one [`crate::telemetry`] installs with its span
//! exporter: a process has one global subscriber, and tests that share a
//! process (`cargo test`) must all see the same one.

pub use crate::telemetry::Logs as Captured;

/// The process's log capture, installed on first use.
pub fn capture() -> Captured {
    crate::telemetry::capture().logs.clone()
}

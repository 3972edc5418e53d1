//! Traces across the queue: the W3C `traceparent` a job carries and the
//! messaging spans of the OpenTelemetry conventions (`send {queue}` where a
//! job is enqueued, `process {queue}` around each attempt).
//!
//! Spans here carry ids, queue names and counts; never a payload or any PHI.
//!
//! Everything is a no-op without an OpenTelemetry layer in the subscriber:
//! then no span has a trace id, and no `traceparent` is stored or sent.

mod messaging;
mod propagation;

pub use messaging::{MESSAGING_SYSTEM, process_span, send_span};
pub use propagation::{context_from_headers, inject_traceparent, parse_traceparent, trace_id, traceparent};

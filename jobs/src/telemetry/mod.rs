//! Traces across the queue: the W3C `traceparent` a job carries, the
//! messaging spans (`send {queue}`, `process {queue}`) and the client spans
//! of calls to DrChrono.
//!
//! Spans here carry ids, queue names, paths and status codes; never a
//! payload, a header value other than `traceparent`, or any PHI.
//!
//! Everything is a no-op without an OpenTelemetry layer in the subscriber:
//! then no span has a trace id, and no `traceparent` is stored or sent.

mod client;
mod messaging;
mod propagation;

pub use client::{client_span, inject_traceparent, record_status};
pub use messaging::{MESSAGING_SYSTEM, process_span, send_span};
pub use propagation::{context_from_headers, parse_traceparent, trace_id, traceparent};

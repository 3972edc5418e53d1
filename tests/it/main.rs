//! One integration test binary, run by `cargo xtask test`, against a real
//! Postgres (a fresh database per test) and the sandbox DrChrono over HTTP.

mod archive_check;
mod archive_crash;
mod archive_pdf;
mod connect;
mod deepcura;
mod drchrono_client;
mod fail_closed;
mod field_mappings;
mod hostile_input;
mod http_limits;
mod logs_phi;
mod metrics;
mod operations;
mod otlp_export;
mod partner_apply;
mod partner_events;
mod partner_feed;
mod partner_guards;
mod preflight;
mod records_lists;
mod records_webhooks;
mod retention;
mod runner_limits;
mod runner_payloads;
mod runner_processes;
mod runner_retry;
mod scheduler;
mod sync_batches;
mod sync_cursors;
mod sync_reconcile;
mod sync_spec;
mod telemetry;
mod webhook_drchrono;
mod writeback;
mod writeback_crash;

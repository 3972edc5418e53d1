//! One integration test binary, run by `cargo xtask test`, against a real
//! Postgres (a fresh database per test) and the sandbox DrChrono over HTTP.

mod deepcura;
mod archive_check;
mod archive_crash;
mod archive_pdf;
mod drchrono_client;
mod field_mappings;
mod runner_limits;
mod runner_payloads;
mod runner_processes;
mod logs_phi;
mod operations;
mod partner_apply;
mod partner_events;
mod partner_feed;
mod partner_guards;
mod metrics;
mod otlp_export;
mod records_lists;
mod records_webhooks;
mod runner_retry;
mod scheduler;
mod sync_cursors;
mod sync_reconcile;
mod telemetry;
mod webhook_drchrono;
mod writeback;
mod writeback_crash;

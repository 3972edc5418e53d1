//! One integration test binary, run by `cargo xtask test`, against a real
//! Postgres (a fresh database per test) and the sandbox DrChrono over HTTP.

mod deepcura;
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
mod records_lists;
mod records_webhooks;
mod runner_retry;
mod scheduler;
mod sync_cursors;
mod sync_reconcile;
mod webhook_drchrono;
mod writeback;
mod writeback_crash;

//! The drchrono-sync service. Each role (`serve`, `work`, `schedule`, or
//! `all` of them) is a function here; `main.rs` only parses the command line.

mod bearer;
pub mod check;
pub mod config;
pub mod connect;
pub mod console;
pub mod error;
mod group_commit;
mod inbox;
mod listen;
pub mod partner;
mod request_id;
pub mod routes;
pub mod telemetry;
pub mod writeback;

use anyhow::Context as _;
use sqlx::{PgPool, postgres::PgPoolOptions};
use std::{net::SocketAddr, sync::Arc};
use tokio::{net::TcpListener, sync::watch};

use config::secrets::Inbound;
use jobs::inbox::json_guard;

pub use config::Settings;

/// What every HTTP handler reads.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub settings: Arc<Settings>,
}

/// The pool of `DATABASE_MAX_CONNECTIONS`. A request that waits longer
/// than `DATABASE_ACQUIRE_TIMEOUT_MS` for a connection gets 503 with
/// `Retry-After`, rather than queueing behind the others without bound.
pub async fn connect(settings: &Settings) -> anyhow::Result<PgPool> {
    let url = settings.database_url()?;
    let audit = jobs::domain::audit::AuditSession::new(settings.token_keys().as_ref(), settings.audit_values);
    audit
        .on_connect(PgPoolOptions::new())
        .max_connections(settings.limits.database_max_connections.max(1))
        .acquire_timeout(settings.limits.database_acquire_timeout())
        .connect(url)
        .await
        .context("cannot connect to DATABASE_URL; is Postgres running? (`cargo xtask db url` finds or starts one)")
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    jobs::migrate::run(pool).await?;
    tracing::info!("migrations applied");
    Ok(())
}

/// Serves HTTP on `listener` until `shutdown` turns true, within the
/// limits of `settings.limits` (header read timeout, request timeout,
/// concurrency).
pub async fn serve(state: AppState, listener: TcpListener, shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    for kind in Inbound::ALL {
        if state.settings.secrets(kind).is_off() {
            tracing::warn!("{} is not set (or blank): {}", kind.var(), kind.when_unset());
        }
    }
    partner::schema::check();
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, "HTTP listening");
    let header_read_timeout = state.settings.limits.header_read_timeout();
    listen::serve(listener, routes::router(state), header_read_timeout, shutdown).await.context("HTTP server failed")
}

/// Runs every registered job queue until `shutdown` turns true.
pub async fn work(pool: PgPool, settings: &Settings, shutdown: watch::Receiver<bool>) {
    let ctx = jobs::JobContext::new(pool.clone(), settings.job_settings());
    let registry = jobs::registry::all();
    tracing::info!(queues = ?registry.names(), "job workers starting");
    registry.run(pool, ctx, settings.runner_config(), shutdown).await;
}

/// The scheduler role: the reconciliation schedules from `SCHEDULE_*`.
/// Every replica may run it; each tick enqueues its job once across all.
pub async fn schedule(pool: PgPool, settings: &Settings, shutdown: watch::Receiver<bool>) {
    scheduler::run(pool, schedules(settings), shutdown).await;
}

/// The service's schedules, one line each. Each sync walks its whole list
/// for now; the job's own dedup key keeps a slow walk from piling up.
pub fn schedules(settings: &Settings) -> scheduler::Schedules {
    let cfg = &settings.schedules;
    let cleanup = settings.retention.cleanup();
    use jobs::{
        catalog::{SyncPatientLists, SyncRecords},
        domain::RecordKind,
    };
    // Incremental walks: each resumes from its cursor (named after its table).
    let sync = |kind: RecordKind| {
        move |tick: &scheduler::Tick| SyncRecords {
            schedule: Some(tick.schedule.into()),
            cursor: Some(kind.table().into()),
            ..SyncRecords::all(kind)
        }
    };
    // Lab orders, both kinds of results, tasks and line items: hourly from the cursors of
    // those whose lists take `since`, nightly whole (results have no `since`).
    let orders = [
        RecordKind::LabOrder,
        RecordKind::LabResult,
        RecordKind::PatientLabResult,
        RecordKind::Task,
        RecordKind::LineItem,
    ];
    scheduler::Schedules::new()
        .job("sync_patients", &cfg.schedule_sync_patients, sync(RecordKind::Patient))
        .job("sync_appointments", &cfg.schedule_sync_appointments, sync(RecordKind::Appointment))
        .job("sync_clinical_notes", &cfg.schedule_sync_clinical_notes, sync(RecordKind::ClinicalNote))
        .job("sync_patient_details", &cfg.schedule_sync_patient_details, move |tick: &scheduler::Tick| SyncRecords {
            full: true,
            ..sync(RecordKind::Patient)(tick)
        })
        .job("sync_patient_lists", &cfg.schedule_sync_patient_lists, |tick: &scheduler::Tick| SyncPatientLists {
            schedule: Some(tick.schedule.into()),
            practice_wide: false,
        })
        .job("sync_charts", &cfg.schedule_sync_charts, |tick: &scheduler::Tick| SyncPatientLists {
            schedule: Some(tick.schedule.into()),
            practice_wide: true,
        })
        .add("sync_lookups", &cfg.schedule_sync_lookups, |conn, tick| {
            let walks = [RecordKind::Doctor, RecordKind::Office, RecordKind::AppointmentProfile]
                .map(|kind| SyncRecords { schedule: Some(tick.schedule.into()), ..SyncRecords::all(kind) });
            Box::pin(async move { job_runner::enqueue_many(conn, &walks).await })
        })
        .add("sync_orders", &cfg.schedule_sync_orders, move |conn, tick| {
            let walks =
                orders.into_iter().filter(|kind| kind.takes_since()).map(|kind| sync(kind)(&tick)).collect::<Vec<_>>();
            Box::pin(async move { job_runner::enqueue_many(conn, &walks).await })
        })
        .add("sync_orders_full", &cfg.schedule_sync_orders_full, move |conn, tick| {
            let walks = orders.map(|kind| SyncRecords { full: true, ..sync(kind)(&tick) });
            Box::pin(async move { job_runner::enqueue_many(conn, &walks).await })
        })
        .job("cleanup", &cfg.schedule_cleanup, move |_: &scheduler::Tick| cleanup.clone())
}

/// A watch channel that turns true on Ctrl-C or SIGTERM.
pub fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("SIGTERM handler installs");
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        let _ = tx.send(true);
    });
    rx
}

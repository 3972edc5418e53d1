//! The `sync_calls` lines of `cargo xtask bench sync`: what a practice's
//! reconciliation costs in DrChrono calls, against the floor.

use anyhow::Result;
use job_runner::enqueue;
use jobs::{
    catalog::{SyncPatientLists, SyncRecords},
    domain::RecordKind,
};
use sandbox::{Kind, Sandbox};
use serde::Serialize;
use std::time::{Duration, Instant};

use crate::service;

#[derive(Serialize)]
struct CallsLine {
    system: String,
    workload: &'static str,
    pass: &'static str,
    kind: &'static str,
    records: u64,
    calls: u64,
    /// ⌈records / page maximum⌉, at least one call.
    floor: u64,
    ratio: f64,
    seconds: f64,
}

fn emit(pass: &'static str, kind: &'static str, records: u64, calls: u64, floor: u64, seconds: f64) {
    let line = CallsLine {
        system: super::report::system(),
        workload: "sync_calls",
        pass,
        kind,
        records,
        calls,
        floor,
        ratio: (calls as f64 / floor.max(1) as f64 * 1000.0).round() / 1000.0,
        seconds: (seconds * 1000.0).round() / 1000.0,
    };
    println!("{}", serde_json::to_string(&line).unwrap_or_default());
}

/// The sandbox's kind served at the same path.
fn sandbox_kind(kind: RecordKind) -> Kind {
    let path = kind.api_path();
    Kind::ALL.into_iter().find(|k| k.path() == path).expect("the sandbox serves every record kind")
}

/// The fewest calls DrChrono's lists allow for `records` of `kind`: its
/// pages at the page size a whole walk reads (1,000 from the bulk lists,
/// verbose pages for allergies when their description is wanted, 250 for
/// the rest). A batch's POST and poll come on top.
fn floor(kind: RecordKind, records: u64, verbose: bool) -> u64 {
    let (page, _) = SyncRecords::whole_walk_pages(kind, verbose);
    records.div_ceil(page as u64).max(1)
}

async fn timed<T, F: std::future::Future<Output = Result<T>>>(sandbox: &Sandbox, f: F) -> Result<(u64, f64)> {
    sandbox.reset_counters();
    let t0 = Instant::now();
    f.await?;
    Ok((sandbox.calls(), t0.elapsed().as_secs_f64()))
}

async fn drained(pool: &sqlx::PgPool) -> Result<()> {
    service::wait_for_jobs(pool, Duration::from_secs(1800)).await
}

pub async fn report(pool: &sqlx::PgPool, sandbox: &Sandbox) -> Result<()> {
    let (mut total_calls, mut total_floor, mut total_records) = (0, 0, 0);
    for kind in RecordKind::ALL {
        let verbose = kind == RecordKind::Allergy;
        let job = SyncRecords { full: true, verbose, cursor: Some(kind.table().into()), ..SyncRecords::all(kind) };
        let (calls, seconds) = timed(sandbox, async {
            enqueue(pool, &job).await?;
            drained(pool).await
        })
        .await?;
        let records = sandbox.ids(sandbox_kind(kind)).len() as u64;
        let floor = floor(kind, records, verbose);
        emit("first_full", kind.name(), records, calls, floor, seconds);
        (total_calls, total_floor, total_records) = (total_calls + calls, total_floor + floor, total_records + records);
    }
    emit("first_full", "all", total_records, total_calls, total_floor, 0.0);

    // What an hour with nothing new costs: the 10- and 15-minute walks, the
    // hourly orders walk (every list that takes `since`) and the chart lists.
    let incremental = [
        RecordKind::Patient,
        RecordKind::Appointment,
        RecordKind::ClinicalNote,
        RecordKind::LabOrder,
        RecordKind::PatientLabResult,
        RecordKind::Task,
        RecordKind::LineItem,
    ];
    let (calls, seconds) = timed(sandbox, async {
        for kind in incremental {
            enqueue(pool, &SyncRecords { cursor: Some(kind.table().into()), ..SyncRecords::all(kind) }).await?;
        }
        enqueue(pool, &SyncPatientLists { schedule: None, practice_wide: false }).await?;
        drained(pool).await
    })
    .await?;
    emit("idle_incremental", "all", 0, calls, incremental.len() as u64, seconds);

    let (calls, seconds) = timed(sandbox, async {
        enqueue(pool, &SyncPatientLists { schedule: None, practice_wide: true }).await?;
        drained(pool).await
    })
    .await?;
    let chart = [RecordKind::Medication, RecordKind::Problem, RecordKind::Allergy];
    let records: u64 = chart.iter().map(|k| sandbox.ids(sandbox_kind(*k)).len() as u64).sum();
    let chart_floor: u64 = chart.iter().map(|k| floor(*k, sandbox.ids(sandbox_kind(*k)).len() as u64, false)).sum();
    emit("nightly_charts", "all", records, calls, chart_floor, seconds);

    let details = SyncRecords { full: true, cursor: Some("patients".into()), ..SyncRecords::all(RecordKind::Patient) };
    let (calls, seconds) = timed(sandbox, async {
        enqueue(pool, &details).await?;
        drained(pool).await
    })
    .await?;
    let patients = sandbox.ids(Kind::Patient).len() as u64;
    emit("nightly_patient_details", "patient", patients, calls, floor(RecordKind::Patient, patients, true), seconds);
    Ok(())
}

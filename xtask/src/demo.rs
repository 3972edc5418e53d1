//! `cargo xtask demo`: the service against the sandbox DrChrono, end to end.
//!
//! Starts the sandbox and the service (HTTP and workers, in this process) on
//! a fresh `drchrono_sync_demo` database, sends DrChrono deliveries of every
//! kind the service handles, waits for the jobs, and prints what landed. The
//! printout shows ids and counts; the sandbox's people are fictional anyway.

use anyhow::{Context, Result};
use clap::Args;
use sandbox::{DeepCuraSender, GridhookScheme, Kind, Sandbox, SandboxConfig, WebhookSender};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::time::Duration;

use crate::{db, service};

const DATABASE: &str = "drchrono_sync_demo";

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Patients in the sandbox practice.
    #[arg(long, default_value_t = 25)]
    patients: usize,
    /// Keep the service and sandbox running after the summary, until Ctrl-C.
    #[arg(long)]
    keep: bool,
}

pub async fn run(args: DemoArgs) -> Result<()> {
    let pg = db::locate().await?; // prints which server it chose
    let url = db::create_database(&pg.url, DATABASE).await?;
    let sandbox = Sandbox::spawn(SandboxConfig { patients: args.patients, ..Default::default() }).await?;
    println!("sandbox DrChrono: {} ({} patients)", sandbox.base_url(), args.patients);
    // A fresh admin token per run: the console opens through the one-time
    // link printed at the end, and the token itself is never shown.
    let admin_token = format!("{:032x}", rand::random::<u128>());
    let service = service::start_with(&url, &sandbox, |s| s.admin_token = Some(admin_token)).await?;
    println!("service: {}\n", service.url);

    send_deliveries(&sandbox, &service.webhook_url()).await?;
    send_gridhooks(&sandbox, &service).await?;
    service::wait_for_jobs(&service.pool, Duration::from_secs(30))
        .await
        .with_context(|| format!("in database {DATABASE}"))?;
    summarize(&service.pool, &sandbox).await?;

    println!("\nInspect it: DATABASE_URL={} cargo xtask jobs stats   (or: jobs list --state dead)", db::redact(&url));
    print_console_link(&service, args.keep).await?;
    if args.keep {
        println!("\nrunning until Ctrl-C; DATABASE_URL for this demo: {}", db::redact(&url));
        tokio::signal::ctrl_c().await?;
    }
    Ok(())
}

/// The console's address and a one-time login link (it opens an admin
/// session once, within ten minutes). Without `--keep` the service stops
/// as the demo ends, so the link is only worth opening with it.
async fn print_console_link(service: &service::LocalService, keep: bool) -> Result<()> {
    let ttl = Duration::from_secs(600);
    let token = server::console::login_link::issue(&service.pool, server::console::Role::Admin, ttl)
        .await
        .context("issuing the console's login link")?;
    println!("\nconsole: {}/console", service.url);
    println!("one-time login link (10 minutes): {}/console/login/once/{token}", service.url);
    if !keep {
        println!("(the service stops with the demo: run `cargo xtask demo --keep` to open it)");
    }
    Ok(())
}

async fn send_deliveries(sandbox: &Sandbox, url: &str) -> Result<()> {
    let sender = WebhookSender::new(url, service::WEBHOOK_SECRET);
    let ids = sandbox.patient_ids();
    let mut sent: Vec<(String, u16, Value)> = Vec::new();
    let mut record = |what: &str, status: u16, body: Value| sent.push((what.to_string(), status, body));

    for id in ids.iter().take(5) {
        let patient = sandbox.patient(*id).context("sandbox patient")?;
        let r = sender.send_with_delivery_id("PATIENT_CREATE", &patient, &format!("demo-{id}")).await?;
        record(&format!("PATIENT_CREATE patient {id}"), r.status().as_u16(), r.json().await.unwrap_or_default());
    }
    let changed = sandbox
        .modify_patient(ids[0], |p| {
            p.insert("patient_status".into(), json!("I"));
        })
        .context("modify")?;
    let r = sender.send("PATIENT_MODIFY", &changed).await?;
    record(&format!("PATIENT_MODIFY patient {}", ids[0]), r.status().as_u16(), r.json().await.unwrap_or_default());
    let first = sandbox.patient(ids[1]).context("sandbox patient")?;
    let r = sender.send_with_delivery_id("PATIENT_CREATE", &first, &format!("demo-{}", ids[1])).await?;
    record("redelivery of an earlier delivery id", r.status().as_u16(), r.json().await.unwrap_or_default());
    let r = sender.send_legacy("PATIENT_UPDATE", ids[6]).await?;
    record(
        &format!("older id-only shape, patient {}", ids[6]),
        r.status().as_u16(),
        r.json().await.unwrap_or_default(),
    );
    let r = sender.send("VACCINE_ADMINISTERED", &json!({"id": 77, "patient": ids[0]})).await?;
    record("VACCINE_ADMINISTERED (not modelled)", r.status().as_u16(), r.json().await.unwrap_or_default());
    let r = WebhookSender::new(url, "wrong-secret").send("PATIENT_CREATE", &first).await?;
    record("wrong secret", r.status().as_u16(), Value::Null);

    println!("{:<40} {:>6}  {:<10} job", "delivery", "status", "outcome");
    for (what, status, body) in sent {
        let outcome = body["outcome"].as_str().unwrap_or("-");
        let job = body["job_id"].as_str().unwrap_or("-");
        println!("{what:<40} {status:>6}  {outcome:<10} {job}");
    }
    Ok(())
}

/// Deep Cura: one Gridhook for a visit whose note DrChrono delivered (it
/// links at once), one for a visit whose note has not arrived (unlinked).
async fn send_gridhooks(sandbox: &Sandbox, service: &service::LocalService) -> Result<()> {
    let drchrono = WebhookSender::new(service.webhook_url(), service::WEBHOOK_SECRET);
    let deepcura = DeepCuraSender::new(service.deepcura_url(), service::DEEPCURA_SECRET, GridhookScheme::Sha256Iv);
    let notes = sandbox.ids(Kind::ClinicalNote);
    let mut visits = notes.iter().filter_map(|&id| {
        let appointment = sandbox.record(Kind::ClinicalNote, id)?.get("appointment")?.as_i64()?;
        Some((id, appointment))
    });
    let (linked_note, linked_visit) = visits.next().context("the sandbox has clinical notes")?;
    let (_, open_visit) = visits.next().context("the sandbox has two clinical notes")?;
    let note = sandbox.lock_note(linked_note, true).context("sandbox note")?;
    drchrono.send("CLINICAL_NOTE_LOCK", &note).await?;
    println!();
    for visit in [linked_visit, open_visit] {
        let gridhook = sandbox.gridhook_for(visit).context("sandbox visit")?;
        let r = deepcura.send(&gridhook).await?;
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or_default();
        let job = body["job_id"].as_str().unwrap_or("-");
        let outcome = body["status"].as_str().unwrap_or("-");
        println!("{:<40} {status:>6}  {outcome:<10} {job}", format!("Gridhook for appointment {visit}"));
    }
    // Encrypted with another secret: accepted and stored, then dead on its
    // first attempt with a reason; `cargo xtask jobs list --state dead` shows it.
    let payload = sandbox::encrypt_gridhook("another-secret", GridhookScheme::Sha256Iv, b"{}");
    let r = deepcura.send_body(&json!({ "encrypted_payload": payload }), Some(service::DEEPCURA_SECRET)).await?;
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or_default();
    let (outcome, job) = (body["status"].as_str().unwrap_or("-"), body["job_id"].as_str().unwrap_or("-"));
    println!("{:<40} {status:>6}  {outcome:<10} {job}", "Gridhook under the wrong key (dies)");
    Ok(())
}

async fn summarize(pool: &PgPool, sandbox: &Sandbox) -> Result<()> {
    println!("\nwebhook_deliveries by outcome:");
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT outcome, count(*) FROM webhook_deliveries GROUP BY 1 ORDER BY 1")
            .fetch_all(pool)
            .await?;
    for (outcome, n) in rows {
        println!("  {outcome:<14} {n}");
    }
    println!("\njobs by queue (cargo xtask jobs stats):");
    print!("{}", crate::ops::text::stats_text(&job_runner::ops::stats(pool).await?));
    println!("\nDeep Cura notes (cargo xtask deepcura unlinked lists the open ones):");
    let rows: Vec<(i64, Option<i64>, String, Option<i64>)> =
        sqlx::query_as("SELECT id, appointment_id, link_status, clinical_note_id FROM deepcura_notes ORDER BY id")
            .fetch_all(pool)
            .await?;
    for (id, appointment, status, note) in rows {
        let note = note.map_or_else(|| "-".to_string(), |n| n.to_string());
        println!("  note {id:<4} appointment {:<8} {status:<9} clinical note {note}", appointment.unwrap_or_default());
    }
    println!("\npatients:");
    let rows: Vec<(i64, Option<String>, Option<String>, String)> =
        sqlx::query_as("SELECT id, chart_id, patient_status, synced_by FROM patients ORDER BY id")
            .fetch_all(pool)
            .await?;
    for (id, chart, status, by) in rows {
        println!(
            "  id {id:<6} chart {:<10} status {:<2} written by {by}",
            chart.unwrap_or_default(),
            status.unwrap_or_default()
        );
    }
    println!("\nDrChrono API calls spent: {} (full-object deliveries cost none)", sandbox.calls());
    Ok(())
}

//! The load generator of the ingest benchmark: `senders` tasks, each
//! sending its share of real-format `PATIENT_MODIFY` deliveries one after
//! another, each a new patient with its own delivery id, and timing each
//! from send to answer.

use anyhow::{Context, Result, bail};
use sandbox::{Kind, Sandbox, SandboxConfig, WebhookSender};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use super::service;

const WARM_UP: usize = 200;
/// Patient ids of the benchmark start here, clear of the sandbox's.
const FIRST_ID: i64 = 50_000_000;

/// What one concurrency level did.
pub struct Measured {
    pub deliveries: usize,
    pub seconds: f64,
    /// Each delivery's send-to-answer time, sorted.
    pub latencies: Vec<Duration>,
}

impl Measured {
    pub fn per_sec(&self) -> f64 {
        self.deliveries as f64 / self.seconds
    }
}

/// A patient as DrChrono serializes it, from the sandbox's generator.
pub async fn template_patient() -> Result<Value> {
    let sandbox = Sandbox::spawn(SandboxConfig { patients: 1, ..Default::default() }).await?;
    let id = *sandbox.ids(Kind::Patient).first().context("the sandbox generated no patient")?;
    sandbox.record(Kind::Patient, id).context("the sandbox's patient")
}

/// The patient of delivery `n`: the template with its own id and time.
pub fn patient(template: &Value, n: usize) -> Value {
    let mut p = template.clone();
    p["id"] = json!(FIRST_ID + n as i64);
    p["updated_at"] = json!(format!("2026-12-07T{:02}:{:02}:{:02}", (n / 3600) % 24, (n / 60) % 60, n % 60));
    p
}

/// Starts the service on `url`, warms it up, sends `deliveries` from
/// `senders` at once, and checks the database holds each with its job.
pub async fn measure(
    url: &str,
    senders: usize,
    deliveries: usize,
    template: &Value,
    tuning: &[(&str, String)],
) -> Result<Measured> {
    let svc = service::start(url, tuning).await?;
    let sender = Arc::new(WebhookSender::new(format!("{}/webhooks/drchrono", svc.url), service::SECRET));
    let template = Arc::new(template.clone());
    send(&sender, &template, 0..WARM_UP, senders).await?;
    eprintln!("bench ingest: {deliveries} deliveries from {senders} senders");
    let started = Instant::now();
    let mut latencies = send(&sender, &template, WARM_UP..WARM_UP + deliveries, senders).await?;
    let seconds = started.elapsed().as_secs_f64();
    drop(svc);
    latencies.sort_unstable();
    check_stored(url, WARM_UP + deliveries).await?;
    Ok(Measured { deliveries, seconds, latencies })
}

/// Sends deliveries `range` from `senders` tasks; their latencies.
async fn send(
    sender: &Arc<WebhookSender>,
    template: &Arc<Value>,
    range: std::ops::Range<usize>,
    senders: usize,
) -> Result<Vec<Duration>> {
    let mut tasks = Vec::with_capacity(senders);
    for s in 0..senders {
        let (sender, template) = (sender.clone(), template.clone());
        let mine: Vec<usize> = range.clone().skip(s).step_by(senders).collect();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(mine.len());
            for n in mine {
                let object = patient(&template, n);
                let start = Instant::now();
                let answer = sender.send("PATIENT_MODIFY", &object).await?;
                let status = answer.status();
                answer.bytes().await?;
                times.push(start.elapsed());
                if !status.is_success() {
                    bail!("delivery {n} was answered {status}; the service's log is in the temp directory");
                }
            }
            anyhow::Ok(times)
        }));
    }
    let mut all = Vec::with_capacity(range.len());
    for t in tasks {
        all.extend(t.await.context("a sender task panicked")??);
    }
    Ok(all)
}

/// Every delivery answered 2xx is in the inbox, accepted, with its job.
async fn check_stored(url: &str, expected: usize) -> Result<()> {
    let pool = PgPool::connect(url).await?;
    let (stored, with_job): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(job_id) FROM webhook_deliveries WHERE outcome = 'accepted' AND event = 'PATIENT_MODIFY'",
    )
    .fetch_one(&pool)
    .await?;
    let jobs = job_runner::queries::count(&pool, Some("upsert_record"), &[job_runner::JobState::Pending]).await?;
    pool.close().await;
    if (stored, with_job, jobs) != (expected as i64, expected as i64, expected as i64) {
        bail!(
            "{expected} deliveries were answered 2xx, but the database holds {stored} accepted, {with_job} with a job, and {jobs} pending jobs"
        );
    }
    Ok(())
}

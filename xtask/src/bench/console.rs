//! `cargo xtask bench console`: how long each console page takes with a
//! million finished jobs in the database, one JSON line per page.
//!
//! A scratch database is filled with `--jobs` done jobs (and a few dead,
//! retrying and pending ones), `--deliveries` inbox rows and their attempts,
//! in SQL (`generate_series`), so the seeding takes seconds, not the hours
//! real traffic would. The service then runs in this process against the
//! sandbox, a browser-like client logs in, and every page is fetched
//! `--requests` times after a warm-up. The figure is the whole HTTP round
//! trip: query, rendering and transport. Each page's query is bounded and
//! indexed (README, "The console"), so its time should not grow with the
//! table.

use anyhow::{Context, Result, bail};
use sandbox::{Sandbox, SandboxConfig};
use serde::Serialize;
use std::time::{Duration, Instant};

use super::report::nearest_rank_ms;
use crate::{db, service};

const DATABASE: &str = "bench_dcs_console";
const WARM_UP: usize = 3;
/// The finished jobs end evenly over the job retention's default (30
/// days), so the overview's "last hour" holds what a month's share is.
const SPREAD: Duration = Duration::from_secs(30 * 86_400);

#[derive(clap::Args, Debug)]
pub struct ConsoleArgs {
    /// Finished jobs in the table.
    #[arg(long, default_value_t = 1_000_000)]
    pub jobs: i64,
    /// Stored deliveries.
    #[arg(long, default_value_t = 300_000)]
    pub deliveries: i64,
    /// Timed requests per page.
    #[arg(long, default_value_t = 50)]
    pub requests: usize,
}

#[derive(Serialize)]
struct PageLine<'a> {
    system: &'static str,
    workload: &'static str,
    page: &'a str,
    jobs_in_table: i64,
    deliveries_in_table: i64,
    requests: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    build: &'static str,
}

pub async fn run(args: ConsoleArgs) -> Result<()> {
    let pg = db::locate().await?;
    let url = db::create_database(&pg.url, DATABASE).await?;
    let sandbox = Sandbox::spawn(SandboxConfig { patients: 5, ..Default::default() }).await?;
    let token = format!("{:032x}", rand::random::<u128>());
    let service = service::start_with(&url, &sandbox, |s| s.admin_token = Some(token.clone())).await?;
    eprintln!("bench console: seeding {} jobs and {} deliveries", args.jobs, args.deliveries);
    let started = Instant::now();
    seed(&service.pool, args.jobs, args.deliveries).await?;
    eprintln!(
        "bench console: seeded in {:.1} s; timing {} requests per page",
        started.elapsed().as_secs_f64(),
        args.requests
    );
    let http = login(&service.url, &token).await?;
    let dead = job_runner::ops::PageFilter { states: vec![job_runner::JobState::Dead], ..Default::default() };
    let job = job_runner::ops::page(&service.pool, &dead, 1).await?.pop().context("the seed has dead jobs")?.id;
    let pages = [
        "/console".to_string(),
        "/console/jobs".into(),
        "/console/jobs?state=done".into(),
        "/console/jobs?state=dead".into(),
        "/console/jobs?queue=upsert_record".into(),
        format!("/console/jobs/{job}"),
        "/console/deliveries".into(),
        "/console/deliveries?outcome=not_modelled".into(),
        "/console/review".into(),
        "/console/runs".into(),
    ];
    for page in &pages {
        let times = time_page(&http, &format!("{}{page}", service.url), args.requests).await?;
        let line = PageLine {
            system: "project",
            workload: "console_page",
            page,
            jobs_in_table: args.jobs,
            deliveries_in_table: args.deliveries,
            requests: args.requests,
            p50_ms: nearest_rank_ms(&times, 0.50),
            p99_ms: nearest_rank_ms(&times, 0.99),
            max_ms: nearest_rank_ms(&times, 1.0),
            build: super::report::build(),
        };
        println!("{}", serde_json::to_string(&line)?);
    }
    drop(service);
    db::drop_database(&pg.url, DATABASE).await
}

/// Done jobs with one attempt each, spread over [`SPREAD`], one in 100,000
/// dead, retrying or pending, and inbox rows.
async fn seed(pool: &sqlx::PgPool, jobs: i64, deliveries: i64) -> Result<()> {
    let spacing = SPREAD.as_secs_f64() / jobs.max(1) as f64;
    job_runner::testing::seed_finished(pool, jobs, spacing).await.context("seeding jobs")?;
    sqlx::query(
        "INSERT INTO webhook_deliveries (source, delivery_id, event, headers, body, verified, outcome, \
                                         body_size, body_sha256) \
         SELECT 'drchrono', 'bench-' || i, 'PATIENT_MODIFY', '{}'::jsonb, convert_to('{}', 'UTF8'), true, \
                CASE WHEN i % 1000 = 0 THEN 'not_modelled' ELSE 'accepted' END, 2, '' \
         FROM generate_series(1, $1::bigint) AS i",
    )
    .bind(deliveries)
    .execute(pool)
    .await
    .context("seeding deliveries")?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}

/// A client whose every request carries an admin session's cookie.
async fn login(base: &str, token: &str) -> Result<reqwest::Client> {
    let bare = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let resp = bare.post(format!("{base}/console/login")).form(&[("token", token)]).send().await?;
    let cookie = resp.headers().get(reqwest::header::SET_COOKIE).and_then(|v| v.to_str().ok());
    let Some(session) = cookie.and_then(|c| c.split(';').next()).filter(|_| resp.status().is_redirection()) else {
        bail!("console login answered {} without a session; the service's log says why", resp.status());
    };
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, session.parse()?);
    Ok(reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).default_headers(headers).build()?)
}

/// Round-trip times of `requests` GETs of `url`, after a warm-up.
async fn time_page(http: &reqwest::Client, url: &str, requests: usize) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(requests);
    for i in 0..WARM_UP + requests {
        let started = Instant::now();
        let resp = http.get(url).send().await?;
        let status = resp.status();
        resp.bytes().await?;
        if !status.is_success() {
            bail!("GET {url} answered {status}; the service's log says why");
        }
        if i >= WARM_UP {
            times.push(started.elapsed());
        }
    }
    times.sort();
    Ok(times)
}

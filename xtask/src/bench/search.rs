//! `cargo xtask bench search`: patient search latency with 100,000
//! patients, one JSON line per kind of query, and beside it a plain
//! `ILIKE '%term%'` scan for the same name terms, which is what the search
//! replaces.
//!
//! The patients are generated in one `INSERT ... SELECT generate_series`
//! (names from lists with accented ones, birth dates over 90 years, E.164
//! phones; one in 500 removed), with the audit trigger off while seeding,
//! then ANALYZEd. Each search is timed in this process through
//! `patient_search::search` on a pool: the queries, the `read_audit` insert
//! and the commit, without HTTP.

use anyhow::{Context, Result};
use jobs::domain::{
    PhoneCountry,
    patient_search::{self, Criteria, RawCriteria},
};
use serde::Serialize;
use sqlx::PgPool;
use std::time::{Duration, Instant};

use crate::db;

const DATABASE: &str = "bench_dcs_search";
const WARM_UP: usize = 5;
/// The patient whose birth date and phone the exact queries use.
const KNOWN: i64 = 4243;

#[derive(clap::Args, Debug)]
pub struct SearchArgs {
    /// Patients in the table.
    #[arg(long, default_value_t = 100_000)]
    pub patients: i64,
    /// Timed searches per kind of query.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
}

#[derive(Serialize)]
struct Line<'a> {
    system: String,
    workload: &'static str,
    query: &'a str,
    patients_in_table: i64,
    requests: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    via: &'static str,
    build: &'static str,
}

/// Name terms as people type them: a prefix, a typo, an accent left out.
const PREFIXES: [&str; 4] = ["Mart", "gonz", "Jos", "nguy"];
const TYPOS: [&str; 4] = ["Jonh Smith", "Martinex", "Garcai Jose", "Wiliams"];

pub async fn run(args: SearchArgs) -> Result<()> {
    let pg = db::locate().await?;
    let url = db::create_database(&pg.url, DATABASE).await?;
    let pool = PgPool::connect(&url).await.context("connect to the scratch database")?;
    jobs::migrate::run(&pool).await?;
    eprintln!("bench search: seeding {} patients", args.patients);
    let started = Instant::now();
    seed(&pool, args.patients).await?;
    eprintln!(
        "bench search: seeded in {:.1} s; timing {} searches per query",
        started.elapsed().as_secs_f64(),
        args.requests
    );
    let (first, last, born, phone): (String, String, chrono::NaiveDate, String) =
        sqlx::query_as("SELECT first_name, last_name, date_of_birth, phone_home_e164 FROM patients WHERE id = $1")
            .bind(KNOWN)
            .fetch_one(&pool)
            .await?;
    let full = format!("{first} {last}");
    let dob = born.to_string();
    let national = national(&phone);
    let name = |q: &'static str| RawCriteria { name: Some(q), ..Default::default() };
    let kinds: Vec<(&str, Vec<RawCriteria<'_>>)> = vec![
        ("name_prefix", PREFIXES.iter().map(|q| name(q)).collect()),
        ("name_typo", TYPOS.iter().map(|q| name(q)).collect()),
        (
            "name_and_birth_date",
            vec![RawCriteria { name: Some(&full), date_of_birth: Some(&dob), ..Default::default() }],
        ),
        ("phone", vec![RawCriteria { phone: Some(&national), ..Default::default() }]),
    ];
    for (query, raws) in &kinds {
        let criteria: Vec<Criteria> =
            raws.iter().map(|r| Criteria::parse(*r, PhoneCountry::US)).collect::<Result<_, _>>()?;
        let times = time(args.requests, criteria.len(), |i| {
            let c = &criteria[i];
            let pool = &pool;
            async move { Ok(patient_search::search(pool, c, "bench", "bench search").await.map(drop)?) }
        })
        .await?;
        emit(query, "library", &args, &times)?;
    }
    for (query, terms) in [("ilike_prefix", &PREFIXES), ("ilike_typo", &TYPOS)] {
        let times = time(args.requests, terms.len(), |i| ilike(&pool, terms[i])).await?;
        emit(query, "sql", &args, &times)?;
    }
    pool.close().await;
    db::drop_database(&pg.url, DATABASE).await
}

/// The scan the search replaces: a substring of "first last", case-blind
/// (not accent-blind, and no typo is forgiven), ordered by name.
async fn ilike(pool: &PgPool, term: &str) -> Result<()> {
    sqlx::query(
        "SELECT id, first_name, last_name, date_of_birth, chart_id FROM patients \
         WHERE removed_at IS NULL AND first_name || ' ' || last_name ILIKE '%' || $1 || '%' \
         ORDER BY last_name, first_name, id LIMIT 21",
    )
    .bind(term)
    .fetch_all(pool)
    .await?;
    Ok(())
}

/// `+12175550123` as `(217) 555-0123`, as a person would type it.
fn national(e164: &str) -> String {
    let d = e164.trim_start_matches("+1");
    format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..])
}

/// Times `requests` calls of `search(i)`, cycling `i` over `variants`,
/// after a warm-up.
async fn time<F, Fut>(requests: usize, variants: usize, search: F) -> Result<Vec<Duration>>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut times = Vec::with_capacity(requests);
    for i in 0..WARM_UP + requests {
        let started = Instant::now();
        search(i % variants).await?;
        if i >= WARM_UP {
            times.push(started.elapsed());
        }
    }
    times.sort();
    Ok(times)
}

fn emit(query: &str, via: &'static str, args: &SearchArgs, times: &[Duration]) -> Result<()> {
    let ms = |q: f64| super::report::nearest_rank_ms(times, q);
    let line = Line {
        system: super::report::system(),
        workload: "patient_search",
        query,
        patients_in_table: args.patients,
        requests: args.requests,
        p50_ms: ms(0.50),
        p99_ms: ms(0.99),
        max_ms: ms(1.0),
        via,
        build: super::report::build(),
    };
    println!("{}", serde_json::to_string(&line)?);
    Ok(())
}

/// `n` patients in one statement. Names pair a first and a last name from
/// the lists by two strides, so most pairs occur; about a third have no
/// home phone and half no mobile.
async fn seed(pool: &PgPool, n: i64) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("ALTER TABLE patients DISABLE TRIGGER record_change").execute(&mut *tx).await?;
    sqlx::query(include_str!("search_seed.sql")).bind(n).execute(&mut *tx).await.context("seeding patients")?;
    sqlx::query("ALTER TABLE patients ENABLE TRIGGER record_change").execute(&mut *tx).await?;
    tx.commit().await?;
    sqlx::query("ANALYZE patients").execute(pool).await?;
    Ok(())
}

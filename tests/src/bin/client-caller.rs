//! Makes DrChrono calls through the real client from its own process, for
//! tests that need several processes sharing one database (single-flight
//! refresh, the shared budget).
//!
//! Configuration comes from the service's own environment variables
//! (`DATABASE_URL`, `DRCHRONO_API_BASE`, `DRCHRONO_*`, `TOKEN_ENCRYPTION_KEY`),
//! parsed by the service's `Settings`.
//!
//! Usage:
//! - `client-caller get PATH COUNT [--wait-stdin] [--reconcile]`: GETs PATH
//!   COUNT times, printing `ok`, `none` or `err CLASS MESSAGE` per call;
//! - `client-caller walk PATH PAGE_SIZE [--wait-stdin]`: walks a list and
//!   prints `walk PAGES CALLS RECORDS`.
//!
//! With `--wait-stdin` it prints `ready` and waits for a line on stdin first,
//! so a test can start several at the same moment. Exits 0 when every call
//! succeeded, 1 otherwise.

use job_runner::JobError;
use jobs::{JobContext, drchrono::Priority};
use std::io::{BufRead, Write};

#[tokio::main]
async fn main() {
    integration_tests::child::log_to_stderr("info,jobs=debug,sqlx=warn");
    let mut argv: Vec<String> = std::env::args().collect();
    let wait_stdin = take_flag(&mut argv, "--wait-stdin");
    let reconcile = take_flag(&mut argv, "--reconcile");
    let (mode, path, n) = match argv.as_slice() {
        [_, mode, path, n] => (mode.clone(), path.clone(), n.parse::<usize>().expect("COUNT is a number")),
        _ => panic!("usage: client-caller get|walk PATH COUNT|PAGE_SIZE [--wait-stdin] [--reconcile]"),
    };
    let settings = integration_tests::child::service_settings("client-caller");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(settings.database_url().expect("DATABASE_URL"))
        .await
        .expect("connect to DATABASE_URL");
    let ctx = JobContext::new(pool, settings.job_settings());
    let priority = if reconcile { Priority::Reconcile } else { Priority::Webhook };
    let client = ctx.drchrono_for(priority);

    if wait_stdin {
        println!("ready");
        std::io::stdout().flush().expect("stdout");
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).expect("stdin");
    }

    let mut all_ok = true;
    match mode.as_str() {
        "get" => {
            for _ in 0..n {
                match client.get_object(&path).await {
                    Ok(Some(_)) => println!("ok"),
                    Ok(None) => println!("none"),
                    Err(e) => {
                        all_ok = false;
                        let job = JobError::from(e);
                        println!("err {} {job}", job.class());
                    }
                }
            }
        }
        "walk" => match client.walk(&path, &[], Some(n), |_page| async { Ok(()) }).await {
            Ok(stats) => println!("walk {} {} {}", stats.pages, stats.calls, stats.records),
            Err(e) => {
                all_ok = false;
                println!("err {} {e}", e.class());
            }
        },
        other => panic!("unknown mode {other}"),
    }
    std::io::stdout().flush().expect("stdout");
    std::process::exit(if all_ok { 0 } else { 1 });
}

fn take_flag(argv: &mut Vec<String>, flag: &str) -> bool {
    let before = argv.len();
    argv.retain(|a| a != flag);
    argv.len() != before
}

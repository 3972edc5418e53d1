//! `cargo xtask fuzz`: malformed bodies, queries and paths with valid
//! credentials against every inbound endpoint of the service (run here
//! against the sandbox DrChrono on a scratch database), then the jobs they
//! became drained and checked. Fails on any 5xx, 408, dropped connection,
//! panic or poison job; prints how to replay a failed case, never its body.
//!
//! The generator lives in the `fuzz` crate (tests/fuzz), which the test
//! suite runs a fixed-seed slice of.

mod setup;

use anyhow::{Result, bail};
use clap::Args;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct FuzzArgs {
    /// Cases to send (stops earlier at --seconds).
    #[arg(long, default_value_t = 100_000)]
    count: u64,
    /// Stop starting cases after this many seconds.
    #[arg(long, default_value_t = 600)]
    seconds: u64,
    /// The generator's seed: the same seed and case index give the same request.
    #[arg(long, default_value_t = 17)]
    seed: u64,
    /// Requests in flight at once; keep it well under the service's
    /// HTTP_MAX_CONCURRENT_REQUESTS and DATABASE_MAX_CONNECTIONS.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Replay one case (its index, as a failure prints it).
    #[arg(long)]
    case: Option<u64>,
    /// Re-run in a release build (as `cargo xtask bench` does); about five
    /// times as many requests a second, after a build of a few minutes.
    #[arg(long)]
    release: bool,
    /// Seconds to wait for the enqueued jobs to finish after the last request.
    #[arg(long, default_value_t = 300)]
    drain_seconds: u64,
}

/// About twenty progress lines a run, and one at least every 5,000 answers.
fn progress_every(count: u64) -> u64 {
    (count / 20).clamp(1, 5_000)
}

pub async fn run(args: FuzzArgs) -> Result<()> {
    if args.release && cfg!(debug_assertions) && !crate::bench::already_release() {
        crate::bench::reexec_release();
    }
    fuzz::panics::install();
    let local = setup::start().await?;
    let (first, count) = args.case.map_or((0, args.count), |i| (i, 1));
    let plan = fuzz::Plan {
        seed: args.seed,
        first,
        count,
        concurrency: args.concurrency,
        deadline: Some(Instant::now() + Duration::from_secs(args.seconds)),
        progress_every: Some(progress_every(count)),
    };
    println!(
        "fuzz: seed {} cases {first}..{} concurrency {}, at most {} s",
        plan.seed,
        first + count,
        plan.concurrency,
        args.seconds
    );
    let started = Instant::now();
    let tally = fuzz::run(&local.target, &local.samples, &plan).await;
    let sending = started.elapsed();
    let jobs = fuzz::jobs::drain_and_check(&local.service.pool, Duration::from_secs(args.drain_seconds)).await;
    let panics = fuzz::panics::count();
    for failure in tally.failures.iter().take(30) {
        println!("FAIL {failure}");
    }
    let jobs = match jobs {
        Ok(jobs) => jobs,
        Err(e) => {
            bail!("the jobs did not drain: {e:#}; inspect with DATABASE_URL=<the fuzz database> cargo xtask jobs stats")
        }
    };
    for poison in jobs.poison.iter().take(30) {
        println!("POISON {poison}");
    }
    let sent = tally.total().sent;
    println!(
        "fuzz: seed={} {} jobs={} attempts={} poison_jobs={} panics={panics} elapsed={:.1}s sending={:.1}s rate={:.0} req/s",
        plan.seed,
        tally.summary(),
        jobs.jobs,
        jobs.attempts,
        jobs.poison.len(),
        started.elapsed().as_secs_f64(),
        sending.as_secs_f64(),
        sent as f64 / sending.as_secs_f64().max(0.001),
    );
    if !tally.failures.is_empty() || !jobs.poison.is_empty() || panics > 0 {
        bail!(
            "{} failed requests, {} poison jobs, {panics} panics; replay one with --seed {} --case N",
            tally.failures.len(),
            jobs.poison.len(),
            plan.seed
        );
    }
    Ok(())
}

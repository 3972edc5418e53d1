//! `cargo xtask jobs discard|cancel|pause|resume`: operator actions on jobs
//! and queues. The logic and the audit are `job_runner::ops`; this parses,
//! prints one line per job, and exits non-zero when anything was refused.

use std::fmt::Write as _;

use anyhow::{Result, bail};
use clap::Args;
use job_runner::ops::{self, ByIdReport, ByIdRequest, PauseOutcome, PausedQueue, Verdict};
use sqlx::PgPool;

use super::text::{fit, tidy, time, wrap};

#[derive(Args, Debug)]
pub struct ByIdArgs {
    /// The jobs, by id (`cargo xtask jobs list` shows them).
    #[arg(required = true)]
    ids: Vec<String>,
    /// Print what would change; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Who is acting, for operator_actions (default: $USER).
    #[arg(long)]
    actor: Option<String>,
}

impl ByIdArgs {
    fn request(&self) -> ByIdRequest {
        ByIdRequest { ids: self.ids.clone(), dry_run: self.dry_run, actor: actor(&self.actor) }
    }
}

#[derive(Args, Debug)]
pub struct DiscardArgs {
    #[command(flatten)]
    jobs: ByIdArgs,
    /// Why, kept with the job (at most 500 characters): a cause or a ticket, never patient details.
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Args, Debug)]
pub struct QueueArgs {
    /// The queue: a job name, as `cargo xtask jobs stats` lists them.
    queue: String,
    /// Who is acting, for operator_actions (default: $USER).
    #[arg(long)]
    actor: Option<String>,
}

fn actor(given: &Option<String>) -> String {
    given.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".into())
}

pub async fn discard(pool: &PgPool, args: DiscardArgs) -> Result<()> {
    let report = ops::discard(pool, &args.jobs.request(), args.reason.as_deref()).await?;
    finish(&report, "discarded", "would be discarded")
}

pub async fn cancel(pool: &PgPool, args: ByIdArgs) -> Result<()> {
    let report = ops::cancel(pool, &args.request()).await?;
    finish(&report, "cancelled", "would be cancelled")
}

fn finish(report: &ByIdReport, done: &str, would: &str) -> Result<()> {
    print!("{}", by_id_text(report, if report.dry_run { would } else { done }));
    if report.any_refused() {
        bail!("some jobs were left as they were; each line above says why and what to do");
    }
    Ok(())
}

/// One line per job, then a wrapped reason under each refusal.
pub fn by_id_text(report: &ByIdReport, done: &str) -> String {
    let mut out = format!("{:<26} {:<18} {:<9} result\n", "id", "queue", "state");
    for j in &report.jobs {
        let state = j.state.map_or("-", |s| s.name());
        let result = match &j.verdict {
            Verdict::Done => done,
            Verdict::Refused { .. } => "refused",
            Verdict::NotFound => "no such job",
        };
        let queue = fit(j.queue.as_deref().unwrap_or("-"), 18);
        let _ = writeln!(out, "{:<26} {queue:<18} {state:<9} {result}", fit(&j.id, 26));
        if let Verdict::Refused { why } = &j.verdict {
            for line in wrap(why, 74) {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    if report.dry_run {
        out.push_str("Dry run: nothing changed.\n");
    }
    tidy(out)
}

pub async fn pause(pool: &PgPool, args: QueueArgs, known: &[&str]) -> Result<()> {
    let outcome = ops::pause_queue(pool, &args.queue, &actor(&args.actor), known).await?;
    queue_answer(&args.queue, outcome)
}

pub async fn resume(pool: &PgPool, args: QueueArgs, known: &[&str]) -> Result<()> {
    let outcome = ops::resume_queue(pool, &args.queue, &actor(&args.actor), known).await?;
    queue_answer(&args.queue, outcome)
}

fn queue_answer(queue: &str, outcome: PauseOutcome) -> Result<()> {
    match outcome {
        PauseOutcome::Paused => println!(
            "Paused {queue} on every replica: no worker takes its jobs; running ones finish, enqueues go on.\n\
             `cargo xtask jobs resume {queue}` starts it again."
        ),
        PauseOutcome::AlreadyPaused => println!("{queue} was already paused; nothing changed."),
        PauseOutcome::Resumed => println!("Resumed {queue}: its waiting jobs start now."),
        PauseOutcome::NotPaused => println!("{queue} was not paused; nothing changed."),
        PauseOutcome::UnknownQueue { known } => {
            bail!("no queue named {queue:?}; the queues are: {}", known.join(", "))
        }
    }
    Ok(())
}

/// The lines under `jobs stats` naming each paused queue.
pub fn paused_text(paused: &[PausedQueue]) -> String {
    let mut out = String::new();
    for p in paused {
        let _ = writeln!(
            out,
            "paused: {} since {} by {}",
            fit(&p.queue, 32),
            time(Some(p.paused_at)),
            fit(&p.paused_by, 16)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use job_runner::{JobState, ops::JobVerdict};

    #[test]
    fn a_refusal_fits_80_columns_and_keeps_its_reason() {
        let why = "job 01J is running: a worker holds it and an attempt is never stopped midway; wait for it to end";
        let report = ByIdReport {
            dry_run: false,
            jobs: vec![
                JobVerdict {
                    id: "01J".into(),
                    queue: Some("upsert_record".into()),
                    state: Some(JobState::Running),
                    verdict: Verdict::Refused { why: why.into() },
                },
                JobVerdict { id: "nope".into(), queue: None, state: None, verdict: Verdict::NotFound },
            ],
        };
        let text = by_id_text(&report, "cancelled");
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        assert!(text.contains("refused") && text.contains("no such job") && text.contains("never stopped"), "{text}");
    }
}

//! `cargo xtask retry-failed` and `cargo xtask jobs`: operator commands over
//! the job tables of the deployment in `DATABASE_URL` (or `.env`). The
//! logic lives in `job_runner::ops`; this parses, and [`text`] lays the
//! answers out in 80 columns.

use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use job_runner::ops::{self, JobFilter, RetryOutcome, RetryRequest};

use crate::config;

mod actions;
pub mod text;

/// Filters shared by `retry-failed` and `jobs list`.
#[derive(Args, Debug)]
pub struct FilterArgs {
    /// Only this queue (repeatable).
    #[arg(long = "queue")]
    queues: Vec<String>,
    /// Only this job id (repeatable).
    #[arg(long = "id")]
    ids: Vec<String>,
    /// Only jobs last tried at or after this: 30m, 2h, 7d, a date or an RFC 3339 time.
    #[arg(long)]
    since: Option<String>,
    /// Only jobs whose last attempt failed with this class (permanent, retryable, timeout, worker_lost, ...).
    #[arg(long)]
    error_class: Option<String>,
}

impl FilterArgs {
    fn filter(&self) -> Result<JobFilter> {
        let since = match &self.since {
            Some(text) => Some(ops::parse_since(text, chrono::Utc::now()).map_err(anyhow::Error::msg)?),
            None => None,
        };
        Ok(JobFilter {
            queues: self.queues.clone(),
            ids: self.ids.clone(),
            since,
            error_class: self.error_class.clone(),
        })
    }
}

#[derive(Args, Debug)]
pub struct RetryArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Revive at most this many (oldest deaths first).
    #[arg(long)]
    limit: Option<i64>,
    /// Print what would be revived; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Allow reviving more than 100 jobs without a filter.
    #[arg(long)]
    all: bool,
    /// Who is acting, for operator_actions (default: $USER).
    #[arg(long)]
    actor: Option<String>,
}

/// Exit codes: 0 done, 1 error (or refused), 2 nothing matched.
pub async fn retry_failed(args: RetryArgs) -> Result<()> {
    let pool = config::service_pool(&config::service_settings()).await?;
    let actor = args.actor.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".into());
    let request =
        RetryRequest { filter: args.filter.filter()?, limit: args.limit, dry_run: args.dry_run, all: args.all, actor };
    let registry = jobs::registry::all();
    let report = ops::retry_failed(&pool, &request, |queue| registry.max_attempts(queue).unwrap_or(5)).await?;
    print!("{}", text::retry_text(&report));
    match report.outcome {
        RetryOutcome::NothingMatched => std::process::exit(2),
        RetryOutcome::Refused { .. } => bail!("refused; nothing was revived"),
        _ => Ok(()),
    }
}

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// Per queue: jobs by state, the oldest due pending job's wait, attempts in the last hour.
    Stats,
    /// Jobs, newest first, with the same filters as retry-failed.
    List(ListArgs),
    /// One job: its arguments (ids only), every attempt with its outcome and worker, its trace.
    Show { id: String },
    /// Set dead jobs aside: kept with who, when and why, out of dead counts and alerts. Exit 1 if any is refused.
    Discard(actions::DiscardArgs),
    /// Stop pending or retrying jobs for good; their dedup keys are free again. Exit 1 if any is refused.
    Cancel(actions::ByIdArgs),
    /// Stop every replica's workers taking jobs of a queue; running jobs finish, enqueues go on.
    Pause(actions::QueueArgs),
    /// Let a paused queue's jobs run again, on every replica.
    Resume(actions::QueueArgs),
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    filter: FilterArgs,
    #[arg(long, value_enum)]
    state: Option<State>,
    #[arg(long, default_value_t = 50)]
    limit: i64,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum State {
    Pending,
    Running,
    Retrying,
    Done,
    Dead,
    Cancelled,
    Discarded,
}

pub async fn jobs(cmd: JobsCommand) -> Result<()> {
    let pool = config::service_pool(&config::service_settings()).await?;
    match cmd {
        JobsCommand::Stats => {
            print!("{}", text::stats_text(&ops::stats(&pool).await?));
            print!("{}", actions::paused_text(&ops::paused_queues(&pool).await?));
        }
        JobsCommand::List(args) => {
            let state = args.state.map(|s| format!("{s:?}").to_lowercase());
            let rows = ops::list(&pool, &args.filter.filter()?, state.as_deref(), args.limit.max(1)).await?;
            if args.json {
                for row in &rows {
                    println!("{}", serde_json::to_string(row)?);
                }
            } else {
                print!("{}", text::job_list_text(&rows));
            }
        }
        JobsCommand::Show { id } => {
            let job = ops::show(&pool, &id).await?;
            jobs::domain::audit::record_read(&pool, &config::cli_actor(), "jobs show", usize::from(job.is_some()))
                .await?;
            match job {
                Some(job) => print!("{}", text::job_detail_text(&job)),
                None => bail!("no job {id}; `cargo xtask jobs list` shows recent ones"),
            }
        }
        JobsCommand::Discard(args) => actions::discard(&pool, args).await?,
        JobsCommand::Cancel(args) => actions::cancel(&pool, args).await?,
        JobsCommand::Pause(args) => actions::pause(&pool, args, &jobs::registry::all().names()).await?,
        JobsCommand::Resume(args) => actions::resume(&pool, args, &jobs::registry::all().names()).await?,
    }
    Ok(())
}

//! `cargo xtask deliveries list` and `cargo xtask deliveries replay`: the
//! inbox of the deployment in `DATABASE_URL` (or `.env`), and re-admitting
//! stored deliveries. The logic lives in `jobs::inbox`; this parses and lays
//! the answers out in 80 columns. Nothing here prints a body or a header.

use std::fmt::Write as _;

use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use job_runner::ops::parse_since;
use jobs::inbox::{
    self, DeliveryFilter, DeliveryRow,
    replay::{self, ReplayItem, ReplayOutcome, ReplayReport, ReplayRequest, ReplaySettings, Verdict},
};

use crate::{
    config,
    ops::text::{fit, wrap},
};

#[derive(Subcommand, Debug)]
pub enum DeliveriesCommand {
    /// Stored deliveries, newest first: id, source, event, outcome, record, job (never bodies).
    List(ListArgs),
    /// Admit stored deliveries again, as if they had just arrived (--dry-run shows what would be enqueued).
    Replay(ReplayArgs),
}

#[derive(Args, Debug)]
pub struct FilterArgs {
    /// Only this inbox id (repeatable).
    #[arg(long = "id")]
    ids: Vec<i64>,
    /// Only deliveries from this sender (partner events are kept apart, in appointment_events).
    #[arg(long, value_enum)]
    source: Option<Source>,
    /// Only this event, such as PATIENT_CREATE or GRIDHOOK.
    #[arg(long)]
    event: Option<String>,
    /// Only this outcome: accepted, duplicate, not_modelled, unhandled, ping, malformed, rejected_auth.
    #[arg(long)]
    outcome: Option<String>,
    /// Received at or after this: 30m, 2h, 7d (ago), a date or an RFC 3339 time.
    #[arg(long)]
    since: Option<String>,
    /// Received before this, in the same forms as --since.
    #[arg(long)]
    until: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Source {
    Drchrono,
    Deepcura,
    Partner,
}

/// Partner events are kept apart from the inbox; the operator is told where.
const PARTNER: &str = "partner events are not in the inbox: each is stored in appointment_events with its \
     apply_partner_appointment_event job (GET /events lists them; an unmatched one is applied when its \
     appointment arrives). Revive a dead one with `cargo xtask retry-failed --queue apply_partner_appointment_event`";

impl FilterArgs {
    fn filter(&self) -> Result<DeliveryFilter> {
        let at = |text: &Option<String>, flag: &str| -> Result<_> {
            let at = text.as_deref().map(|t| parse_since(t, chrono::Utc::now()));
            at.transpose().map_err(|e| anyhow::Error::msg(e.replace("--since", flag)))
        };
        let source = match self.source {
            Some(Source::Partner) => bail!("{PARTNER}"),
            Some(Source::Drchrono) => Some("drchrono".to_string()),
            Some(Source::Deepcura) => Some("deepcura".to_string()),
            None => None,
        };
        Ok(DeliveryFilter {
            ids: self.ids.clone(),
            source,
            event: self.event.clone(),
            outcome: self.outcome.clone(),
            since: at(&self.since, "--since")?,
            until: at(&self.until, "--until")?,
        })
    }
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    filter: FilterArgs,
    #[arg(long, default_value_t = 50)]
    limit: i64,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Print what would be enqueued; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Allow replaying more than 100 deliveries without a filter.
    #[arg(long)]
    all: bool,
    /// Who is acting, for operator_actions (default: $USER).
    #[arg(long)]
    actor: Option<String>,
}

/// Exit codes of `replay`: 0 done, 1 error or refused, 2 nothing matched.
pub async fn run(cmd: DeliveriesCommand) -> Result<()> {
    let settings = config::service_settings();
    let pool = config::service_pool(&settings).await?;
    match cmd {
        DeliveriesCommand::List(args) => {
            let rows = inbox::list(&pool, &args.filter.filter()?, args.limit.max(1)).await?;
            if args.json {
                for row in &rows {
                    println!("{}", serde_json::to_string(row)?);
                }
            } else {
                print!("{}", list_text(&rows));
            }
            Ok(())
        }
        DeliveriesCommand::Replay(args) => {
            let request = ReplayRequest {
                filter: args.filter.filter()?,
                dry_run: args.dry_run,
                all: args.all,
                actor: config::operator(args.actor),
            };
            let admission = ReplaySettings {
                time_zone: settings.practice_timezone.name(),
                deepcura_scheme: settings.deepcura_scheme,
            };
            let report = replay::replay(&pool, &request, admission).await?;
            print!("{}", replay_text(&report));
            match report.outcome {
                ReplayOutcome::NothingMatched => std::process::exit(2),
                ReplayOutcome::Refused { .. } => bail!("refused; nothing was replayed"),
                _ if report.all_refused() => bail!("no matched delivery could be replayed"),
                _ => Ok(()),
            }
        }
    }
}

fn record(kind: Option<&str>, id: Option<i64>) -> String {
    match (kind, id) {
        (Some(kind), Some(id)) => format!("{kind} {id}"),
        (None, Some(id)) => id.to_string(),
        _ => "-".into(),
    }
}

/// One line per delivery, and a second for its job, replay and body.
fn list_text(rows: &[DeliveryRow]) -> String {
    let mut out =
        format!("{:>6} {:<11} {:<8} {:<20} {:<12} {}\n", "id", "received", "source", "event", "outcome", "record");
    for r in rows {
        let received = r.received_at.format("%m-%d %H:%M").to_string();
        let rec = record(r.record_kind.as_deref(), r.object_id.or(r.deepcura_note_id));
        let event = fit(r.event.as_deref().unwrap_or("-"), 20);
        let _ =
            writeln!(out, "{:>6} {received:<11} {:<8} {event:<20} {:<12} {}", r.id, r.source, r.outcome, fit(&rec, 17));
        let mut more: Vec<String> = r.job_id.iter().map(|j| format!("job {j}")).collect();
        more.extend(r.replay_of.map(|o| format!("replay of {o}")));
        if !r.has_body {
            more.push("no body kept".into());
        }
        if !more.is_empty() {
            let _ = writeln!(out, "{:>6} {}", "", more.join(", "));
        }
    }
    let _ = writeln!(out, "{} delivery(ies)", rows.len());
    out
}

fn verdict_text(item: &ReplayItem, dry_run: bool) -> String {
    match &item.verdict {
        Verdict::Enqueued { queue, job_id: Some(job) } => format!("enqueued {queue} {job}"),
        Verdict::Enqueued { queue, job_id: None } => format!("would enqueue {queue}"),
        Verdict::Duplicate { job_id } => {
            let job = job_id.as_deref().unwrap_or("-");
            format!(
                "duplicate: its job exists ({job}); nothing {}",
                if dry_run { "would be enqueued" } else { "enqueued" }
            )
        }
        Verdict::NotApplied { outcome, reason } => format!("still {outcome}: {}", reason.as_deref().unwrap_or("-")),
        Verdict::Refused { reason } => format!("refused: {reason}"),
    }
}

fn replay_text(report: &ReplayReport) -> String {
    let dry_run = report.outcome == ReplayOutcome::DryRun;
    let mut out = String::new();
    if !report.items.is_empty() {
        let _ = writeln!(out, "{:>8} {:<8} {:<24} record", "delivery", "source", "event");
    }
    for item in &report.items {
        let rec = record(item.record_kind.as_deref(), item.object_id);
        let event = fit(item.event.as_deref().unwrap_or("-"), 24);
        let _ = writeln!(out, "{:>8} {:<8} {event:<24} {}", item.delivery, item.source, fit(&rec, 36));
        for line in wrap(&verdict_text(item, dry_run), 71) {
            let _ = writeln!(out, "{:>8} {line}", "");
        }
    }
    let enqueued = report.items.iter().filter(|i| matches!(i.verdict, Verdict::Enqueued { .. })).count();
    let _ = match report.outcome {
        ReplayOutcome::NothingMatched => writeln!(out, "No stored delivery matched."),
        ReplayOutcome::Refused { matched } => writeln!(
            out,
            "Refused: {matched} deliveries match and no filter was given (more than {}); narrow it, or pass --all.",
            replay::UNFILTERED_LIMIT
        ),
        ReplayOutcome::DryRun => writeln!(out, "Dry run: {enqueued} job(s) would be enqueued; nothing changed."),
        ReplayOutcome::Replayed if report.all_refused() => writeln!(out, "Nothing was replayed."),
        ReplayOutcome::Replayed => {
            let admitted = report.items.iter().filter(|i| i.replay_row.is_some()).count();
            writeln!(out, "Replayed {admitted} delivery(ies); {enqueued} job(s) enqueued.")
        }
    };
    out
}

//! Text layouts of the operator commands, each at most 80 columns wide.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::{JobDetail, JobRow, QueueStats, RetryOutcome, RetryReport};

fn age(secs: Option<f64>) -> String {
    match secs {
        None => "-".into(),
        Some(s) if s < 120.0 => format!("{s:.0}s"),
        Some(s) if s < 7200.0 => format!("{:.0}m", s / 60.0),
        Some(s) if s < 172_800.0 => format!("{:.0}h", s / 3600.0),
        Some(s) => format!("{:.0}d", s / 86_400.0),
    }
}

/// Drops the padding at line ends.
fn tidy(text: String) -> String {
    text.lines().map(str::trim_end).map(|l| format!("{l}\n")).collect()
}

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "-".into(), |t| t.format("%m-%d %H:%M:%S").to_string())
}

/// Cuts `s` to `width` characters, marking the cut.
fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        let kept: String = s.chars().take(width.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

pub fn stats_text(rows: &[QueueStats]) -> String {
    let mut out = format!(
        "{:<18} {:>7} {:>7} {:>6} {:>6} {:>8} {:>7} {:>7}\n",
        "queue", "pending", "running", "retry", "dead", "done", "oldest", "tries1h"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<18} {:>7} {:>7} {:>6} {:>6} {:>8} {:>7} {:>7}",
            fit(&r.queue, 18),
            r.pending,
            r.running,
            r.retrying,
            r.dead,
            r.done,
            age(r.oldest_pending_secs),
            r.attempts_last_hour
        );
    }
    if rows.is_empty() {
        out.push_str("(no jobs)\n");
    }
    tidy(out)
}

pub fn job_list_text(rows: &[JobRow]) -> String {
    let mut out = format!("{:<26} {:<16} {:<8} {:>5} {:<20}\n", "id", "queue", "state", "tries", "last error / record");
    for r in rows {
        let about = match (&r.last_error_class, &r.record_type, r.record_id) {
            (Some(class), ..) => class.clone(),
            (None, Some(kind), Some(id)) => format!("{kind} {id}"),
            _ => "-".into(),
        };
        let tries = format!("{}/{}", r.attempts, r.max_attempts);
        let _ =
            writeln!(out, "{:<26} {:<16} {:<8} {:>5} {:<20}", r.id, fit(&r.queue, 16), r.state, tries, fit(&about, 20));
    }
    let _ = writeln!(out, "{} job(s)", rows.len());
    tidy(out)
}

pub fn job_detail_text(job: &JobDetail) -> String {
    let mut out = String::new();
    let record = match (&job.record_type, job.record_id) {
        (Some(kind), Some(id)) => format!("{kind} {id}"),
        _ => "-".into(),
    };
    let _ = writeln!(out, "job      {}", job.id);
    let _ =
        writeln!(out, "queue    {}   state {}   attempts {}/{}", job.queue, job.state, job.attempts, job.max_attempts);
    let _ = writeln!(out, "enqueued {}   next run {}", time(job.enqueued_at), time(Some(job.run_at)));
    let _ = writeln!(out, "record   {record}");
    let _ = writeln!(out, "trace    {}", job.trace.as_deref().unwrap_or("-"));
    let _ = writeln!(out, "args     {}", fit(&job.args.to_string(), 71));
    let _ = writeln!(out, "\n{:>3} {:<10} {:<14} {:<15} {:>9}  worker", "#", "outcome", "class", "started", "took");
    for a in &job.history {
        let took = (a.finished_at - a.started_at).num_milliseconds() as f64 / 1000.0;
        let _ = writeln!(
            out,
            "{:>3} {:<10} {:<14} {:<15} {:>8.3}s  {}",
            a.attempt,
            a.outcome,
            fit(a.error_class.as_deref().unwrap_or("-"), 14),
            time(Some(a.started_at)),
            took,
            fit(a.worker_id.as_deref().unwrap_or("-"), 22)
        );
        if let Some(message) = &a.message {
            for line in wrap(message, 74) {
                let _ = writeln!(out, "      {line}");
            }
        }
        if let Some(trace) = &a.trace_id {
            let _ = writeln!(out, "      trace {}", fit(trace, 68));
        }
    }
    if job.history.is_empty() {
        out.push_str("(no attempts yet)\n");
    }
    tidy(out)
}

/// Word-wraps `s` at `width` characters (long words are cut).
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in s.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(String::new());
        }
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&fit(word, width));
    }
    lines
}

pub fn retry_text(report: &RetryReport) -> String {
    let mut out = format!("{:<26} {:<18} {:>5} {:<14} {:<10}\n", "id", "queue", "tries", "error class", "result");
    let revived = |id: &str| match &report.outcome {
        RetryOutcome::Revived { revived, .. } if revived.iter().any(|r| r == id) => "revived",
        RetryOutcome::Revived { .. } => "skipped",
        RetryOutcome::DryRun => "would",
        _ => "-",
    };
    let listed = match report.outcome {
        RetryOutcome::NothingMatched | RetryOutcome::Refused { .. } => &[][..],
        _ => &report.matched[..],
    };
    if listed.is_empty() {
        out.clear();
    }
    for j in listed {
        let class = j.error_class.as_deref().unwrap_or("-");
        let _ = writeln!(
            out,
            "{:<26} {:<18} {:>5} {:<14} {:<10}",
            j.id,
            fit(&j.queue, 18),
            j.attempts,
            fit(class, 14),
            revived(&j.id)
        );
    }
    let summary = match &report.outcome {
        RetryOutcome::NothingMatched => "No dead job matched the filters.".to_string(),
        RetryOutcome::Refused { matched } => format!(
            "{matched} dead jobs match and no filter was given; narrow with --queue,\n--error-class or --since, or pass --all to revive them all."
        ),
        RetryOutcome::DryRun => format!("Dry run: {} job(s) would be revived; nothing changed.", report.matched.len()),
        RetryOutcome::Revived { revived, skipped } => {
            let mut s = format!("Revived {} job(s) with a fresh attempt budget.", revived.len());
            if !skipped.is_empty() {
                s.push_str(&format!("\nSkipped {}: an active job with the same key is already queued.", skipped.len()));
            }
            s
        }
    };
    out.push_str(&summary);
    out.push('\n');
    tidy(out)
}

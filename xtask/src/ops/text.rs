//! Text layouts of the operator commands, each at most 80 columns wide.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use job_runner::ops::{JobDetail, JobRow, QueueStats, RetryOutcome, RetryReport};

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
pub(super) fn tidy(text: String) -> String {
    text.lines().map(str::trim_end).map(|l| format!("{l}\n")).collect()
}

pub(super) fn time(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "-".into(), |t| t.format("%m-%d %H:%M:%S").to_string())
}

/// Cuts `s` to `width` characters, marking the cut.
pub(crate) fn fit(s: &str, width: usize) -> String {
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
    let mut out = format!("{:<26} {:<16} {:<9} {:>5} {:<20}\n", "id", "queue", "state", "tries", "last error / record");
    for r in rows {
        let about = match (&r.last_error_class, &r.record_type, r.record_id) {
            (Some(class), ..) => class.clone(),
            (None, Some(kind), Some(id)) => format!("{kind} {id}"),
            _ => "-".into(),
        };
        let tries = format!("{}/{}", r.attempts, r.max_attempts);
        let _ =
            writeln!(out, "{:<26} {:<16} {:<9} {:>5} {:<20}", r.id, fit(&r.queue, 16), r.state, tries, fit(&about, 20));
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
    let _ = writeln!(
        out,
        "queue    {}   state {}   attempts {}/{}",
        fit(&job.queue, 36),
        job.state,
        job.attempts,
        job.max_attempts
    );
    let _ = writeln!(out, "enqueued {}   next run {}", time(job.enqueued_at), time(Some(job.run_at)));
    let _ = writeln!(out, "record   {record}");
    let _ = writeln!(out, "trace    {}", job.trace.as_deref().unwrap_or("-"));
    if let Some(by) = &job.discarded_by {
        let _ = writeln!(out, "discard  {} by {}", time(job.discarded_at), fit(by, 50));
        for line in wrap(job.discard_reason.as_deref().unwrap_or("no reason given"), 71) {
            let _ = writeln!(out, "         {line}");
        }
    }
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
pub(crate) fn wrap(s: &str, width: usize) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use job_runner::ops::{Attempt, DeadJob};

    fn assert_fits_80_columns(text: &str) {
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "wider than 80 columns: {line:?}");
        }
    }

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z").unwrap().to_utc()
    }

    const LONG: &str = "apply_partner_appointment_event_with_a_name_longer_than_any_column";

    #[test]
    fn stats_fit_80_columns_and_cut_long_queue_names() {
        let row = QueueStats {
            queue: LONG.into(),
            pending: 1_234_567,
            running: 12,
            retrying: 3,
            dead: 99_999,
            done: 12_345_678,
            oldest_pending_secs: Some(90_000.0),
            attempts_last_hour: 1_000_000,
            failures_last_hour: 7,
            paused: false,
        };
        let text = stats_text(&[row]);
        assert_fits_80_columns(&text);
        assert!(text.contains("…") && text.contains("1234567") && text.contains("25h"), "{text}");
        assert!(stats_text(&[]).contains("(no jobs)"));
    }

    #[test]
    fn a_job_list_and_a_job_fit_80_columns() {
        let row = JobRow {
            id: "01JEXAMPLE0000000000000000".into(),
            queue: LONG.into(),
            state: "retrying".into(),
            attempts: 9,
            max_attempts: 10,
            enqueued_at: Some(at()),
            last_attempt_at: Some(at()),
            last_error_class: Some("a_very_long_error_class_name".into()),
            record_type: Some("clinical_note".into()),
            record_id: Some(123_456_789),
        };
        let list = job_list_text(std::slice::from_ref(&row));
        assert_fits_80_columns(&list);
        assert!(list.ends_with("1 job(s)\n"), "{list}");
        let detail = JobDetail {
            id: row.id.clone(),
            queue: LONG.into(),
            state: "retrying".into(),
            attempts: 9,
            max_attempts: 10,
            enqueued_at: Some(at()),
            run_at: at(),
            record_type: None,
            record_id: None,
            trace: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
            args: serde_json::json!({"kind": "patient", "object_id": 1001, "padding": LONG.repeat(3)}),
            discarded_by: Some(LONG.into()),
            discarded_at: Some(at()),
            discard_reason: Some(LONG.into()),
            history: vec![Attempt {
                attempt: 1,
                outcome: "failed".into(),
                error_class: Some("retryable".into()),
                message: Some(format!("DrChrono answered 503 for {} {}", LONG, "x".repeat(120))),
                worker_id: Some(format!("host-1234-abcdef01-{LONG}")),
                started_at: at(),
                finished_at: at(),
                trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
            }],
        };
        let text = job_detail_text(&detail);
        assert_fits_80_columns(&text);
        assert!(text.contains("DrChrono answered 503"), "the message is wrapped, not dropped: {text}");
    }

    #[test]
    fn a_retry_report_fits_80_columns_and_names_what_happened() {
        let matched = vec![DeadJob {
            id: "01JEXAMPLE0000000000000001".into(),
            queue: LONG.into(),
            attempts: 5,
            error_class: Some("permanent".into()),
        }];
        let revived = RetryReport {
            matched: matched.clone(),
            outcome: RetryOutcome::Revived { revived: vec![matched[0].id.clone()], skipped: vec![] },
        };
        let text = retry_text(&revived);
        assert_fits_80_columns(&text);
        assert!(text.contains("revived") && text.contains("Revived 1 job(s)"), "{text}");
        let refused = retry_text(&RetryReport { matched, outcome: RetryOutcome::Refused { matched: 101 } });
        assert_fits_80_columns(&refused);
        assert!(refused.contains("--all"), "{refused}");
    }
}

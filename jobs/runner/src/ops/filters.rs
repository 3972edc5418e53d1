//! The job filters shared by `cargo xtask retry-failed` and `cargo xtask jobs list`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

/// Which jobs an operator command is about. Empty means every job.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JobFilter {
    pub queues: Vec<String>,
    pub ids: Vec<String>,
    /// Jobs whose last attempt (or enqueue, for jobs never tried) is at or after this.
    pub since: Option<DateTime<Utc>>,
    pub error_class: Option<String>,
}

impl JobFilter {
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty() && self.ids.is_empty() && self.since.is_none() && self.error_class.is_none()
    }

    /// The WHERE clause over `job_overview`, with binds $1..$4 in [`bind`](Self::bind) order.
    pub(crate) const WHERE: &'static str = "(cardinality($1::text[]) = 0 OR queue = ANY($1)) \
         AND (cardinality($2::text[]) = 0 OR id = ANY($2)) \
         AND ($3::timestamptz IS NULL OR coalesce(last_attempt_at, enqueued_at) >= $3) \
         AND ($4::text IS NULL OR last_error_class = $4)";

    pub(crate) fn bind<'q, O>(
        &'q self,
        q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
        q.bind(&self.queues).bind(&self.ids).bind(self.since).bind(&self.error_class)
    }
}

/// `--since`: a span back from now (`90s`, `30m`, `2h`, `7d`), a date, or an RFC 3339 time.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| bad_since(text))?;
    let span = match unit {
        "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        _ => return Err(bad_since(text)),
    };
    Ok(now - span)
}

fn bad_since(text: &str) -> String {
    format!(
        "--since `{text}` is not understood; use a span such as 30m, 2h or 7d, a date (2026-11-20), or an RFC 3339 time"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_spans_dates_and_times() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(parse_since("2h", now).unwrap().to_rfc3339(), "2026-11-22T10:00:00+00:00");
        assert_eq!(parse_since("7d", now).unwrap().to_rfc3339(), "2026-11-15T12:00:00+00:00");
        assert_eq!(parse_since("2026-11-20", now).unwrap().to_rfc3339(), "2026-11-20T00:00:00+00:00");
        assert_eq!(parse_since("2026-11-21T08:30:00+01:00", now).unwrap().to_rfc3339(), "2026-11-21T07:30:00+00:00");
        let err = parse_since("yesterday", now).unwrap_err();
        assert!(err.contains("30m, 2h or 7d"), "{err}");
        assert!(parse_since("5w", now).is_err());
    }
}

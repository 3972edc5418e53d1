//! DrChrono's timestamps: naive, practice-local, in three spellings. The
//! sandbox writes one and reads all three, as the service must.

use chrono::{Datelike as _, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike as _, Utc};
use serde_json::{Map, Value};

/// DrChrono's date form, used by `date`, `date_range` and date-only fields.
pub(crate) const DATE_FORMAT: &str = "%Y-%m-%d";

/// `at` in DrChrono's naive form, `YYYY-MM-DDTHH:MM:SS` (practice-local; the
/// sandbox's practice runs on UTC). Written out by hand because `chrono`'s
/// formatter parses the format string on every call, which is slow in debug
/// builds and a large practice writes hundreds of thousands of stamps.
pub(crate) fn stamp(at: NaiveDateTime) -> String {
    format!("{}T{:02}:{:02}:{:02}", date(at.date()), at.hour(), at.minute(), at.second())
}

/// `day` in `DATE_FORMAT`.
pub(crate) fn date(day: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", day.year(), day.month(), day.day())
}

/// A strict `YYYY-MM-DD`, as the `date` filters take it.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), DATE_FORMAT).ok()
}

/// Parses every timestamp form DrChrono sends: a date, or a naive date-time
/// with `T` or a space, optionally with fractional seconds. An offset or `Z`
/// is converted to UTC, the sandbox practice's zone.
pub(crate) fn parse_stamp(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date.and_time(NaiveTime::MIN));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(stamp) = NaiveDateTime::parse_from_str(text, format) {
            return Some(stamp);
        }
    }
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.naive_utc())
}

pub(crate) fn updated_at_of(record: &Map<String, Value>) -> Option<NaiveDateTime> {
    record.get("updated_at").and_then(Value::as_str).and_then(parse_stamp)
}

/// "Now", but strictly after `previous`, so two edits within one second still
/// produce two distinct versions.
pub(crate) fn next_stamp(previous: Option<NaiveDateTime>) -> String {
    let now = Utc::now().naive_utc();
    let now = now - Duration::nanoseconds(i64::from(now.and_utc().timestamp_subsec_nanos()));
    let stamp = match previous {
        Some(previous) if previous >= now => previous + Duration::seconds(1),
        _ => now,
    };
    self::stamp(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_parse_in_every_drchrono_form() {
        let expected = NaiveDate::from_ymd_opt(2024, 3, 5).and_then(|d| d.and_hms_opt(10, 4, 0));
        assert_eq!(parse_stamp("2024-03-05T10:04:00"), expected);
        assert_eq!(parse_stamp("2024-03-05 10:04:00"), expected);
        assert_eq!(parse_stamp("2024-03-05T10:04:00Z"), expected);
        assert_eq!(parse_stamp("2024-03-05").map(|d| d.date()), expected.map(|d| d.date()));
        assert_eq!(parse_stamp("yesterday"), None);
    }

    #[test]
    fn hand_written_forms_match_chrono() {
        let at = parse_stamp("2024-03-05T07:04:09").unwrap();
        assert_eq!(stamp(at), at.format("%Y-%m-%dT%H:%M:%S").to_string());
        assert_eq!(date(at.date()), at.format(DATE_FORMAT).to_string());
    }

    #[test]
    fn next_stamp_is_strictly_later() {
        let far_future = parse_stamp("2999-01-01T00:00:00");
        assert_eq!(next_stamp(far_future), "2999-01-01T00:00:01");
    }
}

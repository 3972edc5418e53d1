//! DrChrono timestamps: `YYYY-MM-DD`, naive `YYYY-MM-DDTHH:MM:SS`, or the
//! same with a space. Naive times are in the practice's time zone.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Parses any timestamp form the API uses; `None` for anything else.
pub fn parse_drchrono_time(s: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.to_utc());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            return local_to_utc(naive, tz);
        }
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    local_to_utc(date.and_hms_opt(0, 0, 0)?, tz)
}

/// A time that falls in a DST gap does not exist locally; take the instant
/// the clock jumps to. An ambiguous time (the repeated hour) takes the earlier.
fn local_to_utc(naive: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => Some(t.to_utc()),
        chrono::LocalResult::Ambiguous(a, _) => Some(a.to_utc()),
        chrono::LocalResult::None => tz
            .from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest()
            .map(|t| t.to_utc()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NY: Tz = chrono_tz::America::New_York;

    #[test]
    fn parses_the_three_api_forms() {
        let t = |s| parse_drchrono_time(s, NY).map(|d| d.to_rfc3339());
        assert_eq!(t("2025-01-10T12:30:00").as_deref(), Some("2025-01-10T17:30:00+00:00"));
        assert_eq!(t("2025-01-10 12:30:00").as_deref(), Some("2025-01-10T17:30:00+00:00"));
        assert_eq!(t("2025-07-10").as_deref(), Some("2025-07-10T04:00:00+00:00"));
        assert_eq!(t("2025-01-10T12:30:00Z").as_deref(), Some("2025-01-10T12:30:00+00:00"));
        assert_eq!(t("yesterday"), None);
    }

    #[test]
    fn dst_edges_resolve() {
        let gap = parse_drchrono_time("2025-03-09T02:30:00", NY).unwrap();
        assert_eq!(gap.to_rfc3339(), "2025-03-09T07:30:00+00:00");
        let repeated = parse_drchrono_time("2025-11-02T01:30:00", NY).unwrap();
        assert_eq!(repeated.to_rfc3339(), "2025-11-02T05:30:00+00:00");
    }
}

//! When a schedule fires: a 6-field cron expression in UTC, or `off`.
//!
//! The tick arithmetic lives here, free of I/O, so the rules that keep
//! replicas from firing a storm of missed ticks can be unit-tested.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use std::{fmt, str::FromStr};

/// An example for error messages: what a valid value looks like.
pub const EXAMPLE: &str = "`0 */15 * * * *` (every 15 minutes) or `off`";

/// A schedule's timing, parsed from configuration.
#[derive(Clone)]
pub enum Cron {
    /// The schedule never fires.
    Off,
    /// Fires at every time the expression matches, read in UTC.
    At(Box<cron::Schedule>),
}

/// A value that is neither `off` nor a valid 6-field cron expression.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "`{expression}` is not a 6-field cron expression (sec min hour day-of-month month day-of-week) \
     or `off`: {reason}; for example {EXAMPLE}"
)]
pub struct CronError {
    pub expression: String,
    pub reason: String,
}

impl FromStr for Cron {
    type Err = CronError;

    fn from_str(text: &str) -> Result<Self, CronError> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(Self::Off);
        }
        let err = |reason: String| CronError { expression: text.to_string(), reason };
        // The cron crate also takes a 7th (year) field; refusing it keeps one
        // documented format, and catches a 5-field Unix crontab line early
        // instead of letting it be read with the fields shifted.
        let fields = text.split_whitespace().count();
        if fields != 6 {
            return Err(err(format!("it has {fields} fields")));
        }
        // The parser's message repeats the input and points at it with a
        // caret on further lines; its last line is the reason.
        let schedule = cron::Schedule::from_str(text).map_err(|e| {
            let message = e.to_string();
            err(message
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("invalid")
                .trim_end_matches('.')
                .to_string())
        })?;
        Ok(Self::At(Box::new(schedule)))
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Off => f.write_str("off"),
            Self::At(s) => f.write_str(s.source()),
        }
    }
}

impl fmt::Debug for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cron({self})")
    }
}

impl Cron {
    pub fn is_off(&self) -> bool {
        matches!(self, Self::Off)
    }

    /// The latest tick at or before `now`.
    pub fn latest_at_or_before(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // `next_back` looks strictly before its start, which it reads at
        // whole seconds: start one second after `now`'s second.
        self.latest_before(now.trunc_subsecs(0) + Duration::seconds(1))
    }

    /// The first tick strictly after `now`: when the loop must wake next.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Off => None,
            Self::At(s) => s.after(&now).next(),
        }
    }

    fn latest_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Off => None,
            Self::At(s) => s.after(&t).next_back(),
        }
    }

    /// The tick to fire at `now`, given the latest tick already fired.
    ///
    /// Only the latest tick at or before `now` can fire, so a replica back
    /// from a long outage fires once, not once per missed tick. It fires only
    /// if newer than `last_fired`. With nothing fired yet (a new schedule or
    /// database), it fires only if that tick is recent: no older than the
    /// gap between it and the tick before it. A first deploy so runs each
    /// reconciliation at once instead of waiting a period, while a bursty
    /// schedule (`0 0 0 1,2 1 *`) does not backfill a tick months old.
    pub fn due(&self, now: DateTime<Utc>, last_fired: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        let latest = self.latest_at_or_before(now)?;
        if let Some(last) = last_fired {
            return (latest > last).then_some(latest);
        }
        let period = match self.latest_before(latest) {
            Some(previous) => latest - previous,
            None => self.next_after(latest)? - latest,
        };
        (now - latest <= period).then_some(latest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cron(s: &str) -> Cron {
        s.parse().unwrap()
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn latest_tick_includes_now_itself() {
        let every_15 = cron("0 */15 * * * *");
        assert_eq!(every_15.latest_at_or_before(t("2026-11-22T10:15:00Z")), Some(t("2026-11-22T10:15:00Z")));
        assert_eq!(every_15.latest_at_or_before(t("2026-11-22T10:14:59.999Z")), Some(t("2026-11-22T10:00:00Z")));
        assert_eq!(every_15.latest_at_or_before(t("2026-11-22T10:29:59.5Z")), Some(t("2026-11-22T10:15:00Z")));
        let every_2s = cron("*/2 * * * * *");
        assert_eq!(every_2s.latest_at_or_before(t("2026-11-22T10:00:03.7Z")), Some(t("2026-11-22T10:00:02Z")));
    }

    #[test]
    fn the_service_defaults_mean_what_their_help_says() {
        let notes = cron("0 5-59/15 * * * *");
        assert_eq!(notes.next_after(t("2026-11-22T09:59:00Z")), Some(t("2026-11-22T10:05:00Z")));
        assert_eq!(notes.next_after(t("2026-11-22T10:50:00Z")), Some(t("2026-11-22T11:05:00Z")));
        assert_eq!(cron("0 30 3 * * *").next_after(t("2026-11-22T03:30:00Z")), Some(t("2026-11-23T03:30:00Z")));
    }

    #[test]
    fn next_tick_is_strictly_after_now() {
        let every_15 = cron("0 */15 * * * *");
        assert_eq!(every_15.next_after(t("2026-11-22T10:15:00Z")), Some(t("2026-11-22T10:30:00Z")));
        assert_eq!(every_15.next_after(t("2026-11-22T10:14:59.5Z")), Some(t("2026-11-22T10:15:00Z")));
        assert_eq!(cron("off").next_after(t("2026-11-22T10:14:59Z")), None);
    }

    #[test]
    fn fires_the_latest_tick_once_after_the_last_fired() {
        let every_15 = cron("0 */15 * * * *");
        let now = t("2026-11-22T10:20:00Z");
        assert_eq!(every_15.due(now, Some(t("2026-11-22T10:00:00Z"))), Some(t("2026-11-22T10:15:00Z")));
        assert_eq!(every_15.due(now, Some(t("2026-11-22T10:15:00Z"))), None, "already fired");
        // A clock behind the replica that fired: nothing older fires.
        assert_eq!(every_15.due(now, Some(t("2026-11-22T10:30:00Z"))), None);
    }

    #[test]
    fn after_a_long_outage_only_the_latest_missed_tick_fires() {
        let every_15 = cron("0 */15 * * * *");
        let last = t("2026-11-21T22:00:00Z");
        let now = t("2026-11-22T10:07:12Z");
        assert_eq!(every_15.due(now, Some(last)), Some(t("2026-11-22T10:00:00Z")));
        // Once that is fired, nothing more is due until the next tick.
        assert_eq!(every_15.due(now, Some(t("2026-11-22T10:00:00Z"))), None);
        assert_eq!(
            every_15.due(t("2026-11-22T10:15:00Z"), Some(t("2026-11-22T10:00:00Z"))),
            Some(t("2026-11-22T10:15:00Z"))
        );
    }

    #[test]
    fn a_first_start_fires_only_a_recent_tick() {
        let daily = cron("0 30 3 * * *");
        assert_eq!(daily.due(t("2026-11-22T10:00:00Z"), None), Some(t("2026-11-22T03:30:00Z")));
        let yearly = cron("0 0 0 1 1 *");
        // Within the year after the tick: "recent" for a yearly schedule.
        assert_eq!(yearly.due(t("2026-07-01T00:00:00Z"), None), Some(t("2026-01-01T00:00:00Z")));
        // Irregular: the gap before the latest tick is the period to judge by.
        let twice = cron("0 0 0 1,2 1 *");
        assert_eq!(twice.due(t("2026-01-02T12:00:00Z"), None), Some(t("2026-01-02T00:00:00Z")));
        assert_eq!(twice.due(t("2026-07-01T00:00:00Z"), None), None, "months stale: not backfilled");
    }

    #[test]
    fn off_never_fires() {
        let off = cron("OFF");
        assert!(off.is_off());
        assert_eq!(off.due(t("2026-11-22T10:00:00Z"), None), None);
        assert_eq!(off.latest_at_or_before(t("2026-11-22T10:00:00Z")), None);
    }

    #[test]
    fn bad_expressions_say_what_is_wrong_and_show_an_example() {
        let five = "*/15 * * * *".parse::<Cron>().unwrap_err().to_string();
        assert!(five.contains("it has 5 fields") && five.contains("0 */15 * * * *"), "{five}");
        let seven = "0 0 0 1 1 * 2030".parse::<Cron>().unwrap_err().to_string();
        assert!(seven.contains("7 fields"), "{seven}");
        let junk = "0 */15 * * * banana".parse::<Cron>().unwrap_err().to_string();
        assert!(junk.starts_with("`0 */15 * * * banana` is not a 6-field"), "{junk}");
        assert!(!junk.contains('\n') && junk.contains("'banana' is not a valid day of the week;"), "{junk}");
        assert_eq!(cron(" 0 */15 * * * * ").to_string(), "0 */15 * * * *");
    }
}

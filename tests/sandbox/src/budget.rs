//! The optional real rate budget (`SandboxConfig::calls_per_hour`).
//!
//! DrChrono allows a number of calls per application per clock hour (500 by
//! default) and resets the count at the top of the hour; past it, every call
//! answers 429 until the hour turns. As in DRF's throttling, a call that is
//! refused does not use up budget, and only authenticated calls reach the
//! throttle at all.

use std::{collections::VecDeque, time::Duration};

use tokio::time::Instant;

const HOUR: i64 = 3600;
const SECOND: Duration = Duration::from_secs(1);

/// DrChrono's burst throttle: at most `limit` calls in any one second per
/// application, a sliding window as DRF's `SimpleRateThrottle` keeps it. A
/// refused call is not remembered, so it does not extend the wait.
#[derive(Debug, Default)]
pub(crate) struct Burst {
    recent: VecDeque<Instant>,
    /// Calls refused by this throttle, for tests that prove it never fired.
    pub(crate) refused: u64,
}

impl Burst {
    pub(crate) fn take(&mut self, limit: u32, now: Instant) -> bool {
        while self.recent.front().is_some_and(|t| now.duration_since(*t) >= SECOND) {
            self.recent.pop_front();
        }
        if self.recent.len() >= limit as usize {
            self.refused += 1;
            return false;
        }
        self.recent.push_back(now);
        true
    }
}

#[derive(Debug, Default)]
pub(crate) struct Budget {
    /// The clock hour (Unix seconds / 3600) `used` belongs to.
    hour: i64,
    used: u64,
}

impl Budget {
    /// Takes one call from the budget at `now` (Unix seconds). When the hour's
    /// budget is spent, answers the whole seconds left until the top of the
    /// hour, which is what DrChrono's `detail` states.
    pub(crate) fn take(&mut self, limit: u64, now: i64) -> Result<(), u64> {
        let hour = now.div_euclid(HOUR);
        if hour != self.hour {
            self.hour = hour;
            self.used = 0;
        }
        if self.used >= limit {
            return Err((HOUR - now.rem_euclid(HOUR)).unsigned_abs());
        }
        self.used += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_burst_window_slides() {
        let mut burst = Burst::default();
        let start = Instant::now();
        for i in 0..10 {
            assert!(burst.take(10, start + Duration::from_millis(i * 50)), "call {i}");
        }
        assert!(!burst.take(10, start + Duration::from_millis(999)), "the eleventh call within a second");
        assert!(burst.take(10, start + Duration::from_millis(1000)), "the first call left the window");
        assert!(!burst.take(10, start + Duration::from_millis(1001)));
        assert_eq!(burst.refused, 2);
    }

    #[test]
    fn spends_then_refuses_until_the_top_of_the_hour() {
        let mut budget = Budget::default();
        let start = 1_700_000_000 - 1_700_000_000 % HOUR + 890;
        assert_eq!(budget.take(2, start), Ok(()));
        assert_eq!(budget.take(2, start + 1), Ok(()));
        assert_eq!(budget.take(2, start + 2), Err(2708));
        assert_eq!(budget.take(2, start + 3), Err(2707), "refusals cost nothing");
        let next_hour = start - 890 + HOUR;
        assert_eq!(budget.take(2, next_hour), Ok(()));
        assert_eq!(budget.take(0, next_hour), Err(3600));
    }
}

//! The states a job passes through, and how `apalis.jobs.status` spells them.
//!
//! apalis's status names predate the hardening (`Failed` is a retry that
//! waits, `Killed` is dead); this is the one place that maps them, so no
//! other crate writes the strings.

use serde::{Deserialize, Serialize};

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its `run_at`: new, deferred, or rescued from a lost worker.
    Pending,
    /// Fetched by a worker, not yet started.
    Queued,
    /// An attempt is running.
    Running,
    /// An attempt failed; the next waits for its backoff.
    Retrying,
    /// Succeeded.
    Done,
    /// Attempts exhausted or a permanent error; only an operator revives it.
    Dead,
    /// Stopped by an operator while pending or retrying: it never runs again.
    Cancelled,
    /// A dead job an operator set aside: kept for the record, out of every
    /// dead count and alert; `retry-failed --id` alone revives it.
    Discarded,
}

impl JobState {
    pub const ALL: [JobState; 8] = [
        Self::Pending,
        Self::Queued,
        Self::Running,
        Self::Retrying,
        Self::Done,
        Self::Dead,
        Self::Cancelled,
        Self::Discarded,
    ];

    /// The states that hold a dedup key: while a job is in one of these,
    /// enqueuing another with the same key is a no-op.
    pub const ACTIVE: [JobState; 4] = [Self::Pending, Self::Queued, Self::Running, Self::Retrying];

    /// The value in `apalis.jobs.status`.
    pub const fn db_status(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Queued => "Queued",
            Self::Running => "Running",
            Self::Retrying => "Failed",
            Self::Done => "Done",
            Self::Dead => "Killed",
            Self::Cancelled => "Cancelled",
            Self::Discarded => "Discarded",
        }
    }

    /// The state of an `apalis.jobs.status` value; `None` for one the
    /// hardening never leaves behind.
    pub fn from_db_status(status: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.db_status() == status)
    }

    /// The snake_case name operators and the API see.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Retrying => "retrying",
            Self::Done => "done",
            Self::Dead => "dead",
            Self::Cancelled => "cancelled",
            Self::Discarded => "discarded",
        }
    }

    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }

    /// `db_status` of every state in `states`, to bind as a `text[]`.
    pub fn db_statuses(states: &[JobState]) -> Vec<&'static str> {
        states.iter().map(|s| s.db_status()).collect()
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `status IN (...)` for the active states, written out: the partial unique
/// index `jobs_one_active_per_key` has this predicate, and `ON CONFLICT`
/// infers the index only from the same literal list.
pub(crate) const ACTIVE_STATUS_IN: &str = "status IN ('Pending', 'Queued', 'Running', 'Failed')";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_literal_active_list_is_the_active_states() {
        let listed: Vec<String> = JobState::ACTIVE.iter().map(|s| format!("'{}'", s.db_status())).collect();
        assert_eq!(ACTIVE_STATUS_IN, format!("status IN ({})", listed.join(", ")));
    }

    #[test]
    fn every_state_round_trips_through_its_db_status() {
        for s in JobState::ALL {
            assert_eq!(JobState::from_db_status(s.db_status()), Some(s));
        }
        assert_eq!(JobState::from_db_status("Exhausted"), None);
        assert!(JobState::ALL[4..].iter().all(|s| !s.is_active()), "done, dead, cancelled and discarded are final");
    }
}

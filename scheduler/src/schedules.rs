//! The list of schedules a process runs: a name, a [`Cron`] and what to
//! enqueue at each tick. One line per schedule, like the job registry.

use chrono::{DateTime, SecondsFormat, Utc};
use futures::future::BoxFuture;
use job_runner::{BackgroundJob, enqueue_at};
use sqlx::PgConnection;

use crate::spec::Cron;

/// One firing of one schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// The schedule's stable snake_case name.
    pub schedule: &'static str,
    /// The scheduled time (whole seconds, UTC), not the time it ran.
    pub at: DateTime<Utc>,
}

impl Tick {
    /// `cron:{schedule}:{tick time, RFC 3339}`: the same on every replica,
    /// so a job that takes it as its dedup key is enqueued once per tick even
    /// by a producer that bypassed `scheduler_ticks`.
    pub fn key(&self) -> String {
        format!("cron:{}:{}", self.schedule, self.at.to_rfc3339_opts(SecondsFormat::Secs, true))
    }
}

/// What an enqueue function returns: the ids of the jobs it enqueued (none
/// when an equivalent job is still active).
pub type EnqueueFuture<'c> = BoxFuture<'c, Result<Vec<String>, sqlx::Error>>;

type EnqueueFn = Box<dyn for<'c> Fn(&'c mut PgConnection, Tick) -> EnqueueFuture<'c> + Send + Sync>;

pub(crate) struct Entry {
    pub name: &'static str,
    pub cron: Cron,
    pub enqueue: EnqueueFn,
}

/// The schedules of one process. Every replica must build the same list.
#[derive(Default)]
pub struct Schedules {
    pub(crate) entries: Vec<Entry>,
}

impl Schedules {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a schedule whose `enqueue` runs inside the tick's transaction:
    /// it must only enqueue (with `conn`), and its jobs commit together with
    /// the tick's row, or not at all.
    ///
    /// Panics on a name that is not snake_case or is already taken: the name
    /// is the key of every tick row, so two schedules must never share one.
    #[must_use]
    pub fn add<F>(mut self, name: &'static str, cron: &Cron, enqueue: F) -> Self
    where
        F: for<'c> Fn(&'c mut PgConnection, Tick) -> EnqueueFuture<'c> + Send + Sync + 'static,
    {
        assert!(is_snake_case(name), "schedule name {name:?} must be snake_case (a-z, 0-9, _)");
        assert!(!self.entries.iter().any(|e| e.name == name), "schedule {name} registered twice");
        self.entries.push(Entry { name, cron: cron.clone(), enqueue: Box::new(enqueue) });
        self
    }

    /// Adds a schedule that enqueues one job, built from the tick, per tick.
    /// The job's own dedup key applies: while an equivalent job is still
    /// active the tick is recorded with no job, so slow syncs never pile up.
    #[must_use]
    pub fn job<J, M>(self, name: &'static str, cron: &Cron, make: M) -> Self
    where
        J: BackgroundJob,
        M: Fn(&Tick) -> J + Send + Sync + 'static,
    {
        self.add(name, cron, move |conn, tick| {
            let job = make(&tick);
            Box::pin(async move { Ok(enqueue_at(conn, &job, None, None).await?.into_iter().collect()) })
        })
    }

    /// Every schedule's name and timing, `off` ones included.
    pub fn list(&self) -> Vec<(&'static str, &Cron)> {
        self.entries.iter().map(|e| (e.name, &e.cron)).collect()
    }
}

fn is_snake_case(name: &str) -> bool {
    !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tick_key_is_the_schedule_and_its_rfc3339_time() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T10:15:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(Tick { schedule: "sync_patients", at }.key(), "cron:sync_patients:2026-11-22T10:15:00Z");
    }

    #[test]
    #[should_panic(expected = "registered twice")]
    fn a_name_can_be_registered_once() {
        let every = "0 * * * * *".parse().unwrap();
        let _ = Schedules::new()
            .add("a", &every, |_, _| Box::pin(async { Ok(vec![]) }))
            .add("a", &every, |_, _| Box::pin(async { Ok(vec![]) }));
    }

    #[test]
    fn names_are_snake_case() {
        assert!(is_snake_case("sync_patient_lists"));
        assert!(!is_snake_case("SyncPatients") && !is_snake_case("sync-patients") && !is_snake_case(""));
    }
}

//! One LISTEN connection per process, fanned out to every queue.
//!
//! apalis-postgres's `Pubsub` holds a pooled connection per queue for as long
//! as the worker lives, so a process with fifteen queues pins fifteen
//! connections doing nothing. Here one listener receives apalis's insert
//! notifications and wakes the matching queue; wake-ups coalesce, and the
//! poll interval covers anything missed while the listener reconnects.
//!
//! A queue's wake-up is a `Notify` its worker's poll strategy waits on
//! directly: the listener's task wakes the worker's task, with no task or
//! channel in between. It outlives the worker, so a wake-up that comes while
//! a worker restarts is kept for the next one.

use futures::Stream;
use serde::Deserialize;
use sqlx::{PgPool, postgres::PgListener};
use std::{
    collections::HashMap,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};
use tokio::sync::Notify;

/// apalis's notification channel, fired by its insert trigger (and by a
/// queue's resume, `ops::resume_queue`).
pub(crate) const CHANNEL: &str = "apalis::job::insert";

#[derive(Deserialize)]
struct Inserted {
    job_type: String,
}

/// One queue's wake-ups. A wake-up with no worker waiting is kept (one at
/// most: further ones coalesce into it).
#[derive(Clone, Default)]
pub(crate) struct QueueWakeup(Arc<Shared>);

#[derive(Default)]
struct Shared {
    notify: Notify,
    /// Wake-ups so far, so that a claim can tell whether one came while it ran.
    count: AtomicU64,
}

/// What a poll strategy takes: `Send + Sync + Unpin`.
pub(crate) type WakeupStream = Pin<Box<dyn Stream<Item = ()> + Send + Sync>>;

impl QueueWakeup {
    fn wake(&self) {
        self.0.count.fetch_add(1, Ordering::SeqCst);
        self.0.notify.notify_one();
    }

    /// How many wake-ups there have been.
    pub(crate) fn count(&self) -> u64 {
        self.0.count.load(Ordering::SeqCst)
    }

    /// Yields once per wake-up, for one worker's poll strategy.
    pub(crate) fn stream(&self) -> WakeupStream {
        Box::pin(futures::stream::unfold(self.0.clone(), |shared| async move {
            shared.notify.notified().await;
            Some(((), shared))
        }))
    }
}

/// The process's listener, waking each queue's worker.
pub struct Wakeups {
    queues: HashMap<String, QueueWakeup>,
}

impl Wakeups {
    /// Creates a wake-up per queue; returns the dispatcher and the wake-ups.
    pub(crate) fn new<'a>(queues: impl IntoIterator<Item = &'a str>) -> (Self, HashMap<String, QueueWakeup>) {
        let queues: HashMap<String, QueueWakeup> =
            queues.into_iter().map(|q| (q.to_string(), Default::default())).collect();
        (Self { queues: queues.clone() }, queues)
    }

    /// Listens forever, reconnecting with a pause after errors.
    pub async fn run(self, pool: PgPool) {
        loop {
            if let Err(e) = self.listen(&pool).await {
                tracing::debug!(error = %crate::error::describe_db_error(&e), "job notification listener lost");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn listen(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        // A reconnect can miss notifications: wake everyone once to re-check.
        self.wake_all();
        loop {
            let note = listener.recv().await?;
            if let Ok(ev) = serde_json::from_str::<Inserted>(note.payload()) {
                self.wake(&ev.job_type);
            }
        }
    }

    fn wake(&self, queue: &str) {
        if let Some(q) = self.queues.get(queue) {
            q.wake();
        }
    }

    fn wake_all(&self) {
        self.queues.values().for_each(QueueWakeup::wake);
    }
}

/// Begins a transaction whose job inserts notify no worker, in one round
/// trip (for `begin_with`): the caller calls [`notify_queues`] once it
/// has committed. A notifying commit holds Postgres's notification lock
/// through its WAL flush, so commits that notify cannot share a flush; a
/// notification sent after the commit holds it for none.
pub const BEGIN_NOTIFY_AFTER_COMMIT: &str = "BEGIN; SELECT set_config('drchrono_sync.notify_after_commit', 'on', true)";

/// Wakes the workers of `queues`, in a statement of its own.
pub async fn notify_queues<'e>(db: impl sqlx::PgExecutor<'e>, queues: &[&str]) -> Result<(), sqlx::Error> {
    if queues.is_empty() {
        return Ok(());
    }
    sqlx::query("SELECT pg_notify($1, json_build_object('job_type', q)::text) FROM unnest($2::text[]) AS q")
        .bind(CHANNEL)
        .bind(queues)
        .execute(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{FutureExt, StreamExt};

    #[tokio::test]
    async fn a_wake_up_reaches_the_worker_that_waits_and_one_waiting_for_none_is_kept() {
        let (wakeups, mut queues) = Wakeups::new(["a", "b"]);
        let a = queues.remove("a").unwrap();
        let mut waiting = a.stream();
        assert!(waiting.next().now_or_never().is_none(), "no wake-up yet");
        wakeups.wake("a");
        assert_eq!(waiting.next().now_or_never(), Some(Some(())));

        drop(waiting);
        wakeups.wake("a");
        wakeups.wake("a");
        wakeups.wake("zzz");
        assert_eq!(a.count(), 3);
        let mut restarted = a.stream();
        assert_eq!(restarted.next().now_or_never(), Some(Some(())), "kept across a worker restart");
        assert!(restarted.next().now_or_never().is_none(), "two wake-ups coalesce into one");
        assert!(queues["b"].stream().next().now_or_never().is_none(), "another queue is not woken");
    }
}

//! One LISTEN connection per process, fanned out to every queue.
//!
//! apalis-postgres's `Pubsub` holds a pooled connection per queue for as long
//! as the worker lives, so a process with fifteen queues pins fifteen
//! connections doing nothing. Here one listener receives apalis's insert
//! notifications and wakes the matching queue; wake-ups coalesce, and the
//! poll interval covers anything missed while the listener reconnects.

use futures::channel::mpsc;
use serde::Deserialize;
use sqlx::{PgPool, postgres::PgListener};
use std::{collections::HashMap, time::Duration};

/// apalis's notification channel, fired by its insert trigger (and by a
/// queue's resume, `ops::resume_queue`).
pub(crate) const CHANNEL: &str = "apalis::job::insert";

#[derive(Deserialize)]
struct Inserted {
    job_type: String,
}

/// The receiving ends, one per queue, handed to each queue's poll strategy.
pub struct Wakeups {
    senders: HashMap<String, mpsc::Sender<()>>,
}

impl Wakeups {
    /// Creates a wake-up channel per queue; returns the dispatcher and the receivers.
    pub fn new<'a>(queues: impl IntoIterator<Item = &'a str>) -> (Self, HashMap<String, mpsc::Receiver<()>>) {
        let mut senders = HashMap::new();
        let mut receivers = HashMap::new();
        for q in queues {
            let (tx, rx) = mpsc::channel(1);
            senders.insert(q.to_string(), tx);
            receivers.insert(q.to_string(), rx);
        }
        (Self { senders }, receivers)
    }

    /// Listens forever, reconnecting with a pause after errors.
    pub async fn run(mut self, pool: PgPool) {
        loop {
            if let Err(e) = self.listen(&pool).await {
                tracing::debug!(error = %crate::error::describe_db_error(&e), "job notification listener lost");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn listen(&mut self, pool: &PgPool) -> Result<(), sqlx::Error> {
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

    fn wake(&mut self, queue: &str) {
        if let Some(tx) = self.senders.get_mut(queue) {
            // Full means a wake-up is already pending: coalesce.
            let _ = tx.try_send(());
        }
    }

    fn wake_all(&mut self) {
        for tx in self.senders.values_mut() {
            let _ = tx.try_send(());
        }
    }
}

/// Begins a transaction whose job inserts notify no worker, in one round
/// trip (for `Pool::begin_with`): the caller calls [`notify_queues`] once it
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

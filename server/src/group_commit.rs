//! Group commit of DrChrono deliveries. One transaction per delivery caps
//! ingest at the commits the disk can flush; here the deliveries that
//! arrive while earlier commits are under way wait for the next, and are
//! written together (one statement per table, one commit). Each sender
//! then gets its own answer, and a 2xx only once its row is committed.
//!
//! Nothing waits for a batch to fill: a delivery that finds a commit slot
//! free goes at once, alone, so a quiet practice sees no added latency.
//! Batches form only when commits are the bottleneck.
//!
//! A batch that fails on a transient database error answers 503 to every
//! member. Any other failure may be one delivery's: the batch is split and
//! each delivery stored in its own transaction, so one row the database
//! refuses cannot fail its neighbours.

use axum::body::Bytes;
use jobs::inbox::{Admission, Delivery, Outcome, admit_drchrono_all};
use serde_json::Value;
use sqlx::{Connection as _, PgConnection, PgPool, Postgres, pool::PoolConnection};
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tracing::{Instrument as _, Span};

use crate::{Settings, error::ApiError};

/// A verified DrChrono delivery as the route received it.
pub struct Received {
    pub delivery_id: Option<String>,
    pub event: Option<String>,
    pub headers: Value,
    pub body: Bytes,
}

struct Pending {
    received: Received,
    /// The request's span: the delivery's job continues its trace.
    span: Span,
    answer: oneshot::Sender<Result<Admission, ApiError>>,
}

/// The handle the route submits to; cheap to clone.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Pending>,
}

impl GroupCommit {
    /// Starts the committer on `pool`, within `settings.limits`.
    pub fn start(pool: PgPool, settings: Arc<Settings>) -> Self {
        let max_batch = settings.limits.ingest_max_batch();
        let (queue, pending) = mpsc::channel(max_batch * 4);
        tokio::spawn(collect(pending, Committer { pool, settings }));
        Self { queue }
    }

    /// Stores `received` with the next commit; answers once it is durable.
    pub async fn admit(&self, received: Received) -> Result<Admission, ApiError> {
        let (answer, answered) = oneshot::channel();
        let pending = Pending { received, span: Span::current(), answer };
        let _waiting = Waiting::start();
        match self.queue.send(pending).await {
            Ok(()) => answered.await.unwrap_or_else(|_| Err(stopped())),
            Err(_) => Err(stopped()),
        }
    }
}

/// Counts a delivery as waiting until it is answered, or its sender leaves.
struct Waiting;

impl Waiting {
    fn start() -> Self {
        jobs::metrics::webhook_waiting(1);
        Self
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        jobs::metrics::webhook_waiting(-1);
    }
}

fn stopped() -> ApiError {
    ApiError::Internal(anyhow::anyhow!("the webhook committer stopped"))
}

/// Takes what is waiting whenever a commit slot is free, up to the batch cap.
async fn collect(mut pending: mpsc::Receiver<Pending>, committer: Committer) {
    let committer = Arc::new(committer);
    let slots = Arc::new(Semaphore::new(committer.settings.limits.ingest_commits_in_flight()));
    let max_batch = committer.settings.limits.ingest_max_batch();
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else { return };
        let Some(first) = pending.recv().await else { return };
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match pending.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let committer = committer.clone();
        tokio::spawn(async move {
            committer.commit(batch).await;
            drop(slot);
        });
    }
}

struct Committer {
    pool: PgPool,
    settings: Arc<Settings>,
}

impl Committer {
    async fn commit(&self, batch: Vec<Pending>) {
        let span = tracing::info_span!("webhook batch", deliveries = batch.len());
        let stored = self.store(&batch).instrument(span).await;
        // Only a failure that is neither transient nor already a single
        // delivery's may be one row's: that batch is split.
        let split = matches!(&stored, Err(e) if batch.len() > 1 && !crate::error::is_transient(e));
        let outcome = match (&stored, split) {
            (Ok(_), _) => "committed",
            (Err(_), true) => "split",
            (Err(_), false) => "failed",
        };
        jobs::metrics::webhook_commit(outcome, batch.len());
        match stored {
            Ok((admissions, conn)) => answer_and_wake(batch, admissions, conn).await,
            Err(e) if !split => {
                for p in batch {
                    let _ = p.answer.send(Err(ApiError::of(&e)));
                }
            }
            Err(e) => {
                tracing::warn!(
                    error = %job_runner::describe_db_error(&e),
                    deliveries = batch.len(),
                    "webhook batch failed; storing its deliveries one by one"
                );
                for p in batch {
                    match self.store(std::slice::from_ref(&p)).await {
                        Ok((admissions, conn)) => answer_and_wake(vec![p], admissions, conn).await,
                        Err(e) => {
                            let _ = p.answer.send(Err(ApiError::from(e)));
                        }
                    }
                }
            }
        }
    }

    /// Admits `batch` in one transaction; the admissions in its order, and
    /// the connection, to wake the workers on without another checkout.
    async fn store(&self, batch: &[Pending]) -> Result<(Vec<Admission>, PoolConnection<Postgres>), sqlx::Error> {
        let zone = self.settings.practice_timezone.name();
        let deliveries: Vec<Delivery<'_>> = batch.iter().map(|p| delivery(&p.received, zone)).collect();
        let spans: Vec<Span> = batch.iter().map(|p| p.span.clone()).collect();
        let mut conn = self.pool.acquire().await?;
        let mut tx = conn.begin_with(job_runner::BEGIN_NOTIFY_AFTER_COMMIT).await?;
        let admissions = admit_drchrono_all(&mut tx, deliveries, &spans).await?;
        tx.commit().await?;
        Ok((admissions, conn))
    }
}

/// Answers each member of a committed batch, then wakes the queues of
/// its new jobs on the connection it committed on.
async fn answer_and_wake(batch: Vec<Pending>, admissions: Vec<Admission>, mut conn: PoolConnection<Postgres>) {
    let queues = queues_of(&admissions);
    for (p, a) in batch.into_iter().zip(admissions) {
        let _ = p.answer.send(Ok(a));
    }
    notify(&mut conn, &queues).await;
}

/// Wakes `queues` after their commit. A failure only delays their jobs
/// until the workers' next poll.
async fn notify(conn: &mut PgConnection, queues: &[&str]) {
    if let Err(e) = job_runner::notify_queues(conn, queues).await {
        tracing::warn!(error = %job_runner::describe_db_error(&e), "cannot wake the workers; they find the jobs at their next poll");
    }
}

/// The queues of the jobs `admissions` made, each once.
fn queues_of(admissions: &[Admission]) -> Vec<&'static str> {
    let mut queues: Vec<&'static str> =
        admissions.iter().filter(|a| a.outcome == Outcome::Accepted).filter_map(|a| a.queue).collect();
    queues.sort_unstable();
    queues.dedup();
    queues
}

fn delivery<'a>(r: &'a Received, time_zone: &'a str) -> Delivery<'a> {
    Delivery {
        source: crate::routes::DRCHRONO_SOURCE,
        delivery_id: r.delivery_id.as_deref(),
        event: r.event.as_deref(),
        object_id: None,
        record_kind: None,
        patient_id: None,
        object_updated_at: None,
        time_zone,
        headers: r.headers.clone(),
        body: &r.body,
        verified: true,
        replay_of: None,
    }
}

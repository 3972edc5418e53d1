//! A queue's apalis backend: apalis-postgres's `PostgresStorage` for every
//! duty but fetching, which is the one-statement [`claim`].
//!
//! apalis 1.0 has no hook to replace `PostgresStorage`'s fetch (its
//! persistence is private), but it composes backends by wrapping them, as
//! its own `PollWith` does. This wrapper drives `PostgresStorage` for worker
//! registration, heartbeats, orphan re-enqueue and the lock and result
//! events its middleware emits, and never asks it for a task: the tasks come
//! from the claim. Buffered tasks a stopping worker never started are handed
//! back as apalis would (no attempt used), including those of a claim still
//! in flight when the stop came.
//!
//! apalis's poll strategy takes a wake-up that comes while a fetch runs, and
//! the job it announced waits for the next poll when the fetch could not see
//! it yet. Here an empty claim that overlapped a wake-up claims again.

use apalis_core::backend::{Backend, BackendConfig, WireFormatBackend, future::BoxSyncFuture};
use apalis_postgres::{Error, PgTask, PostgresStorage};
use futures::FutureExt;
use serde_json::Value;
use std::{
    collections::VecDeque,
    task::{Context, Poll},
};

use apalis::prelude::WorkerContext;

use crate::{claim::claim, wakeups::QueueWakeup};

type Inner = PostgresStorage<Value>;

pub(crate) struct ClaimingStorage {
    inner: Inner,
    wakeup: QueueWakeup,
    state: State,
    /// The worker's row exists: claims may name it (`lock_by` references it).
    registered: bool,
}

enum State {
    /// Nothing buffered; the next `poll_next` claims.
    Idle,
    /// A claim, and the wake-up count when it started.
    Claiming(BoxSyncFuture<Result<Vec<PgTask>, Error>>, u64),
    Buffered(VecDeque<PgTask>),
    /// Handing unstarted tasks back at shutdown.
    Releasing(BoxSyncFuture<Result<(), Error>>),
    /// A claim failed: the stream ends and the supervisor restarts the worker.
    Dead,
}

impl ClaimingStorage {
    /// `wakeup` is the one the worker's poll strategy waits on.
    pub(crate) fn new(inner: Inner, wakeup: QueueWakeup) -> Self {
        Self { inner, wakeup, state: State::Idle, registered: false }
    }

    fn start_claim(&mut self, worker: &WorkerContext) {
        let pool = self.inner.pool().clone();
        let config = self.inner.config();
        let (queue, batch) = (config.queue.to_string(), config.batch_size);
        let worker = worker.name().to_owned();
        let fut = async move { claim(&pool, &worker, &queue, batch).await };
        self.state = State::Claiming(BoxSyncFuture::new(fut.boxed()), self.wakeup.count());
    }

    fn start_release(&mut self, tasks: VecDeque<PgTask>, worker: &WorkerContext) {
        let pool = self.inner.pool().clone();
        let queue = self.inner.config().queue.to_string();
        let worker = worker.name().to_owned();
        let ids: Vec<String> = tasks.iter().filter_map(|t| t.task_id()).map(ToString::to_string).collect();
        let fut = async move { release(&pool, &queue, &worker, &ids).await };
        self.state = State::Releasing(BoxSyncFuture::new(fut.boxed()));
    }
}

/// Returns unstarted tasks to `Pending` with apalis's own query, whose
/// "worker shutdown" result tells the hardening trigger not to count an
/// attempt. A task the orphan reaper took meanwhile is no longer this
/// worker's and is left alone.
async fn release(pool: &sqlx::PgPool, queue: &str, worker: &str, ids: &[String]) -> Result<(), Error> {
    let mut conn = pool.acquire().await?;
    let released = apalis_postgres::queries::reenqueue_abandoned(&mut *conn, queue, worker, ids).await?;
    tracing::debug!(queue, released, buffered = ids.len(), "released unstarted jobs at shutdown");
    Ok(())
}

impl Backend for ClaimingStorage {
    type Task = PgTask;
    type Error = Error;

    /// Drives the wrapped storage: registration, heartbeats, and writing the
    /// lock and result events of started and finished attempts. Once the
    /// worker is registered, those writes go on beside claims and handlers
    /// instead of holding them up: a pick-up never waits for the previous
    /// job's bookkeeping, and events that pile up meanwhile go out together.
    fn poll_ready(&mut self, cx: &mut Context<'_>, worker: &WorkerContext) -> Poll<Result<(), Error>> {
        match self.inner.poll_ready(cx, worker) {
            Poll::Ready(Ok(())) => {
                self.registered = true;
                Poll::Ready(Ok(()))
            }
            Poll::Pending if self.registered => Poll::Ready(Ok(())),
            other => other,
        }
    }

    fn poll_next(&mut self, cx: &mut Context<'_>, worker: &WorkerContext) -> Poll<Option<Result<PgTask, Error>>> {
        loop {
            match &mut self.state {
                State::Idle => self.start_claim(worker),
                State::Claiming(fut, woken) => match fut.poll_unpin(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(tasks)) if tasks.is_empty() => {
                        // A job whose notification came while the claim ran may be
                        // one it could not see yet, and the poll strategy has taken
                        // that wake-up: claim again rather than wait for the poll.
                        let missed = *woken != self.wakeup.count();
                        self.state = State::Idle;
                        if !missed {
                            return Poll::Pending;
                        }
                    }
                    Poll::Ready(Ok(tasks)) => self.state = State::Buffered(tasks.into()),
                    Poll::Ready(Err(e)) => {
                        self.state = State::Dead;
                        return Poll::Ready(Some(Err(e)));
                    }
                },
                State::Buffered(tasks) => match tasks.pop_front() {
                    Some(task) => {
                        if tasks.is_empty() {
                            self.state = State::Idle;
                        }
                        return Poll::Ready(Some(Ok(task)));
                    }
                    None => self.state = State::Idle,
                },
                State::Releasing(_) | State::Dead => return Poll::Ready(None),
            }
        }
    }

    fn poll_close(&mut self, cx: &mut Context<'_>, worker: &WorkerContext) -> Poll<Result<(), Error>> {
        loop {
            match &mut self.state {
                State::Claiming(fut, _) => match fut.poll_unpin(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(tasks)) => self.state = State::Buffered(tasks.into()),
                    // Whatever it took stays locked to this worker until the orphan reaper frees it.
                    Poll::Ready(Err(_)) => self.state = State::Dead,
                },
                State::Buffered(tasks) if !tasks.is_empty() => {
                    let tasks = std::mem::take(tasks);
                    self.start_release(tasks, worker);
                }
                State::Releasing(fut) => {
                    let released = match fut.poll_unpin(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(r) => r,
                    };
                    self.state = State::Dead;
                    if let Err(e) = released {
                        return Poll::Ready(Err(e));
                    }
                }
                State::Idle | State::Buffered(_) | State::Dead => return self.inner.poll_close(cx, worker),
            }
        }
    }
}

impl BackendConfig for ClaimingStorage {
    type Args = Value;
    type Id = <Inner as BackendConfig>::Id;
    type Kind = <Inner as BackendConfig>::Kind;
    type Config = <Inner as BackendConfig>::Config;
    type Layer = <Inner as BackendConfig>::Layer;

    fn config(&self) -> &Self::Config {
        BackendConfig::config(&self.inner)
    }

    /// apalis-postgres's middleware: it reports each attempt's start (the
    /// lock to `Running`) and result to the wrapped storage.
    fn middleware(&mut self, worker: &mut WorkerContext) -> Self::Layer {
        self.inner.middleware(worker)
    }
}

impl WireFormatBackend for ClaimingStorage {
    type Codec = <Inner as WireFormatBackend>::Codec;
    type Compact = <Inner as WireFormatBackend>::Compact;

    fn codec(&self) -> &Self::Codec {
        self.inner.codec()
    }
}

//! The wrapper every attempt runs through: typed decoding, timeout, panic
//! catching, the `process {queue}` span and the attempt's metrics. apalis
//! only ever sees generic JSON, so a row of the wrong shape fails its own
//! job instead of the worker's stream.

use apalis::prelude::{Attempt, Data, MetadataStore, TaskId};
use std::time::Instant;
use tracing::Instrument;

use crate::metrics::JobAttempt;
use crate::{
    attempt_trace::{TracePool, attempt_span, record_trace_id},
    error::{JobError, StoredError},
    job::{BackgroundJob, JobOutcome},
};

tokio::task_local! {
    /// The id of the job whose attempt is running on this task.
    static CURRENT_JOB: String;
}

/// The running job's id, for records that should name it (such as `sync_runs`).
pub fn current_job_id() -> Option<String> {
    CURRENT_JOB.try_with(Clone::clone).ok()
}

/// Runs one attempt of `J` on the raw arguments apalis fetched.
pub(crate) async fn handle<J: BackgroundJob>(
    args: serde_json::Value,
    ctx: Data<J::Context>,
    task_id: TaskId,
    attempt: Attempt,
    meta: MetadataStore,
    traces: Data<TracePool>,
) -> Result<serde_json::Value, StoredError> {
    let job_id = task_id.to_string();
    let span = attempt_span(J::NAME, &job_id, attempt.current(), &meta);
    async move {
        // The attempt's trace id only has to be stored before its result is,
        // so it is written while the attempt runs, not before it starts.
        let span = tracing::Span::current();
        let trace = record_trace_id(&(*traces).0, &job_id, &span, &meta);
        let metric = JobAttempt::start(J::NAME, attempt.current());
        let started = Instant::now();
        let ((), result) = tokio::join!(trace, run_attempt::<J>(args, (*ctx).clone(), job_id.clone()));
        metric.finish(result.is_ok());
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(outcome) => tracing::info!(elapsed_ms, ?outcome, "job attempt succeeded"),
            Err(e) => tracing::warn!(elapsed_ms, class = e.class(), error = %e, "job attempt failed"),
        }
        result.map(|o| serde_json::to_value(o).unwrap_or(serde_json::Value::Null)).map_err(StoredError)
    }
    .instrument(span)
    .await
}

/// The attempt runs on its own tokio task: attempts of one queue use every
/// core, and a panic is caught at the task boundary.
async fn run_attempt<J: BackgroundJob>(
    args: serde_json::Value,
    ctx: J::Context,
    job_id: String,
) -> Result<JobOutcome, JobError> {
    let job: J = serde_json::from_value(args).map_err(|e| bad_payload::<J>(&e))?;
    let mut task = tokio::spawn(CURRENT_JOB.scope(job_id, job.run(ctx)).in_current_span());
    match tokio::time::timeout(J::TIMEOUT, &mut task).await {
        Err(_) => {
            task.abort();
            Err(JobError::Timeout(J::TIMEOUT))
        }
        Ok(Err(join)) if join.is_panic() => Err(JobError::Panic(panic_message(join.into_panic().as_ref()))),
        Ok(Err(_)) => Err(JobError::retryable(anyhow::anyhow!("attempt was cancelled"))),
        Ok(Ok(result)) => result,
    }
}

/// serde's messages can quote the offending value, which may be PHI; keep
/// only the ones that name a field.
fn bad_payload<J: BackgroundJob>(e: &serde_json::Error) -> JobError {
    let msg = e.to_string();
    let detail = if msg.starts_with("missing field") || msg.starts_with("unknown field") {
        msg
    } else {
        format!("{:?} error", e.classify()).to_lowercase()
    };
    JobError::BadPayload(format!("arguments do not decode as {}: {detail}", J::NAME))
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into());
    text.chars().take(300).collect()
}

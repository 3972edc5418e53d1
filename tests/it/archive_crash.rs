//! A worker process killed after its PutObject and before its rows commit:
//! the retry, by another process, leaves exactly one object and one row.

use integration_tests::queue;
use integration_tests::{
    archive::{archived, sha256_hex, spawn_archiving_app},
    process::WorkerProcess,
    s3::PREFIX,
    wait,
};
use job_runner::JobState;
use std::{collections::BTreeMap, time::Duration};

const LIMIT: Duration = Duration::from_secs(40);

#[tokio::test]
async fn a_worker_killed_between_the_put_and_the_commit_leaves_one_object_and_one_row() {
    // This process works every queue but archive_pdf (and reaps dead
    // workers' jobs); archive_pdf runs only in separate service processes.
    let others: Vec<String> =
        jobs::registry::all().names().into_iter().filter(|n| *n != "archive_pdf").map(String::from).collect();
    let a = spawn_archiving_app(true, 3, |s| s.runner.job_queues = Some(others)).await;
    let pool = a.app.pool();
    let note = a.notes(true)[0];
    a.lock(note).await;
    let job: String = {
        let sql = "SELECT count(*) FROM job_overview WHERE queue = 'archive_pdf'";
        wait::until::<i64>(pool, sql, LIMIT, |n| *n == 1).await;
        queue::of_queue(pool, "archive_pdf").await.remove(0).id
    };

    let binary = env!("CARGO_BIN_EXE_service-worker");
    let mut faulty = a.service_env();
    faulty.push((jobs::faults::VAR, jobs::faults::FaultPoint::AfterS3Put.name().into()));
    let mut first = WorkerProcess::spawn_with_env(binary, &a.app.db.url, "archive_pdf", &faulty).await;
    let crashed = tokio::time::timeout(LIMIT, first.wait_crash()).await.expect("the worker reaches the fault point");
    assert!(crashed, "the worker aborted");
    assert_eq!(a.s3.accepted_puts(), 1, "the PUT happened before the crash");
    assert!(archived(pool, note).await.is_empty(), "no row committed");

    // The dead worker's job is rescued by this process's heartbeat; skip the rescue's backoff.
    let rescued = "SELECT state FROM job_overview WHERE queue = 'archive_pdf'";
    wait::until::<String>(pool, rescued, LIMIT, |s| s != "running").await;
    let state = queue::report(pool, &job).await.state;
    if matches!(state, JobState::Pending | JobState::Retrying) {
        queue::make_due(pool, &job).await;
    }
    let second = WorkerProcess::spawn_with_env(binary, &a.app.db.url, "archive_pdf", &a.service_env()).await;
    queue::wait_for_state(pool, &job, JobState::Done, LIMIT).await;

    let bytes = a.app.sandbox.note_pdf_bytes(note).unwrap();
    let patient = a.app.sandbox.record(sandbox::Kind::ClinicalNote, note).unwrap()["patient"].as_i64().unwrap();
    let key = format!("{PREFIX}/{patient}/{note}.pdf");
    assert_eq!(a.s3.objects().await, BTreeMap::from([(key.clone(), sha256_hex(&bytes))]));
    assert_eq!(archived(pool, note).await, vec![(1, key, sha256_hex(&bytes), bytes.len() as i64)]);
    assert_eq!(a.s3.accepted_puts(), 2, "the retry put the same bytes at the same key");
    assert_eq!(a.s3.refused(), Vec::<String>::new());
    let attempts: Vec<(String, String)> =
        queue::attempts(pool, &job).await.into_iter().map(|a| (a.outcome, a.worker_id.unwrap_or_default())).collect();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0].0, "orphaned");
    assert!(attempts[0].1.starts_with(&first.process_id), "{attempts:?}");
    assert_eq!(attempts[1].0, "succeeded");
    assert!(attempts[1].1.starts_with(&second.process_id), "{attempts:?}");
}

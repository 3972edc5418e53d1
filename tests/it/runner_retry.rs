//! Durable backoff, known waits and dead jobs (apalis defects 1 and 9).

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use integration_tests::queue;
use integration_tests::{
    db::fresh_db,
    test_jobs::{AlwaysFails, Defer, Forbidden, fast_config, start},
};
use job_runner::JobState;
use job_runner::enqueue;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

async fn row(pool: &sqlx::PgPool, id: &str) -> (JobState, i32, DateTime<Utc>) {
    let job = queue::report(pool, id).await;
    (job.state, job.attempts, job.run_at)
}

/// Skips a scheduled wait without sleeping through it.
async fn fast_forward(pool: &sqlx::PgPool, id: &str) {
    queue::make_due(pool, id).await;
}

#[tokio::test]
async fn a_failed_attempt_is_retried_later_with_growing_jittered_delay_then_dies() {
    let db = fresh_db().await;
    let _w = start(&db.pool, fast_config());
    let id = enqueue(&db.pool, &AlwaysFails).await.unwrap().unwrap();

    let mut delays = Vec::new();
    for attempt in 1..=2 {
        queue::wait_for_attempts(&db.pool, attempt, LIMIT).await;
        let (status, attempts, run_at) = row(&db.pool, &id).await;
        assert_eq!((status, attempts), (JobState::Retrying, attempt as i32));
        let delay = (run_at - Utc::now()).num_milliseconds() as f64 / 1000.0;
        delays.push(delay);
        fast_forward(&db.pool, &id).await;
    }
    // 5 s then 10 s, each within +-25 % jitter (less the time spent polling).
    assert!((3.0..=6.25).contains(&delays[0]), "first retry delay {delays:?}");
    assert!((6.5..=12.5).contains(&delays[1]), "second retry delay {delays:?}");

    queue::wait_for_state(&db.pool, &id, JobState::Dead, LIMIT).await;
    let (_, attempts, _) = row(&db.pool, &id).await;
    assert_eq!(attempts, 3, "max attempts is 3");

    // Dead stays dead: give the workers several polls, nothing runs it again.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let history: Vec<(i32, String, Option<String>)> =
        queue::attempts(&db.pool, &id).await.into_iter().map(|a| (a.attempt, a.outcome, a.error_class)).collect();
    let retryable = Some("retryable".to_string());
    assert_eq!(
        history,
        vec![
            (1, "failed".into(), retryable.clone()),
            (2, "failed".into(), retryable.clone()),
            (3, "failed".into(), retryable)
        ]
    );
    assert_eq!(row(&db.pool, &id).await.0, JobState::Dead);
    let stored = queue::report(&db.pool, &id).await.last_result.unwrap();
    assert_eq!(stored["Err"]["class"], "retryable", "the class is a field of the stored error: {stored}");
}

/// The trigger's parsing never raises (one error would fail apalis's whole
/// batch of results): text that is not an error object, or not a time, is NULL.
#[tokio::test]
async fn error_fields_that_do_not_parse_are_null_not_an_error() {
    let db = fresh_db().await;
    let row: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT ARRAY[job_error_fields('{\"class\": \"permanent\"}') ->> 'class', \
                    job_error_fields('{not json')::text, job_error_fields('{\"m\": \"\\u0000\"}')::text, \
                    job_error_time('2026-11-22T05:00:00.250Z')::text, job_error_time('soon')::text]",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let [fields, bad_json, nul, time, bad_time] = <[Option<String>; 5]>::try_from(row).unwrap();
    assert_eq!(fields.as_deref(), Some("permanent"));
    assert_eq!((bad_json, nul, bad_time), (None, None, None));
    assert!(time.is_some());
}

#[tokio::test]
async fn a_known_wait_reschedules_to_exactly_then_without_using_an_attempt() {
    let db = fresh_db().await;
    let _w = start(&db.pool, fast_config());
    let until = DateTime::parse_from_rfc3339(
        &(Utc::now() + ChronoDuration::seconds(2710)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
    .unwrap()
    .to_utc();
    let id = enqueue(&db.pool, &Defer { until }).await.unwrap().unwrap();

    queue::wait_for_attempts(&db.pool, 1, LIMIT).await;
    let (status, attempts, run_at) = row(&db.pool, &id).await;
    assert_eq!(status, JobState::Pending);
    assert_eq!(attempts, 0, "a known wait uses no attempt");
    assert_eq!(run_at, until, "rescheduled to exactly the wait's end");
    let a = queue::attempts(&db.pool, &id).await.remove(0);
    assert_eq!(
        (a.outcome.as_str(), a.error_class.as_deref(), a.message.as_deref()),
        ("deferred", Some("wait_until"), Some("rate limited"))
    );
}

#[tokio::test]
async fn a_permanent_error_kills_the_job_at_once() {
    let db = fresh_db().await;
    let _w = start(&db.pool, fast_config());
    let id = enqueue(&db.pool, &Forbidden).await.unwrap().unwrap();
    queue::wait_for_state(&db.pool, &id, JobState::Dead, LIMIT).await;
    let (class, message) = queue::only_attempt_error(&db.pool, &id).await;
    assert_eq!(class, "permanent");
    assert_eq!(message, "403: scope patients:read missing");
    assert_eq!(row(&db.pool, &id).await.1, 1, "one attempt, no retry storm");
}

//! `cargo xtask jobs cancel`: a pending or retrying job never runs again,
//! reads as cancelled, is not dead, and frees its dedup key; a job a worker
//! holds, or one that finished, is refused.

use integration_tests::db::fresh_db;
use integration_tests::operator::{ACTOR, actions, by_id, dead_metric, overview_state, refusal};
use integration_tests::queue;
use integration_tests::test_jobs::{Noop, fast_config, start};
use job_runner::ops::{self, JobFilter};
use job_runner::{JobState, enqueue};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

fn noop(tag: &str, key: Option<&str>) -> Noop {
    Noop { tag: tag.into(), key: key.map(Into::into) }
}

#[tokio::test]
async fn pending_and_retrying_jobs_are_cancelled_never_run_and_are_not_dead() {
    let db = fresh_db().await;
    let pending = enqueue(&db.pool, &noop("pending", None)).await.unwrap().unwrap();
    let retrying = enqueue(&db.pool, &noop("retrying", None)).await.unwrap().unwrap();
    job_runner::testing::force_state(&db.pool, &retrying, JobState::Retrying).await.unwrap();

    let report = ops::cancel(&db.pool, &by_id(&[&pending, &retrying], false)).await.unwrap();
    assert_eq!(report.done(), [pending.as_str(), retrying.as_str()]);
    assert!(!report.any_refused());

    for id in [&pending, &retrying] {
        assert_eq!(queue::report(&db.pool, id).await.state, JobState::Cancelled);
        assert_eq!(overview_state(&db.pool, id).await, "cancelled");
    }
    let listed = ops::list(&db.pool, &JobFilter::default(), Some("cancelled"), 10).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(ops::show(&db.pool, &pending).await.unwrap().unwrap().state, "cancelled");
    assert_eq!(dead_metric(&db.pool, "test_noop").await, 0.0, "no alert");
    let dead: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_jobs").fetch_one(&db.pool).await.unwrap();
    assert_eq!(dead, 0);

    // A runner started now runs what comes after, never the cancelled jobs.
    let w = start(&db.pool, fast_config());
    let later = enqueue(&db.pool, &noop("later", None)).await.unwrap().unwrap();
    queue::wait_for_state(&db.pool, &later, JobState::Done, LIMIT).await;
    assert_eq!(w.ctx.ran(), ["later"]);

    let rows = actions(&db.pool).await;
    assert_eq!(rows.len(), 1);
    let (action, actor, dry_run, job_ids, outcome, _) = &rows[0];
    assert_eq!((action.as_str(), actor.as_str(), *dry_run, job_ids.len()), ("cancel", ACTOR, false, 2));
    assert_eq!(outcome, "cancelled 2, refused 0, not found 0");
}

#[tokio::test]
async fn a_running_or_finished_job_is_refused_with_its_state_and_left_alone() {
    let db = fresh_db().await;
    let running = enqueue(&db.pool, &noop("running", None)).await.unwrap().unwrap();
    job_runner::testing::force_state(&db.pool, &running, JobState::Running).await.unwrap();
    let done = enqueue(&db.pool, &noop("done", None)).await.unwrap().unwrap();
    job_runner::testing::force_state(&db.pool, &done, JobState::Done).await.unwrap();
    let pending = enqueue(&db.pool, &noop("pending", None)).await.unwrap().unwrap();

    let dry = ops::cancel(&db.pool, &by_id(&[&pending], true)).await.unwrap();
    assert_eq!(dry.done(), [pending.as_str()]);
    assert_eq!(queue::report(&db.pool, &pending).await.state, JobState::Pending, "a dry run changes nothing");

    let report = ops::cancel(&db.pool, &by_id(&[&running, &done], false)).await.unwrap();
    assert!(report.done().is_empty());
    let why = refusal(&report, &running);
    assert!(why.contains("is running") && why.contains("never stopped midway"), "{why}");
    assert!(why.contains(&format!("cargo xtask jobs show {running}")), "says what to do: {why}");
    assert!(refusal(&report, &done).contains("is done"), "{}", refusal(&report, &done));
    assert_eq!(queue::report(&db.pool, &running).await.state, JobState::Running);
    assert_eq!(queue::report(&db.pool, &done).await.state, JobState::Done);

    let outcomes: Vec<(bool, String)> = actions(&db.pool).await.into_iter().map(|r| (r.2, r.4)).collect();
    assert_eq!(
        outcomes,
        [
            (true, "dry run: would have cancelled 1, refused 0, not found 0".to_string()),
            (false, "cancelled 0, refused 2 (running, done), not found 0".to_string()),
        ]
    );
}

#[tokio::test]
async fn a_cancelled_job_frees_its_key_for_the_next_enqueue() {
    let db = fresh_db().await;
    let first = enqueue(&db.pool, &noop("first", Some("patient:7"))).await.unwrap().unwrap();
    assert_eq!(enqueue(&db.pool, &noop("dup", Some("patient:7"))).await.unwrap(), None, "the key is held");
    assert_eq!(
        job_runner::queries::active_job_with_key(&db.pool, "test_noop", "patient:7").await.unwrap(),
        Some(first.clone())
    );

    ops::cancel(&db.pool, &by_id(&[&first], false)).await.unwrap();
    assert_eq!(job_runner::queries::active_job_with_key(&db.pool, "test_noop", "patient:7").await.unwrap(), None);
    let next = enqueue(&db.pool, &noop("next", Some("patient:7"))).await.unwrap();
    assert!(next.is_some(), "a cancelled job does not block the same work enqueued again");

    let w = start(&db.pool, fast_config());
    queue::wait_for_state(&db.pool, next.as_deref().unwrap(), JobState::Done, LIMIT).await;
    assert_eq!(w.ctx.ran(), ["next"]);
}

//! `cargo xtask jobs discard`: a dead job is set aside, kept with who, when
//! and why, and leaves every dead count; nothing else can be discarded.

use integration_tests::db::fresh_db;
use integration_tests::operator::{ACTOR, actions, by_id, dead_metric, overview_state, refusal};
use integration_tests::queue;
use integration_tests::test_jobs::Noop;
use job_runner::JobState;
use job_runner::ops::{self, JobFilter, RetryOutcome, RetryRequest, Verdict};

const QUEUE: &str = "test_forbidden";

async fn dead_jobs(pool: &sqlx::PgPool, n: usize) -> Vec<String> {
    let ids: Vec<String> = (0..n).map(|_| ulid::Ulid::generate().to_string()).collect();
    job_runner::testing::insert_dead(pool, QUEUE, &ids, 1).await.unwrap();
    ids
}

async fn retry(pool: &sqlx::PgPool, filter: JobFilter) -> RetryOutcome {
    let req = RetryRequest { filter, limit: None, dry_run: false, all: false, actor: ACTOR.into() };
    ops::retry_failed(pool, &req, |_| 3).await.unwrap().outcome
}

#[tokio::test]
async fn a_discarded_job_leaves_the_dead_count_the_metric_and_retry_failed_and_is_audited() {
    let db = fresh_db().await;
    let ids = dead_jobs(&db.pool, 2).await;
    assert_eq!(dead_metric(&db.pool, QUEUE).await, 2.0);

    let report =
        ops::discard(&db.pool, &by_id(&[&ids[0]], false), Some("upstream record deleted, ticket 42")).await.unwrap();
    assert_eq!(report.done(), [ids[0].as_str()]);

    assert_eq!(dead_metric(&db.pool, QUEUE).await, 1.0, "the metric alerts on the other one only");
    let dead: Vec<String> = sqlx::query_scalar("SELECT id FROM dead_jobs").fetch_all(&db.pool).await.unwrap();
    assert_eq!(dead, [ids[1].clone()]);
    let stats = ops::stats(&db.pool).await.unwrap();
    assert_eq!(stats.iter().find(|s| s.queue == QUEUE).unwrap().dead, 1);

    let shown = ops::show(&db.pool, &ids[0]).await.unwrap().expect("the row is kept");
    assert_eq!(shown.state, "discarded");
    assert_eq!(shown.discarded_by.as_deref(), Some(ACTOR));
    assert!(shown.discarded_at.is_some());
    assert_eq!(shown.discard_reason.as_deref(), Some("upstream record deleted, ticket 42"));

    let by_queue = JobFilter { queues: vec![QUEUE.into()], ..Default::default() };
    assert_eq!(
        retry(&db.pool, by_queue).await,
        RetryOutcome::Revived { revived: vec![ids[1].clone()], skipped: vec![] },
        "filters never revive a discarded job"
    );

    let rows = actions(&db.pool).await;
    let (action, actor, dry_run, job_ids, outcome, filters) = &rows[0];
    assert_eq!((action.as_str(), actor.as_str(), *dry_run), ("discard", ACTOR, false));
    assert_eq!(job_ids, &[ids[0].clone()]);
    assert_eq!(outcome, "discarded 1, refused 0, not found 0");
    assert_eq!(filters["reason_given"], true);
    assert!(!filters.to_string().contains("ticket"), "the reason stays in job_discards: {filters}");
}

#[tokio::test]
async fn only_a_dead_job_is_discarded_and_a_dry_run_changes_nothing() {
    let db = fresh_db().await;
    let dead = dead_jobs(&db.pool, 1).await.remove(0);
    let pending = job_runner::enqueue(&db.pool, &Noop { tag: "p".into(), key: None }).await.unwrap().unwrap();
    let done = job_runner::enqueue(&db.pool, &Noop { tag: "d".into(), key: None }).await.unwrap().unwrap();
    job_runner::testing::force_state(&db.pool, &done, JobState::Done).await.unwrap();

    let dry = ops::discard(&db.pool, &by_id(&[&dead], true), None).await.unwrap();
    assert_eq!(dry.done(), [dead.as_str()]);
    assert_eq!(queue::report(&db.pool, &dead).await.state, JobState::Dead, "a dry run changes nothing");

    let report = ops::discard(&db.pool, &by_id(&[&pending, &done, "no-such-job", &dead], false), None).await.unwrap();
    assert_eq!(report.done(), [dead.as_str()]);
    assert!(refusal(&report, &pending).contains("is pending, not dead"), "{}", refusal(&report, &pending));
    assert!(refusal(&report, &pending).contains("cargo xtask jobs cancel"));
    assert!(refusal(&report, &done).contains("is done"), "{}", refusal(&report, &done));
    assert_eq!(report.jobs.iter().find(|j| j.id == "no-such-job").unwrap().verdict, Verdict::NotFound);
    assert_eq!(queue::report(&db.pool, &pending).await.state, JobState::Pending);
    assert_eq!(overview_state(&db.pool, &dead).await, "discarded");

    let again = ops::discard(&db.pool, &by_id(&[&dead], false), None).await.unwrap();
    assert!(refusal(&again, &dead).contains("already discarded"));

    let rows = actions(&db.pool).await;
    let summary: Vec<(bool, usize, &str)> = rows.iter().map(|r| (r.2, r.3.len(), r.4.as_str())).collect();
    assert_eq!(
        summary,
        [
            (true, 1, "dry run: would have discarded 1, refused 0, not found 0"),
            (false, 1, "discarded 1, refused 2 (pending, done), not found 1"),
            (false, 0, "discarded 0, refused 1 (discarded), not found 0"),
        ],
        "every use is audited, dry runs and refusals too"
    );
}

#[tokio::test]
async fn a_discarded_job_is_revived_only_when_named_by_id() {
    let db = fresh_db().await;
    let id = dead_jobs(&db.pool, 1).await.remove(0);
    ops::discard(&db.pool, &by_id(&[&id], false), Some("duplicate")).await.unwrap();

    let every =
        RetryRequest { filter: JobFilter::default(), limit: None, dry_run: false, all: true, actor: ACTOR.into() };
    let swept = ops::retry_failed(&db.pool, &every, |_| 3).await.unwrap();
    assert_eq!(swept.outcome, RetryOutcome::NothingMatched, "no sweep revives it");

    let named = JobFilter { ids: vec![id.clone()], ..Default::default() };
    assert_eq!(retry(&db.pool, named).await, RetryOutcome::Revived { revived: vec![id.clone()], skipped: vec![] });
    let shown = ops::show(&db.pool, &id).await.unwrap().unwrap();
    assert_eq!((shown.state.as_str(), shown.discarded_by), ("pending", None), "revived, the mark is gone");
}

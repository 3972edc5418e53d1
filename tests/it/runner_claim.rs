//! A worker's claim (`job_claim`, one autocommit statement) commits without
//! waiting for its WAL flush, the largest part of the time from a job's
//! insert to its handler's start. A claim lost to a crash of Postgres
//! leaves the job as it was, and any later durable commit flushes it; the
//! rest of the system keeps its durable commits.

use integration_tests::db::fresh_db;

#[tokio::test]
async fn the_claim_transaction_alone_skips_the_flush_wait() {
    let db = fresh_db().await;
    let mut tx = db.pool.begin().await.unwrap();
    let claimed: i64 = sqlx::query_scalar("SELECT count(*) FROM job_claim('no-such-worker', 'no_such_queue', 1)")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(claimed, 0);
    let setting: String =
        sqlx::query_scalar("SELECT current_setting('synchronous_commit')").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(setting, "off", "the claim's commit waits for the disk");
    tx.commit().await.unwrap();

    let after: String =
        sqlx::query_scalar("SELECT current_setting('synchronous_commit')").fetch_one(&db.pool).await.unwrap();
    assert_eq!(after, "on", "the setting outlived the claim's transaction");
}

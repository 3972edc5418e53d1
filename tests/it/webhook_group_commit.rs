//! Group commit of DrChrono deliveries: deliveries that arrive while a
//! commit is under way are written together, each keeping the answer and
//! the inbox outcome it would get alone; a row the database refuses fails
//! only its own delivery.
//!
//! The app runs one commit at a time, and the test holds the identity lock
//! of a first delivery, so its commit waits; the deliveries sent meanwhile
//! queue (the `waiting` gauge counts them) and go in the next batch.

use futures::future::join_all;
use integration_tests::app::{TestApp, WEBHOOK_SECRET, spawn_app_configured};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use std::time::{Duration, Instant};

async fn app() -> TestApp {
    spawn_app_configured(false, 10, |s, _| s.limits.ingest_commits_in_flight = 1).await
}

/// Holds delivery `id`'s identity lock in a transaction of its own.
async fn hold(app: &TestApp, id: &str) -> PgConnection {
    let mut conn = PgConnection::connect(&app.db.url).await.unwrap();
    sqlx::raw_sql("BEGIN").execute(&mut conn).await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("drchrono:{id}"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn
}

/// Waits until `n` deliveries wait for their commit in this process.
async fn until_waiting(n: i64) {
    let start = Instant::now();
    while jobs::metrics::webhook_waiting_now() != n {
        let now = jobs::metrics::webhook_waiting_now();
        assert!(start.elapsed() < Duration::from_secs(30), "{now} deliveries waiting, not {n}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A delivery to send: (delivery id, event, object), or a raw body.
enum Send {
    Object(String, &'static str, Value),
    Raw(&'static str),
}

async fn send(app: &TestApp, s: Send) -> (u16, Value) {
    let resp = match s {
        Send::Object(id, event, object) => app.drchrono().send_with_delivery_id(event, &object, &id).await.unwrap(),
        Send::Raw(body) => app
            .http
            .post(app.url("/webhooks/drchrono"))
            .header("X-drchrono-signature", WEBHOOK_SECRET)
            .body(body)
            .send()
            .await
            .unwrap(),
    };
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// Sends the blocker (its commit waits on a held lock), then `batch` while
/// it waits; releases it once all of `batch` waits. The answers, in order.
async fn one_batch(app: &TestApp, batch: Vec<Send>) -> ((u16, Value), Vec<(u16, Value)>) {
    let mut held = hold(app, "blocker").await;
    let patient = app.sandbox.patient(app.sandbox.patient_ids()[9]).unwrap();
    let blocker = send(app, Send::Object("blocker".into(), "PATIENT_MODIFY", patient));
    let n = batch.len() as i64;
    let rest = async {
        until_waiting(1).await;
        let answers = join_all(batch.into_iter().map(|s| send(app, s)));
        let release = async {
            until_waiting(1 + n).await;
            sqlx::raw_sql("COMMIT").execute(&mut held).await.unwrap();
        };
        tokio::join!(answers, release).0
    };
    tokio::join!(blocker, rest)
}

/// The transactions that wrote the inbox rows other than the blocker's.
async fn writers(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(DISTINCT xmin::text) FROM webhook_deliveries WHERE delivery_id <> 'blocker'")
        .fetch_one(app.pool())
        .await
        .unwrap()
}

fn patient(app: &TestApp, i: usize) -> Value {
    app.sandbox.patient(app.sandbox.patient_ids()[i]).unwrap()
}

#[tokio::test]
async fn deliveries_arriving_during_a_commit_share_the_next_and_keep_their_own_answers() {
    let app = app().await;
    let fresh = |i: usize| Send::Object(format!("fresh-{i}"), "PATIENT_MODIFY", patient(&app, i));
    let batch = vec![
        fresh(0),
        fresh(1),
        fresh(2),
        Send::Object("copy".into(), "PATIENT_MODIFY", patient(&app, 3)),
        Send::Object("copy".into(), "PATIENT_MODIFY", patient(&app, 3)),
        Send::Object("same-version-a".into(), "PATIENT_MODIFY", patient(&app, 4)),
        Send::Object("same-version-b".into(), "PATIENT_MODIFY", patient(&app, 4)),
        Send::Object("ping".into(), "PING", json!({})),
        Send::Raw("not json"),
    ];
    let (blocker, answers) = one_batch(&app, batch).await;
    assert_eq!((blocker.0, blocker.1["outcome"].as_str()), (200, Some("accepted")));
    assert_eq!(writers(&app).await, 1, "the nine deliveries sent during the held commit share one transaction");

    for (i, (status, body)) in answers[..3].iter().enumerate() {
        assert_eq!((*status, body["outcome"].as_str()), (200, Some("accepted")), "fresh {i}: {body}");
        assert!(body["job_id"].is_string() && body["delivery_id"].is_i64(), "{body}");
    }
    for pair in [&answers[3..5], &answers[5..7]] {
        let mut outcomes: Vec<&str> = pair.iter().map(|a| a.1["outcome"].as_str().unwrap()).collect();
        outcomes.sort_unstable();
        assert_eq!(outcomes, ["accepted", "duplicate"], "{pair:?}");
        assert_eq!(pair[0].1["job_id"], pair[1].1["job_id"], "a copy points at the first's job");
        assert_ne!(pair[0].1["delivery_id"], pair[1].1["delivery_id"], "each has its own inbox row");
    }
    assert_eq!((answers[7].0, answers[7].1["outcome"].as_str()), (200, Some("ping")));
    assert_eq!(answers[7].1["job_id"], Value::Null);
    assert_eq!(answers[8].0, 400, "a malformed delivery is refused: {:?}", answers[8]);

    let reasons: Vec<(String, String, Option<String>, bool)> = sqlx::query_as(
        "SELECT delivery_id, outcome, reason, job_id IS NOT NULL FROM webhook_deliveries \
         WHERE delivery_id IN ('copy', 'same-version-a', 'same-version-b') ORDER BY id",
    )
    .fetch_all(app.pool())
    .await
    .unwrap();
    let copy: Vec<_> = reasons.iter().filter(|r| r.0 == "copy").map(|r| (r.1.as_str(), r.2.as_deref(), r.3)).collect();
    assert_eq!(copy, [("accepted", None, true), ("duplicate", Some("delivery id seen before"), true)]);
    let same: Vec<_> = reasons.iter().filter(|r| r.0 != "copy").map(|r| (r.1.as_str(), r.2.as_deref())).collect();
    assert_eq!(same, [("accepted", None), ("duplicate", None)], "the second version's job is the first's, by key");
    let malformed: (i64, Option<String>) =
        sqlx::query_as("SELECT count(*), max(reason) FROM webhook_deliveries WHERE outcome = 'malformed'")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(malformed, (1, Some("body is not a JSON object".into())));
}

#[tokio::test]
async fn a_copy_of_a_delivery_committed_before_is_a_duplicate_of_its_job() {
    let app = app().await;
    let first = send(&app, Send::Object("early".into(), "PATIENT_MODIFY", patient(&app, 0))).await;
    assert_eq!(first.1["outcome"], "accepted");
    let (_, answers) = one_batch(&app, vec![Send::Object("early".into(), "PATIENT_MODIFY", patient(&app, 0))]).await;
    assert_eq!((answers[0].0, answers[0].1["outcome"].as_str()), (200, Some("duplicate")));
    assert_eq!(answers[0].1["job_id"], first.1["job_id"]);
}

#[tokio::test]
async fn a_batch_with_one_unstorable_delivery_stores_the_others() {
    let app = app().await;
    // The database refuses one row, as it would a value it cannot store.
    sqlx::raw_sql(
        "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           IF NEW.delivery_id = 'poison' THEN RAISE EXCEPTION 'this row cannot be stored'; END IF; \
           RETURN NEW; END $$; \
         CREATE TRIGGER refuse_poison BEFORE INSERT ON webhook_deliveries \
           FOR EACH ROW EXECUTE FUNCTION refuse_poison();",
    )
    .execute(app.pool())
    .await
    .unwrap();
    let mut batch: Vec<Send> =
        (0..6).map(|i| Send::Object(format!("good-{i}"), "PATIENT_MODIFY", patient(&app, i))).collect();
    batch.insert(3, Send::Object("poison".into(), "PATIENT_MODIFY", patient(&app, 7)));
    let (_, answers) = one_batch(&app, batch).await;

    assert_eq!(answers[3].0, 500, "the refused delivery is not acknowledged: {:?}", answers[3]);
    let good: Vec<&(u16, Value)> = answers.iter().enumerate().filter(|(i, _)| *i != 3).map(|(_, a)| a).collect();
    assert!(good.iter().all(|a| a.0 == 200 && a.1["outcome"] == "accepted"), "{good:?}");
    let stored: Vec<(String, bool)> = sqlx::query_as(
        "SELECT delivery_id, job_id IS NOT NULL FROM webhook_deliveries WHERE delivery_id LIKE 'good-%' \
           OR delivery_id = 'poison' ORDER BY delivery_id",
    )
    .fetch_all(app.pool())
    .await
    .unwrap();
    let expected: Vec<(String, bool)> = (0..6).map(|i| (format!("good-{i}"), true)).collect();
    assert_eq!(stored, expected, "every other delivery is stored with its job; the refused one is not");
    let jobs =
        integration_tests::queue::count(app.pool(), Some("upsert_record"), &[job_runner::JobState::Pending]).await;
    assert_eq!(jobs, 7, "the blocker's job and the six good ones; none for the refused delivery");
}

#[tokio::test]
async fn a_batch_wakes_the_workers_once_per_queue_after_its_commit() {
    let app = app().await;
    let mut listener = sqlx::postgres::PgListener::connect(&app.db.url).await.unwrap();
    listener.listen("apalis::job::insert").await.unwrap();
    let batch = (0..5).map(|i| Send::Object(format!("wake-{i}"), "PATIENT_MODIFY", patient(&app, i))).collect();
    let (_, answers) = one_batch(&app, batch).await;
    assert!(answers.iter().all(|a| a.0 == 200));
    // The blocker's batch, then the five: one notification each, naming the queue.
    for _ in 0..2 {
        let note = tokio::time::timeout(Duration::from_secs(10), listener.recv()).await.expect("a wake-up").unwrap();
        assert_eq!(serde_json::from_str::<Value>(note.payload()).unwrap(), json!({"job_type": "upsert_record"}));
    }
    let more = tokio::time::timeout(Duration::from_millis(300), listener.recv()).await;
    assert!(more.is_err(), "one notification per transaction and queue, not one per job: {more:?}");
}

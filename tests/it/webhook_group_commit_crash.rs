//! No delivery answered 2xx is lost when the service dies right after
//! answering: a real service process (`service-http`) takes deliveries
//! from many senders at once, batched by its group commit, and is
//! SIGKILLed the moment a set number of 2xx answers have arrived. Every
//! delivery answered 2xx must then be in the inbox with its job.

use integration_tests::{app::WEBHOOK_SECRET, db::fresh_db};
use sandbox::{Kind, Sandbox, SandboxConfig, WebhookSender};
use std::{
    process::Stdio,
    sync::{Arc, Mutex},
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
    sync::Notify,
};

const SENDERS: usize = 16;
/// 2xx answers to collect before the kill.
const ANSWERED_BEFORE_KILL: usize = 300;

#[tokio::test]
async fn no_delivery_answered_2xx_by_a_batch_is_missing_after_the_service_is_killed() {
    let db = fresh_db().await;
    let sandbox = Sandbox::spawn(SandboxConfig { patients: 1, ..Default::default() }).await.unwrap();
    let template = sandbox.record(Kind::Patient, sandbox.ids(Kind::Patient)[0]).unwrap();
    let mut service = Command::new(env!("CARGO_BIN_EXE_service-http"))
        .arg(&db.url)
        .env("DRCHRONO_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("INGEST_COMMITS_IN_FLIGHT", "1")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("service-http starts");
    let stdout = service.stdout.take().unwrap();
    let addr = BufReader::new(stdout).lines().next_line().await.unwrap().expect("the service prints its address");
    let sender = Arc::new(WebhookSender::new(format!("http://{addr}/webhooks/drchrono"), WEBHOOK_SECRET));

    let answered: Arc<Mutex<Vec<String>>> = Arc::default();
    let enough = Arc::new(Notify::new());
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let (sender, answered, enough, template) =
                (sender.clone(), answered.clone(), enough.clone(), template.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    let mut patient = template.clone();
                    patient["id"] = (90_000_000 + s * 100_000 + n).into();
                    let id = format!("crash-{s}-{n}");
                    let Ok(answer) = sender.send_with_delivery_id("PATIENT_MODIFY", &patient, &id).await else {
                        return;
                    };
                    if answer.status().is_success() {
                        let mut answered = answered.lock().unwrap();
                        answered.push(id);
                        if answered.len() == ANSWERED_BEFORE_KILL {
                            enough.notify_one();
                        }
                    }
                }
            })
        })
        .collect();
    enough.notified().await;
    service.kill().await.expect("SIGKILL");
    for s in senders {
        s.await.unwrap();
    }

    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() >= ANSWERED_BEFORE_KILL);
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT delivery_id FROM webhook_deliveries WHERE delivery_id = ANY($1) AND outcome = 'accepted' \
         AND job_id IS NOT NULL",
    )
    .bind(&answered)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let missing: Vec<&String> = answered.iter().filter(|id| !stored.contains(id)).collect();
    assert!(missing.is_empty(), "{} deliveries answered 2xx are missing: {missing:?}", missing.len());
    let jobs = integration_tests::queue::count(&db.pool, Some("upsert_record"), &[job_runner::JobState::Pending]).await;
    assert!(jobs >= answered.len() as i64, "{jobs} jobs for {} answered deliveries", answered.len());
    let (rows, transactions): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT xmin::text) FROM webhook_deliveries")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(transactions < rows, "the deliveries were written in batches: {rows} rows in {transactions} transactions");
}

//! What is kept, and for how long: a rejected delivery keeps no body, and
//! `cleanup` applies the configured retention (`RETENTION_*`) table by
//! table, emptying PHI-bearing bodies while their rows stay, and says in
//! `sync_runs` what it pruned where.

use integration_tests::app::{ADMIN_TOKEN, TestApp, spawn_app};
use integration_tests::partner;
use job_runner::enqueue;
use sandbox::GridhookScheme;
use serde_json::{Value, json};
use sha2::Digest as _;
use sqlx::Connection as _;

async fn age(app: &TestApp, table: &str, days: i32) {
    let sql = format!("UPDATE {table} SET received_at = now() - make_interval(days => $1)");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(days).execute(app.pool()).await.unwrap();
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(app.pool()).await.unwrap()
}

#[tokio::test]
async fn a_rejected_delivery_keeps_its_size_and_hash_not_its_body() {
    let app = spawn_app().await;
    let body = serde_json::to_vec(&json!({ "object": { "first_name": "Quillon", "id": 1001 } })).unwrap();
    let resp = app
        .http
        .post(app.url("/webhooks/drchrono"))
        .header("X-drchrono-signature", "a-guess")
        .header("X-drchrono-event", "PATIENT_MODIFY")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let (stored, size, sha256): (Vec<u8>, Option<i32>, Option<String>) =
        sqlx::query_as("SELECT body, body_size, body_sha256 FROM webhook_deliveries WHERE outcome = 'rejected_auth'")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert!(stored.is_empty(), "no body kept for a delivery that proved nothing");
    assert_eq!(size, Some(body.len() as i32));
    let expected: String = sha2::Sha256::digest(&body).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(sha256, Some(expected));
}

#[tokio::test]
async fn cleanup_applies_the_configured_retention_and_reports_it_per_table() {
    let app = spawn_app().await;
    // A rejected delivery and a verified one, both eight days old.
    let bad = app.http.post(app.url("/webhooks/drchrono")).header("X-drchrono-signature", "x").body("{}");
    assert_eq!(bad.send().await.unwrap().status(), 401);
    let id = app.sandbox.patient_ids()[0];
    app.drchrono().send("PATIENT_MODIFY", &app.sandbox.patient(id).unwrap()).await.unwrap();
    // A write request, a partner event and a Deep Cura note, a year and more old.
    let doctor = app.sandbox.patient(id).unwrap()["doctor"].clone();
    let patient = json!({"doctor": doctor, "first_name": "Quillon", "last_name": "Larkspur", "gender": "Female", "date_of_birth": "1984-07-09"});
    let resp = app.http.post(app.url("/api/patients")).bearer_auth(ADMIN_TOKEN).json(&patient).send().await.unwrap();
    assert_eq!(resp.status(), 202, "{}", resp.text().await.unwrap_or_default());
    let visit = app.sandbox.ids(sandbox::Kind::Appointment)[0];
    let event = partner::event(&visit.to_string(), "appointment.updated", "2025-01-10T12:30:00Z");
    assert!(app.post_partner_raw(partner::FEED, serde_json::to_vec(&event).unwrap()).await.status().is_success());
    let gridhook = app.sandbox.gridhook_for(visit).unwrap();
    assert_eq!(app.deepcura(GridhookScheme::Sha256Iv).send(&gridhook).await.unwrap().status(), 200);
    app.drain_jobs_allowing_dead().await;
    age(&app, "webhook_deliveries", 8).await;
    for table in ["write_requests", "appointment_events", "deepcura_notes"] {
        age(&app, table, 400).await;
    }

    let retention = app.settings.retention.cleanup();
    assert_eq!((retention.rejected_days, retention.delivery_days, retention.deepcura_text_days), (7, 90, 365));
    enqueue(app.pool(), &retention).await.unwrap();
    app.drain_jobs_allowing_dead().await;

    assert_eq!(count(&app, "SELECT count(*) FROM webhook_deliveries WHERE NOT verified").await, 0, "rejected: 7 days");
    assert!(count(&app, "SELECT count(*) FROM webhook_deliveries WHERE verified").await >= 2, "verified: 90 days");
    let emptied = [
        "SELECT count(*) FROM write_requests WHERE body = '{}' AND body_pruned_at IS NOT NULL",
        "SELECT count(*) FROM appointment_events WHERE body = ''::bytea AND notes IS NULL AND body_pruned_at IS NOT NULL",
        "SELECT count(*) FROM deepcura_notes WHERE raw_sealed = ''::bytea AND text_pruned_at IS NOT NULL",
    ];
    for sql in emptied {
        assert_eq!(count(&app, sql).await, 1, "the row stays, its PHI goes: {sql}");
    }
    let pruned: Value =
        sqlx::query_scalar("SELECT pruned FROM sync_runs WHERE kind = 'cleanup'").fetch_one(app.pool()).await.unwrap();
    assert_eq!(pruned["webhook_deliveries.rejected"], 1);
    assert_eq!(pruned["webhook_deliveries"], 0);
    assert_eq!(pruned["write_requests.body"], 1);
    assert_eq!(pruned["appointment_events.body"], 1);
    assert_eq!(pruned["deepcura_notes.text"], 1);
}

/// `change_log` keeps who, what and when: the changed fields' names and a
/// keyed hash of each value. Values only in a session that asks for them
/// (AUDIT_VALUES), and cleanup empties those after their retention. A
/// session without the hash key (an operator's psql) logs names only.
#[tokio::test]
async fn the_audit_keeps_field_names_and_hashes_and_values_only_when_asked() {
    let app = spawn_app().await;
    let id = app.sandbox.patient_ids()[0];
    app.drchrono().send("PATIENT_MODIFY", &app.sandbox.patient(id).unwrap()).await.unwrap();
    app.drain_jobs().await;

    let mut with_values = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
    let key = jobs::drchrono::TokenKey::from_bytes(integration_tests::app::TEST_TOKEN_KEY).derive("change_log");
    sqlx::query("SELECT set_config('drchrono_sync.audit_key', $1, false), set_config('drchrono_sync.audit_values', 'on', false)")
        .bind(key.iter().map(|b| format!("{b:02x}")).collect::<String>())
        .execute(&mut with_values)
        .await
        .unwrap();
    sqlx::query("UPDATE patients SET city = 'Salem', synced_by = 'operator:test' WHERE id = $1")
        .bind(id)
        .execute(&mut with_values)
        .await
        .unwrap();
    let mut without_key = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
    sqlx::query("UPDATE patients SET city = 'Eugene', synced_by = 'operator:psql' WHERE id = $1")
        .bind(id)
        .execute(&mut without_key)
        .await
        .unwrap();

    type Entry = (String, Vec<String>, Option<Value>, Option<Value>);
    let entries: Vec<Entry> = sqlx::query_as(
        "SELECT actor, changed_fields, new_hashes, new_values FROM change_log WHERE record_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(app.pool())
    .await
    .unwrap();
    let [first, asked, psql] = &entries[..] else { panic!("three changes: {entries:?}") };
    assert!(first.2.is_some() && first.3.is_none(), "the service's own writes: hashes, no values");
    assert_eq!(asked.1, ["city", "synced_by"]);
    assert_eq!(asked.3.as_ref().map(|v| v["city"].clone()), Some(json!("Salem")), "values when asked");
    assert_eq!(psql.1, ["city", "synced_by"]);
    assert_eq!(psql.2.as_ref().map(|h| h["city"].clone()), Some(Value::Null), "no key, no hash");
    let timeline: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM record_timeline WHERE source = 'change' AND record_id = $1 ORDER BY at")
            .bind(id)
            .fetch_all(app.pool())
            .await
            .unwrap();
    assert_eq!(timeline.last().map(String::as_str), Some("fields: city"), "{timeline:?}");

    sqlx::query("UPDATE change_log SET at = now() - interval '31 days'").execute(app.pool()).await.unwrap();
    enqueue(app.pool(), &app.settings.retention.cleanup()).await.unwrap();
    app.drain_jobs().await;
    let kept: i64 = count(&app, "SELECT count(*) FROM change_log WHERE new_values IS NOT NULL").await;
    assert_eq!(kept, 0, "values go after RETENTION_AUDIT_VALUES_DAYS (30); the entries stay");
    assert_eq!(count(&app, "SELECT count(*) FROM change_log").await, 3);
}

/// Reads of PHI-bearing endpoints are audited: who, what, how many records.
#[tokio::test]
async fn admin_reads_of_phi_leave_an_audit_row_with_their_count() {
    let app = spawn_app().await;
    let visit = app.sandbox.ids(sandbox::Kind::Appointment)[0];
    let event = partner::event(&visit.to_string(), "appointment.updated", "2025-01-10T12:30:00Z");
    assert!(app.post_partner_raw(partner::FEED, serde_json::to_vec(&event).unwrap()).await.status().is_success());
    app.admin_get("/events").await;
    app.admin_get("/admin/deepcura/unlinked").await;
    let missing = app.http.get(app.url("/api/jobs/no-such-job")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let rows: Vec<(String, String, i32)> =
        sqlx::query_as("SELECT actor, what, records FROM read_audit ORDER BY id").fetch_all(app.pool()).await.unwrap();
    let expected = [
        ("api:admin", "GET /events", 1),
        ("api:admin", "GET /admin/deepcura/unlinked", 0),
        ("api:admin", "GET /api/jobs/{id}", 0),
    ];
    let rows: Vec<(&str, &str, i32)> = rows.iter().map(|(a, w, n)| (a.as_str(), w.as_str(), *n)).collect();
    assert_eq!(rows, expected);
}

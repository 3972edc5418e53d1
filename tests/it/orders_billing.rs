//! Lab orders, lab results, tasks and billing line items: their events land
//! typed columns with no call, a stale version never wins, a delete marks
//! the row, and the reconciliation walks level drift at the fewest calls.

use integration_tests::app::{TestApp, spawn_app_with};
use job_runner::enqueue;
use jobs::{catalog::SyncRecords, domain::RecordKind};
use sandbox::Kind;
use serde_json::Value;

/// The kinds with events, each with its modify event and sandbox kind.
const EVENTED: [(RecordKind, Kind, &str); 3] = [
    (RecordKind::LabOrder, Kind::LabOrder, "LAB_ORDER"),
    (RecordKind::Task, Kind::Task, "TASK"),
    (RecordKind::LineItem, Kind::LineItem, "LINE_ITEM"),
];

async fn raw_of(app: &TestApp, kind: RecordKind, id: i64) -> Option<Value> {
    let sql = format!("SELECT raw FROM {} WHERE id = $1", kind.table());
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(app.pool()).await.unwrap()
}

async fn walk(app: &TestApp, job: SyncRecords) {
    enqueue(app.pool(), &job).await.unwrap().expect("enqueued");
    app.drain_jobs().await;
}

/// The walk the hourly `sync_orders` schedule makes: from the kind's cursor.
fn incremental(kind: RecordKind) -> SyncRecords {
    SyncRecords { cursor: Some(kind.table().into()), ..SyncRecords::all(kind) }
}

/// The walk the nightly `sync_orders_full` schedule makes.
fn whole(kind: RecordKind) -> SyncRecords {
    SyncRecords { full: true, ..incremental(kind) }
}

#[tokio::test]
async fn events_land_typed_columns_with_no_call() {
    let app = spawn_app_with(true, 30).await;
    app.sandbox.reset_counters();
    let task = app.sandbox.record(Kind::Task, app.sandbox.ids(Kind::Task)[0]).unwrap();
    let item = app.sandbox.record(Kind::LineItem, app.sandbox.ids(Kind::LineItem)[0]).unwrap();
    let order = app.sandbox.record(Kind::LabOrder, app.sandbox.ids(Kind::LabOrder)[0]).unwrap();
    for (event, object) in [("TASK_CREATE", &task), ("LINE_ITEM_CREATE", &item), ("LAB_ORDER_CREATE", &order)] {
        assert_eq!(app.drchrono().send(event, object).await.unwrap().status(), 200, "{event}");
    }
    app.drain_jobs().await;
    assert_eq!(app.sandbox.calls(), 0, "deliveries carry the whole record");

    let (patient, status, category, assignee, due): (i64, i64, i64, i64, String) = sqlx::query_as(
        "SELECT patient_id, status_id, category_id, assignee_user_id, \
                to_char(due_at AT TIME ZONE $2, 'YYYY-MM-DD\"T\"HH24:MI:SS') FROM tasks WHERE id = $1",
    )
    .bind(task["id"].as_i64())
    .bind(jobs::context::DEFAULT_PRACTICE_TIMEZONE)
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(patient, task["associated_items"][0]["value"].as_i64().unwrap());
    assert_eq!((status, category), (task["status"].as_i64().unwrap(), task["category"].as_i64().unwrap()));
    assert_eq!(assignee.to_string(), task["assignee_user"].as_str().unwrap());
    assert_eq!(due, task["due_date"]["time"].as_str().unwrap(), "the due time, read in the practice zone");

    let (price, paid, balance, patient, code): (String, String, String, i64, String) = sqlx::query_as(
        "SELECT price::text, paid_total::text, balance_total::text, patient_id, code FROM line_items WHERE id = $1",
    )
    .bind(item["id"].as_i64())
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(price.parse::<f64>().unwrap(), item["price"].as_f64().unwrap());
    assert_eq!(paid, item["paid_total"].as_str().unwrap(), "a string amount is kept to the cent");
    assert_eq!(balance, item["balance_total"].as_str().unwrap());
    assert_eq!(patient.to_string(), item["patient"].as_str().unwrap(), "a string patient id is an id");
    assert_eq!(code, item["code"].as_str().unwrap());

    let (patient, status, codes): (i64, String, Vec<String>) =
        sqlx::query_as("SELECT patient_id, status, icd10_codes FROM lab_orders WHERE id = $1")
            .bind(order["id"].as_i64())
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(patient, order["patient"].as_i64().unwrap());
    assert_eq!(status, order["status"].as_str().unwrap());
    let sent: Vec<&str> = order["icd10_codes"].as_array().unwrap().iter().filter_map(|c| c["code"].as_str()).collect();
    assert_eq!(codes, sent);
}

#[tokio::test]
async fn a_stale_version_never_wins() {
    let app = spawn_app_with(true, 30).await;
    for (kind, sandbox_kind, prefix) in EVENTED {
        let id = app.sandbox.ids(sandbox_kind)[0];
        let old = app.sandbox.record(sandbox_kind, id).unwrap();
        let new = app.sandbox.modify(sandbox_kind, id, |r| {
            r.insert("archived".into(), true.into());
        });
        let new = new.unwrap();
        app.drchrono().send(&format!("{prefix}_MODIFY"), &new).await.unwrap();
        app.drain_jobs().await;
        app.drchrono().send(&format!("{prefix}_MODIFY"), &old).await.unwrap();
        app.drain_jobs().await;
        assert_eq!(raw_of(&app, kind, id).await.as_ref(), Some(&new), "{prefix}: the older version arrived last");
    }
}

#[tokio::test]
async fn a_delete_event_marks_the_row_deleted_and_the_full_walk_removed() {
    let app = spawn_app_with(true, 30).await;
    for (kind, sandbox_kind, prefix) in EVENTED {
        let id = app.sandbox.ids(sandbox_kind)[0];
        let object = app.sandbox.record(sandbox_kind, id).unwrap();
        app.drchrono().send(&format!("{prefix}_CREATE"), &object).await.unwrap();
        app.drain_jobs().await;
        let removed = app.sandbox.remove(sandbox_kind, id).unwrap();
        app.drchrono().send(&format!("{prefix}_DELETE"), &removed).await.unwrap();
        app.drain_jobs().await;
        let sql = format!("SELECT deleted, removed_at IS NOT NULL FROM {} WHERE id = $1", kind.table());
        let marks: (bool, bool) =
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_one(app.pool()).await.unwrap();
        assert_eq!(marks, (true, false), "{prefix}_DELETE keeps the row, marked deleted");
        walk(&app, whole(kind)).await;
        let marks: (bool, bool) =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(app.pool()).await.unwrap();
        assert_eq!(marks, (true, true), "{prefix}: the nightly walk no longer lists it");
    }
}

#[tokio::test]
async fn a_deleted_transaction_refetches_its_line_item_once() {
    let app = spawn_app_with(true, 10).await;
    let id = app.sandbox.ids(Kind::LineItem)[0];
    let paid = app.sandbox.modify(Kind::LineItem, id, |r| {
        r.insert("paid_total".into(), "0.00".into());
    });
    app.sandbox.reset_counters();
    let transaction = app.sandbox.delivery_object("LINE_ITEM_TRANSACTION_DELETE");
    assert_eq!(transaction["line_item"].as_i64(), Some(id));
    app.drchrono().send("LINE_ITEM_TRANSACTION_DELETE", &transaction).await.unwrap();
    app.drain_jobs().await;
    assert_eq!(app.sandbox.calls(), 1);
    assert_eq!(raw_of(&app, RecordKind::LineItem, id).await, paid);
}

#[tokio::test]
async fn a_drift_pass_levels_the_tables_at_the_fewest_calls() {
    let app = spawn_app_with(true, 40).await;
    let all = [
        (RecordKind::LabOrder, Kind::LabOrder),
        (RecordKind::LabResult, Kind::LabResult),
        (RecordKind::PatientLabResult, Kind::PatientLabResult),
        (RecordKind::Task, Kind::Task),
        (RecordKind::LineItem, Kind::LineItem),
    ];
    app.sandbox.reset_counters();
    for (kind, _) in all {
        walk(&app, whole(kind)).await;
    }
    for (kind, sandbox_kind) in all {
        let pages = (app.sandbox.ids(sandbox_kind).len() as u64).div_ceil(250).max(1);
        assert_eq!(app.sandbox.calls_to(sandbox_kind.path()), pages, "{kind:?}: one call a page of 250");
        let sql = format!("SELECT count(*) FROM {}", kind.table());
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(app.pool()).await.unwrap();
        assert_eq!(n as usize, app.sandbox.ids(sandbox_kind).len(), "{kind:?}");
    }

    // Drift no webhook told of: a task closed, a line item repriced.
    let task = app.sandbox.ids(Kind::Task)[1];
    let closed = app.sandbox.modify(Kind::Task, task, |r| {
        r.insert("status".into(), 5399.into());
    });
    let item = app.sandbox.ids(Kind::LineItem)[2];
    let repriced = app.sandbox.modify(Kind::LineItem, item, |r| {
        r.insert("price".into(), 99.99.into());
    });
    let since_capable: Vec<RecordKind> = all.iter().map(|(k, _)| *k).filter(|k| k.takes_since()).collect();
    assert_eq!(since_capable.len(), 4, "all but lab results take since");
    app.sandbox.reset_counters();
    for kind in &since_capable {
        walk(&app, incremental(*kind)).await;
    }
    assert_eq!(app.sandbox.calls(), 4, "one call per list that takes since");
    assert_eq!(raw_of(&app, RecordKind::Task, task).await, closed);
    assert_eq!(raw_of(&app, RecordKind::LineItem, item).await, repriced);
    let price: String = sqlx::query_scalar("SELECT price::text FROM line_items WHERE id = $1")
        .bind(item)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(price, "99.99");

    app.sandbox.reset_counters();
    for kind in &since_capable {
        walk(&app, incremental(*kind)).await;
    }
    assert_eq!(app.sandbox.calls(), 4, "a second pass finds nothing and still costs one call per list");
}

#[tokio::test]
async fn lab_results_name_their_order_patient_doctor_loinc_and_flags() {
    let app = spawn_app_with(true, 30).await;
    walk(&app, whole(RecordKind::LabOrder)).await;
    walk(&app, whole(RecordKind::LabResult)).await;
    let ids = app.sandbox.ids(Kind::LabResult);
    assert!(!ids.is_empty(), "the practice has results");
    for id in ids {
        let sent = app.sandbox.record(Kind::LabResult, id).unwrap();
        let order_id: i64 = sent["lab_order"].as_str().unwrap().parse().unwrap();
        let order = app.sandbox.record(Kind::LabOrder, order_id).unwrap();
        let row: (i64, i64, i64, String, String, bool) = sqlx::query_as(
            "SELECT lab_order_id, patient_id, doctor_id, loinc_code, abnormal_flag, is_abnormal \
             FROM lab_result_details WHERE id = $1",
        )
        .bind(id)
        .fetch_one(app.pool())
        .await
        .unwrap();
        assert_eq!(
            (row.0, row.1, row.2),
            (order_id, order["patient"].as_i64().unwrap(), order["doctor"].as_i64().unwrap())
        );
        assert_eq!(row.3, sent["observation_code"].as_str().unwrap());
        assert_eq!(row.4, sent["abnormal_status"].as_str().unwrap());
        assert_eq!(row.5, sent["is_abnormal"] == "True", "result {id}");
    }
}

#[tokio::test]
async fn chart_lab_results_land_their_patient_loinc_value_and_flag() {
    let app = spawn_app_with(true, 30).await;
    walk(&app, incremental(RecordKind::PatientLabResult)).await;
    let ids = app.sandbox.ids(Kind::PatientLabResult);
    assert!(!ids.is_empty(), "the practice has chart results");
    for id in ids {
        let sent = app.sandbox.record(Kind::PatientLabResult, id).unwrap();
        let row: (i64, i64, String, String, f64, String) = sqlx::query_as(
            "SELECT patient_id, ordering_doctor_id, loinc_code, abnormal_flag, value_numeric::float8, \
                    performed_on::text FROM patient_lab_results WHERE id = $1",
        )
        .bind(id)
        .fetch_one(app.pool())
        .await
        .unwrap();
        assert_eq!((row.0, row.1), (sent["patient"].as_i64().unwrap(), sent["ordering_doctor"].as_i64().unwrap()));
        assert_eq!(row.2, sent["loinc_code"].as_str().unwrap());
        assert_eq!(row.3, sent["lab_abnormal_flag"].as_str().unwrap());
        assert_eq!(row.4, sent["lab_result_value_as_float"].as_f64().unwrap());
        assert_eq!(row.5, sent["date_test_performed"].as_str().unwrap());
    }
}

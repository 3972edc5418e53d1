//! `patient_insurances`: the coverage of the verbose patient as rows, one per
//! patient and rank, levelled in the patient upsert. A plain object (a
//! webhook, a plain list) carries no coverage and leaves it as it was; a
//! stale object changes nothing; a blanked rank is removed.

use integration_tests::{app::spawn_app_with, db::fresh_db};
use job_runner::enqueue;
use jobs::{
    catalog::SyncRecords,
    domain::{Locale, PhoneCountry, RecordKind, upsert_batch},
};
use serde_json::{Value, json};
use sqlx::PgPool;

const NEW_YORK: Locale<'static> = Locale { time_zone: "America/New_York", phone_country: PhoneCountry::US };

/// (patient, rank, payer id, payer, plan, member id, group number), by patient and rank.
type Coverage = (i64, i16, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);

async fn coverage(pool: &PgPool) -> Vec<Coverage> {
    sqlx::query_as(
        "SELECT patient_id, rank, payer_id, payer_name, plan_name, member_id, group_number \
         FROM patient_insurances ORDER BY patient_id, rank",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

fn block(payer_id: &str, payer: &str, member: &str) -> Value {
    json!({"insurance_payer_id": payer_id, "insurance_company": payer, "insurance_plan_name": "Gold",
           "insurance_plan_type": "CI", "insurance_id_number": member, "insurance_group_number": "G1",
           "insurance_group_name": "Acme", "is_subscriber_the_patient": false,
           "patient_relationship_to_subscriber": "01", "subscriber_first_name": "Ann"})
}

fn blank() -> Value {
    json!({"insurance_payer_id": "", "insurance_company": "", "insurance_plan_name": "",
           "insurance_id_number": "", "insurance_group_number": ""})
}

fn patient(updated_at: &str, insurance: Option<(Value, Value)>) -> Value {
    let mut p = json!({"id": 41, "first_name": "Ana", "last_name": "Ruiz", "updated_at": updated_at});
    if let Some((primary, secondary)) = insurance {
        p["primary_insurance"] = primary;
        p["secondary_insurance"] = secondary;
        p["tertiary_insurance"] = blank();
    }
    p
}

async fn upsert(pool: &PgPool, object: Value) {
    upsert_batch(pool, RecordKind::Patient, &[object], "test", &NEW_YORK).await.unwrap();
}

fn row(rank: i16, payer_id: &str, payer: &str, member: &str) -> Coverage {
    let s = |v: &str| Some(v.to_string());
    (41, rank, s(payer_id), s(payer), s("Gold"), s(member), s("G1"))
}

#[tokio::test]
async fn a_verbose_patient_lands_one_row_per_rank_with_coverage() {
    let db = fresh_db().await;
    upsert(
        &db.pool,
        patient("2026-01-01T00:00:00", Some((block("P1", "Payer One", "M1"), block("P2", "Payer Two", "M2")))),
    )
    .await;
    assert_eq!(coverage(&db.pool).await, [row(1, "P1", "Payer One", "M1"), row(2, "P2", "Payer Two", "M2")]);
    let (subscriber, relationship, plan_type): (Option<bool>, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT subscriber_is_patient, relationship_to_subscriber, plan_type FROM patient_insurances WHERE rank = 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((subscriber, relationship.as_deref(), plan_type.as_deref()), (Some(false), Some("01"), Some("CI")));
}

#[tokio::test]
async fn a_plain_object_keeps_the_coverage_and_a_stale_one_changes_nothing() {
    let db = fresh_db().await;
    let insured = Some((block("P1", "Payer One", "M1"), block("P2", "Payer Two", "M2")));
    upsert(&db.pool, patient("2026-01-02T00:00:00", insured)).await;
    let before = coverage(&db.pool).await;

    let mut plain = patient("2026-01-03T00:00:00", None);
    plain["first_name"] = "Anna".into();
    upsert(&db.pool, plain).await;
    assert_eq!(coverage(&db.pool).await, before, "a plain object carries no coverage: the stored one stays");

    let stale = Some((block("P9", "Old Payer", "M9"), blank()));
    upsert(&db.pool, patient("2026-01-01T00:00:00", stale)).await;
    assert_eq!(coverage(&db.pool).await, before, "an older version never wins");
}

#[tokio::test]
async fn a_changed_primary_is_updated_and_a_blanked_secondary_removed() {
    let db = fresh_db().await;
    upsert(
        &db.pool,
        patient("2026-01-01T00:00:00", Some((block("P1", "Payer One", "M1"), block("P2", "Payer Two", "M2")))),
    )
    .await;
    upsert(&db.pool, patient("2026-02-01T00:00:00", Some((block("P3", "Payer Three", "M3"), blank())))).await;
    assert_eq!(coverage(&db.pool).await, [row(1, "P3", "Payer Three", "M3")]);

    let mut gone = patient("2026-03-01T00:00:00", Some((blank(), blank())));
    gone["primary_insurance"] = Value::Null;
    upsert(&db.pool, gone).await;
    assert!(coverage(&db.pool).await.is_empty(), "no coverage at any rank: no rows");
}

#[tokio::test]
async fn a_whole_patient_walk_brings_every_coverage_without_extra_calls() {
    let app = spawn_app_with(true, 12).await;
    app.sandbox.reset_counters();
    enqueue(app.pool(), &SyncRecords::all(RecordKind::Patient)).await.unwrap().expect("enqueued");
    app.drain_jobs().await;
    let ids = app.sandbox.patient_ids();
    let secondary = ids.iter().filter(|id| *id % 3 == 0).count() as i64;
    let by_rank: Vec<(i16, i64)> =
        sqlx::query_as("SELECT rank, count(*) FROM patient_insurances GROUP BY rank ORDER BY rank")
            .fetch_all(app.pool())
            .await
            .unwrap();
    let mut want = vec![(1, ids.len() as i64)];
    if secondary > 0 {
        want.push((2, secondary));
    }
    assert_eq!(by_rank, want, "every patient's primary, every third one's secondary, no blank tertiary");
    let unmatched: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM patient_insurances i JOIN patients p ON p.id = i.patient_id \
         WHERE i.member_id IS DISTINCT FROM p.raw->'primary_insurance'->>'insurance_id_number' AND i.rank = 1",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(unmatched, 0, "the member id column is the block's insurance_id_number");
    assert_eq!(
        app.sandbox.calls_to("/api/patients_list"),
        3,
        "the batch's POST, one poll, one page: no call for coverage"
    );
}

//! The normalized columns, table-driven, through the one upsert every
//! writer uses (`upsert_batch`), on a real database. Phone parsing has its own
//! table in `jobs::domain::mapping`.

use integration_tests::db::fresh_db;
use jobs::domain::{Locale, PhoneCountry, RecordKind, upsert_batch};
use serde_json::{Value, json};

const NEW_YORK: Locale<'static> = Locale { time_zone: "America/New_York", phone_country: PhoneCountry::US };

/// (scheduled_time, duration, zone, start_utc, end_utc), UTC as RFC 3339.
const TIMES: &[(&str, i64, &str, &str, &str)] = &[
    ("2026-01-15T09:00:00", 30, "America/New_York", "2026-01-15T14:00:00Z", "2026-01-15T14:30:00Z"),
    ("2026-07-15T09:00:00", 45, "America/New_York", "2026-07-15T13:00:00Z", "2026-07-15T13:45:00Z"),
    ("2026-07-15 09:00:00", 45, "America/New_York", "2026-07-15T13:00:00Z", "2026-07-15T13:45:00Z"),
    // Spring forward: 01:30 EST, then 02:00 becomes 03:00; a 60-minute visit ends 03:30 EDT.
    ("2026-03-08T01:30:00", 60, "America/New_York", "2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z"),
    ("2026-03-08T03:00:00", 30, "America/New_York", "2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z"),
    // 02:30 does not exist that day: read with the offset before the gap (EST), as 03:30 EDT.
    ("2026-03-08T02:30:00", 30, "America/New_York", "2026-03-08T07:30:00Z", "2026-03-08T08:00:00Z"),
    // Fall back: 01:30 happens twice; Postgres takes the later (EST) one.
    ("2026-11-01T01:30:00", 60, "America/New_York", "2026-11-01T06:30:00Z", "2026-11-01T07:30:00Z"),
    ("2026-11-01T00:30:00", 120, "America/New_York", "2026-11-01T04:30:00Z", "2026-11-01T06:30:00Z"),
    // Another zone, and one without DST.
    ("2026-10-25T01:30:00", 60, "Europe/London", "2026-10-25T01:30:00Z", "2026-10-25T02:30:00Z"),
    ("2026-03-08T02:30:00", 30, "America/Phoenix", "2026-03-08T09:30:00Z", "2026-03-08T10:00:00Z"),
    // An explicit offset wins over the zone.
    ("2026-03-08T02:30:00-05:00", 15, "America/New_York", "2026-03-08T07:30:00Z", "2026-03-08T07:45:00Z"),
];

#[tokio::test]
async fn appointment_times_are_utc_across_daylight_saving_edges() {
    let db = fresh_db().await;
    for (i, (scheduled, duration, zone, start, end)) in TIMES.iter().enumerate() {
        let id = 9000 + i as i64;
        let object = json!({"id": id.to_string(), "patient": 1, "doctor": 2, "scheduled_time": scheduled,
                            "duration": duration, "updated_at": "2026-01-01T00:00:00"});
        let locale = Locale { time_zone: zone, phone_country: PhoneCountry::US };
        upsert_batch(&db.pool, RecordKind::Appointment, &[object], "test", &locale).await.unwrap();
        let (got_start, got_end): (String, String) = sqlx::query_as(
            "SELECT to_char(start_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
                    to_char(end_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
             FROM appointments WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!((got_start.as_str(), got_end.as_str()), (*start, *end), "{scheduled} {zone}");
    }
}

/// (DrChrono field, value) → (column, expected). Each row is one patient.
const PATIENT_FIELDS: &[(&str, &str, &str, Option<&str>)] = &[
    ("gender", "Male", "gender_code", Some("M")),
    ("gender", "female", "gender_code", Some("F")),
    ("gender", "Other", "gender_code", Some("O")),
    ("gender", "UNK", "gender_code", Some("U")),
    ("gender", "", "gender_code", Some("U")),
    ("gender", "nonsense", "gender_code", Some("U")),
    ("address", "12 Maple St", "address_line1", Some("12 Maple St")),
    ("address", "12 Maple St\nApt 4\nRear", "address_line1", Some("12 Maple St")),
    ("address", "12 Maple St\nApt 4\r\nRear", "address_line2", Some("Apt 4, Rear")),
    ("address", "  ", "address_line1", None),
    ("state", " il ", "state", Some("IL")),
    ("zip_code", "62704-1234", "postal_code", Some("62704-1234")),
    ("city", "Springfield", "city", Some("Springfield")),
    ("preferred_language", "eng", "preferred_language_label", Some("English")),
    ("preferred_language", "SPA", "preferred_language_code", Some("spa")),
    ("preferred_language", "blank", "preferred_language_code", None),
    ("preferred_language", "xqz", "preferred_language_label", None),
    ("race", "hawaiian", "race_label", Some("Native Hawaiian or Other Pacific Islander")),
    ("race", "declined", "race_code", Some("declined")),
    ("ethnicity", "not_hispanic", "ethnicity_label", Some("Not Hispanic or Latino")),
    ("cell_phone", "(217) 555-0123", "phone_mobile_e164", Some("+12175550123")),
    ("home_phone", "217 555 0199", "phone_home_e164", Some("+12175550199")),
    ("home_phone", "555-01", "phone_home_e164", None),
];

#[tokio::test]
async fn patient_fields_map_to_their_normalized_columns() {
    let db = fresh_db().await;
    for (i, (field, value, column, expected)) in PATIENT_FIELDS.iter().enumerate() {
        let id = 5000 + i as i64;
        let mut object = json!({"id": id, "updated_at": "2026-01-01T00:00:00"});
        object[*field] = Value::from(*value);
        upsert_batch(&db.pool, RecordKind::Patient, &[object], "test", &NEW_YORK).await.unwrap();
        let sql = format!("SELECT {column}::text FROM patients WHERE id = $1");
        let got: Option<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&db.pool).await.unwrap();
        assert_eq!(got.as_deref(), *expected, "{field} = {value:?} → {column}");
    }
}

#[tokio::test]
async fn apartment_is_the_second_address_line() {
    let db = fresh_db().await;
    let object = json!({"id": 7, "address": "12 Maple St\nRear", "apartment": "Apt 4"});
    upsert_batch(&db.pool, RecordKind::Patient, &[object], "test", &NEW_YORK).await.unwrap();
    let lines: (String, String) = sqlx::query_as("SELECT address_line1, address_line2 FROM patients WHERE id = 7")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(lines, ("12 Maple St".into(), "Apt 4".into()));
}

#[tokio::test]
async fn unparseable_phones_stay_null_and_are_counted_where_operators_look() {
    let db = fresh_db().await;
    let objects = [
        json!({"id": 1, "home_phone": "12", "cell_phone": "call me"}),
        json!({"id": 2, "home_phone": "", "cell_phone": "(217) 555-0123", "gender": "robot"}),
    ];
    let counts = upsert_batch(&db.pool, RecordKind::Patient, &objects, "test", &NEW_YORK).await.unwrap().counts;
    assert_eq!(counts.phones_unparsed, 2);
    let row: (Option<String>, Option<String>, i16) =
        sqlx::query_as("SELECT phone_home_e164, phone_mobile_e164, phones_unparsed FROM patients WHERE id = 1")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(row, (None, None, 2));
    let gaps: Vec<(String, i64, Option<Vec<i64>>)> =
        sqlx::query_as("SELECT rule, patients, patient_ids FROM mapping_gaps WHERE patients > 0 ORDER BY rule")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        gaps,
        vec![("gender not recognised".into(), 1, Some(vec![2])), ("phone not parseable".into(), 1, Some(vec![1])),]
    );
}

#[tokio::test]
async fn the_default_country_reads_national_numbers() {
    let db = fresh_db().await;
    let london = Locale { time_zone: "Europe/London", phone_country: "GB".parse().unwrap() };
    let object = json!({"id": 3, "cell_phone": "020 7946 0018", "home_phone": "+1 217 555 0123"});
    upsert_batch(&db.pool, RecordKind::Patient, &[object], "test", &london).await.unwrap();
    let phones: (String, String) =
        sqlx::query_as("SELECT phone_mobile_e164, phone_home_e164 FROM patients WHERE id = 3")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(phones, ("+442079460018".into(), "+12175550123".into()));
}

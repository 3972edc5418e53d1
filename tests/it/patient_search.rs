//! `GET /api/patients/search`: patients found in the mirror by name (accent-
//! and case-blind, by prefix, despite a typo), birth date or phone, ranked
//! and paged, answering only what identifies a patient, audited per search,
//! and never calling DrChrono.

use std::collections::BTreeSet;

use integration_tests::{
    app::{ADMIN_TOKEN, PARTNER_TOKEN, TestApp, spawn_app_with},
    telemetry::capture,
};
use jobs::domain::{
    Locale, PhoneCountry, RecordKind,
    patient_search::{self, Criteria, RawCriteria},
    upsert_batch,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Executor, postgres::PgPoolOptions};

const NEW_YORK: Locale<'static> = Locale { time_zone: "America/New_York", phone_country: PhoneCountry::US };

/// The app with the workers off (nothing is synced) and `patients`
/// upserted as a DrChrono walk would: (id, first, last, birth date, extra fields).
async fn app_with(patients: &[(i64, &str, &str, &str, Value)]) -> TestApp {
    let app = spawn_app_with(false, 1).await;
    let objects: Vec<Value> = patients
        .iter()
        .map(|(id, first, last, born, extra)| {
            let mut p = json!({"id": id, "first_name": first, "last_name": last, "date_of_birth": born,
                               "chart_id": format!("CH-{id}"), "updated_at": "2026-01-01T00:00:00"});
            if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
                p.extend(extra.clone());
            }
            p
        })
        .collect();
    upsert_batch(app.pool(), RecordKind::Patient, &objects, "test", &NEW_YORK).await.unwrap();
    app
}

fn plain(id: i64, first: &'static str, last: &'static str) -> (i64, &'static str, &'static str, &'static str, Value) {
    (id, first, last, "1980-02-01", json!({}))
}

async fn get(app: &TestApp, query: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = app.http.get(app.url(&format!("/api/patients/search?{query}")));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The ids of an admin search's hits, in order; fails on anything but 200.
async fn ids(app: &TestApp, query: &str) -> Vec<i64> {
    let (status, body) = get(app, query, Some(ADMIN_TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body["patients"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect()
}

async fn audit(app: &TestApp) -> Vec<(String, String, i32)> {
    sqlx::query_as("SELECT actor, what, records FROM read_audit ORDER BY id").fetch_all(app.pool()).await.unwrap()
}

#[tokio::test]
async fn accents_and_case_are_ignored_on_both_sides() {
    let app = app_with(&[plain(1, "José", "García"), plain(2, "JOSE", "Pérez"), plain(3, "Ana", "Ruiz")]).await;
    assert_eq!(ids(&app, "q=jose").await, [1, 2]);
    assert_eq!(ids(&app, "q=Jos%C3%A9").await, [1, 2]);
    assert_eq!(ids(&app, "q=GARCIA").await, [1]);
    assert_eq!(ids(&app, "q=jos%C3%A9%20garc%C3%ADa").await, [1]);
}

#[tokio::test]
async fn a_prefix_of_the_first_or_last_name_finds_the_patient() {
    let app = app_with(&[
        plain(1, "Maria", "Martinez"),
        plain(2, "Ana", "Ruiz"),
        plain(3, "Martha", "Lee"),
        plain(4, "Ann", "O'Brien (Jr.)"),
    ])
    .await;
    assert_eq!(ids(&app, "q=Mart").await, [3, 1], "by last name within a rank");
    assert_eq!(ids(&app, "q=ru").await, [2]);
    assert_eq!(ids(&app, "q=maria%20mar").await, [1]);
    assert_eq!(ids(&app, "q=o'brien%20(j").await, [4], "punctuation is matched as itself");
    assert_eq!(ids(&app, "q=a.n").await, Vec::<i64>::new(), "not as a pattern");
}

/// A term's last word is looked up among the name words it begins with a
/// LIKE pattern: its wildcards and escape character must stay literal.
#[tokio::test]
async fn like_wildcards_and_backslashes_in_a_term_are_matched_as_themselves() {
    let app = app_with(&[plain(1, "Al", r"Ko\Bo"), plain(2, "Al", "Ko_Bo"), plain(3, "Al", "Kozbo")]).await;
    assert_eq!(ids(&app, "q=ko%5C").await, [1]);
    assert_eq!(ids(&app, "q=ko_").await, [2]);
    assert_eq!(ids(&app, "q=ko%25").await, Vec::<i64>::new());
    assert_eq!(ids(&app, "q=al%20ko_").await.first(), Some(&2), "the prefix hit before typo hits");
}

#[tokio::test]
async fn a_typo_still_finds_the_patient_and_nonsense_finds_nobody() {
    let app = app_with(&[plain(1, "John", "Smith"), plain(2, "Ana", "Ruiz"), plain(3, "Maria", "Martinez")]).await;
    assert_eq!(ids(&app, "q=Jonh%20Smith").await, [1]);
    assert_eq!(ids(&app, "q=Martinex").await, [3]);
    assert_eq!(ids(&app, "q=Smith%20John").await, [1], "first and last name swapped");
    assert_eq!(ids(&app, "q=Qwxz%20Vbnk").await, Vec::<i64>::new());
    assert_eq!(ids(&app, "q=%CC%81").await, Vec::<i64>::new(), "a lone accent is not a match-all");
}

/// The search sets its own similarity floor for the corrections, in the
/// statement that uses it: a stricter setting on the connection (or the
/// database) changes no hit.
#[tokio::test]
async fn a_typo_is_corrected_whatever_the_connection_similarity_threshold() {
    let app = app_with(&[plain(1, "John", "Smith"), plain(2, "Ana", "Ruiz")]).await;
    let strict = PgPoolOptions::new()
        .max_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move { conn.execute("SET pg_trgm.similarity_threshold = 0.9").await.map(drop) })
        })
        .connect(&app.db.url)
        .await
        .unwrap();
    let raw = RawCriteria { name: Some("Jonh Smith"), ..Default::default() };
    let criteria = Criteria::parse(raw, PhoneCountry::US).unwrap();
    let page = patient_search::search(&strict, &criteria, "test", "test").await.unwrap();
    assert_eq!(page.patients.iter().map(|p| p.id).collect::<Vec<_>>(), [1]);
    let floor: String = sqlx::query_scalar("SHOW pg_trgm.similarity_threshold").fetch_one(&strict).await.unwrap();
    assert_eq!(floor, "0.9", "the search's floor does not outlive it");
}

/// Typos are corrected against the words of the names stored: a patient
/// added, or renamed, after the first search is found by a typo too.
#[tokio::test]
async fn a_typo_finds_names_added_or_changed_since() {
    let app = app_with(&[plain(1, "John", "Smith")]).await;
    assert_eq!(ids(&app, "q=Quintanna").await, Vec::<i64>::new());
    let later = [json!({"id": 2, "first_name": "Zoë", "last_name": "Quintana", "updated_at": "2026-01-01T00:00:00"})];
    upsert_batch(app.pool(), RecordKind::Patient, &later, "test", &NEW_YORK).await.unwrap();
    assert_eq!(ids(&app, "q=Quintanna").await, [2], "an inserted name's words");
    let renamed = [json!({"id": 1, "first_name": "John", "last_name": "Okonkwo", "updated_at": "2026-02-01T00:00:00"})];
    upsert_batch(app.pool(), RecordKind::Patient, &renamed, "test", &NEW_YORK).await.unwrap();
    assert_eq!(ids(&app, "q=John%20Okonkow").await, [1], "an updated name's words");
}

/// Cleanup drops the name words no live patient holds: a removed
/// patient's name stops being a correction overnight.
#[tokio::test]
async fn cleanup_drops_the_words_of_removed_names() {
    let app = spawn_app_with(true, 1).await;
    let patients = [
        json!({"id": 1, "first_name": "John", "last_name": "Smith", "updated_at": "2026-01-01T00:00:00"}),
        json!({"id": 2, "first_name": "Zoë", "last_name": "Quintana", "updated_at": "2026-01-01T00:00:00"}),
    ];
    sqlx::query("DELETE FROM patient_name_words").execute(app.pool()).await.unwrap();
    upsert_batch(app.pool(), RecordKind::Patient, &patients, "test", &NEW_YORK).await.unwrap();
    sqlx::query("UPDATE patients SET removed_at = now() WHERE id = 2").execute(app.pool()).await.unwrap();
    job_runner::enqueue(app.pool(), &app.settings.retention.cleanup()).await.unwrap();
    app.drain_jobs().await;
    let words: Vec<String> =
        sqlx::query_scalar("SELECT word FROM patient_name_words ORDER BY word").fetch_all(app.pool()).await.unwrap();
    assert!(words.contains(&"john".to_string()) && words.contains(&"smith".to_string()), "{words:?}");
    assert!(!words.contains(&"zoe".to_string()) && !words.contains(&"quintana".to_string()), "{words:?}");
    let pruned: Value =
        sqlx::query_scalar("SELECT pruned FROM sync_runs WHERE kind = 'cleanup'").fetch_one(app.pool()).await.unwrap();
    assert!(pruned["patient_name_words"].as_u64() >= Some(2), "{pruned}");
}

#[tokio::test]
async fn exact_names_rank_before_prefixes_and_prefixes_before_typos() {
    let app = app_with(&[
        plain(1, "John", "Smith"),
        plain(2, "Jon", "Smithers"),
        plain(3, "Jon", "Smith"),
        plain(4, "Ana", "Ruiz"),
    ])
    .await;
    assert_eq!(ids(&app, "q=jon%20smith").await, [3, 2, 1]);
}

#[tokio::test]
async fn the_birth_date_narrows_a_name_and_finds_alone() {
    let app = app_with(&[
        (1, "Ana", "Ruiz", "1980-02-01", json!({})),
        (2, "Ana", "Ruiz", "1991-07-15", json!({})),
        (3, "Luis", "Gómez", "1991-07-15", json!({})),
    ])
    .await;
    assert_eq!(ids(&app, "q=ana%20ruiz&date_of_birth=1991-07-15").await, [2]);
    assert_eq!(ids(&app, "date_of_birth=1991-07-15").await, [3, 2], "by last name, then first");
    assert_eq!(ids(&app, "date_of_birth=2001-01-01").await, Vec::<i64>::new());
}

#[tokio::test]
async fn a_phone_in_any_format_finds_the_stored_e164_number() {
    let app = app_with(&[
        (1, "Ana", "Ruiz", "1980-02-01", json!({"home_phone": "217-555-0123"})),
        (2, "Luis", "Gómez", "1980-02-01", json!({"cell_phone": "(312) 555-0199"})),
        (3, "Eva", "Lopez", "1980-02-01", json!({"home_phone": "217-555-0124"})),
    ])
    .await;
    for phone in ["(217)%20555-0123", "%2B1%20217%20555%200123", "2175550123", "217.555.0123", "1-217-555-0123"] {
        assert_eq!(ids(&app, &format!("phone={phone}")).await, [1], "{phone}");
    }
    assert_eq!(ids(&app, "phone=312%20555%200199").await, [2], "mobile numbers too");
    assert_eq!(ids(&app, "phone=2175550123&q=luis").await, Vec::<i64>::new(), "criteria combine");
}

#[tokio::test]
async fn removed_patients_are_never_found() {
    let app = app_with(&[plain(1, "Ana", "Ruiz"), plain(2, "Ana", "Rubio")]).await;
    sqlx::query("UPDATE patients SET removed_at = now() WHERE id = 1").execute(app.pool()).await.unwrap();
    assert_eq!(ids(&app, "q=ana").await, [2]);
    assert_eq!(ids(&app, "date_of_birth=1980-02-01").await, [2]);
}

/// Typo hits page as one ranking: the closest correction's namesakes
/// (Martinez for "Martinex") by name, then the next one's (Martin), whether
/// a page is served from the closest alone or needs both.
#[tokio::test]
async fn typo_pages_cover_every_hit_once_in_rank_order() {
    let app = app_with(&[
        plain(1, "Ana", "Martin"),
        plain(2, "Cy", "Martinez"),
        plain(3, "Bo", "Martinez"),
        plain(4, "Di", "Martin"),
        plain(5, "Al", "Martinez"),
    ])
    .await;
    let all = ids(&app, "q=Martinex").await;
    assert_eq!(all, [5, 3, 2, 1, 4], "Martinez (closer) by first name, then Martin");
    for limit in [1, 2, 4] {
        let mut paged = Vec::new();
        let mut offset = Some(0);
        while let Some(at) = offset {
            let (status, body) = get(&app, &format!("q=Martinex&limit={limit}&offset={at}"), Some(ADMIN_TOKEN)).await;
            assert_eq!(status, StatusCode::OK);
            paged.extend(body["patients"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()));
            offset = body["next_offset"].as_u64();
        }
        assert_eq!(paged, all, "pages of {limit}");
    }
}

#[tokio::test]
async fn pages_cover_every_hit_once_in_rank_order() {
    let app = app_with(&[
        plain(1, "Ann", "Lee"),
        plain(2, "Bo", "Lee"),
        plain(3, "Cy", "Lee"),
        plain(4, "Di", "Lee"),
        plain(5, "Ed", "Lee"),
        plain(6, "Ann", "Leeds"),
    ])
    .await;
    let all = ids(&app, "q=lee").await;
    assert_eq!(all, [1, 2, 3, 4, 5, 6], "the whole word Lee before the prefix Leeds");
    let mut paged = Vec::new();
    let mut offset = Some(0);
    while let Some(at) = offset {
        let (status, body) = get(&app, &format!("q=lee&limit=4&offset={at}"), Some(ADMIN_TOKEN)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!((body["limit"].as_u64(), body["offset"].as_u64()), (Some(4), Some(at)));
        paged.extend(body["patients"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()));
        offset = body["next_offset"].as_u64();
    }
    assert_eq!(paged, all);
    assert_eq!(ids(&app, "q=lee&limit=2&offset=2").await, [3, 4]);
}

#[tokio::test]
async fn a_hit_holds_only_id_names_birth_date_and_chart() {
    let extra = json!({"email": "ana@example.com", "home_phone": "217-555-0123", "address": "1 Main St",
                       "gender": "Female", "middle_name": "Luz"});
    let app = app_with(&[(7, "Ana", "Ruiz", "1980-02-01", extra)]).await;
    let (status, body) = get(&app, "q=ana", Some(PARTNER_TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(keys(&body), BTreeSet::from(["limit", "next_offset", "offset", "patients"].map(String::from)));
    let fields = ["chart_id", "date_of_birth", "first_name", "id", "last_name"];
    assert_eq!(keys(&body["patients"][0]), BTreeSet::from(fields.map(String::from)));
    assert_eq!(
        body["patients"][0],
        json!({"id": 7, "first_name": "Ana", "last_name": "Ruiz", "date_of_birth": "1980-02-01", "chart_id": "CH-7"})
    );
}

#[tokio::test]
async fn every_search_is_audited_with_its_count_even_when_nothing_is_found() {
    let app = app_with(&[plain(1, "Ana", "Ruiz"), plain(2, "Ana", "Rubio")]).await;
    assert_eq!(ids(&app, "q=ana").await.len(), 2);
    assert_eq!(ids(&app, "q=zzyzx").await.len(), 0);
    let (status, _) = get(&app, "date_of_birth=1980-02-01&limit=1", Some(PARTNER_TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    let what = "GET /api/patients/search".to_string();
    assert_eq!(
        audit(&app).await,
        [
            ("api:admin".to_string(), what.clone(), 2),
            ("api:admin".to_string(), what.clone(), 0),
            ("api:partner".to_string(), what, 1),
        ]
    );
}

#[tokio::test]
async fn without_a_valid_token_it_is_401_and_reads_nothing() {
    let app = app_with(&[plain(1, "Ana", "Ruiz")]).await;
    let (status, body) = get(&app, "q=ana", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.get("patients").is_none());
    let (status, _) = get(&app, "q=ana", Some("not-the-token-at-all")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(audit(&app).await.is_empty());
}

#[tokio::test]
async fn missing_or_malformed_criteria_are_400_naming_the_parameter_not_the_value() {
    let app = app_with(&[plain(1, "Ana", "Ruiz")]).await;
    let cases = [
        ("", "at least one of q"),
        ("q=%20%20&limit=5", "at least one of q"),
        ("date_of_birth=02%2F01%2F1980", "YYYY-MM-DD"),
        ("date_of_birth=1981-02-29", "YYYY-MM-DD"),
        ("phone=555-HELP", "phone is not a valid phone number"),
        ("q=ana&limit=0", "limit must be"),
        ("q=ana&limit=101", "limit must be"),
        ("q=ana&offset=-3", "offset must be"),
        ("q=a%00b", "q must be"),
    ];
    for (query, says) in cases {
        let (status, body) = get(&app, query, Some(ADMIN_TOKEN)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{query}: {message}");
        assert!(!message.contains("HELP") && !message.contains("1980"), "{query} quotes the value: {message}");
    }
    assert!(audit(&app).await.is_empty(), "a refused search reads nothing");
}

#[tokio::test]
async fn searching_never_calls_drchrono_nor_logs_the_terms() {
    let captured = capture();
    let app = app_with(&[(1, "Xiomara", "Quetzaltenango", "1977-03-04", json!({"cell_phone": "217-555-0177"}))]).await;
    app.sandbox.reset_counters();
    assert_eq!(ids(&app, "q=xiomara%20quetzaltenango&date_of_birth=1977-03-04").await, [1]);
    assert_eq!(ids(&app, "q=Xiomarra").await, [1]);
    assert_eq!(ids(&app, "phone=217-555-0177").await, [1]);
    assert_eq!(ids(&app, "q=quetzalnobody").await, Vec::<i64>::new());
    assert_eq!(app.sandbox.calls(), 0, "a search is answered from the mirror");
    let logs = captured.logs.text();
    assert!(logs.contains("patient search"), "the capture saw the searches");
    for term in ["Xiomar", "xiomar", "Quetzal", "quetzal", "1977-03-04", "555-0177", "5550177"] {
        assert!(!logs.contains(term), "{term} appears in the logs");
    }
}

//! `/api/appointments` and `/api/clinical_notes`: the required date filters,
//! the 190-day rule, string ids, and the verbose note PDF link.

use chrono::{Duration, NaiveDate, Utc};
use reqwest::StatusCode;
use sandbox::{APPOINTMENTS_MAX_PAGE_SIZE, APPOINTMENTS_VERBOSE_MAX_PAGE_SIZE, Kind};
use serde_json::Value;

use crate::harness::{Api, id_of, json, spawn, walk};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

async fn results(api: &Api, path_and_query: &str) -> Vec<Value> {
    let response = api.get(&api.url(path_and_query)).await;
    assert_eq!(response.status(), StatusCode::OK, "{path_and_query}");
    json(response).await["results"].as_array().unwrap().clone()
}

/// A clinical note and the id of the appointment it belongs to.
fn a_note(api: &Api) -> (Value, i64) {
    let id = api.sandbox.ids(Kind::ClinicalNote)[0];
    let note = api.sandbox.record(Kind::ClinicalNote, id).unwrap();
    let appointment = note["appointment"].as_i64().expect("a number in the note");
    (note, appointment)
}

#[tokio::test]
async fn appointments_require_since_date_or_date_range() {
    let api = spawn(3).await;
    for query in ["", "?patient=1001", "?page_size=5"] {
        let response = api.get(&api.url(&format!("/api/appointments{query}"))).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let detail = json(response).await["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("date_range"), "{detail}");
    }
    for query in ["since=2000-01-01", "date=2024-01-02", "date_range=2024-01-01/2024-02-01"] {
        let response = api.get(&api.url(&format!("/api/appointments?{query}"))).await;
        assert_eq!(response.status(), StatusCode::OK, "{query}");
    }
    for query in
        ["date=2024-13-01", "date_range=2024-01-01", "date_range=2024-02-01/2024-01-01", "since=2000-01-01&patient=abc"]
    {
        let response = api.get(&api.url(&format!("/api/appointments?{query}"))).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(json(response).await["detail"].is_string());
    }
}

#[tokio::test]
async fn a_date_range_over_190_days_is_an_empty_200_not_an_error() {
    let api = spawn(30).await;
    let end = today();
    let range = |days: i64| format!("{}/{end}", end - Duration::days(days));

    let wide = api.get(&api.url(&format!("/api/appointments?date_range={}", range(191)))).await;
    assert_eq!(wide.status(), StatusCode::OK);
    let wide = json(wide).await;
    assert_eq!(wide["results"], Value::Array(Vec::new()));
    assert_eq!(wide["next"], Value::Null);

    let narrow = results(&api, &format!("/api/appointments?date_range={}&page_size=20", range(180))).await;
    assert!(!narrow.is_empty(), "30 patients have visits in the last 180 days");
    for appointment in &narrow {
        let day = &appointment["scheduled_time"].as_str().unwrap()[..10];
        let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
        assert!(day >= end - Duration::days(180) && day <= end, "{day}");
    }
    let one_day = narrow[0]["scheduled_time"].as_str().unwrap()[..10].to_owned();
    for appointment in results(&api, &format!("/api/appointments?date={one_day}")).await {
        assert!(appointment["scheduled_time"].as_str().unwrap().starts_with(&one_day));
    }
}

#[tokio::test]
async fn appointment_ids_are_strings_but_numbers_where_referenced() {
    let api = spawn(5).await;
    let (_, appointment_id) = a_note(&api);
    let response = api.get(&api.url(&format!("/api/appointments/{appointment_id}"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let appointment = json(response).await;
    assert_eq!(appointment["id"], Value::from(appointment_id.to_string()));
    assert!(appointment.get("clinical_note").is_none(), "verbose only");
    let stamp = appointment["scheduled_time"].as_str().unwrap();
    assert_eq!(stamp.len(), "YYYY-MM-DDTHH:MM:SS".len(), "naive: {stamp}");
    let statuses = [
        "",
        "Arrived",
        "Checked In",
        "In Room",
        "Cancelled",
        "Complete",
        "Confirmed",
        "In Session",
        "No Show",
        "Not Confirmed",
        "Rescheduled",
    ];
    for appointment in results(&api, "/api/appointments?since=2000-01-01").await {
        assert!(appointment["id"].is_string());
        assert!(statuses.contains(&appointment["status"].as_str().unwrap()));
        assert!(appointment["duration"].is_i64() && appointment["icd10_codes"].is_array());
    }
    for medication in results(&api, "/api/medications").await {
        assert!(medication["appointment"].is_i64() || medication["appointment"].is_null());
    }
}

#[tokio::test]
async fn verbose_adds_the_clinical_note_with_its_pdf_link() {
    let api = spawn(20).await;
    let (note, appointment_id) = a_note(&api);
    assert!(note.get("pdf").is_none(), "a note has no pdf field");
    let note_id = note["id"].as_i64().unwrap();

    let url = api.url(&format!("/api/appointments/{appointment_id}?verbose=true"));
    let block = json(api.get(&url).await).await["clinical_note"].clone();
    assert_eq!(block["locked"], note["locked"]);
    assert_eq!(block["updated_at"], note["updated_at"]);
    let pdf = block["pdf"].as_str().unwrap();
    let prefix = format!("{}/_files/notes/{note_id}.pdf?expires=", api.sandbox.base_url());
    assert!(pdf.starts_with(&prefix), "{pdf}");
    let expires: i64 = pdf[prefix.len()..].split('&').next().unwrap().parse().unwrap();
    assert!(expires > Utc::now().timestamp() && expires <= Utc::now().timestamp() + 3600);
    let with_bearer = api.get(pdf).await;
    assert_eq!(with_bearer.status(), 400, "S3 refuses a second auth mechanism");
    let file = api.http.get(pdf).send().await.unwrap();
    assert_eq!(file.status(), 200);
    assert!(file.bytes().await.unwrap().starts_with(b"%PDF-"));

    let locked = !note["locked"].as_bool().unwrap();
    api.sandbox.lock_note(note_id, locked).unwrap();
    let block = json(api.get(&url).await).await["clinical_note"].clone();
    assert_eq!(block["locked"], locked);

    let future = results(
        &api,
        &format!(
            "/api/appointments?since=2000-01-01&verbose=true&date_range={}/{}",
            today() + Duration::days(1),
            today() + Duration::days(100)
        ),
    )
    .await;
    assert!(!future.is_empty());
    for appointment in future {
        assert_eq!(appointment["clinical_note"]["pdf"], Value::Null, "no note yet");
    }
}

/// The spec's maxima: 250 a page, 25 with `verbose=true`.
#[tokio::test]
async fn appointment_pages_clamp_at_250_and_at_25_when_verbose() {
    let api = spawn(150).await;
    assert!(api.sandbox.ids(Kind::Appointment).len() > APPOINTMENTS_MAX_PAGE_SIZE);
    for (query, max) in [
        ("", APPOINTMENTS_MAX_PAGE_SIZE),
        ("&page_size=1000", APPOINTMENTS_MAX_PAGE_SIZE),
        ("&page_size=1000&verbose=true", APPOINTMENTS_VERBOSE_MAX_PAGE_SIZE),
    ] {
        let body = json(api.get(&api.url(&format!("/api/appointments?since=2000-01-01{query}"))).await).await;
        assert_eq!(body["results"].as_array().unwrap().len(), max, "{query}");
        assert!(body["next"].is_string());
    }
}

/// The spec: deleted appointments are left out unless `show_archived=true`.
#[tokio::test]
async fn deletions_are_listed_only_with_show_archived() {
    let api = spawn(5).await;
    let id = api.sandbox.ids(Kind::Appointment)[2];
    let deleted = api.sandbox.delete_appointment(id).unwrap();
    assert_eq!(deleted["deleted_flag"], true);
    let stamp = deleted["updated_at"].as_str().unwrap();
    let hidden = results(&api, &format!("/api/appointments?since={stamp}")).await;
    assert!(hidden.is_empty(), "a deleted appointment is archived: {hidden:?}");
    let seen = results(&api, &format!("/api/appointments?since={stamp}&show_archived=true")).await;
    assert_eq!(seen.iter().map(id_of).collect::<Vec<_>>(), [id]);
    assert_eq!(seen[0]["deleted_flag"], true, "listed with show_archived, flagged");
}

#[tokio::test]
async fn breaks_have_no_patient_and_recurring_ids_are_not_numbers() {
    let api = spawn(5).await;
    let at = chrono::NaiveDate::from_ymd_opt(2030, 1, 2).unwrap().and_hms_opt(12, 0, 0).unwrap();
    let lunch = api.sandbox.add_break(data_doctor(&api), 1, at);
    let recurring = api.sandbox.ids(Kind::Appointment)[1];
    let wire = api.sandbox.make_recurring(recurring).unwrap();
    assert!(wire.ends_with(&format!("_{recurring}")) && wire.len() == 9 + recurring.to_string().len(), "{wire}");
    let all = results(&api, "/api/appointments?since=2000-01-01").await;
    let brk = all.iter().find(|a| a["id"] == serde_json::json!(lunch.to_string())).expect("the break is listed");
    assert!(brk["patient"].is_null());
    assert!(all.iter().any(|a| a["id"] == serde_json::json!(wire)), "the occurrence keeps its date_id");
}

fn data_doctor(api: &Api) -> i64 {
    api.sandbox.ids(Kind::Doctor)[0]
}

#[tokio::test]
async fn clinical_notes_filter_by_patient_doctor_office_and_dates() {
    let api = spawn(20).await;
    let (note, appointment_id) = a_note(&api);
    let appointment = api.sandbox.record(Kind::Appointment, appointment_id).unwrap();
    let (patient, doctor, office) = (&note["patient"], &note["doctor"], &appointment["office"]);
    let day = &note["date"].as_str().unwrap()[..10];
    let query = format!("/api/clinical_notes?patient={patient}&doctor={doctor}&office={office}&date={day}");
    let found = results(&api, &query).await;
    assert!(found.contains(&note), "{query}");
    for other in &found {
        assert_eq!((&other["patient"], &other["doctor"]), (patient, doctor));
    }
    let (all, _) = walk(&api, &api.url("/api/clinical_notes?date_range=2000-01-01/2100-01-01")).await;
    assert_eq!(all, api.sandbox.ids(Kind::ClinicalNote), "no 190-day rule on notes");
}

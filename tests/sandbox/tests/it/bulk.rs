//! The bulk lists: batches started by POST and polled by uuid, at up to
//! 1,000 a page, and `/api/appointments_list`, cursor paginated under `data`.

use reqwest::StatusCode;
use sandbox::{BULK_MAX_PAGE_SIZE, Kind, SandboxConfig};
use serde_json::Value;

use crate::harness::{Api, id_of, json, spawn, spawn_with};

/// Starts a batch and returns its uuid, checking the 201 and its status.
async fn start(api: &Api, path_and_query: &str) -> String {
    let response = api.post(&api.url(path_and_query)).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{path_and_query}");
    let body = json(response).await;
    assert_eq!(body["status"], "In progress");
    body["uuid"].as_str().expect("uuid").to_owned()
}

async fn poll(api: &Api, path: &str, uuid: &str, page: usize) -> Value {
    let response = api.get(&api.url(&format!("{path}?uuid={uuid}&page={page}"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    json(response).await
}

#[tokio::test]
async fn a_patient_batch_is_in_progress_then_complete_in_pages_with_the_verbose_fields() {
    let api = spawn(20).await;
    let uuid = start(&api, "/api/patients_list?verbose=true&page_size=7").await;
    let first = poll(&api, "/api/patients_list", &uuid, 1).await;
    assert_eq!(first["status"], "In progress");
    assert!(first.get("results").is_none(), "results only come with Complete");
    let mut ids = Vec::new();
    for page in 1..=3 {
        let batch = poll(&api, "/api/patients_list", &uuid, page).await;
        assert_eq!(batch["status"], "Complete");
        assert_eq!(batch["pagination"]["count"], 20);
        assert_eq!(batch["pagination"]["pages"], 3);
        assert_eq!(batch["pagination"]["page"], page);
        let results = batch["results"].as_array().expect("results");
        assert!(results.iter().all(|p| p["primary_insurance"].is_object() && p["custom_demographics"].is_array()));
        ids.extend(results.iter().map(id_of));
    }
    assert_eq!(ids, api.sandbox.ids(Kind::Patient), "every patient once, in id order");
    assert_eq!(api.sandbox.bulk_batches_started(), 1);
}

#[tokio::test]
async fn a_batch_takes_since_and_caps_its_page_at_a_thousand() {
    let api = spawn_with(SandboxConfig {
        patients: 4,
        calls_per_second: None,
        bulk_polls_in_progress: 0,
        ..Default::default()
    })
    .await;
    let uuid = start(&api, "/api/clinical_notes_list?page_size=5000").await;
    let batch = poll(&api, "/api/clinical_notes_list", &uuid, 1).await;
    let count = batch["pagination"]["count"].as_u64().expect("count") as usize;
    assert_eq!(count, api.sandbox.ids(Kind::ClinicalNote).len());
    assert_eq!(batch["pagination"]["pages"], count.div_ceil(BULK_MAX_PAGE_SIZE).max(1));
    let none = start(&api, "/api/clinical_notes_list?since=2999-01-01").await;
    let batch = poll(&api, "/api/clinical_notes_list", &none, 1).await;
    assert_eq!(batch["pagination"]["count"], 0);
    assert_eq!(batch["results"], Value::Array(Vec::new()));
    let bad = api.post(&api.url("/api/patients_list?since=yesterday")).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_unknown_or_expired_uuid_is_a_404() {
    let api = spawn(3).await;
    let missing = api.get(&api.url("/api/patients_list?uuid=nope")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let no_uuid = api.get(&api.url("/api/patients_list")).await;
    assert_eq!(no_uuid.status(), StatusCode::BAD_REQUEST);
    let uuid = start(&api, "/api/patients_list").await;
    let other_list = api.get(&api.url(&format!("/api/clinical_notes_list?uuid={uuid}"))).await;
    assert_eq!(other_list.status(), StatusCode::NOT_FOUND, "a uuid belongs to its list");
    api.sandbox.expire_bulk_batches();
    let expired = api.get(&api.url(&format!("/api/patients_list?uuid={uuid}"))).await;
    assert_eq!(expired.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_appointments_list_pages_under_data_with_the_lists_filters() {
    let api = spawn(20).await;
    let unfiltered = api.get(&api.url("/api/appointments_list")).await;
    assert_eq!(unfiltered.status(), StatusCode::BAD_REQUEST, "one of since, date or date_range is required");
    let all = api.sandbox.ids(Kind::Appointment);
    let (mut ids, mut url) =
        (Vec::new(), Some(api.url("/api/appointments_list?since=2000-01-01&show_archived=true&page_size=7")));
    while let Some(current) = url {
        let body = json(api.get(&current).await).await;
        assert!(body.get("results").is_none(), "the spec writes this list's key as data");
        ids.extend(body["data"].as_array().expect("data").iter().map(id_of));
        url = body["next"].as_str().map(str::to_owned);
        assert!(url.as_deref().is_none_or(|u| u.contains("/api/appointments_list?")), "{url:?}");
    }
    assert_eq!(ids, all);
    let big =
        json(api.get(&api.url("/api/appointments_list?since=2000-01-01&show_archived=true&page_size=5000")).await)
            .await;
    assert_eq!(big["data"].as_array().expect("data").len(), all.len().min(BULK_MAX_PAGE_SIZE));
}

#[tokio::test]
async fn an_allergys_description_comes_only_with_verbose() {
    let api = spawn(20).await;
    let plain = json(api.get(&api.url("/api/allergies")).await).await;
    let verbose = json(api.get(&api.url("/api/allergies?verbose=true")).await).await;
    let plain = plain["results"].as_array().expect("results");
    assert!(!plain.is_empty());
    assert!(plain.iter().all(|a| a.get("description").is_none()));
    let verbose = verbose["results"].as_array().expect("results");
    assert!(verbose.iter().all(|a| a["description"].as_str().is_some_and(|d| !d.is_empty())));
}

use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{json, spawn, walk};

#[tokio::test]
async fn pagination_walks_every_patient_with_the_exact_number_of_calls() {
    let api = spawn(23).await;
    let (ids, pages) = walk(&api, &api.url("/api/patients?page_size=5")).await;
    assert_eq!(ids, api.sandbox.patient_ids());
    assert_eq!(ids.len(), 23);
    assert_eq!(ids.first(), Some(&1001));
    assert_eq!(pages, 5);
    assert_eq!(api.sandbox.calls(), 5);
    assert_eq!(api.sandbox.calls_to("/api/patients"), 5);
}

#[tokio::test]
async fn links_are_absolute_keep_filters_and_go_back() {
    let api = spawn(12).await;
    let first = json(api.get(&api.url("/api/patients?page_size=5&since=2000-01-01")).await).await;
    assert_eq!(first["previous"], Value::Null);
    let next = first["next"].as_str().unwrap();
    assert!(next.starts_with(&format!("{}/api/patients?", api.sandbox.base_url())), "{next}");
    assert!(next.contains("page_size=5") && next.contains("since=2000-01-01") && next.contains("cursor="));

    let second = json(api.get(next).await).await;
    assert_eq!(second["results"][0]["id"], 1006);
    let back = json(api.get(second["previous"].as_str().unwrap()).await).await;
    assert_eq!(back["results"], first["results"]);
}

#[tokio::test]
async fn page_size_defaults_to_and_is_clamped_at_the_maximum() {
    let api = spawn(sandbox::PATIENTS_MAX_PAGE_SIZE + 3).await;
    for query in ["", "?page_size=100000"] {
        let body = json(api.get(&api.url(&format!("/api/patients{query}"))).await).await;
        assert_eq!(body["results"].as_array().unwrap().len(), sandbox::PATIENTS_MAX_PAGE_SIZE);
        assert!(body["next"].is_string());
    }
}

#[tokio::test]
async fn since_filters_on_updated_at_and_sees_modifications() {
    let api = spawn(20).await;
    let all = json(api.get(&api.url("/api/patients?since=1990-01-01")).await).await;
    assert_eq!(all["results"].as_array().unwrap().len(), 20);

    let before = api.sandbox.patient(1007).unwrap();
    let after = api.sandbox.modify_patient(1007, |p| {
        p.insert("city".into(), "Newtown".into());
    });
    let after = after.unwrap();
    assert_eq!(after["city"], "Newtown");
    assert!(after["updated_at"].as_str() > before["updated_at"].as_str());
    let stamp = after["updated_at"].as_str().unwrap();
    assert_eq!(stamp.len(), "YYYY-MM-DDTHH:MM:SS".len(), "naive, as DrChrono sends");

    let recent = json(api.get(&api.url(&format!("/api/patients?since={stamp}"))).await).await;
    let ids: Vec<&Value> = recent["results"].as_array().unwrap().iter().map(|p| &p["id"]).collect();
    assert_eq!(ids, [&Value::from(1007)]);
}

#[tokio::test]
async fn bad_filters_are_400_with_detail() {
    let api = spawn(2).await;
    for query in ["since=yesterday", "page_size=abc", "page_size=0", "cursor=nothex", "page=0"] {
        let response = api.get(&api.url(&format!("/api/patients?{query}"))).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(json(response).await["detail"].is_string());
    }
}

#[tokio::test]
async fn one_patient_or_404() {
    let api = spawn(3).await;
    let response = api.get(&api.url("/api/patients/1002")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let patient = json(response).await;
    assert_eq!(Some(&patient), api.sandbox.patient(1002).as_ref());
    for field in ["first_name", "last_name", "date_of_birth", "gender", "chart_id", "updated_at", "doctor"] {
        assert!(!patient[field].is_null(), "{field}");
    }
    for path in ["/api/patients/999999", "/api/patients/abc", "/api/nothing"] {
        let response = api.get(&api.url(path)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(json(response).await["detail"], "Not found.");
    }
}

#[tokio::test]
async fn stats_are_free_and_report_calls() {
    let api = spawn(2).await;
    api.get(&api.url("/api/patients/1001")).await;
    api.get(&api.url("/api/patients")).await;
    let stats = json(api.http.get(api.url("/_sandbox/stats")).send().await.unwrap()).await;
    assert_eq!(stats["calls"], 2);
    assert_eq!(stats["by_resource"]["/api/patients"], 2);
    assert_eq!(stats["refreshes"], 0);
    assert_eq!(api.sandbox.calls(), 2);
    api.sandbox.reset_counters();
    assert_eq!(api.sandbox.calls(), 0);
}

#[tokio::test]
async fn same_seed_gives_the_same_practice() {
    let (a, b) = (spawn(5).await, spawn(5).await);
    for id in a.sandbox.patient_ids() {
        assert_eq!(a.sandbox.patient(id), b.sandbox.patient(id));
    }
    b.sandbox.shutdown().await;
}

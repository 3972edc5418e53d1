//! Lab orders, lab results, tasks and line items: their scopes and filters.

use sandbox::{DEFAULT_SCOPES, Kind, SandboxConfig};
use serde_json::Value;

use crate::harness::{json, spawn, spawn_with};

const PATHS: [(&str, &str); 4] = [
    ("/api/lab_orders", "labs:read"),
    ("/api/lab_results", "labs:read"),
    ("/api/tasks", "tasks:read"),
    ("/api/line_items", "billing:read"),
];

#[tokio::test]
async fn each_list_answers_403_without_its_scope() {
    for (path, scope) in PATHS {
        let without: Vec<&str> = DEFAULT_SCOPES.split_whitespace().filter(|s| *s != scope).collect();
        let config =
            SandboxConfig { patients: 5, scopes: without.join(" "), calls_per_second: None, ..Default::default() };
        let api = spawn_with(config).await;
        assert_eq!(api.get(&api.url(path)).await.status(), 403, "{path} without {scope}");
        assert_eq!(api.get(&api.url("/api/patients")).await.status(), 200, "other lists still answer");
    }
    let api = spawn(5).await;
    for (path, _) in PATHS {
        assert_eq!(api.get(&api.url(path)).await.status(), 200, "{path} with every scope");
    }
}

async fn listed(api: &crate::harness::Api, path_and_query: &str) -> Vec<Value> {
    let answer = api.get(&api.url(path_and_query)).await;
    assert_eq!(answer.status(), 200, "{path_and_query}");
    json(answer).await["results"].as_array().cloned().expect("results")
}

#[tokio::test]
async fn filters_narrow_the_lists_as_documented() {
    let api = spawn(30).await;
    let result = api.sandbox.record(Kind::LabResult, api.sandbox.ids(Kind::LabResult)[0]).unwrap();
    let order = result["lab_order"].as_str().unwrap();
    let results = listed(&api, &format!("/api/lab_results?order={order}")).await;
    assert!(!results.is_empty() && results.iter().all(|r| r["lab_order"] == order));

    let item = api.sandbox.record(Kind::LineItem, api.sandbox.ids(Kind::LineItem)[0]).unwrap();
    let appointment = item["appointment"].as_i64().unwrap();
    let items = listed(&api, &format!("/api/line_items?appointment={appointment}")).await;
    assert!(!items.is_empty() && items.iter().all(|i| i["appointment"] == appointment));
    let patient = item["patient"].as_str().unwrap();
    let items = listed(&api, &format!("/api/line_items?patient={patient}")).await;
    assert!(items.iter().any(|i| i["id"] == item["id"]) && items.iter().all(|i| i["patient"] == patient));

    assert!(listed(&api, "/api/tasks?since=2999-01-01").await.is_empty(), "nothing is newer than the future");
    assert!(listed(&api, "/api/lab_orders?since=2999-01-01").await.is_empty());
    let all = api.sandbox.ids(Kind::Task).len();
    assert_eq!(listed(&api, "/api/tasks?since=2000-01-01").await.len(), all);

    let bad = api.get(&api.url("/api/line_items?service_date=yesterday")).await;
    assert_eq!(bad.status(), 400, "a known filter with an unreadable value is an error, not a wider list");
}

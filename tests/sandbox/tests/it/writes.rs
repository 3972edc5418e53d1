//! POST and PATCH of appointments and patients, with DrChrono's status codes,
//! read back through the API.

use reqwest::Method;
use sandbox::Kind;
use serde_json::{Value, json};

use crate::harness::{Api, id_of, json as body_of, spawn};

async fn send(api: &Api, method: Method, path: &str, body: &Value) -> reqwest::Response {
    let (access, _) = api.sandbox.current_tokens();
    api.http.request(method, api.url(path)).bearer_auth(access).json(body).send().await.expect("request sent")
}

fn appointment_for(api: &Api, patient: i64) -> Value {
    let record = api.sandbox.record(Kind::Patient, patient).unwrap();
    json!({"patient": patient, "doctor": record["doctor"], "office": 1, "scheduled_time": "2031-05-06T10:30:00",
           "duration": 30, "reason": "Follow-up"})
}

#[tokio::test]
async fn a_created_appointment_answers_201_with_its_id_and_is_served_after() {
    let api = spawn(3).await;
    let patient = api.sandbox.ids(Kind::Patient)[0];
    let response = send(&api, Method::POST, "/api/appointments", &appointment_for(&api, patient)).await;
    assert_eq!(response.status(), 201);
    let created = body_of(response).await;
    assert!(created["id"].is_string(), "an appointment's own id is a string");
    let id = id_of(&created);
    let served = body_of(api.get(&api.url(&format!("/api/appointments/{id}"))).await).await;
    assert_eq!(served, created);
    assert_eq!(served["reason"], "Follow-up");
    assert_eq!(api.sandbox.writes(), 1);
}

#[tokio::test]
async fn a_patch_answers_204_with_no_body_and_keeps_the_change() {
    let api = spawn(3).await;
    let patient = api.sandbox.ids(Kind::Patient)[1];
    let before = api.sandbox.record(Kind::Patient, patient).unwrap();
    let response = send(&api, Method::PATCH, &format!("/api/patients/{patient}"), &json!({"city": "Fairview"})).await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
    let after = api.sandbox.record(Kind::Patient, patient).unwrap();
    assert_eq!(after["city"], "Fairview");
    assert_ne!(after["updated_at"], before["updated_at"]);
}

#[tokio::test]
async fn invalid_writes_answer_400_with_every_field_error_and_keep_nothing() {
    let api = spawn(3).await;
    let before = api.sandbox.ids(Kind::Appointment).len();
    let body = json!({"patient": 99_999_999, "scheduled_time": "soon", "duration": 0});
    let response = send(&api, Method::POST, "/api/appointments", &body).await;
    assert_eq!(response.status(), 400);
    let errors = body_of(response).await;
    for field in ["patient", "doctor", "office", "scheduled_time", "duration"] {
        assert!(errors[field].is_array(), "{field} in {errors}");
    }
    assert_eq!(api.sandbox.ids(Kind::Appointment).len(), before);
    let missing = send(&api, Method::PATCH, "/api/patients/99999999", &json!({"city": "X"})).await;
    assert_eq!(missing.status(), 404);
    let not_json = send(&api, Method::POST, "/api/patients", &json!([1])).await;
    assert_eq!(not_json.status(), 400);
}

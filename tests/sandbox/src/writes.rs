//! `POST` and `PATCH` of appointments and patients, with DrChrono's status
//! codes: 201 with the created object (its id included), 204 with no body
//! for a PATCH, 400 with DRF's field errors (`{"field": ["message"]}`), and
//! 404 for an unknown record. What was written is kept in the practice, so
//! lists, details and webhooks serve it afterwards. Writes are counted apart
//! from reads (`Sandbox::writes`) so a test can assert exactly one create.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use crate::{Kind, Sandbox, practice::Record, reply, stamps, state::Shared};

/// Fields DrChrono requires on create, per writable kind.
fn required(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Appointment => &["doctor", "patient", "office", "scheduled_time", "duration"],
        Kind::Patient => &["doctor", "gender"],
        _ => &[],
    }
}

/// Fields holding another record's id, and the kind they must name.
fn references(kind: Kind) -> &'static [(&'static str, Kind)] {
    match kind {
        Kind::Appointment => &[("patient", Kind::Patient), ("doctor", Kind::Doctor)],
        Kind::Patient => &[("doctor", Kind::Doctor)],
        _ => &[],
    }
}

fn writable(resource: &str) -> Option<Kind> {
    Kind::from_resource(resource).filter(|k| matches!(k, Kind::Appointment | Kind::Patient))
}

pub(crate) async fn create(State(shared): State<Arc<Shared>>, Path(resource): Path<String>, body: Bytes) -> Response {
    let Some(kind) = writable(&resource) else {
        return method_not_allowed();
    };
    let fields = match parse_body(&body) {
        Ok(fields) => fields,
        Err(response) => return *response,
    };
    let mut state = shared.lock();
    state.counters.writes += 1;
    let mut errors = Map::new();
    for field in required(kind) {
        if fields.get(*field).is_none_or(|v| v.is_null() || v == "") {
            errors.insert((*field).to_owned(), json!(["This field is required."]));
        }
    }
    check(kind, &fields, &state.practice, &mut errors);
    if !errors.is_empty() {
        return reply::json(StatusCode::BAD_REQUEST, Value::Object(errors));
    }
    let mut record = defaults(kind);
    record.extend(fields);
    let stamp = stamps::next_stamp(None);
    record.insert("created_at".to_owned(), Value::from(stamp.clone()));
    record.insert("updated_at".to_owned(), Value::from(stamp));
    let id = state.practice.insert(kind, record);
    let created = state.practice.get(kind, id).cloned().unwrap_or_default();
    reply::json(StatusCode::CREATED, Value::Object(created))
}

pub(crate) async fn patch(
    State(shared): State<Arc<Shared>>,
    Path((resource, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some(kind) = writable(&resource) else {
        return method_not_allowed();
    };
    let fields = match parse_body(&body) {
        Ok(fields) => fields,
        Err(response) => return *response,
    };
    let mut state = shared.lock();
    state.counters.writes += 1;
    let Some(id) = id.parse::<i64>().ok().filter(|id| state.practice.get(kind, *id).is_some()) else {
        return reply::not_found();
    };
    let mut errors = Map::new();
    check(kind, &fields, &state.practice, &mut errors);
    if !errors.is_empty() {
        return reply::json(StatusCode::BAD_REQUEST, Value::Object(errors));
    }
    state.practice.modify(kind, id, |record| {
        for (key, value) in fields {
            if !matches!(key.as_str(), "id" | "created_at" | "updated_at") {
                record.insert(key, value);
            }
        }
    });
    StatusCode::NO_CONTENT.into_response()
}

fn parse_body(body: &[u8]) -> Result<Record, Box<Response>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        _ => Err(Box::new(reply::json(
            StatusCode::BAD_REQUEST,
            json!({"non_field_errors": ["Invalid data. Expected a dictionary."]}),
        ))),
    }
}

/// Type checks DRF would make on the fields that are present.
fn check(kind: Kind, fields: &Record, practice: &crate::practice::Practice, errors: &mut Map<String, Value>) {
    for (field, target) in references(kind) {
        let Some(value) = fields.get(*field).filter(|v| !v.is_null() && *v != "") else { continue };
        let id = value.as_i64().or_else(|| value.as_str().and_then(|s| s.parse().ok()));
        if id.is_none_or(|id| practice.get(*target, id).is_none()) {
            errors.insert((*field).to_owned(), json!([format!("Invalid pk \"{value}\" - object does not exist.")]));
        }
    }
    if let Some(t) = fields.get("scheduled_time")
        && t.as_str().and_then(stamps::parse_stamp).is_none()
    {
        errors.insert("scheduled_time".to_owned(), json!(["Datetime has wrong format."]));
    }
    if let Some(d) = fields.get("duration")
        && d.as_i64().is_none_or(|d| d <= 0)
    {
        errors.insert("duration".to_owned(), json!(["A valid integer is required."]));
    }
}

fn defaults(kind: Kind) -> Record {
    let fields: Value = match kind {
        Kind::Appointment => json!({"status": "", "reason": "", "notes": "", "exam_room": 1,
                                    "deleted_flag": false, "is_virtual_base": false}),
        _ => json!({"patient_status": "A", "chart_id": "", "email": "", "cell_phone": "",
                    "home_phone": "", "address": "", "city": "", "state": "", "zip_code": ""}),
    };
    match fields {
        Value::Object(map) => map,
        _ => Record::new(),
    }
}

fn method_not_allowed() -> Response {
    reply::detail(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.")
}

impl Sandbox {
    /// POST and PATCH requests received, valid or not.
    pub fn writes(&self) -> u64 {
        self.shared.lock().counters.writes
    }
}

//! `GET /api/patients` and `GET /api/patients/{id}`.
//!
//! The gate has already authenticated the caller. Handlers never panic on
//! input: a filter that cannot be read is a 400 with a `detail`.

use std::sync::Arc;

use axum::{
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use chrono::NaiveDateTime;
use serde_json::Value;

use crate::{
    PATIENTS_MAX_PAGE_SIZE, data, faults,
    pagination::{self, Position, param},
    reply,
    state::{Patient, Shared},
};

/// DrChrono lowers the maximum page size with `verbose=true` ("about
/// 25–50"); the sandbox picks the generous end.
const VERBOSE_MAX_PAGE_SIZE: usize = 50;

/// The filters `/api/patients` understands, beyond paging.
struct Filters {
    since: Option<NaiveDateTime>,
    first_name: Option<String>,
    last_name: Option<String>,
    date_of_birth: Option<String>,
    gender: Option<String>,
    doctor: Option<i64>,
}

impl Filters {
    fn parse(params: &[(String, String)]) -> Result<Filters, String> {
        let since = match param(params, "since") {
            None => None,
            Some(text) => Some(
                data::parse_stamp(text)
                    .ok_or("Invalid since: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.")?,
            ),
        };
        let date_of_birth = param(params, "date_of_birth").map(str::to_owned);
        if let Some(dob) = &date_of_birth
            && chrono::NaiveDate::parse_from_str(dob, "%Y-%m-%d").is_err()
        {
            return Err("Invalid date_of_birth: use YYYY-MM-DD.".to_owned());
        }
        let doctor = match param(params, "doctor") {
            None => None,
            Some(text) => Some(
                text.trim()
                    .parse()
                    .map_err(|_| "Invalid doctor.".to_owned())?,
            ),
        };
        Ok(Filters {
            since,
            first_name: param(params, "first_name").map(str::to_lowercase),
            last_name: param(params, "last_name").map(str::to_lowercase),
            date_of_birth,
            gender: param(params, "gender").map(str::to_lowercase),
            doctor,
        })
    }

    fn matches(&self, patient: &Patient) -> bool {
        let text = |key: &str| patient.get(key).and_then(Value::as_str).unwrap_or_default();
        let same = |wanted: &Option<String>, key: &str| {
            wanted
                .as_ref()
                .is_none_or(|w| text(key).to_lowercase() == *w)
        };
        self.since
            .is_none_or(|since| data::updated_at_of(patient).is_some_and(|u| u >= since))
            && same(&self.first_name, "first_name")
            && same(&self.last_name, "last_name")
            && same(&self.gender, "gender")
            && self
                .date_of_birth
                .as_deref()
                .is_none_or(|dob| text("date_of_birth") == dob)
            && self
                .doctor
                .is_none_or(|d| patient.get("doctor").and_then(Value::as_i64) == Some(d))
    }
}

fn verbose(params: &[(String, String)]) -> bool {
    param(params, "verbose").is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn render(patient: &Patient, id: i64, verbose: bool) -> Value {
    let mut patient = patient.clone();
    if verbose {
        for (key, value) in data::verbose_fields(id) {
            patient.insert(key.to_owned(), value);
        }
    }
    Value::Object(patient)
}

fn query_params(query: Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = query_params(query);
    let verbose = verbose(&params);
    let max = if verbose {
        VERBOSE_MAX_PAGE_SIZE
    } else {
        PATIENTS_MAX_PAGE_SIZE
    };
    let size = match pagination::page_size(&params, max) {
        Ok(size) => size,
        Err(message) => return reply::detail(StatusCode::BAD_REQUEST, message),
    };
    let position = match Position::from_params(&params) {
        Ok(position) => position,
        Err(message) => return reply::detail(StatusCode::BAD_REQUEST, message),
    };
    let filters = match Filters::parse(&params) {
        Ok(filters) => filters,
        Err(message) => return reply::detail(StatusCode::BAD_REQUEST, &message),
    };

    let mut state = shared.lock();
    let matching: Vec<(i64, &Patient)> = state
        .patients
        .iter()
        .filter(|(_, patient)| filters.matches(patient))
        .map(|(id, patient)| (*id, patient))
        .collect();
    let ids: Vec<i64> = matching.iter().map(|(id, _)| *id).collect();
    let window = pagination::window(&ids, position, size);
    let results: Vec<Value> = matching[window.start..window.end]
        .iter()
        .map(|(id, patient)| render(patient, *id, verbose))
        .collect();
    if let Some(response) = faults::list_page(&mut state, window.index) {
        return response;
    }
    drop(state);

    let mut base = pagination::origin(&headers, shared.addr);
    base.set_path("/api/patients");
    let body = pagination::page_body(base, &params, &ids, &window, results);
    reply::json(StatusCode::OK, body)
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    // Django's URL pattern only matches digits, so anything else is a 404.
    let Ok(id) = id.parse::<i64>() else {
        return reply::not_found();
    };
    let verbose = verbose(&query_params(query));
    let state = shared.lock();
    match state.patients.get(&id) {
        Some(patient) => reply::json(StatusCode::OK, render(patient, id, verbose)),
        None => reply::not_found(),
    }
}

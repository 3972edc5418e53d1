//! Which job a DrChrono delivery becomes. Pure: no I/O, so it is unit-tested.

use jobs::{
    domain::patients::id_of,
    jobs::{FetchPatient, UpsertPatient},
};
use serde_json::Value;

/// What to do with a verified, parsed delivery.
#[derive(Debug)]
pub enum Route {
    Ping,
    /// The delivery carries the full object: apply it without an API call.
    UpsertPatient { patient_id: i64, updated_at: Option<String> },
    /// Only an id arrived (older shape): fetch the object.
    FetchPatient(FetchPatient),
    /// Known or unknown, but not modelled yet: recorded and answered 200.
    Unhandled(&'static str),
}

/// Older internal notes used names DrChrono never sends; map them.
fn canonical(event: &str) -> &str {
    match event {
        "PATIENT_UPDATE" => "PATIENT_MODIFY",
        "APPOINTMENT_UPDATE" => "APPOINTMENT_MODIFY",
        "CLINICAL_NOTE_MODIFY" => "CLINICAL_NOTE_LOCK",
        "PATIENT_FLAG_CMODIFY" => "PATIENT_FLAG_MODIFY",
        other => other,
    }
}

pub fn route(event: &str, body: &Value) -> Route {
    match canonical(event) {
        "PING" => Route::Ping,
        "PATIENT_CREATE" | "PATIENT_MODIFY" => patient_route(body),
        _ => Route::Unhandled("event not modelled yet"),
    }
}

fn patient_route(body: &Value) -> Route {
    if let Some(object) = body.get("object").filter(|o| o.is_object()) {
        return match id_of(object.get("id")) {
            Some(patient_id) => Route::UpsertPatient {
                patient_id,
                updated_at: object.get("updated_at").and_then(Value::as_str).map(str::to_string),
            },
            None => Route::Unhandled("patient object without an id"),
        };
    }
    match id_of(body.get("object_id")) {
        Some(patient_id) => Route::FetchPatient(FetchPatient { patient_id }),
        None => Route::Unhandled("patient event without object or object_id"),
    }
}

impl Route {
    pub fn upsert_job(&self, delivery: i64) -> Option<UpsertPatient> {
        match self {
            Route::UpsertPatient { patient_id, updated_at } => Some(UpsertPatient {
                delivery,
                patient_id: *patient_id,
                updated_at: updated_at.clone(),
            }),
            _ => None,
        }
    }
}

/// The object's id, for the inbox row.
pub fn object_id(body: &Value) -> Option<i64> {
    body.get("object").and_then(|o| id_of(o.get("id"))).or_else(|| id_of(body.get("object_id")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn full_object_upserts_without_fetch() {
        let body = json!({"receiver": {}, "object": {"id": 7, "updated_at": "2025-01-01T10:00:00"}});
        assert!(matches!(route("PATIENT_MODIFY", &body), Route::UpsertPatient { patient_id: 7, .. }));
    }

    #[test]
    fn legacy_shape_and_names_fetch() {
        let body = json!({"event": "PATIENT_UPDATE", "object_id": "12"});
        assert!(matches!(
            route("PATIENT_UPDATE", &body),
            Route::FetchPatient(FetchPatient { patient_id: 12 })
        ));
    }

    #[test]
    fn unknown_events_are_unhandled_not_errors() {
        assert!(matches!(route("SOMETHING_NEW", &json!({})), Route::Unhandled(_)));
        assert!(matches!(route("PING", &json!({})), Route::Ping));
    }
}

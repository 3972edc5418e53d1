//! Which job a DrChrono delivery becomes. Pure: no I/O, so it is unit-tested.

use crate::{
    catalog::FetchRecord,
    domain::{RecordKind, id_of},
};
use serde_json::Value;

/// What to do with a verified, parsed delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    Ping,
    /// The delivery carries the full object: apply it without an API call.
    Upsert {
        kind: RecordKind,
        object_id: i64,
        updated_at: Option<String>,
    },
    /// Only an id arrived (the older shape): fetch the object.
    Fetch(FetchRecord),
    /// A real DrChrono event for data this service does not mirror: stored, answered 200, counted.
    NotModelled,
    /// Unknown or unusable: stored with the reason and answered 200, so DrChrono does not retry for hours.
    Unhandled(&'static str),
}

/// Names from older internal notes that DrChrono never sends, and the
/// documentation's misspelling, mapped to the real events.
fn canonical(event: &str) -> &str {
    match event {
        "PATIENT_UPDATE" => "PATIENT_MODIFY",
        "APPOINTMENT_UPDATE" => "APPOINTMENT_MODIFY",
        "PATIENT_FLAG_CMODIFY" => "PATIENT_FLAG_MODIFY",
        "LAB_RESULT" => "LAB_ORDER_MODIFY",
        other => other,
    }
}

enum EventKind {
    Record(RecordKind),
    /// A payment posted to a line item was deleted: the delivery carries the
    /// transaction, not the line item, whose totals changed.
    LineItemOf,
    NotModelled,
    Unknown,
}

fn classify(event: &str) -> EventKind {
    use RecordKind::*;
    match event {
        "PATIENT_CREATE" | "PATIENT_MODIFY" => EventKind::Record(Patient),
        "APPOINTMENT_CREATE" | "APPOINTMENT_MODIFY" | "APPOINTMENT_DELETE" => EventKind::Record(Appointment),
        "PATIENT_PROBLEM_CREATE" | "PATIENT_PROBLEM_MODIFY" => EventKind::Record(Problem),
        "PATIENT_ALLERGY_CREATE" | "PATIENT_ALLERGY_MODIFY" => EventKind::Record(Allergy),
        "PATIENT_MEDICATION_CREATE" | "PATIENT_MEDICATION_MODIFY" => EventKind::Record(Medication),
        // CLINICAL_NOTE_MODIFY is not a DrChrono event; older notes used it for any note change.
        "CLINICAL_NOTE_LOCK" | "CLINICAL_NOTE_UNLOCK" | "CLINICAL_NOTE_MODIFY" => EventKind::Record(ClinicalNote),
        "TASK_CREATE" | "TASK_MODIFY" | "TASK_DELETE" => EventKind::Record(Task),
        "LAB_ORDER_CREATE" | "LAB_ORDER_MODIFY" | "LAB_ORDER_DELETE" => EventKind::Record(LabOrder),
        "LINE_ITEM_CREATE" | "LINE_ITEM_MODIFY" | "LINE_ITEM_DELETE" => EventKind::Record(LineItem),
        "LINE_ITEM_TRANSACTION_DELETE" => EventKind::LineItemOf,
        "CASH_PAYMENT_DELETE" | "PATIENT_FLAG_CREATE" | "PATIENT_FLAG_MODIFY" | "VACCINE_ADMINISTERED" => {
            EventKind::NotModelled
        }
        _ => EventKind::Unknown,
    }
}

pub fn route(event: &str, body: &Value) -> Route {
    let event = canonical(event);
    if event == "PING" {
        return Route::Ping;
    }
    let kind = match classify(event) {
        EventKind::Record(kind) => kind,
        EventKind::LineItemOf => return line_item_of(body),
        EventKind::NotModelled => return Route::NotModelled,
        EventKind::Unknown => return Route::Unhandled("unknown event"),
    };
    if let Some(object) = body.get("object").filter(|o| o.is_object()) {
        return match id_of(object.get("id")) {
            Some(object_id) => Route::Upsert {
                kind,
                object_id,
                updated_at: object.get("updated_at").and_then(Value::as_str).map(str::to_string),
            },
            None => Route::Unhandled("object without an id"),
        };
    }
    match id_of(body.get("object_id")) {
        Some(id) => Route::Fetch(FetchRecord { kind, id }),
        None => Route::Unhandled("event without object or object_id"),
    }
}

/// The line item a deleted transaction belonged to, fetched: one call, since
/// the transaction says nothing of the item's new totals.
fn line_item_of(body: &Value) -> Route {
    match body.get("object").and_then(|o| id_of(o.get("line_item"))) {
        Some(id) => Route::Fetch(FetchRecord { kind: RecordKind::LineItem, id }),
        None => Route::Unhandled("transaction without a line_item"),
    }
}

/// What the inbox row records about the object: (kind, id, patient, updated_at).
pub struct ObjectFacts<'a> {
    pub kind: Option<RecordKind>,
    pub object_id: Option<i64>,
    pub patient_id: Option<i64>,
    pub updated_at: Option<&'a str>,
}

pub fn facts<'a>(route: &Route, body: &'a Value) -> ObjectFacts<'a> {
    let object = body.get("object");
    // A fetch may be of another record than the one delivered (a deleted
    // transaction's line item): the inbox row names what the job reads.
    let (kind, object_id) = match route {
        Route::Upsert { kind, object_id, .. } => (Some(*kind), Some(*object_id)),
        Route::Fetch(f) => (Some(f.kind), Some(f.id)),
        _ => (None, object.and_then(|o| id_of(o.get("id"))).or_else(|| id_of(body.get("object_id")))),
    };
    let patient_id = match kind {
        Some(RecordKind::Patient) => object_id,
        _ => object.and_then(|o| id_of(o.get("patient"))),
    };
    let updated_at = object.and_then(|o| o.get("updated_at")).and_then(Value::as_str);
    ObjectFacts { kind, object_id, patient_id, updated_at }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn full_objects_upsert_without_fetch() {
        let body = json!({"receiver": {}, "object": {"id": "7", "updated_at": "2025-01-01T10:00:00"}});
        assert_eq!(
            route("APPOINTMENT_MODIFY", &body),
            Route::Upsert {
                kind: RecordKind::Appointment,
                object_id: 7,
                updated_at: Some("2025-01-01T10:00:00".into())
            }
        );
    }

    #[test]
    fn older_shape_and_names_fetch() {
        let body = json!({"event": "PATIENT_UPDATE", "object_id": "12"});
        assert_eq!(route("PATIENT_UPDATE", &body), Route::Fetch(FetchRecord { kind: RecordKind::Patient, id: 12 }));
    }

    #[test]
    fn every_documented_event_has_a_route() {
        let modelled = [
            "PATIENT_CREATE",
            "APPOINTMENT_DELETE",
            "PATIENT_PROBLEM_MODIFY",
            "PATIENT_ALLERGY_CREATE",
            "PATIENT_MEDICATION_MODIFY",
            "CLINICAL_NOTE_LOCK",
            "CLINICAL_NOTE_UNLOCK",
            "TASK_DELETE",
            "LAB_ORDER_MODIFY",
            "LAB_RESULT",
            "LINE_ITEM_CREATE",
        ];
        for e in modelled {
            assert!(matches!(route(e, &json!({"object": {"id": 1}})), Route::Upsert { .. }), "{e}");
        }
        for e in ["CASH_PAYMENT_DELETE", "PATIENT_FLAG_CMODIFY", "VACCINE_ADMINISTERED"] {
            assert_eq!(route(e, &json!({"object": {"id": 1}})), Route::NotModelled, "{e}");
        }
        assert_eq!(route("PING", &json!({})), Route::Ping);
        assert_eq!(route("SOMETHING_NEW", &json!({})), Route::Unhandled("unknown event"));
    }

    #[test]
    fn a_deleted_transaction_fetches_its_line_item() {
        let body = json!({"object": {"id": 840_001, "line_item": "830001", "patient": 5}});
        assert_eq!(
            route("LINE_ITEM_TRANSACTION_DELETE", &body),
            Route::Fetch(FetchRecord { kind: RecordKind::LineItem, id: 830_001 })
        );
        assert_eq!(
            route("LINE_ITEM_TRANSACTION_DELETE", &json!({"object": {"id": 1}})),
            Route::Unhandled("transaction without a line_item")
        );
    }

    #[test]
    fn the_patient_of_a_record_is_object_patient() {
        let body = json!({"object": {"id": 5, "patient": 99}});
        let r = route("PATIENT_PROBLEM_CREATE", &body);
        assert_eq!(facts(&r, &body).patient_id, Some(99));
        let body = json!({"object": {"id": 99}});
        let r = route("PATIENT_MODIFY", &body);
        assert_eq!(facts(&r, &body).patient_id, Some(99));
    }
}

//! The webhook event list and the objects a delivery of each would carry.

use std::collections::BTreeSet;

use crate::harness::{id_of, spawn};
use sandbox::{EVENTS, Kind};
use serde_json::Value;

#[test]
fn events_are_the_documented_names_once_each() {
    let unique: BTreeSet<&str> = EVENTS.iter().copied().collect();
    // The facts file says 26, but the names it (and DrChrono's table) lists
    // are 27; every one of them is here.
    assert_eq!(unique.len(), EVENTS.len());
    assert_eq!(EVENTS.len(), 27);
    for name in ["PATIENT_FLAG_MODIFY", "LINE_ITEM_TRANSACTION_DELETE", "VACCINE_ADMINISTERED"] {
        assert!(unique.contains(name), "{name}");
    }
    assert!(!unique.contains("PATIENT_FLAG_CMODIFY") && !unique.contains("PING"));
}

/// The patient an object names: `patient` as a number or (line items) a
/// string, or a task's associated item of type `Patient`.
fn patient_of(object: &Value) -> Option<i64> {
    let as_id = |v: &Value| v.as_i64().or_else(|| v.as_str()?.parse().ok());
    as_id(&object["patient"]).or_else(|| {
        object["associated_items"].as_array()?.iter().find(|i| i["type"] == "Patient").and_then(|i| as_id(&i["value"]))
    })
}

#[tokio::test]
async fn every_event_has_an_object_with_an_id_and_a_real_patient() {
    let api = spawn(8).await;
    let patients = api.sandbox.patient_ids();
    for event in EVENTS.iter().copied().chain(["PATIENT_FLAG_CMODIFY", "PING", "LAB_RESULT"]) {
        let object = api.sandbox.delivery_object(event);
        let id = id_of(&object);
        let patient = if event.starts_with("PATIENT_")
            && !["PATIENT_PROBLEM_", "PATIENT_ALLERGY_", "PATIENT_MEDICATION_", "PATIENT_FLAG_"]
                .iter()
                .any(|p| event.starts_with(p))
        {
            id
        } else {
            patient_of(&object).unwrap_or_else(|| panic!("{event}: {object}"))
        };
        assert!(patients.contains(&patient), "{event}");
    }
}

#[tokio::test]
async fn modelled_events_carry_the_real_record() {
    let api = spawn(8).await;
    let kinds = [
        ("PATIENT_MODIFY", Kind::Patient),
        ("PATIENT_CREATE", Kind::Patient),
        ("APPOINTMENT_MODIFY", Kind::Appointment),
        ("PATIENT_MEDICATION_CREATE", Kind::Medication),
        ("PATIENT_PROBLEM_MODIFY", Kind::Problem),
        ("PATIENT_ALLERGY_MODIFY", Kind::Allergy),
        ("CLINICAL_NOTE_LOCK", Kind::ClinicalNote),
        ("TASK_MODIFY", Kind::Task),
        ("LAB_ORDER_MODIFY", Kind::LabOrder),
        ("LINE_ITEM_MODIFY", Kind::LineItem),
    ];
    for (event, kind) in kinds {
        let object = api.sandbox.delivery_object(event);
        assert_eq!(Some(&object), api.sandbox.record(kind, id_of(&object)).as_ref(), "{event}");
    }
    assert_eq!(api.sandbox.delivery_object("CLINICAL_NOTE_LOCK")["locked"], true);
    assert_eq!(api.sandbox.delivery_object("CLINICAL_NOTE_UNLOCK")["locked"], false);
    assert!(api.sandbox.delivery_object("APPOINTMENT_CREATE")["id"].is_string());

    let id = api.sandbox.ids(Kind::Appointment)[3];
    api.sandbox.delete_appointment(id);
    let deleted = api.sandbox.delivery_object("APPOINTMENT_DELETE");
    assert_eq!(deleted["deleted_flag"], true, "a deleted appointment");
    assert!(deleted["id"].is_string());
}

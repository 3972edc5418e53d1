//! DrChrono's webhook events, and the `object` a delivery of each carries.
//!
//! A real delivery's `object` is the full record as the REST API serializes
//! it, so for the kinds the sandbox models it is the sandbox's own record,
//! and a test can check the service stored exactly that. The other kinds
//! (line-item transactions, cash payments, flags, vaccines) get a small
//! plausible object with an `id` and what it concerns, enough to route and
//! record; a transaction names a real line item.

use serde_json::{Value, json};

use crate::{
    Kind, data,
    generate::{FIRST_APPOINTMENT_ID, FIRST_LINE_ITEM_ID},
    practice::{Practice, Record},
    stamps,
};

/// Every event DrChrono's current documentation lists (`PING` aside), with
/// the flag event spelled as the console spells it (`PATIENT_FLAG_MODIFY`;
/// the documentation's `PATIENT_FLAG_CMODIFY` is a typo).
///
/// The facts file counts "26 events", but the names it lists, like the
/// documentation's own table, are 27; all are here, since a sandbox that
/// dropped one would leave the service untested against a real event.
pub const EVENTS: [&str; 27] = [
    "PATIENT_CREATE",
    "PATIENT_MODIFY",
    "APPOINTMENT_CREATE",
    "APPOINTMENT_MODIFY",
    "APPOINTMENT_DELETE",
    "PATIENT_PROBLEM_CREATE",
    "PATIENT_PROBLEM_MODIFY",
    "PATIENT_ALLERGY_CREATE",
    "PATIENT_ALLERGY_MODIFY",
    "PATIENT_MEDICATION_CREATE",
    "PATIENT_MEDICATION_MODIFY",
    "CLINICAL_NOTE_LOCK",
    "CLINICAL_NOTE_UNLOCK",
    "TASK_CREATE",
    "TASK_MODIFY",
    "TASK_DELETE",
    "LAB_ORDER_CREATE",
    "LAB_ORDER_MODIFY",
    "LAB_ORDER_DELETE",
    "LINE_ITEM_CREATE",
    "LINE_ITEM_MODIFY",
    "LINE_ITEM_DELETE",
    "LINE_ITEM_TRANSACTION_DELETE",
    "CASH_PAYMENT_DELETE",
    "PATIENT_FLAG_CREATE",
    "PATIENT_FLAG_MODIFY",
    "VACCINE_ADMINISTERED",
];

/// The record kind an event is about, by its name's prefix (so the older
/// internal names, `PATIENT_UPDATE` and the like, map too). Longer prefixes
/// come first: `PATIENT_PROBLEM_*` is not about a patient record.
fn modelled_kind(event: &str) -> Option<Kind> {
    const PREFIXES: [(&str, Option<Kind>); 11] = [
        ("PATIENT_MEDICATION_", Some(Kind::Medication)),
        ("PATIENT_PROBLEM_", Some(Kind::Problem)),
        ("PATIENT_ALLERGY_", Some(Kind::Allergy)),
        ("PATIENT_FLAG_", None),
        ("PATIENT_", Some(Kind::Patient)),
        ("APPOINTMENT_", Some(Kind::Appointment)),
        ("CLINICAL_NOTE_", Some(Kind::ClinicalNote)),
        ("TASK_", Some(Kind::Task)),
        ("LAB_ORDER_", Some(Kind::LabOrder)),
        ("LINE_ITEM_TRANSACTION_", None),
        ("LINE_ITEM_", Some(Kind::LineItem)),
    ];
    PREFIXES.iter().find(|(prefix, _)| event.starts_with(prefix)).and_then(|(_, kind)| *kind)
}

pub(crate) fn delivery_object(practice: &Practice, event: &str) -> Value {
    modelled_kind(event)
        .and_then(|kind| pick_record(practice, kind, event))
        .map(|record| Value::Object(record.clone()))
        .unwrap_or_else(|| fake_object(practice, event))
}

/// A record that fits the event: the newest for a create, a deleted
/// appointment for a delete, a note in the matching lock state; otherwise
/// the first. Falls back to the first when none fits.
fn pick_record<'a>(practice: &'a Practice, kind: Kind, event: &str) -> Option<&'a Record> {
    let table = practice.table(kind);
    let flag =
        |field: &str, wanted: bool| table.values().find(|r| r.get(field).and_then(Value::as_bool) == Some(wanted));
    let fitting = if event.ends_with("_CREATE") {
        table.values().next_back()
    } else if event == "APPOINTMENT_DELETE" {
        flag("deleted_flag", true)
    } else if event == "CLINICAL_NOTE_LOCK" {
        flag("locked", true)
    } else if event == "CLINICAL_NOTE_UNLOCK" {
        flag("locked", false)
    } else {
        None
    };
    fitting.or_else(|| table.values().next())
}

/// A small object for an event whose kind the sandbox does not model, linked
/// to a real patient, doctor and appointment where it has such fields.
fn fake_object(practice: &Practice, event: &str) -> Value {
    let first = |kind: Kind| practice.table(kind).keys().next().copied();
    let patient = first(Kind::Patient).unwrap_or(data::FIRST_PATIENT_ID);
    let doctor = first(Kind::Doctor).unwrap_or(data::DOCTORS[0]);
    let appointment = first(Kind::Appointment).unwrap_or(FIRST_APPOINTMENT_ID);
    let line_item = first(Kind::LineItem).unwrap_or(FIRST_LINE_ITEM_ID);
    let now = stamps::next_stamp(None);
    let today = now.get(..10).unwrap_or_default().to_owned();
    if event.starts_with("TASK_") {
        json!({
            "id": 810_001, "patient": patient, "title": "Call patient with results",
            "status": "Open", "priority": "Normal", "category": 5201,
            "assignee_user": doctor, "due_date": today, "notes": "",
            "created_at": now, "updated_at": now,
        })
    } else if event.starts_with("LAB_") {
        json!({
            "id": 820_001, "patient": patient, "doctor": doctor, "requisition_id": "SBX-REQ-0001",
            "status": "N", "priority": "N", "notes": "", "timestamp": now, "updated_at": now,
        })
    } else if event.starts_with("LINE_ITEM_TRANSACTION_") {
        json!({
            "id": 840_001, "line_item": line_item, "appointment": appointment, "patient": patient,
            "ins_paid": "0.00", "adjustment": "0.00", "posted_date": today, "updated_at": now,
        })
    } else if event.starts_with("LINE_ITEM_") {
        json!({
            "id": 830_001, "appointment": appointment, "patient": patient, "doctor": doctor,
            "code": "99213", "procedure_type": "C", "description": "Office visit, established",
            "quantity": "1.00", "price": "120.00", "billed": "120.00", "updated_at": now,
        })
    } else if event.starts_with("CASH_PAYMENT_") {
        json!({
            "id": 850_001, "patient": patient, "appointment": appointment, "amount": "25.00",
            "payment_method": "CASH", "received_date": today, "updated_at": now,
        })
    } else if event.starts_with("PATIENT_FLAG_") {
        json!({
            "id": 860_001, "patient": patient, "flag_type": 7301, "notes": "Prefers text reminders.",
            "archived": false, "created_at": now, "updated_at": now,
        })
    } else if event.starts_with("VACCINE_") {
        json!({
            "id": 870_001, "patient": patient, "doctor": doctor, "cvx_code": "141",
            "name": "Influenza, seasonal, injectable", "lot_number": "SBX1234",
            "administered_at": now, "updated_at": now,
        })
    } else {
        json!({ "id": 880_001, "patient": patient, "updated_at": now })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_longest_prefix() {
        assert_eq!(modelled_kind("PATIENT_MODIFY"), Some(Kind::Patient));
        assert_eq!(modelled_kind("PATIENT_UPDATE"), Some(Kind::Patient));
        assert_eq!(modelled_kind("PATIENT_PROBLEM_CREATE"), Some(Kind::Problem));
        assert_eq!(modelled_kind("PATIENT_FLAG_CMODIFY"), None);
        assert_eq!(modelled_kind("CLINICAL_NOTE_MODIFY"), Some(Kind::ClinicalNote));
        assert_eq!(modelled_kind("TASK_CREATE"), Some(Kind::Task));
        assert_eq!(modelled_kind("LINE_ITEM_MODIFY"), Some(Kind::LineItem));
        assert_eq!(modelled_kind("LINE_ITEM_TRANSACTION_DELETE"), None);
    }
}

//! A patient's lab orders, their results and the staff tasks about them,
//! shaped as DrChrono's `/api/lab_orders`, `/api/lab_results` and
//! `/api/tasks` serialize them (the spec's `LabOrder`, `LabResult`, `Task`).
//!
//! Results name their order by a string id and carry no patient: the spec
//! types `lab_order` as a string, and a client reaches the patient through
//! the order. Codes are real LOINC codes for common tests.

use chrono::{Duration, NaiveDate, NaiveTime};
use rand::RngExt as _;
use serde_json::{Value, json};

use crate::{
    charts::{Owner, take, updated_at},
    data::{self, Draw, choose},
    practice::{Record, record},
    stamps,
};

/// (LOINC, description, unit, low, high) of a numeric test.
const TESTS: &[(&str, &str, &str, f64, f64)] = &[
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 70.0, 99.0),
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 4.0, 5.6),
    ("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", 125.0, 200.0),
    ("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "m[IU]/L", 0.4, 4.0),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 12.0, 17.5),
    ("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL", 7.0, 20.0),
];
/// DrChrono's sublab ids are practice-specific; these stand for two labs.
const SUBLABS: &[i64] = &[7001, 7002];
/// Order statuses as HL7 ORC.5: most orders have their results.
const ORDER_STATUSES: &[&str] = &["R", "R", "R", "S", "Q", "N"];
const RESULT_STATUSES: &[&str] = &["F", "F", "F", "F", "P", "C"];
const TASK_TITLES: &[&str] = &[
    "Call patient with lab results",
    "Request records from previous provider",
    "Prior authorization follow-up",
    "Schedule follow-up visit",
];
/// Task status and category ids (`/api/task_statuses`, `/api/task_categories`).
const TASK_STATUSES: &[i64] = &[5301, 5301, 5302, 5303];
const TASK_CATEGORIES: &[i64] = &[5201, 5202, 5203];
const TASK_PRIORITIES: &[&str] = &["10", "20", "20", "30", "40"];

/// One patient's orders and their results.
pub(crate) struct Labs {
    pub(crate) orders: Vec<(i64, Record)>,
    pub(crate) results: Vec<(i64, Record)>,
}

pub(crate) struct NextIds {
    pub(crate) order: i64,
    pub(crate) result: i64,
    pub(crate) task: i64,
}

/// 0–2 orders, each placed at one of the patient's past `visits` and
/// billed under its problem `codes`, with 1–3 results once received.
pub(crate) fn labs(
    rng: &mut Draw,
    ids: &mut NextIds,
    owner: Owner,
    visits: &[(i64, NaiveDate)],
    codes: &[&str],
) -> Labs {
    let mut labs = Labs { orders: Vec::new(), results: Vec::new() };
    if visits.is_empty() {
        return labs;
    }
    for _ in 0..rng.random_range(0..=2) {
        let (_, day) = *choose(rng, visits);
        let id = take(&mut ids.order);
        let status = data::pick(rng, ORDER_STATUSES);
        let icd10: Vec<Value> = codes.iter().take(2).map(|c| json!({"code": c, "description": ""})).collect();
        let placed = day.and_time(NaiveTime::from_hms_opt(10, 30, 0).unwrap_or_default());
        let order = record([
            ("id", Value::from(id)),
            ("patient", Value::from(owner.patient)),
            ("doctor", Value::from(owner.doctor)),
            ("sublab", Value::from(*choose(rng, SUBLABS))),
            ("status", Value::from(status)),
            ("priority", Value::from(if rng.random_bool(0.1) { "S" } else { "N" })),
            ("timestamp", Value::from(stamps::stamp(placed))),
            ("notes", Value::from("")),
            ("accession_number", Value::from(format!("ACC{id}"))),
            ("requisition_id", Value::from(id.to_string())),
            ("external_requisition_id", Value::from("")),
            ("icd10_codes", Value::from(icd10)),
            ("documents", Value::Array(Vec::new())),
            ("updated_at", Value::from(updated_at(rng, day, owner.today))),
        ]);
        labs.orders.push((id, order));
        if status == "R" {
            for _ in 0..rng.random_range(1..=3) {
                let result = result(rng, take(&mut ids.result), id);
                labs.results.push(result);
            }
        }
    }
    labs
}

/// A value around the normal range `[low, high]`, to one decimal, and its
/// HL7 flag: `L` below, `H` above, `N` within.
fn measure(rng: &mut Draw, low: f64, high: f64) -> (f64, &'static str) {
    let spread = (high - low) * 0.6;
    let value = (rng.random_range(low - spread..high + spread) * 10.0).round() / 10.0;
    let flag = if value < low {
        "L"
    } else if value > high {
        "H"
    } else {
        "N"
    };
    (value, flag)
}

fn result(rng: &mut Draw, id: i64, order: i64) -> (i64, Record) {
    let &(loinc, description, unit, low, high) = choose(rng, TESTS);
    let (value, flag) = measure(rng, low, high);
    let record = record([
        ("id", Value::from(id)),
        ("lab_order", Value::from(order.to_string())),
        ("document", Value::from(id + 1_000_000)),
        ("lab_test", Value::from(id + 2_000_000)),
        ("test_performed", Value::from(description)),
        ("observation_code", Value::from(loinc)),
        ("observation_description", Value::from(description)),
        ("group_code", Value::from("")),
        ("value", Value::from(value.to_string())),
        ("value_is_numeric", Value::from(true)),
        ("unit", Value::from(unit)),
        ("normal_range", Value::from(format!("{low} {high}"))),
        ("abnormal_status", Value::from(flag)),
        ("is_abnormal", Value::from(if flag == "N" { "False" } else { "True" })),
        ("status", Value::from(data::pick(rng, RESULT_STATUSES))),
        ("specimen_received", Value::from("")),
        ("comments", Value::from("")),
    ]);
    (id, record)
}

/// 0–1 open or done tasks about the patient, assigned to its doctor.
pub(crate) fn tasks(rng: &mut Draw, next_id: &mut i64, owner: Owner) -> Vec<(i64, Record)> {
    if !rng.random_bool(0.4) {
        return Vec::new();
    }
    let id = take(next_id);
    let created = owner.today - Duration::days(rng.random_range(1..120));
    let due = created + Duration::days(rng.random_range(1..30));
    let due_at = due.and_time(NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default());
    let patient_item = json!({"task": id, "type": "Patient", "value": owner.patient});
    let record = record([
        ("id", Value::from(id)),
        ("title", Value::from(data::pick(rng, TASK_TITLES))),
        ("status", Value::from(*choose(rng, TASK_STATUSES))),
        ("category", Value::from(*choose(rng, TASK_CATEGORIES))),
        ("priority", Value::from(data::pick(rng, TASK_PRIORITIES))),
        ("assignee_user", Value::from(owner.doctor.to_string())),
        ("assignee_group", Value::Null),
        ("assigned_by", Value::from(owner.doctor.to_string())),
        ("created_by", Value::from(owner.doctor.to_string())),
        ("due_date", json!({"time": stamps::stamp(due_at)})),
        ("archived", Value::from(false)),
        ("associated_items", Value::from(vec![patient_item])),
        ("notes", Value::Array(Vec::new())),
        ("created_at", Value::from(stamps::stamp(created.and_time(NaiveTime::MIN)))),
        ("updated_at", Value::from(updated_at(rng, created, owner.today))),
    ]);
    vec![(id, record)]
}

/// 0–2 results entered in the patient's chart (`/api/patient_lab_results`,
/// the spec's `PatientLabResultSet`): outside-lab results typed in or
/// imported, with no order of the practice's.
pub(crate) fn chart_results(rng: &mut Draw, next_id: &mut i64, owner: Owner) -> Vec<(i64, Record)> {
    (0..rng.random_range(0..=2))
        .map(|_| {
            let &(loinc, title, unit, low, high) = choose(rng, TESTS);
            let (value, flag) = measure(rng, low, high);
            let performed = owner.today - Duration::days(rng.random_range(7..720));
            let id = take(next_id);
            let record = record([
                ("id", Value::from(id)),
                ("patient", Value::from(owner.patient)),
                ("ordering_doctor", Value::from(owner.doctor)),
                ("title", Value::from(title)),
                ("loinc_code", Value::from(loinc)),
                ("lab_result_value", Value::from(value.to_string())),
                ("lab_result_value_as_float", Value::from(value)),
                ("lab_result_value_units", Value::from(unit)),
                ("lab_normal_range", Value::from(format!("{low}-{high}"))),
                ("lab_normal_range_units", Value::from(unit)),
                ("lab_abnormal_flag", Value::from(flag)),
                ("lab_order_status", Value::from("Results Received")),
                ("date_test_performed", Value::from(stamps::date(performed))),
                ("doctor_signoff", Value::from(rng.random_bool(0.7))),
                ("doctor_comments", Value::from("")),
                ("scanned_in_result", Value::Null),
                ("lab_imported_from_ccr", Value::Null),
                ("created_at", Value::from(stamps::stamp(performed.and_time(NaiveTime::MIN)))),
                ("updated_at", Value::from(updated_at(rng, performed, owner.today))),
            ]);
            (id, record)
        })
        .collect()
}

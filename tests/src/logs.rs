//! Captures every log line of the test process, at debug level for every
//! crate, so a test can assert what never appears in them (PHI).
//!
//! The capture is the one [`crate::telemetry`] installs with its span
//! exporter: a process has one global subscriber, and tests that share a
//! process (`cargo test`) must all see the same one.

use sandbox::{Kind, Sandbox};

pub use crate::telemetry::Logs as Captured;

/// The process's log capture, installed on first use.
pub fn capture() -> Captured {
    crate::telemetry::capture().logs.clone()
}

/// Fields of each kind that are PHI, as the sandbox serves them.
const PHI_FIELDS: [(Kind, &[&str]); 7] = [
    (
        Kind::Patient,
        &[
            "first_name",
            "last_name",
            "date_of_birth",
            "cell_phone",
            "home_phone",
            "email",
            "address",
            "emergency_contact_name",
        ],
    ),
    (Kind::Appointment, &["reason", "notes"]),
    (Kind::Medication, &["name", "notes"]),
    (Kind::Problem, &["name"]),
    (Kind::Allergy, &["description", "reaction"]),
    (Kind::Task, &["title"]),
    (Kind::LabOrder, &["notes"]),
];

/// Every PHI value the sandbox holds, as (whose, value), for a test to
/// assert none appears where it must not. Values shorter than five
/// characters are left out: they match ordinary words.
pub fn practice_phi(sandbox: &Sandbox) -> Vec<(String, String)> {
    let mut values = Vec::new();
    for (kind, fields) in PHI_FIELDS {
        for id in sandbox.ids(kind) {
            let record = sandbox.record(kind, id).unwrap();
            if kind == Kind::Appointment && record["patient"].is_null() {
                continue;
            }
            for field in fields {
                if let Some(v) = record[*field].as_str().filter(|v| v.len() >= 5) {
                    values.push((format!("{kind:?} {id} {field}"), v.to_string()));
                }
            }
        }
    }
    values
}

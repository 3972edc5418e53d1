//! Real-shape bodies to start from, taken from a running sandbox practice,
//! and the credentials of the service under test.

use sandbox::{GridhookScheme, Kind, Sandbox};
use serde_json::Value;

/// Where the service listens and the credentials it accepts on each endpoint.
#[derive(Debug, Clone)]
pub struct Target {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    pub webhook_secret: String,
    pub deepcura_secret: String,
    pub deepcura_scheme: GridhookScheme,
    pub partner_token: String,
    pub admin_token: String,
    /// The service's body limit: bodies stay under it, since a larger one
    /// is refused before it is read (`tests/it/http_limits.rs` covers that).
    pub max_body: usize,
}

/// Records, visits and ids of one sandbox practice.
#[derive(Debug, Clone)]
pub struct Samples {
    /// (DrChrono event, object) pairs as a delivery carries them.
    pub records: Vec<(&'static str, Value)>,
    /// Decrypted Gridhooks for visits the practice holds.
    pub gridhooks: Vec<Value>,
    pub patient_ids: Vec<i64>,
    pub appointment_ids: Vec<i64>,
    pub doctor_id: i64,
    pub office_id: i64,
}

const EVENTS: [(Kind, &str); 6] = [
    (Kind::Patient, "PATIENT_MODIFY"),
    (Kind::Appointment, "APPOINTMENT_MODIFY"),
    (Kind::ClinicalNote, "CLINICAL_NOTE_LOCK"),
    (Kind::Medication, "PATIENT_MEDICATION_MODIFY"),
    (Kind::Problem, "PATIENT_PROBLEM_MODIFY"),
    (Kind::Allergy, "PATIENT_ALLERGY_MODIFY"),
];

impl Samples {
    /// A few records of each kind the service mirrors, and their ids.
    pub fn from_sandbox(sandbox: &Sandbox) -> Samples {
        let mut records = Vec::new();
        for (kind, event) in EVENTS {
            for id in sandbox.ids(kind).into_iter().take(3) {
                if let Some(record) = sandbox.record(kind, id) {
                    records.push((event, record));
                }
            }
        }
        let appointment_ids: Vec<i64> = sandbox.ids(Kind::Appointment).into_iter().take(20).collect();
        let gridhooks = appointment_ids.iter().take(5).filter_map(|&a| sandbox.gridhook_for(a)).collect();
        let first = |kind| sandbox.ids(kind).first().copied().unwrap_or(1);
        Samples {
            records,
            gridhooks,
            patient_ids: sandbox.patient_ids().into_iter().take(20).collect(),
            appointment_ids,
            doctor_id: first(Kind::Doctor),
            office_id: first(Kind::Office),
        }
    }
}

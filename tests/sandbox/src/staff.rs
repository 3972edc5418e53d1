//! The practice's doctors and offices. Patients already point at the doctor
//! ids in `data::DOCTORS`; this fills in the rest of each doctor from the
//! seed, so `/api/doctors` and every record's `doctor` agree.

use std::collections::BTreeMap;

use rand::RngExt as _;
use serde_json::{Value, json};

use crate::{
    data::{self, DOCTORS, FIRST_NAMES, LAST_NAMES},
    practice::Record,
};

/// The practice group every doctor belongs to; the same number the
/// `WebhookSender` puts in a delivery's top-level `practice_group_id`.
pub(crate) const PRACTICE_GROUP: i64 = 15_062;

/// The practice's offices. Each doctor works from one, so an appointment's
/// `office` follows from its doctor.
pub(crate) const OFFICES: &[i64] = &[40_101, 40_102];

/// Exam rooms are numbered per office, as in DrChrono.
pub(crate) const EXAM_ROOMS: i64 = 4;

const SPECIALTIES: &[&str] = &["Family Medicine", "Internal Medicine", "Pediatrics", "Cardiology", "Dermatology"];
const SUFFIXES: &[&str] = &["MD", "DO", "MD", "NP", "MD, PhD"];

/// Streams above any patient index, so doctors never share an RNG with one.
const DOCTOR_STREAM: u64 = 1 << 40;

pub(crate) fn doctors(seed: u64) -> BTreeMap<i64, Record> {
    DOCTORS.iter().enumerate().map(|(index, &id)| (id, doctor(seed, index, id))).collect()
}

/// The office a doctor sees patients in.
pub(crate) fn office_of(doctor: i64) -> i64 {
    let index = DOCTORS.iter().position(|&d| d == doctor).unwrap_or(0);
    OFFICES[index % OFFICES.len()]
}

fn doctor(seed: u64, index: usize, id: i64) -> Record {
    let mut rng = data::rng(seed, index, DOCTOR_STREAM);
    let first = data::pick(&mut rng, FIRST_NAMES);
    let last = data::pick(&mut rng, LAST_NAMES);
    let value = json!({
        "id": id,
        "first_name": first,
        "last_name": last,
        "suffix": data::pick(&mut rng, SUFFIXES),
        "specialty": SPECIALTIES[index % SPECIALTIES.len()],
        "npi_number": npi(rng.random_range(100_000_000..200_000_000)),
        "email": format!("dr.{}.{id}@sandbox.example", last.to_lowercase()),
        // The spec types it as a string, unlike the delivery's `practice_group_id`.
        "practice_group": PRACTICE_GROUP.to_string(),
    });
    match value {
        Value::Object(map) => map,
        _ => Record::new(),
    }
}

/// (name, city, state) of each office in [`OFFICES`].
const OFFICE_PLACES: &[(&str, &str, &str)] =
    &[("Main Street Clinic", "Springfield", "IL"), ("Riverside Family Practice", "Shelbyville", "IL")];

/// The practice's offices, each with its exam rooms, as `/api/offices`
/// serves them. The spec types `exam_rooms` as a string; DrChrono sends a
/// list of rooms, which is what the sandbox serves.
pub(crate) fn offices() -> BTreeMap<i64, Record> {
    OFFICES
        .iter()
        .zip(OFFICE_PLACES)
        .map(|(&id, &(name, city, state))| {
            let rooms: Vec<Value> = (1..=EXAM_ROOMS)
                .map(|index| json!({ "index": index, "name": format!("Exam {index}"), "online_scheduling": true }))
                .collect();
            let value = json!({
                "id": id,
                "name": name,
                "address": format!("{} Main St", 100 + id % 100),
                "city": city,
                "state": state,
                "zip_code": "62701",
                "country": "US",
                "phone_number": "(217) 555-0100",
                "archived": false,
                "online_scheduling": true,
                "exam_rooms": rooms,
            });
            let record = match value {
                Value::Object(map) => map,
                _ => Record::new(),
            };
            (id, record)
        })
        .collect()
}

/// A ten-digit NPI whose last digit is the real Luhn check digit (computed
/// over the `80840` prefix), so a client that validates NPIs accepts it.
fn npi(first_nine: u32) -> String {
    let body = format!("80840{first_nine:09}");
    let sum: u32 = body
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                let doubled = d * 2;
                doubled / 10 + doubled % 10
            } else {
                d
            }
        })
        .sum();
    format!("{first_nine:09}{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npi_check_digit_matches_the_published_example() {
        // CMS's worked example: 123456789 has check digit 3.
        assert_eq!(npi(123_456_789), "1234567893");
    }

    #[test]
    fn every_patient_doctor_exists_and_has_an_office() {
        let doctors = doctors(3);
        for id in DOCTORS {
            assert!(doctors.contains_key(id));
            assert!(OFFICES.contains(&office_of(*id)));
        }
        assert_eq!(doctors, super::doctors(3));
    }
}

//! A patient's chart lists: problems, medications and allergies, 0–3 of each,
//! shaped as DrChrono's `/api/problems`, `/api/medications` and
//! `/api/allergies` serialize them.
//!
//! The codes are real RxNorm, ICD-10 and SNOMED CT codes for common entries,
//! so a client that maps or displays codes sees plausible ones.

use chrono::{Duration, NaiveDate, NaiveTime};
use rand::RngExt as _;
use serde_json::Value;

use crate::{
    data::{self, Draw, choose},
    practice::{Record, record},
    stamps,
};

/// Whose chart is being drawn, and the day the practice was generated on.
#[derive(Clone, Copy)]
pub(crate) struct Owner {
    pub(crate) patient: i64,
    pub(crate) doctor: i64,
    pub(crate) today: NaiveDate,
}

/// (name, ICD-10, SNOMED CT).
pub(crate) const PROBLEMS: &[(&str, &str, &str)] = &[
    ("Essential hypertension", "I10", "59621000"),
    ("Type 2 diabetes mellitus without complications", "E11.9", "44054006"),
    ("Hyperlipidemia, unspecified", "E78.5", "55822004"),
    ("Asthma, unspecified", "J45.909", "195967001"),
    ("Hypothyroidism, unspecified", "E03.9", "40930008"),
    ("Major depressive disorder, single episode", "F32.9", "35489007"),
    ("Gastro-esophageal reflux disease", "K21.9", "235595009"),
    ("Low back pain", "M54.50", "279039007"),
];
const PROBLEM_STATUSES: &[&str] = &["active", "active", "active", "inactive", "resolved"];

/// (name, RxNorm, NDC, dosage quantity, units, frequency, route).
#[rustfmt::skip]
const MEDICATIONS: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    ("Lisinopril 10 MG Oral Tablet", "314076", "68180-0514-01", "1", "tablet", "once daily", "oral"),
    ("Metformin 500 MG Oral Tablet", "861007", "65862-0008-01", "1", "tablet", "twice daily", "oral"),
    ("Atorvastatin 20 MG Oral Tablet", "617310", "00071-0156-23", "1", "tablet", "at bedtime", "oral"),
    ("Levothyroxine 50 MCG Oral Tablet", "966222", "00074-4552-90", "1", "tablet", "every morning", "oral"),
    ("Sertraline 50 MG Oral Tablet", "312940", "16729-0166-01", "1", "tablet", "once daily", "oral"),
    ("Albuterol 0.09 MG/ACTUAT Inhaler", "745679", "00173-0682-20", "2", "puff", "every 4 hours as needed", "inhalation"),
    ("Omeprazole 20 MG Delayed Release Capsule", "198053", "62175-0118-37", "1", "capsule", "once daily", "oral"),
    ("Amoxicillin 500 MG Oral Capsule", "308191", "65862-0017-01", "1", "capsule", "three times daily", "oral"),
];
const MEDICATION_NOTES: &[&str] = &["", "", "Take with food.", "Refill requested.", "Review at next visit."];

/// (description, RxNorm of the agent or "", SNOMED CT of the allergy).
const ALLERGIES: &[(&str, &str, &str)] = &[
    ("Penicillin", "7980", "91936005"),
    ("Sulfonamide antibiotics", "10180", "91939003"),
    ("Aspirin", "1191", "293586001"),
    ("Peanut", "", "91935009"),
    ("Latex", "", "300916003"),
    ("Shellfish", "", "300913006"),
];
const REACTIONS: &[&str] = &["Hives", "Rash", "Anaphylaxis", "Swelling", "Nausea", "Wheezing"];

pub(crate) fn problems(rng: &mut Draw, next_id: &mut i64, owner: Owner) -> Vec<(i64, Record)> {
    let count = rng.random_range(0..=3);
    (0..count)
        .map(|_| {
            let (name, icd, snomed) = *choose(rng, PROBLEMS);
            let onset = owner.today - Duration::days(rng.random_range(30..3650));
            let diagnosis = onset + Duration::days(rng.random_range(0..60));
            let id = take(next_id);
            let record = record([
                ("id", Value::from(id)),
                ("patient", Value::from(owner.patient)),
                ("doctor", Value::from(owner.doctor)),
                ("name", Value::from(name)),
                ("icd_code", Value::from(icd)),
                ("icd_version", Value::from("10")),
                ("snomed_ct_code", Value::from(snomed)),
                ("status", Value::from(data::pick(rng, PROBLEM_STATUSES))),
                ("date_onset", Value::from(stamps::date(onset))),
                ("date_diagnosis", Value::from(stamps::date(diagnosis.min(owner.today)))),
                ("updated_at", Value::from(updated_at(rng, diagnosis, owner.today))),
            ]);
            (id, record)
        })
        .collect()
}

/// `visits` are the patient's past appointments as (id, date); a medication
/// is usually prescribed at one of them, so `appointment` links back.
pub(crate) fn medications(
    rng: &mut Draw,
    next_id: &mut i64,
    owner: Owner,
    visits: &[(i64, NaiveDate)],
) -> Vec<(i64, Record)> {
    let count = rng.random_range(0..=3);
    (0..count)
        .map(|_| {
            let &(name, rxnorm, ndc, quantity, units, frequency, route) = choose(rng, MEDICATIONS);
            let (appointment, prescribed) = match visits {
                [] => (Value::Null, owner.today - Duration::days(rng.random_range(1..730))),
                _ => {
                    let (id, day) = *choose(rng, visits);
                    (Value::from(id), day)
                }
            };
            let started = (prescribed + Duration::days(rng.random_range(0..4))).min(owner.today);
            let active = rng.random_bool(0.7);
            let stopped =
                (!active).then(|| stamps::date((started + Duration::days(rng.random_range(7..180))).min(owner.today)));
            let id = take(next_id);
            let record = record([
                ("id", Value::from(id)),
                ("patient", Value::from(owner.patient)),
                ("doctor", Value::from(owner.doctor)),
                ("appointment", appointment),
                ("name", Value::from(name)),
                ("rxnorm", Value::from(rxnorm)),
                ("ndc", Value::from(ndc)),
                ("dosage_quantity", Value::from(quantity)),
                ("dosage_units", Value::from(units)),
                ("frequency", Value::from(frequency)),
                ("route", Value::from(route)),
                ("status", Value::from(if active { "active" } else { "inactive" })),
                ("date_prescribed", Value::from(stamps::date(prescribed))),
                ("date_started_taking", Value::from(stamps::date(started))),
                ("date_stopped_taking", Value::from(stopped)),
                ("daw", Value::from(rng.random_bool(0.1))),
                ("notes", Value::from(data::pick(rng, MEDICATION_NOTES))),
                ("updated_at", Value::from(updated_at(rng, started, owner.today))),
            ]);
            (id, record)
        })
        .collect()
}

pub(crate) fn allergies(rng: &mut Draw, next_id: &mut i64, owner: Owner) -> Vec<(i64, Record)> {
    let count = rng.random_range(0..=3);
    (0..count)
        .map(|_| {
            let (description, rxnorm, snomed) = *choose(rng, ALLERGIES);
            let noted = owner.today - Duration::days(rng.random_range(1..1800));
            let id = take(next_id);
            let record = record([
                ("id", Value::from(id)),
                ("patient", Value::from(owner.patient)),
                ("doctor", Value::from(owner.doctor)),
                ("description", Value::from(description)),
                ("reaction", Value::from(data::pick(rng, REACTIONS))),
                ("rxnorm", Value::from(rxnorm)),
                ("snomed_code", Value::from(snomed)),
                ("status", Value::from(if rng.random_bool(0.85) { "active" } else { "inactive" })),
                ("notes", Value::from(if rng.random_bool(0.3) { "Reported by patient." } else { "" })),
                ("updated_at", Value::from(updated_at(rng, noted, owner.today))),
            ]);
            (id, record)
        })
        .collect()
}

pub(crate) fn take(next_id: &mut i64) -> i64 {
    let id = *next_id;
    *next_id += 1;
    id
}

/// A stamp on or after `from` and strictly before `today` began, so a
/// generated record is never "newer" than an edit made by a test.
pub(crate) fn updated_at(rng: &mut Draw, from: NaiveDate, today: NaiveDate) -> String {
    let from = from.min(today - Duration::days(1));
    let span = (today - from).num_seconds().max(1);
    let at = from.and_time(NaiveTime::MIN) + Duration::seconds(rng.random_range(0..span));
    stamps::stamp(at)
}

//! Deterministic fake patients, shaped as DrChrono's REST API serializes them.
//!
//! Names come from small lists of unusual words so a test can grep logs for
//! them and prove no PHI leaked. Each patient draws from its own RNG seeded
//! by (seed, index), so a practice of 100 starts with the same 20 patients as
//! a practice of 20.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rand::{RngExt, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

use crate::state::Patient;

/// The first patient id; DrChrono ids are plain increasing integers.
pub(crate) const FIRST_PATIENT_ID: i64 = 1001;

/// DrChrono's naive timestamp form (practice-local; the sandbox's practice
/// runs on UTC).
pub(crate) const STAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

const FIRST_NAMES: &[&str] = &[
    "Zephyrine",
    "Quillon",
    "Marisol",
    "Thaddeus",
    "Ophelia",
    "Barnaby",
    "Isolde",
    "Cassius",
    "Wilhelmina",
    "Leopold",
    "Araminta",
    "Fitzgerald",
    "Seraphina",
    "Ignatius",
    "Clementine",
    "Peregrine",
    "Rosalind",
    "Evander",
    "Philippa",
    "Octavian",
];
const MIDDLE_NAMES: &[&str] = &[
    "", "Juniper", "Alder", "Sage", "Wren", "Ember", "Rowan", "Lark",
];
const LAST_NAMES: &[&str] = &[
    "Quibbleworth",
    "Fennimore",
    "Thistlewood",
    "Brackenridge",
    "Mossgrave",
    "Larkspur",
    "Underhill",
    "Whitlock",
    "Ravensworth",
    "Ashdown",
    "Penhallow",
    "Marchbanks",
    "Featherstone",
    "Blackwood",
    "Holloway",
    "Gildersleeve",
    "Tumbleton",
    "Oakenshaw",
    "Wolverton",
    "Pemberton",
];
const STREETS: &[&str] = &[
    "Maple", "Juniper", "Harbor", "Cedar", "Willow", "Summit", "Orchard",
];
const STREET_KINDS: &[&str] = &["St", "Ave", "Rd", "Ln", "Ct"];
/// (city, state, zip prefix) that agree with each other.
const CITIES: &[(&str, &str, &str)] = &[
    ("Springfield", "IL", "627"),
    ("Riverton", "WY", "825"),
    ("Fairview", "OR", "970"),
    ("Greenville", "SC", "296"),
    ("Madison", "WI", "537"),
    ("Salem", "MA", "019"),
    ("Franklin", "TN", "370"),
];
const AREA_CODES: &[&str] = &["217", "307", "503", "864", "608", "978", "615"];
/// Weighted towards the common values, with the rarer ones still present.
const GENDERS: &[&str] = &["Male", "Female", "Male", "Female", "Other", "UNK"];
const DOCTORS: &[i64] = &[314_159, 271_828, 161_803];
const REFERRING: &[&str] = &[
    "",
    "Friend",
    "Web search",
    "Insurance directory",
    "Physician",
];
const LANGUAGES: &[&str] = &["eng", "eng", "spa", "fra", "zho", "blank", "declined"];
const RACES: &[&str] = &[
    "white", "black", "asian", "indian", "hawaiian", "blank", "declined",
];
const ETHNICITIES: &[&str] = &["hispanic", "not_hispanic", "blank", "declined"];
const INSURERS: &[&str] = &["Bluestone Mutual", "Cedar Health Plan", "Northwind Care"];

pub(crate) fn practice(seed: u64, count: usize) -> BTreeMap<i64, Patient> {
    (0..count)
        .map(|index| {
            let patient = patient(seed, index);
            (FIRST_PATIENT_ID + index as i64, patient)
        })
        .collect()
}

fn pick<'a, T: ?Sized>(rng: &mut StdRng, items: &'a [&'a T]) -> &'a T {
    items[rng.random_range(0..items.len())]
}

/// A fictional North American number: 555-01xx is reserved for fiction.
fn phone(rng: &mut StdRng) -> String {
    format!(
        "({}) 555-01{:02}",
        pick(rng, AREA_CODES),
        rng.random_range(0..100)
    )
}

fn address(rng: &mut StdRng) -> String {
    let number = rng.random_range(1..9999);
    format!(
        "{number} {} {}",
        pick(rng, STREETS),
        pick(rng, STREET_KINDS)
    )
}

fn day(from: NaiveDate, span_days: i64, rng: &mut StdRng) -> NaiveDate {
    from + Duration::days(rng.random_range(0..span_days))
}

fn patient(seed: u64, index: usize) -> Patient {
    let mut rng = StdRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let id = FIRST_PATIENT_ID + index as i64;
    let first = pick(&mut rng, FIRST_NAMES);
    let middle = pick(&mut rng, MIDDLE_NAMES);
    let last = pick(&mut rng, LAST_NAMES);
    let (city, state, zip) = CITIES[rng.random_range(0..CITIES.len())];
    let epoch = NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or_default();
    let created = NaiveDateTime::new(
        day(epoch, 5 * 365, &mut rng),
        NaiveTime::from_num_seconds_from_midnight_opt(rng.random_range(0..86_400), 0)
            .unwrap_or_default(),
    );
    let updated = created + Duration::seconds(rng.random_range(0..400 * 86_400));
    let birth = day(
        NaiveDate::from_ymd_opt(1930, 1, 1).unwrap_or_default(),
        90 * 365,
        &mut rng,
    );
    let optional_phone = |rng: &mut StdRng| {
        if rng.random_bool(0.5) {
            phone(rng)
        } else {
            String::new()
        }
    };

    let value = json!({
        "id": id,
        "first_name": first,
        "middle_name": middle,
        "last_name": last,
        "date_of_birth": birth.format("%Y-%m-%d").to_string(),
        "gender": pick(&mut rng, GENDERS),
        "email": format!("{}.{}.{id}@sandbox.example", first.to_lowercase(), last.to_lowercase()),
        "cell_phone": phone(&mut rng),
        "home_phone": optional_phone(&mut rng),
        "office_phone": optional_phone(&mut rng),
        "address": address(&mut rng),
        "city": city,
        "state": state,
        "zip_code": format!("{zip}{:02}", rng.random_range(0..100)),
        "chart_id": format!("{}{}{:06}", prefix(last), prefix(first), index + 1),
        "doctor": DOCTORS[rng.random_range(0..DOCTORS.len())],
        "emergency_contact_name": format!("{} {}", pick(&mut rng, FIRST_NAMES), last),
        "emergency_contact_phone": phone(&mut rng),
        "referring_source": pick(&mut rng, REFERRING),
        "patient_status": "A",
        "created_at": created.format(STAMP_FORMAT).to_string(),
        "updated_at": updated.format(STAMP_FORMAT).to_string(),
        "preferred_language": pick(&mut rng, LANGUAGES),
        "race": pick(&mut rng, RACES),
        "ethnicity": pick(&mut rng, ETHNICITIES),
    });
    match value {
        Value::Object(map) => map,
        _ => Patient::new(),
    }
}

/// DrChrono chart ids start with letters of the patient's names.
fn prefix(name: &str) -> String {
    name.chars().take(2).collect::<String>().to_uppercase()
}

/// The insurance blocks DrChrono adds only with `verbose=true`; derived from
/// the id so they need no storage and never drift.
pub(crate) fn verbose_fields(id: i64) -> [(&'static str, Value); 2] {
    let insurer = INSURERS[id.unsigned_abs() as usize % INSURERS.len()];
    [
        (
            "primary_insurance",
            json!({
                "insurance_company": insurer,
                "insurance_id_number": format!("SBX{id:08}"),
                "insurance_group_number": format!("GRP{:04}", id % 7919),
                "insurance_plan_name": "Sandbox PPO",
            }),
        ),
        (
            "secondary_insurance",
            json!({
                "insurance_company": "",
                "insurance_id_number": "",
                "insurance_group_number": "",
                "insurance_plan_name": "",
            }),
        ),
    ]
}

/// Parses every timestamp form DrChrono sends: a date, or a naive date-time
/// with `T` or a space, optionally with fractional seconds. An offset or `Z`
/// is converted to UTC, the sandbox practice's zone.
pub(crate) fn parse_stamp(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date.and_time(NaiveTime::MIN));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(stamp) = NaiveDateTime::parse_from_str(text, format) {
            return Some(stamp);
        }
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.naive_utc())
}

pub(crate) fn updated_at_of(patient: &Patient) -> Option<NaiveDateTime> {
    patient
        .get("updated_at")
        .and_then(Value::as_str)
        .and_then(parse_stamp)
}

/// "Now", but strictly after `previous`, so two edits within one second still
/// produce two distinct versions.
pub(crate) fn next_stamp(previous: Option<NaiveDateTime>) -> String {
    let now = Utc::now().naive_utc();
    let now = now - Duration::nanoseconds(i64::from(now.and_utc().timestamp_subsec_nanos()));
    let stamp = match previous {
        Some(previous) if previous >= now => previous + Duration::seconds(1),
        _ => now,
    };
    stamp.format(STAMP_FORMAT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_practice_and_prefix_stable() {
        let small = practice(7, 5);
        let large = practice(7, 50);
        assert_eq!(small, practice(7, 5));
        for (id, patient) in &small {
            assert_eq!(Some(patient), large.get(id));
        }
        assert_ne!(practice(8, 5), small);
    }

    #[test]
    fn stamps_parse_in_every_drchrono_form() {
        let expected = NaiveDate::from_ymd_opt(2024, 3, 5).and_then(|d| d.and_hms_opt(10, 4, 0));
        assert_eq!(parse_stamp("2024-03-05T10:04:00"), expected);
        assert_eq!(parse_stamp("2024-03-05 10:04:00"), expected);
        assert_eq!(parse_stamp("2024-03-05T10:04:00Z"), expected);
        assert_eq!(
            parse_stamp("2024-03-05").map(|d| d.date()),
            expected.map(|d| d.date())
        );
        assert_eq!(parse_stamp("yesterday"), None);
    }

    #[test]
    fn next_stamp_is_strictly_later() {
        let far_future = parse_stamp("2999-01-01T00:00:00");
        assert_eq!(next_stamp(far_future), "2999-01-01T00:00:01");
    }
}

//! Deterministic fake patients, shaped as DrChrono's REST API serializes them,
//! and the drawing helpers the other generators share.
//!
//! Names come from small lists of unusual words so a test can grep logs for
//! them and prove no PHI leaked. Each patient draws from its own RNG seeded
//! by (seed, index), so a practice of 100 starts with the same 20 patients as
//! a practice of 20.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rand::{RngExt, SeedableRng, rngs::StdRng, rngs::Xoshiro256PlusPlus};
use serde_json::{Value, json};

use crate::{
    practice::{Record, record},
    stamps,
};

/// The first patient id; DrChrono ids are plain increasing integers.
pub(crate) const FIRST_PATIENT_ID: i64 = 1001;

pub(crate) const FIRST_NAMES: &[&str] = &[
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
const MIDDLE_NAMES: &[&str] = &["", "Juniper", "Alder", "Sage", "Wren", "Ember", "Rowan", "Lark"];
pub(crate) const LAST_NAMES: &[&str] = &[
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
const STREETS: &[&str] = &["Maple", "Juniper", "Harbor", "Cedar", "Willow", "Summit", "Orchard"];
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
/// The practice's doctors, whom patients are assigned to; `staff` fills in
/// the rest of each doctor.
pub(crate) const DOCTORS: &[i64] = &[314_159, 271_828, 161_803];
const REFERRING: &[&str] = &["", "Friend", "Web search", "Insurance directory", "Physician"];
const LANGUAGES: &[&str] = &["eng", "eng", "spa", "fra", "zho", "blank", "declined"];
const RACES: &[&str] = &["white", "black", "asian", "indian", "hawaiian", "blank", "declined"];
const ETHNICITIES: &[&str] = &["hispanic", "not_hispanic", "blank", "declined"];
/// (payer id, payer name) pairs; the ids are in the form of clearinghouse payer ids.
const INSURERS: &[(&str, &str)] =
    &[("BLU01", "Bluestone Mutual"), ("CDR02", "Cedar Health Plan"), ("NWC03", "Northwind Care")];

/// The RNG that draws patient `index` itself.
fn patient_rng(seed: u64, index: usize) -> StdRng {
    StdRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The RNG for the rest of a patient's share of the practice (its visits and
/// chart), one stream per purpose, so adding a record kind never changes the
/// patients already generated. Xoshiro rather than `StdRng`'s ChaCha: nothing
/// here needs a cryptographic generator, and in debug builds ChaCha alone
/// was a sixth of the time to generate a large practice.
pub(crate) fn rng(seed: u64, index: usize, stream: u64) -> Draw {
    let base = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    Draw::seed_from_u64(base ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03))
}

/// The generator behind everything but the patients themselves.
pub(crate) type Draw = Xoshiro256PlusPlus;

/// One item of a table of tuples.
pub(crate) fn choose<'a, T, R: RngExt + ?Sized>(rng: &mut R, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

pub(crate) fn pick<'a, T: ?Sized, R: RngExt + ?Sized>(rng: &mut R, items: &'a [&'a T]) -> &'a T {
    items[rng.random_range(0..items.len())]
}

/// A fictional North American number: 555-01xx is reserved for fiction.
pub(crate) fn phone(rng: &mut StdRng) -> String {
    format!("({}) 555-01{:02}", pick(rng, AREA_CODES), rng.random_range(0..100))
}

fn address(rng: &mut StdRng) -> String {
    let number = rng.random_range(1..9999);
    format!("{number} {} {}", pick(rng, STREETS), pick(rng, STREET_KINDS))
}

pub(crate) fn day(from: NaiveDate, span_days: i64, rng: &mut StdRng) -> NaiveDate {
    from + Duration::days(rng.random_range(0..span_days))
}

/// Patient `index` (id `FIRST_PATIENT_ID + index`), whatever the practice's
/// size.
pub(crate) fn patient(seed: u64, index: usize) -> Record {
    let mut rng = patient_rng(seed, index);
    let id = FIRST_PATIENT_ID + index as i64;
    let first = pick(&mut rng, FIRST_NAMES);
    let middle = pick(&mut rng, MIDDLE_NAMES);
    let last = pick(&mut rng, LAST_NAMES);
    let (city, state, zip) = CITIES[rng.random_range(0..CITIES.len())];
    let epoch = NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or_default();
    let created = NaiveDateTime::new(
        day(epoch, 5 * 365, &mut rng),
        NaiveTime::from_num_seconds_from_midnight_opt(rng.random_range(0..86_400), 0).unwrap_or_default(),
    );
    let updated = created + Duration::seconds(rng.random_range(0..400 * 86_400));
    let birth = day(NaiveDate::from_ymd_opt(1930, 1, 1).unwrap_or_default(), 90 * 365, &mut rng);
    let optional_phone = |rng: &mut StdRng| {
        if rng.random_bool(0.5) { phone(rng) } else { String::new() }
    };

    record([
        ("id", Value::from(id)),
        ("first_name", Value::from(first)),
        ("middle_name", Value::from(middle)),
        ("last_name", Value::from(last)),
        ("date_of_birth", Value::from(stamps::date(birth))),
        ("gender", Value::from(pick(&mut rng, GENDERS))),
        ("email", Value::from(format!("{}.{}.{id}@sandbox.example", first.to_lowercase(), last.to_lowercase()))),
        ("cell_phone", Value::from(phone(&mut rng))),
        ("home_phone", Value::from(optional_phone(&mut rng))),
        ("office_phone", Value::from(optional_phone(&mut rng))),
        ("address", Value::from(address(&mut rng))),
        ("city", Value::from(city)),
        ("state", Value::from(state)),
        ("zip_code", Value::from(format!("{zip}{:02}", rng.random_range(0..100)))),
        ("chart_id", Value::from(format!("{}{}{:06}", prefix(last), prefix(first), index + 1))),
        ("doctor", Value::from(DOCTORS[rng.random_range(0..DOCTORS.len())])),
        ("emergency_contact_name", Value::from(format!("{} {}", pick(&mut rng, FIRST_NAMES), last))),
        ("emergency_contact_phone", Value::from(phone(&mut rng))),
        ("referring_source", Value::from(pick(&mut rng, REFERRING))),
        ("patient_status", Value::from("A")),
        ("created_at", Value::from(stamps::stamp(created))),
        ("updated_at", Value::from(stamps::stamp(updated))),
        ("preferred_language", Value::from(pick(&mut rng, LANGUAGES))),
        ("race", Value::from(pick(&mut rng, RACES))),
        ("ethnicity", Value::from(pick(&mut rng, ETHNICITIES))),
    ])
}

/// DrChrono chart ids start with letters of the patient's names.
fn prefix(name: &str) -> String {
    name.chars().take(2).collect::<String>().to_uppercase()
}

/// The fields DrChrono adds to a patient only with `verbose=true`: the
/// insurance blocks, custom demographics, the referring doctor and flags.
/// Derived from the id so they need no storage and never drift. Every
/// patient has a primary coverage, every third a secondary; a rank without
/// coverage comes, as DrChrono sends it, with every field blank.
pub(crate) fn verbose_fields(id: i64) -> [(&'static str, Value); 6] {
    let secondary = if id % 3 == 0 { insurance(id + 1, "SEC") } else { insurance_block("", "", "", "") };
    [
        ("primary_insurance", insurance(id, "SBX")),
        ("secondary_insurance", secondary),
        ("tertiary_insurance", insurance_block("", "", "", "")),
        ("custom_demographics", json!([])),
        ("referring_doctor", json!({ "first_name": "", "last_name": "", "npi": "" })),
        ("patient_flags", json!([])),
    ]
}

/// A coverage block derived from `seed`, with a member id under `prefix`.
fn insurance(seed: i64, prefix: &str) -> Value {
    let (payer_id, payer) = INSURERS[seed.unsigned_abs() as usize % INSURERS.len()];
    insurance_block(payer_id, payer, &format!("{prefix}{seed:08}"), &format!("GRP{:04}", seed % 7919))
}

/// One insurance block with the fields of DrChrono's `Patient` schema.
fn insurance_block(payer_id: &str, payer: &str, member_id: &str, group: &str) -> Value {
    let covered = !payer.is_empty();
    json!({
        "insurance_payer_id": payer_id,
        "insurance_company": payer,
        "insurance_plan_name": if covered { "Sandbox PPO" } else { "" },
        "insurance_plan_type": if covered { "CI" } else { "" },
        "insurance_id_number": member_id,
        "insurance_group_number": group,
        "insurance_group_name": if covered { "Sandbox Employers" } else { "" },
        "insurance_claim_office_number": "",
        "is_subscriber_the_patient": true,
        "patient_relationship_to_subscriber": "",
        "subscriber_first_name": "",
        "subscriber_last_name": "",
        "subscriber_date_of_birth": "",
        "photo_front": "",
        "photo_back": "",
    })
}

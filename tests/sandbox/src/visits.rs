//! A patient's appointments over roughly the last two years plus a few ahead,
//! and a clinical note for each past visit the patient attended, shaped as
//! DrChrono's `/api/appointments` and `/api/clinical_notes` serialize them.
//!
//! Dates are drawn relative to the day the practice is generated, so "the
//! last two years" stays true whenever the tests run; ids increase with
//! `scheduled_time` within each patient, as DrChrono's would.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rand::RngExt as _;
use serde_json::Value;

use crate::{
    charts::{Owner, take},
    data::{self, Draw, choose},
    practice::{Record, record},
    staff, stamps,
};

/// The note template every generated note uses, and its fields' ids.
const TEMPLATE: i64 = 5501;
const FIELD_CHIEF_COMPLAINT: i64 = 77_001;
const FIELD_HPI: i64 = 77_002;
const FIELD_VITALS: i64 = 77_003;
const FIELD_EXAM: i64 = 77_004;
const FIELD_ASSESSMENT: i64 = 77_005;
const FIELD_PLAN: i64 = 77_006;

/// (profile id, reason, duration in minutes, virtual).
const PROFILES: &[(i64, &str, i64, bool)] = &[
    (6101, "Annual physical", 45, false),
    (6102, "Follow-up visit", 15, false),
    (6103, "New problem visit", 30, false),
    (6104, "Medication review", 15, false),
    (6105, "Telehealth check-in", 15, true),
];
/// The practice's appointment profiles (`/api/appointment_profiles`), the
/// ones its visits name in `profile`.
pub(crate) fn profiles() -> BTreeMap<i64, Record> {
    const COLORS: &[&str] = &["#4A90D9", "#7ED321", "#F5A623", "#BD10E0", "#50E3C2"];
    PROFILES
        .iter()
        .zip(COLORS)
        .enumerate()
        .map(|(order, (&(id, reason, duration, virtual_visit), color))| {
            let record = record([
                ("id", Value::from(id)),
                ("name", Value::from(reason)),
                ("doctor", Value::from(data::DOCTORS[0])),
                ("color", Value::from(*color)),
                ("reason", Value::from(reason)),
                ("duration", Value::from(duration)),
                ("sort_order", Value::from(order)),
                ("online_scheduling", Value::from(!virtual_visit)),
                ("archived", Value::from(false)),
            ]);
            (id, record)
        })
        .collect()
}

/// Weighted towards what past appointments end up as; the in-clinic flow
/// statuses appear too, since staff do not always close a visit out.
#[rustfmt::skip]
const PAST_STATUSES: &[&str] = &[
    "Complete", "Complete", "Complete", "Complete", "Complete", "Complete", "Arrived",
    "Checked In", "In Room", "In Session", "No Show", "Cancelled", "Rescheduled", "",
];
const FUTURE_STATUSES: &[&str] = &["Confirmed", "Confirmed", "Not Confirmed", ""];
/// Statuses of a visit that took place, and so has a clinical note.
const ATTENDED: &[&str] = &["Complete", "Arrived", "Checked In", "In Room", "In Session"];
const BILLING: &[&str] = &["Complete", "Bill Insurance", "Incomplete", "Paid in Full"];
const DESK_NOTES: &[&str] = &["", "", "", "Prefers morning slots.", "Bring medication list."];
const HPI: &[&str] = &[
    "Symptoms stable since last visit.",
    "Reports intermittent symptoms over the past two weeks.",
    "No new complaints; here for routine care.",
    "Symptoms improved with current treatment.",
];
const EXAM: &[&str] = &[
    "Well appearing, no acute distress.",
    "Lungs clear to auscultation bilaterally.",
    "Regular rate and rhythm, no murmurs.",
];
const PLAN: &[&str] = &[
    "Continue current management; follow up in 3 months.",
    "Labs ordered; follow up after results.",
    "Medication adjusted; recheck in 4 weeks.",
    "Routine follow-up in 12 months.",
];

/// One patient's generated visits.
pub(crate) struct Visits {
    pub(crate) appointments: Vec<(i64, Record)>,
    pub(crate) notes: Vec<(i64, Record)>,
    /// Past appointments as (id, date), for records that link to a visit.
    pub(crate) past: Vec<(i64, NaiveDate)>,
}

impl Visits {
    /// Whether the appointment took place: it has a clinical note.
    pub(crate) fn has_note(&self, appointment: i64) -> bool {
        let id = Value::from(appointment);
        self.notes.iter().any(|(_, note)| note.get("appointment") == Some(&id))
    }
}

pub(crate) struct NextIds {
    pub(crate) appointment: i64,
    pub(crate) note: i64,
}

/// `problem_codes` are the patient's ICD-10 codes, which visits bill under.
pub(crate) fn visits(rng: &mut Draw, ids: &mut NextIds, owner: Owner, problem_codes: &[&str]) -> Visits {
    let mut when: Vec<(NaiveDateTime, bool)> = Vec::new();
    for _ in 0..rng.random_range(2..=5) {
        let day = owner.today - Duration::days(rng.random_range(1..=730));
        when.push((slot(rng, day), true));
    }
    for _ in 0..rng.random_range(0..=2) {
        let day = owner.today + Duration::days(rng.random_range(1..=90));
        when.push((slot(rng, day), false));
    }
    when.sort();

    let mut visits = Visits { appointments: Vec::new(), notes: Vec::new(), past: Vec::new() };
    for (scheduled, past) in when {
        let id = take(&mut ids.appointment);
        let doctor = if rng.random_bool(0.85) { owner.doctor } else { *choose(rng, data::DOCTORS) };
        let status = data::pick(rng, if past { PAST_STATUSES } else { FUTURE_STATUSES });
        let attended = past && ATTENDED.contains(&status);
        let (profile, reason, duration, virtual_visit) = *choose(rng, PROFILES);
        let codes: Vec<&str> = if !past {
            Vec::new()
        } else if profile == 6101 || problem_codes.is_empty() {
            vec!["Z00.00"]
        } else {
            problem_codes.iter().copied().take(rng.random_range(1..=2)).collect()
        };
        let limit = owner.today.and_time(NaiveTime::MIN) - Duration::seconds(1);
        let created = if past {
            scheduled - Duration::days(rng.random_range(1..60))
        } else {
            limit - Duration::days(rng.random_range(0..60))
        };
        let updated = if past {
            (scheduled + Duration::minutes(duration + rng.random_range(0..2880))).min(limit)
        } else {
            created + Duration::seconds(rng.random_range(0..=(limit - created).num_seconds()))
        };
        let deleted = past && !attended && rng.random_bool(0.2);
        let appointment = record([
            ("id", Value::from(id.to_string())),
            ("patient", Value::from(owner.patient)),
            ("doctor", Value::from(doctor)),
            ("office", Value::from(staff::office_of(doctor))),
            ("exam_room", Value::from(rng.random_range(1..=staff::EXAM_ROOMS))),
            ("scheduled_time", Value::from(stamps::stamp(scheduled))),
            ("duration", Value::from(duration)),
            ("status", Value::from(status)),
            ("reason", Value::from(reason)),
            ("notes", Value::from(data::pick(rng, DESK_NOTES))),
            ("profile", Value::from(profile)),
            ("icd10_codes", Value::from(codes.clone())),
            ("billing_status", Value::from(if attended { data::pick(rng, BILLING) } else { "" })),
            ("is_virtual_base", Value::from(virtual_visit)),
            ("deleted_flag", Value::from(deleted)),
            ("created_at", Value::from(stamps::stamp(created))),
            ("updated_at", Value::from(stamps::stamp(updated))),
        ]);
        visits.appointments.push((id, appointment));
        if past {
            visits.past.push((id, scheduled.date()));
        }
        if attended {
            let note = note(rng, take(&mut ids.note), id, doctor, owner, scheduled, reason, &codes);
            visits.notes.push(note);
        }
    }
    visits
}

/// A quarter-hour slot in clinic hours on `day`.
fn slot(rng: &mut Draw, day: NaiveDate) -> NaiveDateTime {
    let minutes = rng.random_range(8 * 4..17 * 4) * 15;
    day.and_time(NaiveTime::MIN) + Duration::minutes(minutes)
}

#[allow(clippy::too_many_arguments)]
fn note(
    rng: &mut Draw,
    id: i64,
    appointment: i64,
    doctor: i64,
    owner: Owner,
    scheduled: NaiveDateTime,
    reason: &str,
    codes: &[&str],
) -> (i64, Record) {
    let limit = owner.today.and_time(NaiveTime::MIN) - Duration::seconds(1);
    let updated = (scheduled + Duration::minutes(rng.random_range(30..4320))).min(limit);
    let settled = owner.today - scheduled.date() > Duration::days(14);
    let locked = rng.random_bool(if settled { 0.9 } else { 0.3 });
    let vitals = format!(
        "BP {}/{}, HR {}, Temp {:.1} F",
        rng.random_range(105..150),
        rng.random_range(65..95),
        rng.random_range(55..100),
        97.5 + f64::from(rng.random_range(0..15_u8)) / 10.0,
    );
    let assessment = codes.join(", ");
    let section = |name: &str, values: &[(i64, &str)]| {
        let values: Vec<Value> = values
            .iter()
            .map(|&(field, value)| {
                Value::Object(record([("clinical_note_field", Value::from(field)), ("value", Value::from(value))]))
            })
            .collect();
        Value::Object(record([
            ("name", Value::from(name)),
            ("clinical_note_template", Value::from(TEMPLATE)),
            ("values", Value::from(values)),
        ]))
    };
    let sections = [
        section("Subjective", &[(FIELD_CHIEF_COMPLAINT, reason), (FIELD_HPI, data::pick(rng, HPI))]),
        section("Objective", &[(FIELD_VITALS, &vitals), (FIELD_EXAM, data::pick(rng, EXAM))]),
        section("Assessment", &[(FIELD_ASSESSMENT, &assessment)]),
        section("Plan", &[(FIELD_PLAN, data::pick(rng, PLAN))]),
    ];
    let note = record([
        ("id", Value::from(id)),
        ("patient", Value::from(owner.patient)),
        ("appointment", Value::from(appointment)),
        ("doctor", Value::from(doctor)),
        ("date", Value::from(stamps::stamp(scheduled))),
        ("archived", Value::from(rng.random_bool(0.03))),
        ("locked", Value::from(locked)),
        ("updated_at", Value::from(stamps::stamp(updated))),
        ("clinical_note_sections", Value::from(sections)),
    ]);
    (id, note)
}

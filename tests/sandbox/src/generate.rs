//! Generates the practice from (seed, patient count, today).
//!
//! Each patient's share (the patient, its problems, appointments, clinical
//! notes, medications and allergies) is a pure function of (seed, index,
//! today): drawn from RNGs seeded by (seed, index), with ids from a block
//! reserved for that index. So a practice of 100 starts with the same 20
//! patients, visits and chart entries as a practice of 20, and the shares can
//! be drawn in parallel. Ids therefore have gaps, as a practice's ids do at
//! DrChrono, whose ids are global across practices.
//!
//! Volume is a small constant per patient (about a dozen records), so a
//! 10,000-patient practice (about 120,000 records) generates in under two
//! seconds even in an unoptimized build.

use std::{collections::BTreeMap, num::NonZeroUsize};

use chrono::NaiveDate;
use serde_json::Value;

use crate::{
    Kind, billing,
    charts::{self, Owner},
    data, orders,
    practice::{Practice, Record},
    staff,
    visits::{self, NextIds},
};

/// Where each kind's ids start, far enough apart that kinds never share an
/// id in any practice a test would build.
pub(crate) const FIRST_APPOINTMENT_ID: i64 = 10_000_001;
pub(crate) const FIRST_CLINICAL_NOTE_ID: i64 = 20_000_001;
pub(crate) const FIRST_MEDICATION_ID: i64 = 30_000_001;
pub(crate) const FIRST_PROBLEM_ID: i64 = 40_000_001;
pub(crate) const FIRST_ALLERGY_ID: i64 = 50_000_001;
pub(crate) const FIRST_LAB_ORDER_ID: i64 = 60_000_001;
pub(crate) const FIRST_LAB_RESULT_ID: i64 = 70_000_001;
pub(crate) const FIRST_TASK_ID: i64 = 80_000_001;
pub(crate) const FIRST_LINE_ITEM_ID: i64 = 90_000_001;
pub(crate) const FIRST_PATIENT_LAB_RESULT_ID: i64 = 96_000_001;
/// Ids reserved per patient: `visits` draws at most 7 appointments (5 past,
/// 2 ahead) and so at most 5 notes; `charts` at most 3 of each entry.
const VISIT_BLOCK: i64 = 8;
const CHART_BLOCK: i64 = 4;
/// `orders` draws at most 2 lab orders with 3 results each, 2 results
/// entered in the chart and 1 task;
/// `billing` at most 2 line items for each of at most 5 visits.
const ORDER_BLOCK: i64 = 2;
const RESULT_BLOCK: i64 = 6;
const LINE_ITEM_BLOCK: i64 = 10;

/// Below this many patients per thread, threads cost more than they save.
const PATIENTS_PER_THREAD: usize = 500;

type Rows = [Vec<(i64, Record)>; Kind::ALL.len()];

/// `today` anchors "the last two years"; it is a parameter so tests can pin
/// it and the whole practice is a pure function of its inputs.
pub(crate) fn practice(seed: u64, patients: usize, today: NaiveDate) -> Practice {
    let threads = std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(patients.div_ceil(PATIENTS_PER_THREAD))
        .max(1);
    let chunk = patients.div_ceil(threads).max(1);
    let shares: Vec<Rows> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..patients)
            .step_by(chunk)
            .map(|start| {
                let end = (start + chunk).min(patients);
                scope.spawn(move || (start..end).map(|i| share(seed, i, today)).collect::<Vec<_>>())
            })
            .collect();
        workers.into_iter().flat_map(|worker| worker.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });

    let mut rows: Rows = Default::default();
    for share in shares {
        for (all, mine) in rows.iter_mut().zip(share) {
            all.extend(mine);
        }
    }
    // Shares come in index order and ids grow with the index, so each
    // table's rows are already sorted and `collect` builds it in bulk.
    let mut tables: [BTreeMap<i64, Record>; Kind::ALL.len()] = rows.map(|rows| rows.into_iter().collect());
    tables[Kind::Doctor.index()] = staff::doctors(seed);
    tables[Kind::Office.index()] = staff::offices();
    tables[Kind::AppointmentProfile.index()] = visits::profiles();
    Practice::from_tables(tables)
}

/// Patient `index` and everything that belongs to it.
fn share(seed: u64, index: usize, today: NaiveDate) -> Rows {
    let patient = data::patient(seed, index);
    let id = data::FIRST_PATIENT_ID + index as i64;
    let doctor = patient.get("doctor").and_then(Value::as_i64);
    let owner = Owner { patient: id, doctor: doctor.unwrap_or(data::DOCTORS[0]), today };
    let block = index as i64;
    let mut visit_ids = NextIds {
        appointment: FIRST_APPOINTMENT_ID + block * VISIT_BLOCK,
        note: FIRST_CLINICAL_NOTE_ID + block * VISIT_BLOCK,
    };
    let mut problem = FIRST_PROBLEM_ID + block * CHART_BLOCK;
    let mut medication = FIRST_MEDICATION_ID + block * CHART_BLOCK;
    let mut allergy = FIRST_ALLERGY_ID + block * CHART_BLOCK;

    let mut rng = data::rng(seed, index, 1);
    let problems = charts::problems(&mut rng, &mut problem, owner);
    let codes: Vec<&str> = problems.iter().filter_map(|(_, p)| p.get("icd_code").and_then(Value::as_str)).collect();
    let visits = visits::visits(&mut rng, &mut visit_ids, owner, &codes);
    let medications = charts::medications(&mut rng, &mut medication, owner, &visits.past);
    let allergies = charts::allergies(&mut rng, &mut allergy, owner);
    // Orders, tasks and billing draw from a stream of their own, so adding
    // them left every earlier record of a seed as it was.
    let mut rng = data::rng(seed, index, 2);
    let mut order_ids = orders::NextIds {
        order: FIRST_LAB_ORDER_ID + block * ORDER_BLOCK,
        result: FIRST_LAB_RESULT_ID + block * RESULT_BLOCK,
        task: FIRST_TASK_ID + block * ORDER_BLOCK,
    };
    let labs = orders::labs(&mut rng, &mut order_ids, owner, &visits.past, &codes);
    let tasks = orders::tasks(&mut rng, &mut order_ids.task, owner);
    let mut chart_result = FIRST_PATIENT_LAB_RESULT_ID + block * ORDER_BLOCK;
    let attended: Vec<(i64, NaiveDate)> = visits.past.iter().copied().filter(|(id, _)| visits.has_note(*id)).collect();
    let mut line_item = FIRST_LINE_ITEM_ID + block * LINE_ITEM_BLOCK;
    let line_items = billing::line_items(&mut rng, &mut line_item, owner, &attended, &codes);
    let chart_results = orders::chart_results(&mut rng, &mut chart_result, owner);

    let mut rows: Rows = Default::default();
    rows[Kind::Patient.index()] = vec![(id, patient)];
    rows[Kind::Appointment.index()] = visits.appointments;
    rows[Kind::ClinicalNote.index()] = visits.notes;
    rows[Kind::Medication.index()] = medications;
    rows[Kind::Problem.index()] = problems;
    rows[Kind::Allergy.index()] = allergies;
    rows[Kind::LabOrder.index()] = labs.orders;
    rows[Kind::LabResult.index()] = labs.results;
    rows[Kind::PatientLabResult.index()] = chart_results;
    rows[Kind::Task.index()] = tasks;
    rows[Kind::LineItem.index()] = line_items;
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::practice::{appointment_of, patient_of, reference};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
    }

    #[test]
    fn same_seed_same_practice_and_prefix_stable() {
        let small = practice(7, 5, today());
        let large = practice(7, 1200, today());
        for kind in Kind::ALL {
            assert_eq!(small.table(kind), practice(7, 5, today()).table(kind));
            for (id, record) in small.table(kind) {
                assert_eq!(Some(record), large.get(kind, *id), "{kind:?} {id}");
            }
        }
        let other = practice(8, 5, today());
        assert_ne!(other.table(Kind::Patient), small.table(Kind::Patient));
        assert_ne!(other.table(Kind::Appointment), small.table(Kind::Appointment));
    }

    #[test]
    fn id_blocks_never_overflow_into_the_next_patient() {
        let practice = practice(11, 300, today());
        let block_of = |kind: Kind, first: i64, size: i64| {
            for (id, record) in practice.table(kind) {
                let patient = patient_of(&practice, kind, record).unwrap();
                let index = patient - data::FIRST_PATIENT_ID;
                assert_eq!((id - first) / size, index, "{kind:?} {id}");
            }
        };
        block_of(Kind::Appointment, FIRST_APPOINTMENT_ID, VISIT_BLOCK);
        block_of(Kind::ClinicalNote, FIRST_CLINICAL_NOTE_ID, VISIT_BLOCK);
        block_of(Kind::Medication, FIRST_MEDICATION_ID, CHART_BLOCK);
        block_of(Kind::Problem, FIRST_PROBLEM_ID, CHART_BLOCK);
        block_of(Kind::Allergy, FIRST_ALLERGY_ID, CHART_BLOCK);
        block_of(Kind::LabOrder, FIRST_LAB_ORDER_ID, ORDER_BLOCK);
        block_of(Kind::LabResult, FIRST_LAB_RESULT_ID, RESULT_BLOCK);
        block_of(Kind::PatientLabResult, FIRST_PATIENT_LAB_RESULT_ID, ORDER_BLOCK);
        block_of(Kind::Task, FIRST_TASK_ID, ORDER_BLOCK);
        block_of(Kind::LineItem, FIRST_LINE_ITEM_ID, LINE_ITEM_BLOCK);
    }

    #[test]
    fn references_resolve() {
        let practice = practice(3, 40, today());
        for kind in Kind::ALL {
            for record in practice.table(kind).values() {
                let patient = patient_of(&practice, kind, record);
                if let Some(patient) = patient {
                    assert!(practice.get(Kind::Patient, patient).is_some());
                }
                let owned = [Kind::Doctor, Kind::Office, Kind::AppointmentProfile, Kind::Appointment];
                assert!(patient.is_some() || owned.contains(&kind), "{kind:?} names no patient");
                if let Some(doctor) = reference(record.get("doctor")) {
                    assert!(practice.get(Kind::Doctor, doctor).is_some(), "{kind:?}");
                }
                if let Some(appointment) = appointment_of(record) {
                    let linked = practice.get(Kind::Appointment, appointment).unwrap();
                    assert_eq!(reference(linked.get("patient")), patient, "{kind:?}");
                }
            }
        }
        for (&id, note) in practice.table(Kind::ClinicalNote) {
            let appointment = appointment_of(note).unwrap();
            assert_eq!(practice.note_of(appointment).map(|(n, _)| n), Some(id));
        }
    }

    /// A large practice stays proportionate: every patient, and a bounded
    /// number of records around each.
    #[test]
    fn ten_thousand_patients_make_a_bounded_practice() {
        let practice = practice(1, 10_000, today());
        let total: usize = Kind::ALL.iter().map(|k| practice.table(*k).len()).sum();
        assert_eq!(practice.table(Kind::Patient).len(), 10_000);
        assert!(total < 10_000 * 20, "{total} records");
    }
}

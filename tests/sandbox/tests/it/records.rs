//! Every record kind over HTTP: complete walks with the exact number of
//! calls, filters, detail pages, and determinism by seed.

use reqwest::StatusCode;
use sandbox::{Kind, SandboxConfig};
use serde_json::Value;

use crate::harness::{id_of, json, spawn, spawn_with, walk};

/// The list URL that walks every record of a kind; appointments need one of
/// their date filters, and `show_archived` to include deleted ones.
fn everything(kind: Kind, page_size: usize) -> String {
    let since = if kind == Kind::Appointment { "&since=2000-01-01&show_archived=true" } else { "" };
    format!("{}?page_size={page_size}{since}", kind.path())
}

#[tokio::test]
async fn walking_every_list_returns_every_record_in_the_fewest_calls() {
    let api = spawn(30).await;
    for kind in Kind::ALL {
        let expected = api.sandbox.ids(kind);
        assert!(!expected.is_empty(), "{kind:?}");
        for page in [7, kind.max_page_size()] {
            api.sandbox.reset_counters();
            let (ids, pages) = walk(&api, &api.url(&everything(kind, page))).await;
            assert_eq!(ids, expected, "{kind:?} by {page}");
            let calls = expected.len().div_ceil(page).max(1) as u64;
            assert_eq!(pages, calls, "{kind:?} by {page}");
            assert_eq!(api.sandbox.calls_to(kind.path()), calls, "{kind:?}");
        }
    }
}

#[tokio::test]
async fn details_match_the_records_and_unknown_ids_are_404() {
    let api = spawn(4).await;
    for kind in Kind::ALL {
        let id = api.sandbox.ids(kind)[0];
        // An allergy's description comes only with verbose=true.
        let verbose = if kind == Kind::Allergy { "?verbose=true" } else { "" };
        let response = api.get(&api.url(&format!("{}/{id}/{verbose}", kind.path()))).await;
        assert_eq!(response.status(), StatusCode::OK, "{kind:?}");
        let body = json(response).await;
        assert_eq!(Some(&body), api.sandbox.record(kind, id).as_ref());
        assert_eq!(id_of(&body), id);
        for missing in ["999999999", "abc"] {
            let response = api.get(&api.url(&format!("{}/{missing}", kind.path()))).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{kind:?} {missing}");
            assert_eq!(json(response).await["detail"], "Not found.");
        }
    }
}

#[tokio::test]
async fn records_carry_the_documented_fields_and_link_up() {
    let api = spawn(10).await;
    let fields: [(Kind, &[&str]); 6] = [
        (Kind::Doctor, &["first_name", "last_name", "suffix", "specialty", "npi_number", "email", "practice_group"]),
        (
            Kind::Appointment,
            &[
                "patient",
                "doctor",
                "office",
                "exam_room",
                "scheduled_time",
                "duration",
                "status",
                "reason",
                "notes",
                "profile",
                "icd10_codes",
                "billing_status",
                "is_virtual_base",
                "deleted_flag",
                "created_at",
                "updated_at",
            ],
        ),
        (
            Kind::ClinicalNote,
            &["patient", "appointment", "doctor", "date", "archived", "locked", "updated_at", "clinical_note_sections"],
        ),
        (
            Kind::Medication,
            &[
                "patient",
                "doctor",
                "appointment",
                "name",
                "rxnorm",
                "ndc",
                "dosage_quantity",
                "dosage_units",
                "frequency",
                "route",
                "status",
                "date_prescribed",
                "date_started_taking",
                "date_stopped_taking",
                "daw",
                "notes",
            ],
        ),
        (
            Kind::Problem,
            &[
                "patient",
                "doctor",
                "name",
                "icd_code",
                "icd_version",
                "snomed_ct_code",
                "status",
                "date_onset",
                "date_diagnosis",
            ],
        ),
        (Kind::Allergy, &["patient", "doctor", "description", "reaction", "rxnorm", "snomed_code", "status", "notes"]),
    ];
    for (kind, names) in fields {
        for id in api.sandbox.ids(kind) {
            let record = api.sandbox.record(kind, id).unwrap();
            for name in names {
                assert!(record.get(*name).is_some(), "{kind:?} {id} lacks {name}");
            }
            if let Some(patient) = record.get("patient").and_then(Value::as_i64) {
                assert!(api.sandbox.patient(patient).is_some());
            }
            if let Some(doctor) = record.get("doctor").and_then(Value::as_i64) {
                assert!(api.sandbox.record(Kind::Doctor, doctor).is_some());
            }
        }
    }
    let note = api.sandbox.record(Kind::ClinicalNote, api.sandbox.ids(Kind::ClinicalNote)[0]).unwrap();
    let section = &note["clinical_note_sections"][0];
    assert!(section["name"].is_string() && section["clinical_note_template"].is_i64());
    assert!(section["values"][0]["clinical_note_field"].is_i64());
    assert!(section["values"][0]["value"].is_string());
}

#[tokio::test]
async fn chart_lists_filter_by_patient_and_doctor() {
    let api = spawn(15).await;
    for kind in [Kind::Medication, Kind::Problem, Kind::Allergy] {
        let first = api.sandbox.record(kind, api.sandbox.ids(kind)[0]).unwrap();
        let (patient, doctor) = (&first["patient"], &first["doctor"]);
        let query = format!("{}?patient={patient}&doctor={doctor}&verbose=true", kind.path());
        let body = json(api.get(&api.url(&query)).await).await;
        let found = body["results"].as_array().unwrap();
        assert!(found.contains(&first), "{query}");
        for record in found {
            assert_eq!((&record["patient"], &record["doctor"]), (patient, doctor));
        }
        let bad = api.get(&api.url(&format!("{}?patient=x", kind.path()))).await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn modify_bumps_updated_at_and_keeps_the_id() {
    let api = spawn(3).await;
    let id = api.sandbox.ids(Kind::Problem)[0];
    let before = api.sandbox.record(Kind::Problem, id).unwrap();
    let after = api.sandbox.modify(Kind::Problem, id, |p| {
        p.insert("status".into(), "resolved".into());
        p.insert("id".into(), 1.into());
    });
    let after = after.unwrap();
    assert_eq!((after["status"].as_str(), id_of(&after)), (Some("resolved"), id));
    assert!(after["updated_at"].as_str() > before["updated_at"].as_str());
    let appointment = api.sandbox.ids(Kind::Appointment)[0];
    let edited = api.sandbox.modify(Kind::Appointment, appointment, |_| {}).unwrap();
    assert_eq!(edited["id"], Value::from(appointment.to_string()), "still a string");
    assert_eq!(api.sandbox.modify(Kind::Allergy, 1, |_| {}), None);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_practice_and_another_seed_does_not() {
    let config = |seed| SandboxConfig { patients: 6, seed, ..SandboxConfig::default() };
    let (a, b, c) = (spawn_with(config(9)).await, spawn_with(config(9)).await, spawn_with(config(10)).await);
    for kind in Kind::ALL {
        assert_eq!(a.sandbox.ids(kind), b.sandbox.ids(kind), "{kind:?}");
        for id in a.sandbox.ids(kind) {
            assert_eq!(a.sandbox.record(kind, id), b.sandbox.record(kind, id), "{kind:?} {id}");
        }
    }
    let appointments = |api: &crate::harness::Api| {
        let ids = api.sandbox.ids(Kind::Appointment);
        ids.iter().map(|id| api.sandbox.record(Kind::Appointment, *id)).collect::<Vec<_>>()
    };
    assert_ne!(appointments(&a), appointments(&c));
}

//! Logs and spans carry ids and counts, never PHI: a full run's logs, at
//! debug level for every crate, and every span it exported (names,
//! attributes, events, links) contain no patient field (name, birth date,
//! phone, email, address), appointment reason or note, medication, problem
//! or allergy, Gridhook text or partner note.

use integration_tests::{app::spawn_app, logs::practice_phi, partner, telemetry::capture};
use job_runner::enqueue;
use jobs::{catalog::SyncRecords, domain::RecordKind};
use sandbox::{EVENTS, Kind};

#[tokio::test]
async fn a_full_run_logs_and_traces_no_patient_names_birth_dates_phones_or_emails() {
    let captured = capture();
    let app = spawn_app().await;
    for event in EVENTS {
        app.drchrono().send(event, &app.sandbox.delivery_object(event)).await.unwrap();
    }
    let ids = app.sandbox.patient_ids();
    for id in &ids[..5] {
        app.drchrono().send("PATIENT_MODIFY", &app.sandbox.patient(*id).unwrap()).await.unwrap();
    }
    app.drchrono().send_legacy("PATIENT_UPDATE", ids[6]).await.unwrap();
    let visit = app.sandbox.ids(Kind::Appointment)[0];
    let gridhook = app.sandbox.gridhook_for(visit).unwrap();
    app.deepcura(sandbox::GridhookScheme::Sha256Iv).send(&gridhook).await.unwrap();
    let partner_event = partner::event(&visit.to_string(), "appointment.updated", "2025-01-10T12:30:00Z");
    let resp = app.post_partner_raw(partner::FEED, serde_json::to_vec(&partner_event).unwrap()).await;
    assert!(resp.status().is_success(), "the partner event was accepted");
    // A reconciliation walk reads every patient's full record from DrChrono.
    enqueue(app.pool(), &SyncRecords::all(RecordKind::Patient)).await.unwrap();
    app.drain_jobs().await;
    let free_text = [
        &gridhook["transcript"],
        &gridhook["soap"]["subjective"],
        &gridhook["soap"]["assessment"],
        &partner_event["notes"],
        &partner_event["patient_id"],
    ];

    let phi = practice_phi(&app.sandbox);
    let logs = captured.logs.text();
    let spans = captured.spans.text();
    assert!(logs.contains("job attempt succeeded"), "the capture saw the run's logs");
    assert!(logs.contains("Gridhook stored"), "the Gridhook was decrypted during the run");
    assert!(logs.contains("DrChrono batch walked"), "the reconciliation walk ran");
    let names = [
        "POST /webhooks/drchrono",
        "POST /webhook/appointments",
        "send sync_records",
        "process decrypt_gridhook",
        "GET /api/patients",
    ];
    for name in names {
        assert!(spans.contains(name), "the capture saw the span {name}");
    }
    for (what, text) in [("logs", &logs), ("spans", &spans)] {
        for (whose, value) in &phi {
            assert!(!text.contains(value.as_str()), "{whose} appears in the {what}");
        }
        for value in free_text {
            let value = value.as_str().unwrap();
            assert!(!text.contains(value), "note text or a partner patient id appears in the {what}: {value:.12}…");
        }
        let patient = app.sandbox.patient(gridhook["patient_id"].as_i64().unwrap()).unwrap();
        let first_name = patient["first_name"].as_str().unwrap();
        assert!(!text.contains(first_name), "the transcript's patient name appears in the {what}");
    }
}

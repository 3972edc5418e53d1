//! Logs and spans carry ids and counts, never PHI: a full run's logs, at
//! debug level for every crate, contain no name, date of birth, phone or email.

use integration_tests::{app::spawn_app, logs::capture};
use sandbox::{EVENTS, Kind};

#[tokio::test]
async fn a_full_run_logs_no_patient_names_birth_dates_phones_or_emails() {
    let logs = capture();
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
    app.drain_jobs().await;
    let gridhook_text = [&gridhook["transcript"], &gridhook["soap"]["subjective"], &gridhook["soap"]["assessment"]];

    let text = logs.text();
    assert!(text.contains("job attempt succeeded"), "the capture saw the run's logs");
    for id in &ids[..7] {
        let p = app.sandbox.record(Kind::Patient, *id).unwrap();
        for field in ["first_name", "last_name", "date_of_birth", "cell_phone", "home_phone", "email"] {
            if let Some(value) = p[field].as_str().filter(|v| v.len() >= 4) {
                assert!(!text.contains(value), "patient {id}'s {field} appears in the logs");
            }
        }
    }
    assert!(text.contains("Gridhook stored"), "the Gridhook was decrypted during the run");
    for value in gridhook_text {
        let value = value.as_str().unwrap();
        assert!(!text.contains(value), "Gridhook text appears in the logs: {value:.12}…");
    }
    let patient = app.sandbox.patient(gridhook["patient_id"].as_i64().unwrap()).unwrap();
    assert!(!text.contains(patient["first_name"].as_str().unwrap()), "the transcript's patient name appears in the logs");
}

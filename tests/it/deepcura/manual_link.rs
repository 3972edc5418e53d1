//! Settling a Deep Cura note by hand: a manual link survives the automatic
//! linker, an unlinkable note leaves the review list, a clinical note that
//! is missing or another patient's is refused, and each use is audited.

use chrono::NaiveDate;
use integration_tests::app::{TestApp, spawn_app};
use integration_tests::inbox::operator_actions;
use job_runner::enqueue;
use jobs::{
    catalog::LinkNote,
    deepcura::manual::{ManualLinkError, link_by_hand, mark_unlinkable},
};
use sandbox::GridhookScheme;

use super::{deliver_note, link_of, new_visit, send_gridhook};

/// Sends the Gridhook of `appointment` (no note delivered yet); returns (note id, session).
async fn open_note(app: &TestApp, appointment: i64) -> (i64, String) {
    let gridhook = app.sandbox.gridhook_for(appointment).unwrap();
    send_gridhook(app, GridhookScheme::Sha256Iv, &gridhook).await;
    let session = gridhook["session_id"].as_str().unwrap().to_string();
    let id = sqlx::query_scalar("SELECT id FROM deepcura_notes WHERE session_id = $1")
        .bind(&session)
        .fetch_one(app.pool())
        .await
        .unwrap();
    (id, session)
}

/// (action, outcome) of every operator action, oldest first.
async fn audited(app: &TestApp) -> Vec<(String, String)> {
    operator_actions(app.pool()).await.into_iter().map(|a| (a.0, a.4)).collect()
}

#[tokio::test]
async fn a_note_linked_by_hand_keeps_its_link_when_the_linker_runs_again() {
    let app = spawn_app().await;
    let day = NaiveDate::from_ymd_opt(2026, 4, 6).unwrap();
    let (visit, own_note) = new_visit(&app, day, 9);
    let (_, chosen) = new_visit(&app, day, 14);
    let (note, session) = open_note(&app, visit).await;
    deliver_note(&app, chosen).await;

    link_by_hand(app.pool(), note, chosen, "alice").await.unwrap();
    let manual = Some("manual".to_string());
    assert_eq!(link_of(&app, &session).await, ("linked".into(), Some(chosen), manual.clone(), vec![]));

    // The note of the Gridhook's own appointment arrives, which the
    // automatic linker would pick, and the linker runs for the note again.
    deliver_note(&app, own_note).await;
    enqueue(app.pool(), &LinkNote { note }).await.unwrap();
    app.drain_jobs().await;
    assert_eq!(link_of(&app, &session).await, ("linked".into(), Some(chosen), manual, vec![]));
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM change_log WHERE table_name = 'deepcura_notes' AND record_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(note)
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(actor, "operator:alice", "the last change to the note is the operator's");
    assert_eq!(audited(&app).await, [("deepcura_link".to_string(), "linked by hand".to_string())]);
}

#[tokio::test]
async fn an_unlinkable_note_leaves_the_unlinked_list_and_is_never_linked() {
    let app = spawn_app().await;
    let (visit, own_note) = new_visit(&app, NaiveDate::from_ymd_opt(2026, 4, 7).unwrap(), 10);
    let (note, session) = open_note(&app, visit).await;
    assert_eq!(app.admin_get("/admin/deepcura/unlinked").await["count"], 1);

    mark_unlinkable(app.pool(), note, Some("test session"), "bob").await.unwrap();
    assert_eq!(app.admin_get("/admin/deepcura/unlinked").await["count"], 0, "it leaves the review list");
    deliver_note(&app, own_note).await;
    enqueue(app.pool(), &LinkNote { note }).await.unwrap();
    app.drain_jobs().await;
    let manual = Some("manual".to_string());
    assert_eq!(link_of(&app, &session).await, ("unlinkable".into(), None, manual, vec![]));
    let reason: Option<String> = sqlx::query_scalar("SELECT unlinkable_reason FROM deepcura_notes WHERE id = $1")
        .bind(note)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(reason.as_deref(), Some("test session"));
    let filters: serde_json::Value =
        sqlx::query_scalar("SELECT filters FROM operator_actions").fetch_one(app.pool()).await.unwrap();
    assert_eq!(
        filters,
        serde_json::json!({ "deepcura_note": note, "reason_given": true }),
        "the reason stays off the audit"
    );
    assert_eq!(audited(&app).await, [("deepcura_unlinkable".to_string(), "marked not linkable".to_string())]);
}

#[tokio::test]
async fn a_clinical_note_that_is_missing_or_another_patients_is_refused() {
    let app = spawn_app().await;
    let day = NaiveDate::from_ymd_opt(2026, 4, 8).unwrap();
    let (visit, _) = new_visit(&app, day, 11);
    let (note, session) = open_note(&app, visit).await;
    let other_patient = app.sandbox.patient_ids()[1];
    let (_, others_note) = app.sandbox.add_visit(other_patient, day.and_hms_opt(12, 0, 0).unwrap()).unwrap();
    deliver_note(&app, others_note).await;

    let missing = link_by_hand(app.pool(), note, 999_999_999, "carol").await.unwrap_err();
    assert!(matches!(missing, ManualLinkError::NoSuchClinicalNote(999_999_999)), "{missing:?}");
    assert!(missing.to_string().contains("cargo xtask sync clinical-notes"), "{missing}");
    let other = link_by_hand(app.pool(), note, others_note, "carol").await.unwrap_err();
    let ManualLinkError::OtherPatient { clinical_patient, .. } = &other else { panic!("{other:?}") };
    assert_eq!(*clinical_patient, other_patient);
    assert!(other.to_string().contains("choose one of that patient's notes"), "{other}");

    assert_eq!(link_of(&app, &session).await, ("unlinked".into(), None, None, vec![]), "the note is unchanged");
    let refusals: Vec<String> = audited(&app).await.into_iter().map(|a| a.1).collect();
    assert_eq!(
        refusals,
        ["refused: no such clinical note", "refused: the clinical note belongs to another patient"],
        "refusals are audited too"
    );
}

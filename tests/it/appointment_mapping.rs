//! The appointment mapping: type (profile), status, location (office),
//! exam room and reason, as `appointment_details` shows them, from the
//! lookups `sync_lookups` walks and the appointments themselves.

use integration_tests::app::{TestApp, spawn_app_with};
use job_runner::enqueue;
use jobs::{catalog::SyncRecords, domain::RecordKind};
use sandbox::Kind;

async fn walk(app: &TestApp, kind: RecordKind) {
    enqueue(app.pool(), &SyncRecords::all(kind)).await.unwrap().expect("enqueued");
    app.drain_jobs().await;
}

/// Type, location, room, reason and status as `appointment_details` names them.
type Names = (Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);

async fn gaps(app: &TestApp) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT rule, appointments FROM appointment_mapping_gaps WHERE appointments > 0 ORDER BY rule")
        .fetch_all(app.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_appointment_names_its_type_location_room_and_reason() {
    let app = spawn_app_with(true, 6).await;
    app.sandbox.reset_counters();
    for kind in [RecordKind::Office, RecordKind::AppointmentProfile, RecordKind::Appointment] {
        walk(&app, kind).await;
    }
    assert_eq!(app.sandbox.calls_to("/api/appointment_profiles"), 1, "the profiles are one page");

    let appointments = app.sandbox.ids(Kind::Appointment);
    assert!(!appointments.is_empty());
    for id in appointments {
        let sent = app.sandbox.record(Kind::Appointment, id).unwrap();
        let office = app.sandbox.record(Kind::Office, sent["office"].as_i64().unwrap()).unwrap();
        let [kind, location, room, reason, status]: [Option<String>; 5] = sqlx::query_as::<_, Names>(
            "SELECT appointment_type, location, exam_room_name, reason, status FROM appointment_details WHERE id = $1",
        )
        .bind(id)
        .fetch_one(app.pool())
        .await
        .map(|n| [n.0, n.1, n.2, n.3, n.4])
        .unwrap();
        let profile = sent["profile"].as_i64().and_then(|p| app.sandbox.record(Kind::AppointmentProfile, p));
        assert_eq!(kind.as_deref(), profile.as_ref().and_then(|p| p["name"].as_str()), "type of {id}");
        assert_eq!(location.as_deref(), office["name"].as_str(), "location of {id}");
        let index = sent["exam_room"].as_i64().unwrap();
        let named = office["exam_rooms"].as_array().unwrap().iter().find(|r| r["index"].as_i64() == Some(index));
        assert_eq!(room.as_deref(), named.and_then(|r| r["name"].as_str()), "room of {id}");
        assert_eq!(reason.as_deref(), sent["reason"].as_str().filter(|r| !r.is_empty()), "reason of {id}");
        assert_eq!(status.as_deref(), sent["status"].as_str().filter(|s| !s.is_empty()), "status of {id}");
    }
    assert!(gaps(&app).await.is_empty(), "every reference resolves");
}

#[tokio::test]
async fn an_unresolved_profile_or_room_is_counted_until_the_lookups_walk() {
    let app = spawn_app_with(true, 3).await;
    walk(&app, RecordKind::Office).await;
    let id = app.sandbox.ids(Kind::Appointment)[0];
    let object = app.sandbox.modify(Kind::Appointment, id, |a| {
        a.insert("exam_room".into(), 99.into());
    });
    app.drchrono().send("APPOINTMENT_MODIFY", &object.unwrap()).await.unwrap();
    app.drain_jobs().await;
    let before = gaps(&app).await;
    assert!(before.contains(&("exam room not in its office".into(), 1)), "{before:?}");
    assert!(before.contains(&("profile not synced".into(), 1)), "{before:?}");

    walk(&app, RecordKind::AppointmentProfile).await;
    assert_eq!(gaps(&app).await, [("exam room not in its office".to_string(), 1)]);
}

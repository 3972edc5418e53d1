//! `drchrono-sync check`: one table of parts, a non-zero exit when a
//! required part fails, each failure with its fix.

use integration_tests::{app::spawn_app_configured, s3::TestS3};
use server::check::{Report, Status};

fn status_of(report: &Report, name: &str) -> Status {
    report.part(name).unwrap_or_else(|| panic!("no part {name}: {}", report.render())).status
}

#[tokio::test]
async fn a_configured_service_passes_and_puts_one_marker_under_the_prefix() {
    let s3 = TestS3::start().await;
    let app = spawn_app_configured(false, 1, |s, _| s3.configure(&mut s.archive, "Dr. Test")).await;
    let report = server::check::run(&app.settings).await;
    assert!(report.passed(), "{}", report.render());
    assert_eq!(report.exit_code(), 0);
    for part in ["database", "migrations", "drchrono tokens", "s3 archive", "practice time zone"] {
        assert_eq!(status_of(&report, part), Status::Ok, "{part}: {}", report.render());
    }
    for part in ["drchrono webhooks", "deep cura", "partner feed", "admin endpoints"] {
        assert_eq!(status_of(&report, part), Status::Ok, "{part}");
    }
    assert_eq!(status_of(&report, "otlp endpoint"), Status::Off);
    let objects = s3.objects().await;
    assert!(objects.contains_key("notes/_preflight/drchrono-sync-check.pdf"), "{objects:?}");
    assert_eq!(s3.accepted_puts(), 1, "one put, and nothing else tried");
    assert!(s3.refused().is_empty(), "{:?}", s3.refused());
    let rendered = report.render();
    assert!(!rendered.contains(&app.sandbox.current_tokens().0), "no token in the table");
}

#[tokio::test]
async fn a_failing_part_exits_non_zero_and_names_its_fix() {
    // A closed port for the collector, and a practice that never connected.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let app = spawn_app_configured(false, 1, |s, _| {
        s.drchrono_access_token = None;
        s.drchrono_refresh_token = None;
        s.partner_token = None;
        s.telemetry.otel_exporter_otlp_endpoint = Some(format!("http://{closed}"));
    })
    .await;
    let report = server::check::run(&app.settings).await;
    assert!(!report.passed());
    assert_eq!(report.exit_code(), 1);
    let tokens = report.part("drchrono tokens").unwrap();
    assert_eq!(tokens.status, Status::Fail);
    assert!(tokens.fix.as_deref().unwrap().contains("drchrono-sync connect"), "{tokens:?}");
    assert_eq!(status_of(&report, "otlp endpoint"), Status::Fail);
    assert_eq!(status_of(&report, "partner feed"), Status::Off, "an unset secret is deliberately off");
    assert_eq!(status_of(&report, "s3 archive"), Status::Off);
    let rendered = report.render();
    assert!(rendered.contains("fix: run `drchrono-sync connect`"), "{rendered}");
    assert!(rendered.contains("fix: start the collector"), "{rendered}");
}

#[tokio::test]
async fn an_unmigrated_database_and_a_refused_bucket_fail_with_their_fixes() {
    let s3 = TestS3::start().await;
    let app = spawn_app_configured(false, 1, |s, _| {
        s3.configure(&mut s.archive, "Dr. Test");
        s.archive.s3_prefix = "elsewhere".into();
    })
    .await;
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)")
        .execute(app.pool())
        .await
        .unwrap();
    let report = server::check::run(&app.settings).await;
    assert_eq!(report.exit_code(), 1);
    let migrations = report.part("migrations").unwrap();
    assert_eq!(migrations.status, Status::Fail, "{}", report.render());
    assert!(migrations.fix.as_deref().unwrap().contains("drchrono-sync migrate"));
    let archive = report.part("s3 archive").unwrap();
    assert_eq!(archive.status, Status::Fail, "the policy allows only the configured prefix");
    assert!(archive.fix.as_deref().unwrap().contains("s3:PutObject"), "{archive:?}");
}

#[tokio::test]
async fn an_unreachable_database_is_a_row_not_a_crash() {
    let app = spawn_app_configured(false, 1, |_, _| {}).await;
    let mut settings = app.settings.clone();
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    settings.database_url = Some(format!("postgres://postgres@{closed}/nothing"));
    let report = server::check::run(&settings).await;
    assert_eq!(status_of(&report, "database"), Status::Fail);
    assert_eq!(report.exit_code(), 1);
    assert!(report.render().contains("fix: start Postgres or correct DATABASE_URL"));
}

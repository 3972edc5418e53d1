//! Every console page answers both roles with the ids of its contract;
//! the read-only role sees no action and is refused every POST; a POST
//! without the session's CSRF token is refused and changes nothing.

use integration_tests::app::{ADMIN_TOKEN, TestApp, spawn_app_with};
use integration_tests::console::{Console, READONLY_TOKEN};
use integration_tests::db::count_rows;
use integration_tests::inbox::store_unapplied;
use reqwest::StatusCode;

const QUEUE: &str = "upsert_record";

/// A dead job and a not_modelled delivery, so lists and their forms show.
async fn seed(app: &TestApp) -> (String, i64) {
    let job = ulid::Ulid::generate().to_string();
    job_runner::testing::insert_dead(app.pool(), QUEUE, std::slice::from_ref(&job), 3).await.unwrap();
    let object = serde_json::json!({ "id": 42, "updated_at": "2026-12-01T10:00:00" });
    let delivery = store_unapplied(app.pool(), "PATIENT_CREATE", &object, "not_modelled", Some("dlv-pages")).await;
    (job, delivery)
}

#[tokio::test]
async fn console_every_page_answers_both_roles_with_its_contract_ids() {
    let app = spawn_app_with(false, 0).await;
    let (job, delivery) = seed(&app).await;
    let job_page = format!("/console/jobs/{job}");
    let pages: [(&str, &[&str]); 6] = [
        (
            "/console",
            &[
                r#"id="queues""#,
                &format!(r#"data-queue="{QUEUE}""#),
                r#"id="drchrono""#,
                r#"id="schedules""#,
                r#"class="paused""#,
            ],
        ),
        (
            "/console/jobs",
            &[r#"id="jobs""#, &format!(r#"data-job-id="{job}" data-state="dead""#), r#"class="job-link""#],
        ),
        (&job_page, &[r#"<span id="job-state">dead</span>"#, r#"id="attempts""#, r#"id="job-args""#]),
        (
            "/console/deliveries",
            &[r#"id="deliveries""#, &format!(r#"data-delivery-id="{delivery}" data-outcome="not_modelled""#)],
        ),
        (
            "/console/review",
            &[r#"id="unlinked-notes""#, r#"id="pdf-review""#, r#"id="partner-unmatched""#, r#"id="unparsed-phones""#],
        ),
        ("/console/runs", &[r#"id="runs""#]),
    ];
    let nav = ["nav-overview", "nav-jobs", "nav-deliveries", "nav-review", "nav-runs"];
    for token in [ADMIN_TOKEN, READONLY_TOKEN] {
        let console = Console::logged_in(&app, token).await;
        for (path, ids) in &pages {
            let body = console.page(path).await;
            for id in
                ids.iter().chain(&nav.map(|n| format!(r#"id="{n}""#)).iter().map(String::as_str).collect::<Vec<_>>())
            {
                assert!(body.contains(id), "GET {path} lacks {id}: {body}");
            }
            assert!(body.contains("<h1>"), "GET {path} names itself");
            let actions = body.contains(r#"class="action"#);
            if token == READONLY_TOKEN {
                assert!(!actions, "the read-only {path} has an action: {body}");
            }
        }
    }
    let admin = Console::logged_in(&app, ADMIN_TOKEN).await;
    assert!(admin.page("/console").await.contains(r#"class="action pause""#));
    let job_body = admin.page(&job_page).await;
    assert!(
        job_body.contains(r#"id="retry" class="action retry""#) && job_body.contains(r#"id="discard""#),
        "{job_body}"
    );
    assert!(!job_body.contains(r#"id="cancel""#), "a dead job cannot be cancelled, so no form: {job_body}");
    assert!(admin.page("/console/deliveries").await.contains(r#"class="action replay""#));

    let (status, css) = admin.get("/console/assets/console.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains("#flash"));
    let resp = admin.http.get(admin.url("/console/assets/console.css")).send().await.unwrap();
    assert_eq!(resp.headers()["cache-control"], "public, max-age=86400");
    assert_eq!(resp.headers()["content-type"], "text/css; charset=utf-8");
}

#[tokio::test]
async fn console_readonly_posts_are_403_and_change_nothing() {
    let app = spawn_app_with(false, 0).await;
    let (job, delivery) = seed(&app).await;
    let readonly = Console::logged_in(&app, READONLY_TOKEN).await;
    let posts = [
        format!("/console/queues/{QUEUE}/pause"),
        format!("/console/jobs/{job}/retry"),
        format!("/console/jobs/{job}/discard"),
        format!("/console/deliveries/{delivery}/replay"),
        "/console/deepcura/1/unlinkable".to_string(),
    ];
    for path in &posts {
        let resp = readonly.post("/console", path, &[]).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "POST {path} as read-only");
    }
    assert_eq!(count_rows(app.pool(), "paused_queues").await, 0);
    assert_eq!(count_rows(app.pool(), "operator_actions").await, 0, "nothing was attempted");
    assert_eq!(count_rows(app.pool(), "webhook_deliveries").await, 1, "no replay row");
    assert_eq!(integration_tests::operator::overview_state(app.pool(), &job).await, "dead");
}

#[tokio::test]
async fn console_post_without_the_csrf_token_is_403_and_changes_nothing() {
    let app = spawn_app_with(false, 0).await;
    let (job, _) = seed(&app).await;
    let admin = Console::logged_in(&app, ADMIN_TOKEN).await;
    let pause = format!("/console/queues/{QUEUE}/pause");
    let retry = format!("/console/jobs/{job}/retry");
    for (path, fields) in
        [(&pause, vec![]), (&retry, vec![("csrf", "0".repeat(64))]), (&pause, vec![("csrf", String::new())])]
    {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resp = admin.post_raw(path, &fields).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "POST {path} with {fields:?}");
    }
    let other = Console::logged_in(&app, ADMIN_TOKEN).await;
    let others_csrf = integration_tests::console::csrf_field(&other.page("/console").await).unwrap();
    let resp = admin.post_raw(&pause, &[("csrf", &others_csrf)]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "another session's token does not do");
    assert_eq!(count_rows(app.pool(), "paused_queues").await, 0);
    assert_eq!(count_rows(app.pool(), "operator_actions").await, 0);
    assert_eq!(integration_tests::operator::overview_state(app.pool(), &job).await, "dead");

    let resp = admin.post("/console", &pause, &[]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "with its token the same POST works");
    assert_eq!(count_rows(app.pool(), "paused_queues").await, 1);
}

#[tokio::test]
async fn console_jobs_filter_by_state_and_page_newest_first_with_a_before_cursor() {
    let app = spawn_app_with(false, 0).await;
    let mut dead: Vec<String> = Vec::new();
    for _ in 0..52 {
        dead.push(ulid::Ulid::generate().to_string());
        tokio::task::yield_now().await;
    }
    dead.sort();
    job_runner::testing::insert_dead(app.pool(), QUEUE, &dead, 3).await.unwrap();
    let pending = ulid::Ulid::generate().to_string();
    job_runner::testing::insert_raw(app.pool(), &pending, QUEUE, b"{}", 5).await.unwrap();
    let console = Console::logged_in(&app, READONLY_TOKEN).await;
    let listed = |body: &str| -> Vec<String> {
        body.split(r#"data-job-id=""#).skip(1).map(|s| s.split_once('"').unwrap().0.to_string()).collect()
    };

    let first = console.page("/console/jobs?state=dead").await;
    let newest: Vec<String> = dead.iter().rev().take(50).cloned().collect();
    assert_eq!(listed(&first), newest, "the 50 newest dead jobs, newest first");
    let next =
        first.split_once(r#"id="next" href=""#).expect("a full page links to the next").1.split_once('"').unwrap().0;
    assert_eq!(next, format!("/console/jobs?state=dead&amp;before={}", dead[2]));
    let second = console.page(&next.replace("&amp;", "&")).await;
    assert_eq!(listed(&second), [dead[1].clone(), dead[0].clone()]);
    assert!(!second.contains(r#"id="next""#), "the last page links nowhere");

    assert_eq!(listed(&console.page("/console/jobs?state=pending").await), std::slice::from_ref(&pending));
    assert_eq!(listed(&console.page("/console/jobs?queue=upsert_record").await)[0], pending, "newest first");
    assert!(listed(&console.page("/console/jobs?queue=fetch_record").await).is_empty());
    assert_eq!(console.get("/console/jobs?state=sleeping").await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn console_jobs_filter_by_enqueue_time() {
    let app = spawn_app_with(false, 0).await;
    let now = chrono::Utc::now().timestamp_millis() as u64;
    let old = ulid::Ulid::from_parts(now - 3 * 3_600_000, 7).to_string();
    let recent = ulid::Ulid::from_parts(now - 30 * 60_000, 7).to_string();
    job_runner::testing::insert_dead(app.pool(), QUEUE, &[old.clone(), recent.clone()], 3).await.unwrap();
    let console = Console::logged_in(&app, READONLY_TOKEN).await;
    let listed = |body: String| -> Vec<String> {
        body.split(r#"data-job-id=""#).skip(1).map(|s| s.split_once('"').unwrap().0.to_string()).collect()
    };

    assert_eq!(listed(console.page("/console/jobs?since=1h").await), std::slice::from_ref(&recent));
    assert_eq!(listed(console.page("/console/jobs?until=1h").await), std::slice::from_ref(&old));
    assert_eq!(listed(console.page("/console/jobs?since=4h&until=2h&state=dead").await), std::slice::from_ref(&old));
    let (status, page) = console.get("/console/jobs?since=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("since:"), "the error names the field");
}

//! List walks: page sizes, the minimum call count, and re-requesting one failed page.

use super::*;

#[tokio::test]
async fn page_sizes_match_each_endpoints_maximum() {
    for kind in Kind::ALL {
        assert_eq!(max_page_size(kind.path()), Some(kind.max_page_size()), "{kind:?}");
    }
}

#[tokio::test]
async fn a_walk_over_60_patients_at_page_size_250_costs_one_call() {
    let env = env_with(60, |_| {}).await;
    let ctx = env.ctx();
    let client = ctx.drchrono_for(Priority::Reconcile);
    let mut seen = Vec::new();
    let stats = client
        .walk("/api/patients", &[], None, |page| {
            seen.push(page.iter().map(|p| p["id"].as_i64().unwrap()).collect::<Vec<_>>());
            async { Ok(()) }
        })
        .await
        .unwrap();
    assert_eq!((stats.pages, stats.calls, stats.records, stats.page_retries), (1, 1, 60, 0));
    assert_eq!(env.sandbox.calls(), 1);
    assert_eq!(seen.concat(), env.sandbox.patient_ids());
}

#[tokio::test]
async fn a_caller_can_drive_the_walk_page_by_page() {
    let env = env_with(60, |_| {}).await;
    let ctx = env.ctx();
    let client = ctx.drchrono();
    let mut pages = client.pages("/api/patients", &[], Some(25)).unwrap();
    let mut total = 0;
    while let Some(page) = pages.next_page().await.unwrap() {
        total += page.len();
        assert_eq!(pages.stats().records as usize, total);
    }
    assert!(pages.next_page().await.unwrap().is_none(), "a finished walk stays finished");
    let stats = pages.finish();
    assert_eq!((stats.pages, stats.calls, stats.records), (3, 3, 60));
    assert_eq!(env.sandbox.calls(), 3);
}

#[tokio::test]
async fn a_500_on_one_page_re_requests_only_that_page() {
    let env = env_with(60, |_| {}).await;
    let ctx = env.ctx();
    env.sandbox.set_faults(Faults { fail_page: Some(1), ..Default::default() });
    let mut sizes = Vec::new();
    let mut ids = Vec::new();
    let stats = ctx
        .drchrono()
        .walk("/api/patients", &[], Some(10), |page| {
            sizes.push(page.len());
            ids.extend(page.iter().map(|p| p["id"].as_i64().unwrap()));
            async { Ok(()) }
        })
        .await
        .unwrap();
    assert_eq!(sizes, vec![10; 6], "every page handed over once");
    assert_eq!(ids, env.sandbox.patient_ids(), "nothing skipped or repeated");
    assert_eq!((stats.pages, stats.calls, stats.records, stats.page_retries), (6, 7, 60, 1));
    assert_eq!(env.sandbox.calls_to("/api/patients"), 7, "six pages plus one re-request");
    assert_eq!(env.sandbox.faults().fail_page, None, "the fault fired");
}

#[tokio::test]
async fn a_page_that_keeps_failing_fails_the_walk_as_retryable_after_a_few_tries() {
    let (base, hits) = stub("500 Internal Server Error", "text/html", "<h1>Server Error (500)</h1>".into()).await;
    let env = env_with(1, |s| s.drchrono.api_base = base).await;
    let ctx = env.ctx();
    let mut pages = 0;
    let err = ctx
        .drchrono()
        .walk("/api/patients", &[], None, |_| {
            pages += 1;
            async { Ok(()) }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, JobError::Retryable(_)), "{err}");
    assert_eq!(pages, 0);
    assert_eq!(hits.load(Ordering::SeqCst), 4, "the first try and three re-requests");
}

#[tokio::test]
async fn a_next_link_off_the_api_origin_is_not_followed() {
    let (elsewhere, elsewhere_hits) =
        stub("200 OK", "application/json", r#"{"previous":null,"results":[],"next":null}"#.into()).await;
    let body = format!(r#"{{"previous":null,"results":[{{"id":1}}],"next":"{elsewhere}/api/patients?cursor=abc"}}"#);
    let (base, hits) = stub("200 OK", "application/json", body).await;
    let env = env_with(1, |s| s.drchrono.api_base = base).await;
    let ctx = env.ctx();
    let err = ctx.drchrono().walk("/api/patients", &[], None, |_| async { Ok(()) }).await.unwrap_err();
    assert!(matches!(err, JobError::Permanent(_)), "{err}");
    assert!(err.to_string().contains("outside the configured API origin"), "{err}");
    assert_eq!((hits.load(Ordering::SeqCst), elsewhere_hits.load(Ordering::SeqCst)), (1, 0));
}

#[tokio::test]
async fn appointments_are_walked_in_date_chunks_and_pages_as_the_server_caps_them() {
    let env = env_with(15, |_| {}).await;
    // Capped below the 250 asked for, so each chunk takes several pages.
    env.sandbox.set_faults(Faults { page_cap: Some(20), ..Default::default() });
    let ctx = env.ctx();
    let today = Utc::now().date_naive();
    let (from, to) = (today - ChronoDuration::days(800), today + ChronoDuration::days(120));
    let chunks = date_chunks(from, to);
    assert!(chunks.len() >= 6);
    let client = ctx.drchrono_for(Priority::Reconcile);
    let mut ids = Vec::new();
    let mut largest_page = 0;
    let mut pages = 0;
    for chunk in chunks {
        let stats = client
            .walk(
                "/api/appointments",
                &[("date_range", date_range_param(chunk)), ("show_archived", "true".into())],
                None,
                |page| {
                    largest_page = largest_page.max(page.len());
                    ids.extend(page.iter().map(|a| a["id"].as_str().unwrap().parse::<i64>().unwrap()));
                    async { Ok(()) }
                },
            )
            .await
            .unwrap();
        pages += stats.pages;
    }
    let expected: Vec<i64> = env
        .sandbox
        .ids(Kind::Appointment)
        .into_iter()
        .filter(|id| {
            let a = env.sandbox.record(Kind::Appointment, *id).unwrap();
            let day = NaiveDate::parse_from_str(&a["scheduled_time"].as_str().unwrap()[..10], "%Y-%m-%d").unwrap();
            (from..=to).contains(&day)
        })
        .collect();
    assert!(expected.len() > 20, "enough appointments to need several pages: {}", expected.len());
    ids.sort_unstable();
    let mut want = expected.clone();
    want.sort_unstable();
    assert_eq!(ids, want, "every appointment in the range, once");
    assert_eq!(largest_page, 20, "pages as large as the server serves");
    assert_eq!(env.sandbox.calls(), pages, "one call per page");
    assert_eq!(client.calls(), pages);
}

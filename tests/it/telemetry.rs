//! Traces across the queue: a webhook's HTTP span, the `send` span of its
//! job, each attempt's `process` span and the DrChrono calls form one
//! trace, the sandbox DrChrono receives its `traceparent`, and a retry
//! starts a trace of its own, linked to the first.

use integration_tests::queue;
use integration_tests::{
    app::{TestApp, WEBHOOK_SECRET, spawn_app},
    telemetry::{Spans, attr, capture, is_kind, span_id_of, trace_id_of},
};
use job_runner::JobState;
use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::trace::SpanData;
use serde_json::Value;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

/// Sends the id-only delivery (its job fetches the patient from DrChrono),
/// with an inbound `traceparent` when given; returns the job id.
async fn send_fetch(app: &TestApp, patient: i64, traceparent: Option<&str>) -> String {
    let mut request = app
        .http
        .post(app.url("/webhooks/drchrono"))
        .header("X-drchrono-signature", WEBHOOK_SECRET)
        .json(&serde_json::json!({ "event": "PATIENT_UPDATE", "object_id": patient }));
    if let Some(tp) = traceparent {
        request = request.header("traceparent", tp);
    }
    let resp = request.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["job_id"].as_str().expect("a job was enqueued").to_string()
}

/// The `process` span of attempt `attempt` of job `job_id`.
async fn process_span(spans: &Spans, job_id: &str, attempt: i64) -> SpanData {
    spans
        .wait_for("process fetch_record", |s| {
            s.name == "process fetch_record"
                && attr(s, "messaging.message.id").as_deref() == Some(job_id)
                && attr(s, "job.attempt") == Some(attempt.to_string())
        })
        .await
}

/// `job_attempts.trace_id` of each attempt, in order.
async fn attempt_trace_ids(app: &TestApp, job_id: &str) -> Vec<Option<String>> {
    queue::attempts(app.pool(), job_id).await.into_iter().map(|a| a.trace_id).collect()
}

async fn stored_traceparent(app: &TestApp, job_id: &str) -> String {
    queue::report(app.pool(), job_id).await.traceparent.expect("the job carries a traceparent")
}

/// The trace ids of the `traceparent`s the sandbox received on `path`.
fn sandbox_trace_ids(app: &TestApp, path: &str) -> Vec<String> {
    app.sandbox
        .traceparents()
        .into_iter()
        .filter(|(p, _)| p == path)
        .map(|(_, tp)| tp.split('-').nth(1).unwrap_or_default().to_string())
        .collect()
}

fn one<'a>(trace: &'a [SpanData], what: &str, pick: impl Fn(&SpanData) -> bool) -> &'a SpanData {
    let found: Vec<_> = trace.iter().filter(|s| pick(s)).collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one {what} in the trace: {:?}",
        trace.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    found[0]
}

#[tokio::test]
async fn one_trace_spans_the_webhook_request_its_job_and_the_drchrono_call() {
    let spans = &capture().spans;
    let app = spawn_app().await;
    let patient = app.sandbox.patient_ids()[0];
    let job_id = send_fetch(&app, patient, None).await;
    queue::wait_for_state(app.pool(), &job_id, JobState::Done, LIMIT).await;

    let process = process_span(spans, &job_id, 1).await;
    let trace_id = trace_id_of(&process);
    let path = format!("/api/patients/{patient}");
    let client = spans
        .wait_for("GET /api/patients/{id}", |s| trace_id_of(s) == trace_id && attr(s, "url.path") == Some(path.clone()))
        .await;
    let trace = spans.trace(&trace_id);

    let request = one(&trace, "server span", |s| s.name == "POST /webhooks/drchrono");
    assert!(is_kind(request, SpanKind::Server));
    assert_eq!(attr(request, "http.response.status_code").as_deref(), Some("200"));
    let send = one(&trace, "send span", |s| s.name == "send fetch_record");
    assert!(is_kind(send, SpanKind::Producer));
    for (key, value) in [
        ("messaging.system", "apalis"),
        ("messaging.operation.type", "send"),
        ("messaging.destination.name", "fetch_record"),
        ("messaging.message.id", job_id.as_str()),
    ] {
        assert_eq!(attr(send, key).as_deref(), Some(value), "send span's {key}");
    }
    assert!(is_kind(&process, SpanKind::Consumer));
    assert_eq!(attr(&process, "messaging.operation.type").as_deref(), Some("process"));
    assert_eq!(attr(&process, "messaging.destination.name").as_deref(), Some("fetch_record"));
    assert_eq!(process.parent_span_id.to_string(), span_id_of(send), "the first attempt continues the producer");
    assert!(is_kind(&client, SpanKind::Client));
    assert_eq!(client.name, "GET /api/patients/{id}");
    assert_eq!(attr(&client, "http.response.status_code").as_deref(), Some("200"));

    assert_eq!(sandbox_trace_ids(&app, &path), vec![trace_id.clone()], "DrChrono saw the trace");
    assert!(stored_traceparent(&app, &job_id).await.contains(&trace_id), "the job row carries the trace");
    assert_eq!(attempt_trace_ids(&app, &job_id).await, vec![Some(trace_id)]);
}

#[tokio::test]
async fn an_inbound_traceparent_on_a_webhook_is_continued() {
    let spans = &capture().spans;
    let app = spawn_app().await;
    let (caller_trace, caller_span) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let job_id =
        send_fetch(&app, app.sandbox.patient_ids()[1], Some(&format!("00-{caller_trace}-{caller_span}-01"))).await;
    queue::wait_for_state(app.pool(), &job_id, JobState::Done, LIMIT).await;

    let request = spans.wait_for("POST /webhooks/drchrono", |s| s.name == "POST /webhooks/drchrono").await;
    assert_eq!(trace_id_of(&request), caller_trace);
    assert_eq!(request.parent_span_id.to_string(), caller_span);
    assert_eq!(trace_id_of(&process_span(spans, &job_id, 1).await), caller_trace);
    assert_eq!(attempt_trace_ids(&app, &job_id).await, vec![Some(caller_trace.to_string())]);
}

#[tokio::test]
async fn a_retry_starts_a_new_trace_linked_to_the_first() {
    let spans = &capture().spans;
    let app = spawn_app().await;
    let patient = app.sandbox.patient_ids()[2];
    // DrChrono's edge answers the first call with an HTML page: a retryable failure.
    app.sandbox.set_faults(sandbox::Faults { html_once: true, ..Default::default() });
    let job_id = send_fetch(&app, patient, None).await;
    queue::wait_for_state(app.pool(), &job_id, JobState::Retrying, LIMIT).await;
    queue::make_due(app.pool(), &job_id).await;
    queue::wait_for_state(app.pool(), &job_id, JobState::Done, LIMIT).await;

    let first = process_span(spans, &job_id, 1).await;
    let retry = process_span(spans, &job_id, 2).await;
    let (first_trace, retry_trace) = (trace_id_of(&first), trace_id_of(&retry));
    assert_ne!(first_trace, retry_trace, "the retry has a trace of its own");
    assert_eq!(retry.parent_span_id.to_string(), "0000000000000000", "the retry's span is a root");
    let first_spans = spans.trace(&first_trace);
    let send = one(&first_spans, "send span", |s| s.name == "send fetch_record");
    let links: Vec<_> = retry
        .links
        .iter()
        .map(|l| (l.span_context.trace_id().to_string(), l.span_context.span_id().to_string()))
        .collect();
    assert_eq!(links, vec![(first_trace.clone(), span_id_of(send))], "the retry links to the producer");

    let path = format!("/api/patients/{patient}");
    assert_eq!(sandbox_trace_ids(&app, &path), vec![first_trace.clone(), retry_trace.clone()]);
    assert_eq!(attempt_trace_ids(&app, &job_id).await, vec![Some(first_trace), Some(retry_trace)]);
}

#[tokio::test]
async fn an_archive_upload_is_a_client_span_in_its_jobs_trace() {
    let spans = &capture().spans;
    let a = integration_tests::archive::spawn_archiving_app(true, 3, |_| {}).await;
    let note = a.notes(true)[0];
    a.lock(note).await;
    a.app.drain_jobs().await;
    let job_id = queue::of_queue(a.app.pool(), "archive_pdf").await.remove(0).id;

    let process = spans
        .wait_for("process archive_pdf", |s| {
            s.name == "process archive_pdf" && attr(s, "messaging.message.id").as_deref() == Some(job_id.as_str())
        })
        .await;
    let trace = process.span_context.trace_id();
    // The SDK's own debug-level span has the same name but is internal; the
    // client span is the service's, kept at info level for production.
    let put = spans
        .wait_for("S3.PutObject", |s| {
            s.name == "S3.PutObject" && s.span_context.trace_id() == trace && is_kind(s, SpanKind::Client)
        })
        .await;
    assert_eq!(attr(&put, "rpc.method").as_deref(), Some("PutObject"));
    assert_eq!(attr(&put, "aws.s3.bucket").as_deref(), Some(integration_tests::s3::BUCKET));
    assert!(process.start_time <= put.start_time && put.end_time <= process.end_time);
    let key_prefix = format!("{}/", integration_tests::s3::PREFIX);
    assert!(
        put.attributes.iter().all(|kv| !kv.value.to_string().contains(&key_prefix)),
        "the object key, which holds the patient id, stays out of the span"
    );
}

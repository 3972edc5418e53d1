//! With `OTEL_EXPORTER_OTLP_ENDPOINT` set, the service's spans leave the
//! process over OTLP/HTTP: a local collector stand-in receives them at
//! `/v1/traces` as protobuf, with the service name and the span names.

use axum::{Router, body::Bytes, http::HeaderMap, routing::post};
use server::config::{OtlpProtocol, TelemetrySettings};
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tracing_subscriber::layer::SubscriberExt as _;

/// (content type, body) of each export request received.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

async fn collector() -> (String, Received) {
    let received = Received::default();
    let sink = received.clone();
    let app = Router::new().route(
        "/v1/traces",
        post(move |headers: HeaderMap, body: Bytes| async move {
            let kind = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            sink.lock().unwrap().push((kind, body.to_vec()));
            ""
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_over_otlp_http_when_an_endpoint_is_set() {
    let (endpoint, received) = collector().await;
    let settings = TelemetrySettings {
        otel_exporter_otlp_endpoint: Some(endpoint),
        otel_exporter_otlp_protocol: OtlpProtocol::HttpProtobuf,
        otel_service_name: "drchrono-sync-export-test".into(),
        metrics_bind_addr: None,
        trace_ui_url: None,
    };
    let provider = server::telemetry::tracer_provider(&settings).unwrap();
    let subscriber = tracing_subscriber::registry().with(server::telemetry::otel_layer(&provider));
    tracing::subscriber::with_default(subscriber, || {
        let queue = "fetch_record";
        let span = job_runner::telemetry::process_span(queue, "01JEXPORTTEST", 1, None);
        span.in_scope(|| tracing::info!("attempt ran"));
    });
    let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await.unwrap();
    assert!(flushed.is_ok(), "the exporter flushed: {flushed:?}");

    let start = Instant::now();
    while received.lock().unwrap().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(10), "no export reached the collector");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (kind, body) = received.lock().unwrap()[0].clone();
    assert_eq!(kind, "application/x-protobuf");
    for text in ["drchrono-sync-export-test", "process fetch_record", "01JEXPORTTEST", "messaging.destination.name"] {
        assert!(contains(&body, text), "the export carries {text}");
    }
}

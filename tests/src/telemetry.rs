//! Captures what the test process emits: every log line (debug level,
//! every crate) and every finished span, through the service's own
//! OpenTelemetry layer with an in-memory exporter.
//!
//! The capture is installed once per process (nextest runs each test in a
//! process of its own); tests pick their spans by trace or job id, so
//! sharing a process under `cargo test` does not mix them up.

use opentelemetry::{KeyValue, trace::SpanKind};
use opentelemetry_sdk::{
    error::OTelSdkResult,
    trace::{SdkTracerProvider, SpanData, SpanExporter},
};
use std::{
    fmt::Write as _,
    io::Write,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};
use tracing_subscriber::{EnvFilter, layer::SubscriberExt as _, util::SubscriberInitExt as _};

/// Log output, as the service's text format writes it.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Finished spans, kept in memory.
#[derive(Clone, Default, Debug)]
pub struct Spans(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Spans {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

impl Spans {
    pub fn all(&self) -> Vec<SpanData> {
        self.0.lock().unwrap().clone()
    }

    /// The spans of one trace.
    pub fn trace(&self, trace_id: &str) -> Vec<SpanData> {
        self.all().into_iter().filter(|s| trace_id_of(s) == trace_id).collect()
    }

    /// Waits until a span matching `pick` has finished; panics after 10 s.
    pub async fn wait_for(&self, what: &str, pick: impl Fn(&SpanData) -> bool) -> SpanData {
        let start = Instant::now();
        loop {
            if let Some(s) = self.all().into_iter().find(&pick) {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "no span {what} within 10 s; spans: {}", self.names());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn names(&self) -> String {
        self.all().iter().map(|s| s.name.to_string()).collect::<Vec<_>>().join(", ")
    }

    /// Every exported string: names, attributes, events with theirs,
    /// links and statuses, for scanning.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for s in self.all() {
            let _ = writeln!(out, "{} {:?} {:?}", s.name, s.attributes, s.status);
            for e in s.events.iter() {
                let _ = writeln!(out, "  event {} {:?}", e.name, e.attributes);
            }
            for l in s.links.iter() {
                let _ = writeln!(out, "  link {:?}", l.attributes);
            }
        }
        out
    }
}

pub fn trace_id_of(span: &SpanData) -> String {
    span.span_context.trace_id().to_string()
}

pub fn span_id_of(span: &SpanData) -> String {
    span.span_context.span_id().to_string()
}

/// The string value of attribute `key`.
pub fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes.iter().find(|kv: &&KeyValue| kv.key.as_str() == key).map(|kv| kv.value.to_string())
}

pub fn is_kind(span: &SpanData, kind: SpanKind) -> bool {
    span.span_kind == kind
}

/// What this process logged and traced.
pub struct Capture {
    pub logs: Logs,
    pub spans: Spans,
    _provider: SdkTracerProvider,
}

/// Installs the capture on first use and returns it.
pub fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let (logs, spans) = (Logs::default(), Spans::default());
        let provider = SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build();
        let writer = logs.clone();
        let text = tracing_subscriber::fmt::layer().with_ansi(false).with_writer(move || writer.clone());
        let _ = tracing_subscriber::registry()
            .with(EnvFilter::new("debug"))
            .with(text)
            .with(server::telemetry::otel_layer(&provider))
            .try_init();
        Capture { logs, spans, _provider: provider }
    })
}

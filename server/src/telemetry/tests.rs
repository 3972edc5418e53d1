//! What the two log formats look like, and where OTLP/HTTP posts.

use std::sync::{Arc, Mutex};
use tracing_subscriber::layer::SubscriberExt as _;

use super::{http_traces_url, log_layer};
use crate::config::LogFormat;

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Logs one line inside a job span in `format`; the output.
fn one_line(format: LogFormat) -> String {
    let sink = Sink::default();
    let writer = sink.clone();
    let layer = log_layer(format, move || writer.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let span = tracing::info_span!("job", job.id = "01J", otel.name = "process x", otel.kind = "consumer");
        let _in = span.enter();
        tracing::info!(rows = 2, "job attempt succeeded");
    });
    String::from_utf8(sink.0.lock().unwrap().clone()).unwrap()
}

/// Text lines are coloured; the colour codes are not what is checked.
fn without_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| *c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn text_lines_leave_out_the_otel_fields() {
    let line = without_ansi(&one_line(LogFormat::Text));
    assert!(line.contains("job{job.id=\"01J\"}: "), "{line}");
    assert!(line.contains("job attempt succeeded rows=2"), "{line}");
    assert!(!line.contains("otel"), "{line}");
}

#[test]
fn json_lines_are_one_object_each_with_the_span() {
    let out = one_line(LogFormat::Json);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    let line: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON object");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["fields"]["message"], "job attempt succeeded");
    assert_eq!(line["fields"]["rows"], 2);
    assert_eq!(line["span"]["job.id"], "01J");
}

#[test]
fn the_http_exporter_posts_to_v1_traces() {
    assert_eq!(http_traces_url("http://jaeger:4318"), "http://jaeger:4318/v1/traces");
    assert_eq!(http_traces_url("http://jaeger:4318/"), "http://jaeger:4318/v1/traces");
    assert_eq!(http_traces_url("http://c:4318/v1/traces"), "http://c:4318/v1/traces");
}

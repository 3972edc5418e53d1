//! Logs and traces of the service: one `tracing` subscriber with a log
//! layer (text or JSON on stderr) and an OpenTelemetry layer.
//!
//! The OpenTelemetry layer is always installed, so every request, job and
//! DrChrono call has a trace id (stored with jobs and attempts, and sent as
//! `traceparent`); spans leave the process only when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` names a collector.

pub mod http;
mod text_fields;

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::{
    Resource, runtime,
    trace::{SdkTracer, SdkTracerProvider, span_processor_with_async_runtime::BatchSpanProcessor},
};
use tracing::Subscriber;
use tracing_subscriber::{
    EnvFilter, Layer, fmt::MakeWriter, layer::SubscriberExt as _, registry::LookupSpan, util::SubscriberInitExt as _,
};

use crate::config::{LogFormat, OtlpProtocol, TelemetrySettings};

/// Our crates at info; chatty dependencies only when they warn.
const DEFAULT_FILTER: &str = "info,sqlx=warn,apalis=warn,apalis_core=warn,h2=warn,tonic=warn,hyper=warn";

/// Keeps the trace pipeline alive; [`Telemetry::shutdown`] flushes it.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// Exports the spans still buffered. Call once, as the process ends.
    pub async fn shutdown(self) {
        let provider = self.provider;
        let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        if let Ok(Err(e)) = flushed {
            eprintln!("warning: could not flush traces to OTEL_EXPORTER_OTLP_ENDPOINT: {e}");
        }
    }
}

/// Installs the process's subscriber. Must run inside the Tokio runtime:
/// the exporter sends from a task on it.
pub fn init(format: LogFormat, settings: &TelemetrySettings) -> anyhow::Result<Telemetry> {
    let provider = tracer_provider(settings)?;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::registry()
        .with(filter)
        .with(log_layer(format, std::io::stderr))
        .with(otel_layer(&provider))
        .try_init()
        .context("a tracing subscriber was already installed")?;
    if let Some(endpoint) = settings.otel_exporter_otlp_endpoint.as_deref().filter(|e| !e.trim().is_empty()) {
        tracing::info!(endpoint, "exporting traces over OTLP");
    }
    Ok(Telemetry { provider })
}

/// Log lines to `writer`: human-readable text, or one JSON object per line
/// (`LOG_FORMAT=json`) with the current span's fields and its parents'.
pub fn log_layer<S, W>(format: LogFormat, writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    match format {
        LogFormat::Text => {
            tracing_subscriber::fmt::layer().with_writer(writer).fmt_fields(text_fields::TextFields).boxed()
        }
        LogFormat::Json => tracing_subscriber::fmt::layer().json().with_writer(writer).boxed(),
    }
}

/// The OpenTelemetry layer over `provider`: tests install it with an
/// in-memory exporter, the service with OTLP or none.
pub fn otel_layer<S>(provider: &SdkTracerProvider) -> tracing_opentelemetry::OpenTelemetryLayer<S, SdkTracer>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    tracing_opentelemetry::layer().with_tracer(provider.tracer("drchrono-sync")).with_threads(false)
}

/// A provider with a batch OTLP exporter when an endpoint is set, else one
/// that records trace ids and exports nothing.
pub fn tracer_provider(settings: &TelemetrySettings) -> anyhow::Result<SdkTracerProvider> {
    let resource = Resource::builder().with_service_name(settings.otel_service_name.clone()).build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let Some(endpoint) = settings.otel_exporter_otlp_endpoint.as_deref().filter(|e| !e.trim().is_empty()) else {
        return Ok(builder.build());
    };
    let exporter = match settings.otel_exporter_otlp_protocol {
        OtlpProtocol::Grpc => opentelemetry_otlp::SpanExporter::builder().with_tonic().with_endpoint(endpoint).build(),
        OtlpProtocol::HttpProtobuf => {
            opentelemetry_otlp::SpanExporter::builder().with_http().with_endpoint(http_traces_url(endpoint)).build()
        }
    }
    .context("cannot set up the OTLP exporter; check OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL")?;
    let processor = BatchSpanProcessor::builder(exporter, runtime::Tokio).build();
    Ok(builder.with_span_processor(processor).build())
}

/// OTLP/HTTP takes the base URL in `OTEL_EXPORTER_OTLP_ENDPOINT` and posts
/// traces to `/v1/traces` under it; a full traces URL is kept as given.
fn http_traces_url(endpoint: &str) -> String {
    let base = endpoint.trim_end_matches('/');
    if base.ends_with("/v1/traces") { base.to_string() } else { format!("{base}/v1/traces") }
}

#[cfg(test)]
mod tests;

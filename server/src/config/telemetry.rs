//! Trace export and the metrics listener.

use clap::Args;
use std::net::SocketAddr;

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Traces and metrics")]
pub struct TelemetrySettings {
    /// OTLP collector that receives traces, e.g. `http://localhost:4318`
    /// (Jaeger). Traces are not exported without it; trace ids are still
    /// stored with jobs and attempts.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otel_exporter_otlp_endpoint: Option<String>,

    /// `http/protobuf` (usually port 4318) or `grpc` (usually port 4317).
    #[arg(long, env = "OTEL_EXPORTER_OTLP_PROTOCOL", default_value = "http/protobuf")]
    pub otel_exporter_otlp_protocol: OtlpProtocol,

    /// `service.name` of the exported traces.
    #[arg(long, env = "OTEL_SERVICE_NAME", default_value = "drchrono-sync")]
    pub otel_service_name: String,

    /// A trace UI's page of one trace, `{trace_id}` standing for the id, e.g.
    /// `http://localhost:16686/trace/{trace_id}` (Jaeger in compose). The
    /// console links each job attempt to its trace with it; no links without it.
    #[arg(long, env = "TRACE_UI_URL")]
    pub trace_ui_url: Option<String>,

    /// Serve `GET /metrics` on this address instead, without the admin
    /// token (keep it private to the scraper). Unset: `/metrics` is served
    /// on BIND_ADDR behind ADMIN_TOKEN.
    #[arg(long, env = "METRICS_BIND_ADDR")]
    pub metrics_bind_addr: Option<SocketAddr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OtlpProtocol {
    #[value(name = "http/protobuf")]
    HttpProtobuf,
    #[value(name = "grpc")]
    Grpc,
}

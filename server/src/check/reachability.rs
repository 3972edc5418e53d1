//! The parts that reach outside: S3 (one marker put) and the OTLP collector.

use sha2::{Digest, Sha256};
use std::time::Duration;

use super::Part;
use crate::Settings;

/// The marker's key under the prefix. It ends in `.pdf` because the
/// uploader's policy allows only PDF keys under the prefix.
pub const MARKER_NAME: &str = "_preflight/drchrono-sync-check.pdf";

/// One PutObject of a marker under the configured prefix, with the same
/// encryption and checksum as a note, through the archive's own put.
pub(super) async fn s3(settings: &Settings) -> Part {
    const NAME: &str = "s3 archive";
    let archive = settings.archive.settings();
    let Some((_, bucket)) = archive.enabled() else {
        return Part::off(
            NAME,
            "archiving off (PROVIDER_STRING or S3_BUCKET unset)",
            "set PROVIDER_STRING and S3_BUCKET to archive note PDFs",
        );
    };
    let key = marker_key(&archive.prefix);
    let body = b"%PDF-1.4\n% drchrono-sync preflight marker; safe to delete\n%%EOF\n".to_vec();
    let sha = Sha256::digest(&body);
    let client = jobs::archive::S3Slot::default();
    let client = client.client(&archive).await;
    match jobs::archive::s3::put_pdf(client, bucket, &key, body, &sha, &archive.sse).await {
        Ok(_) => Part::ok(NAME, format!("PutObject of {key} in {bucket} succeeded")),
        Err(e) => Part::fail(NAME, format!("PutObject of {key} failed"), e.to_string()),
    }
}

pub fn marker_key(prefix: &str) -> String {
    match prefix.trim_matches('/') {
        "" => MARKER_NAME.to_string(),
        prefix => format!("{prefix}/{MARKER_NAME}"),
    }
}

/// A TCP connect to the collector's host and port (3 s at most).
pub(super) async fn otlp(settings: &Settings) -> Part {
    const NAME: &str = "otlp endpoint";
    let Some(endpoint) = settings.telemetry.otel_exporter_otlp_endpoint.as_deref().filter(|e| !e.trim().is_empty())
    else {
        return Part::off(
            NAME,
            "OTEL_EXPORTER_OTLP_ENDPOINT unset: traces are not exported",
            "set OTEL_EXPORTER_OTLP_ENDPOINT to export traces",
        );
    };
    let fix = "start the collector or correct OTEL_EXPORTER_OTLP_ENDPOINT";
    let Some((host, port)) =
        url::Url::parse(endpoint).ok().and_then(|u| Some((u.host_str()?.to_string(), u.port_or_known_default()?)))
    else {
        return Part::fail(NAME, "OTEL_EXPORTER_OTLP_ENDPOINT is not a URL like http://host:4318", fix);
    };
    let shown = format!("{host}:{port}");
    match tokio::time::timeout(Duration::from_secs(3), tokio::net::TcpStream::connect(&shown)).await {
        Ok(Ok(_)) => Part::ok(NAME, format!("{shown} accepts connections")),
        Ok(Err(e)) => Part::fail(NAME, format!("{shown} refused ({})", e.kind()), fix),
        Err(_) => Part::fail(NAME, format!("{shown} did not answer within 3 s"), fix),
    }
}

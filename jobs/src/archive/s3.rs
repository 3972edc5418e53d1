//! The one S3 call archiving makes: `PutObject`, with server-side
//! encryption and a SHA-256 checksum. The uploader's IAM user may do nothing
//! else (no HEAD, GET or LIST), so nothing here reads the bucket.

use aws_sdk_s3::{
    Client,
    config::{
        BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
        timeout::TimeoutConfig,
    },
    error::{ProvideErrorMetadata, SdkError},
    primitives::ByteStream,
    types::ServerSideEncryption,
};
use base64::Engine as _;
use std::{sync::Arc, time::Duration};
use tokio::sync::OnceCell;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::settings::{ArchiveSettings, Sse};
use job_runner::JobError;

/// One S3 client per process, built on first use (loading the AWS default
/// credential chain is async, and most processes never archive).
#[derive(Debug, Clone, Default)]
pub struct S3Slot(Arc<OnceCell<Client>>);

impl S3Slot {
    pub async fn client(&self, settings: &ArchiveSettings) -> &Client {
        self.0.get_or_init(|| build_client(settings)).await
    }
}

async fn build_client(s: &ArchiveSettings) -> Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &s.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(c) = &s.credentials {
        let creds = Credentials::new(
            c.access_key_id.clone(),
            c.secret_access_key.clone(),
            c.session_token.clone(),
            None,
            "drchrono-sync-settings",
        );
        loader = loader.credentials_provider(creds);
    }
    let shared = loader.load().await;
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(120))
        .build();
    let mut config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(s.force_path_style)
        .timeout_config(timeouts)
        // The checksum is ours (SHA-256, computed once); the SDK adds none of its own.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    if shared.region().is_none() {
        config = config.region(Region::new("us-east-1"));
    }
    if let Some(endpoint) = &s.endpoint {
        config = config.endpoint_url(endpoint);
    }
    Client::from_conf(config.build())
}

/// What S3 said about a stored object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    pub etag: Option<String>,
    /// Present when the bucket keeps versions.
    pub version_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PutError {
    #[error(
        "S3 refused PutObject on bucket {bucket} ({code}): the credentials need s3:PutObject on \
         {bucket}/<prefix>/*.pdf (and kms:GenerateDataKey with S3_SSE=aws:kms)"
    )]
    Refused { bucket: String, code: String },
    #[error("S3 bucket {bucket} does not exist; create it or correct S3_BUCKET")]
    NoSuchBucket { bucket: String },
    #[error("S3 rejected the PutObject on bucket {bucket} ({code}, {status}); check S3_SSE and S3_ENDPOINT")]
    Rejected { bucket: String, code: String, status: u16 },
    #[error("S3 PutObject on bucket {bucket} failed ({reason}); retrying later")]
    Transient { bucket: String, reason: String },
}

impl From<PutError> for JobError {
    fn from(e: PutError) -> Self {
        match e {
            PutError::Transient { .. } => JobError::retryable(e),
            _ => JobError::permanent(e),
        }
    }
}

/// Puts `body` at `key`. S3 verifies `sha256` (raw digest) before storing.
pub async fn put_pdf(
    client: &Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    sha256: &[u8],
    sse: &Sse,
) -> Result<Stored, PutError> {
    let length = body.len() as i64;
    let mut put = client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/pdf")
        .content_length(length)
        .checksum_sha256(base64::engine::general_purpose::STANDARD.encode(sha256))
        .body(ByteStream::from(body));
    put = match sse {
        Sse::Aes256 => put.server_side_encryption(ServerSideEncryption::Aes256),
        Sse::Kms { key_id } => {
            put.server_side_encryption(ServerSideEncryption::AwsKms).set_ssekms_key_id(key_id.clone())
        }
    };
    let span = put_span(bucket);
    match put.send().instrument(span.clone()).await {
        Ok(out) => {
            crate::metrics::s3_put("ok");
            Ok(Stored { etag: out.e_tag().map(str::to_string), version_id: out.version_id().map(str::to_string) })
        }
        Err(e) => {
            crate::metrics::s3_put("error");
            let error = classify(bucket, &e);
            span.set_status(opentelemetry::trace::Status::error(error.to_string()));
            Err(error)
        }
    }
}

/// The client span of one PutObject, named as OpenTelemetry's AWS SDK
/// conventions name it. The SDK's own span of that name is internal and at
/// debug level, so production traces would otherwise show no S3 call. The
/// object key is left out: it holds the patient id, and the archive's row
/// already ties note, key and job together.
fn put_span(bucket: &str) -> tracing::Span {
    tracing::info_span!(
        "s3_put",
        otel.name = "S3.PutObject",
        otel.kind = "client",
        rpc.system = "aws-api",
        rpc.service = "S3",
        rpc.method = "PutObject",
        aws.s3.bucket = bucket,
    )
}

fn classify<E: ProvideErrorMetadata, R>(bucket: &str, e: &SdkError<E, R>) -> PutError
where
    R: HasStatus,
{
    let bucket = bucket.to_string();
    let transient = |reason: &str| PutError::Transient { bucket: bucket.clone(), reason: reason.to_string() };
    match e {
        SdkError::TimeoutError(_) => transient("timed out"),
        SdkError::DispatchFailure(_) => transient("could not reach S3"),
        SdkError::ResponseError(_) => transient("unreadable response"),
        SdkError::ConstructionFailure(_) => {
            PutError::Rejected { bucket, code: "request could not be built".into(), status: 0 }
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status_code();
            let code = e.code().unwrap_or("no error code").to_string();
            match (status, code.as_str()) {
                (_, "NoSuchBucket") => PutError::NoSuchBucket { bucket },
                (403, _) | (_, "AccessDenied") => PutError::Refused { bucket, code },
                (_, "BadDigest" | "SlowDown" | "RequestTimeout" | "InternalError") => transient(&code),
                (s, _) if s >= 500 || s == 429 => transient(&format!("{code}, {s}")),
                _ => PutError::Rejected { bucket, code, status },
            }
        }
        _ => transient("unexpected SDK error"),
    }
}

/// The status of a raw HTTP response, whatever the SDK's response type.
pub trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

//! Settings of the note PDF archive (`PROVIDER_STRING`, `S3_*`, AWS
//! credentials). Archiving is off unless both `PROVIDER_STRING` and
//! `S3_BUCKET` are set.

use clap::{Args, ValueEnum, builder::BoolishValueParser};
use jobs::archive::{ArchiveSettings, Sse, StaticCredentials, settings::DEFAULT_MAX_PDF_BYTES};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SseMode {
    /// SSE-S3: keys managed by S3.
    #[value(name = "AES256")]
    Aes256,
    /// SSE-KMS, with S3_SSE_KMS_KEY_ID (or the bucket's default KMS key).
    #[value(name = "aws:kms")]
    AwsKms,
}

/// `Debug` is written by hand (`redact`): it never shows the secret key.
#[derive(Clone, Args)]
#[command(next_help_heading = "Note PDF archive (off unless PROVIDER_STRING and S3_BUCKET are set)")]
pub struct ArchiveArgs {
    /// The provider's name as it appears in note PDFs (compared case- and whitespace-blind).
    #[arg(long, env = "PROVIDER_STRING")]
    pub provider_string: Option<String>,

    /// Bucket that receives matching note PDFs.
    #[arg(long, env = "S3_BUCKET")]
    pub s3_bucket: Option<String>,

    /// Key prefix inside the bucket.
    #[arg(long, env = "S3_PREFIX", default_value = jobs::archive::settings::DEFAULT_PREFIX)]
    pub s3_prefix: String,

    /// Object key; placeholders {prefix}, {patient_id}, {clinical_note_id}. A note's
    /// later, different PDF gets -v2, -v3, ... before `.pdf`.
    #[arg(long, env = "S3_KEY_TEMPLATE", default_value = jobs::archive::settings::DEFAULT_KEY_TEMPLATE)]
    pub s3_key_template: String,

    /// An S3-compatible endpoint such as http://minio:9000 (AWS when unset).
    #[arg(long, env = "S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// Path-style addressing (bucket in the path), which most S3-compatible stores need.
    #[arg(long, env = "S3_FORCE_PATH_STYLE", default_value = "false", value_parser = BoolishValueParser::new())]
    pub s3_force_path_style: bool,

    /// Server-side encryption of archived objects.
    #[arg(long, env = "S3_SSE", value_enum, default_value = "AES256")]
    pub s3_sse: SseMode,

    /// KMS key id or ARN, with S3_SSE=aws:kms.
    #[arg(long, env = "S3_SSE_KMS_KEY_ID")]
    pub s3_sse_kms_key_id: Option<String>,

    /// AWS region of the bucket (else the AWS default chain; us-east-1 when none).
    #[arg(long, env = "AWS_REGION")]
    pub aws_region: Option<String>,

    /// Access key of the uploader (which needs only s3:PutObject). Without a key pair the
    /// AWS default chain (profile, web identity, container or instance role) is used.
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    pub aws_access_key_id: Option<String>,

    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub aws_secret_access_key: Option<String>,

    #[arg(long, env = "AWS_SESSION_TOKEN", hide_env_values = true)]
    pub aws_session_token: Option<String>,

    /// The older handler's name for AWS_ACCESS_KEY_ID (used when that is unset).
    #[arg(long, env = "MY_AWS_ACCESS_KEY_ID")]
    pub my_aws_access_key_id: Option<String>,

    /// The older handler's name for AWS_SECRET_ACCESS_KEY.
    #[arg(long, env = "MY_AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub my_aws_secret_access_key: Option<String>,

    /// Note PDFs larger than this many bytes are not downloaded; the note is left for review.
    #[arg(long, env = "ARCHIVE_MAX_PDF_BYTES", default_value_t = DEFAULT_MAX_PDF_BYTES)]
    pub archive_max_pdf_bytes: u64,
}

impl ArchiveArgs {
    pub fn settings(&self) -> ArchiveSettings {
        let sse = match self.s3_sse {
            SseMode::Aes256 => Sse::Aes256,
            SseMode::AwsKms => Sse::Kms { key_id: set(&self.s3_sse_kms_key_id) },
        };
        ArchiveSettings {
            provider_string: set(&self.provider_string),
            bucket: set(&self.s3_bucket),
            prefix: self.s3_prefix.clone(),
            key_template: self.s3_key_template.clone(),
            endpoint: set(&self.s3_endpoint),
            force_path_style: self.s3_force_path_style,
            region: set(&self.aws_region),
            sse,
            credentials: self.credentials(),
            max_pdf_bytes: self.archive_max_pdf_bytes.max(1),
        }
    }

    /// The standard pair wins; the older `MY_AWS_*` pair stands in for it.
    fn credentials(&self) -> Option<StaticCredentials> {
        let (id, secret, token) = match (set(&self.aws_access_key_id), set(&self.aws_secret_access_key)) {
            (Some(id), Some(secret)) => (id, secret, set(&self.aws_session_token)),
            _ => (set(&self.my_aws_access_key_id)?, set(&self.my_aws_secret_access_key)?, None),
        };
        Some(StaticCredentials { access_key_id: id, secret_access_key: secret, session_token: token })
    }
}

/// A variable left empty (`S3_BUCKET=` in a copied `.env`) counts as unset.
fn set(value: &Option<String>) -> Option<String> {
    value.as_ref().filter(|v| !v.trim().is_empty()).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        archive: ArchiveArgs,
    }

    #[test]
    fn the_older_key_names_stand_in_for_the_standard_ones() {
        let cli = Cli::parse_from(["x", "--my-aws-access-key-id", "OLD", "--my-aws-secret-access-key", "s"]);
        assert_eq!(cli.archive.settings().credentials.unwrap().access_key_id, "OLD");
        let both = Cli::parse_from([
            "x",
            "--aws-access-key-id",
            "NEW",
            "--aws-secret-access-key",
            "s",
            "--my-aws-access-key-id",
            "OLD",
            "--my-aws-secret-access-key",
            "s",
        ]);
        assert_eq!(both.archive.settings().credentials.unwrap().access_key_id, "NEW");
        let empty = Cli::parse_from(["x", "--aws-access-key-id", "", "--aws-secret-access-key", "", "--s3-bucket", ""]);
        assert!(empty.archive.settings().credentials.is_none());
        assert!(empty.archive.settings().bucket.is_none());
    }

    #[test]
    fn kms_takes_its_key_id() {
        let cli = Cli::parse_from(["x", "--s3-sse", "aws:kms", "--s3-sse-kms-key-id", "alias/notes"]);
        assert_eq!(cli.archive.settings().sse, Sse::Kms { key_id: Some("alias/notes".into()) });
        assert_eq!(Cli::parse_from(["x"]).archive.settings().sse, Sse::Aes256);
    }
}

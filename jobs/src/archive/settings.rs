//! What archiving needs to know: the provider name to look for, the bucket
//! and how keys are built, how to reach S3, and the download cap.

use std::fmt;

/// The default download cap: 50 MB.
pub const DEFAULT_MAX_PDF_BYTES: u64 = 50 * 1024 * 1024;

/// The default object key, as the older handler wrote it.
pub const DEFAULT_KEY_TEMPLATE: &str = "{prefix}/{patient_id}/{clinical_note_id}.pdf";

/// Server-side encryption of archived objects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Sse {
    /// SSE-S3, `AES256`: keys managed by S3.
    #[default]
    Aes256,
    /// SSE-KMS, `aws:kms`, with a key id or ARN (the bucket's default key when `None`).
    Kms { key_id: Option<String> },
}

/// An access key pair given in the environment; without one the AWS default
/// chain (profile, web identity, container or instance role) is used.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Clone)]
pub struct ArchiveSettings {
    /// The provider's name as it appears in note PDFs; archiving is off without it.
    pub provider_string: Option<String>,
    /// Archiving is off without a bucket too.
    pub bucket: Option<String>,
    pub prefix: String,
    /// Placeholders: `{prefix}`, `{patient_id}`, `{clinical_note_id}`.
    pub key_template: String,
    /// An S3-compatible endpoint (MinIO, a test server); AWS's own when `None`.
    pub endpoint: Option<String>,
    pub force_path_style: bool,
    pub region: Option<String>,
    pub sse: Sse,
    pub credentials: Option<StaticCredentials>,
    /// Larger PDFs are not downloaded past this many bytes.
    pub max_pdf_bytes: u64,
}

/// The key prefix unless `S3_PREFIX` says otherwise.
pub const DEFAULT_PREFIX: &str = "notes";

impl Default for ArchiveSettings {
    fn default() -> Self {
        Self {
            provider_string: None,
            bucket: None,
            prefix: DEFAULT_PREFIX.into(),
            key_template: DEFAULT_KEY_TEMPLATE.into(),
            endpoint: None,
            force_path_style: false,
            region: None,
            sse: Sse::Aes256,
            credentials: None,
            max_pdf_bytes: DEFAULT_MAX_PDF_BYTES,
        }
    }
}

/// The provider's name stays out of logs along with the secret key.
impl fmt::Debug for ArchiveSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArchiveSettings")
            .field("provider_string", &self.provider_string.as_ref().map(|_| "<set>"))
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("key_template", &self.key_template)
            .field("endpoint", &self.endpoint)
            .field("force_path_style", &self.force_path_style)
            .field("region", &self.region)
            .field("sse", &self.sse)
            .field("credentials", &self.credentials)
            .field("max_pdf_bytes", &self.max_pdf_bytes)
            .finish()
    }
}

impl ArchiveSettings {
    /// The provider name and bucket, when archiving is on.
    pub fn enabled(&self) -> Option<(&str, &str)> {
        let provider = self.provider_string.as_deref().filter(|p| !p.trim().is_empty())?;
        let bucket = self.bucket.as_deref().filter(|b| !b.is_empty())?;
        Some((provider, bucket))
    }

    /// The key of a note's `version`-th archived PDF. Version 1 is the
    /// template as configured; a later version (the note was unlocked, edited
    /// and locked again) gets `-v2`, `-v3`, ... before `.pdf`, so no version
    /// overwrites another even in a bucket without versioning, and every key
    /// stays under the prefix and ends in `.pdf` (what the IAM policy allows).
    pub fn object_key(&self, patient_id: Option<i64>, clinical_note_id: i64, version: i32) -> String {
        let patient = patient_id.map_or_else(|| "unknown-patient".to_string(), |p| p.to_string());
        let rendered = self
            .key_template
            .replace("{prefix}", self.prefix.trim_matches('/'))
            .replace("{patient_id}", &patient)
            .replace("{clinical_note_id}", &clinical_note_id.to_string());
        let mut key = rendered.split('/').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("/");
        if version > 1 {
            let stem = key.strip_suffix(".pdf").unwrap_or(&key).to_string();
            key = format!("{stem}-v{version}.pdf");
        }
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_template_and_later_versions_get_a_suffix() {
        let s = ArchiveSettings { prefix: "/notes/".into(), ..Default::default() };
        assert_eq!(s.object_key(Some(1001), 555, 1), "notes/1001/555.pdf");
        assert_eq!(s.object_key(Some(1001), 555, 2), "notes/1001/555-v2.pdf");
        let flat = ArchiveSettings { prefix: String::new(), ..Default::default() };
        assert_eq!(flat.object_key(None, 7, 1), "unknown-patient/7.pdf");
    }

    #[test]
    fn archiving_needs_a_provider_and_a_bucket() {
        let mut s = ArchiveSettings::default();
        assert!(s.enabled().is_none());
        s.provider_string = Some("Dr. Jane Smith".into());
        assert!(s.enabled().is_none());
        s.bucket = Some("notes".into());
        assert_eq!(s.enabled(), Some(("Dr. Jane Smith", "notes")));
        let secret =
            StaticCredentials { access_key_id: "AKIA".into(), secret_access_key: "hush".into(), session_token: None };
        assert!(!format!("{secret:?}").contains("hush"));
        let shown = format!("{:?}", ArchiveSettings { credentials: Some(secret), ..s });
        assert!(!shown.contains("hush") && !shown.contains("Jane"), "{shown}");
    }
}

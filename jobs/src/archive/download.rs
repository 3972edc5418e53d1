//! Getting a note's PDF: a fresh link from the appointment's verbose
//! `clinical_note.pdf` (DrChrono's links are presigned and die within the
//! hour, so one is never stored), then the file itself, fetched without the
//! bearer token and capped while it streams.
//!
//! The link is a signed URL: it is never logged or put in an error. The
//! shared client follows no redirect, so a 3xx from storage is a `Status`.

use serde_json::Value;
use std::time::Duration;
use url::Url;

use crate::drchrono::{DrChronoClient, DrChronoError};
use job_runner::JobError;

/// One download may take this long; the API's own timeout is for small JSON.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// An appointment's `clinical_note` block, as `verbose=true` serves it.
/// `Debug` never shows the link, which opens the note to whoever holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteLink {
    pub locked: bool,
    /// `None` while DrChrono offers no PDF for the note.
    pub pdf: Option<Url>,
}

impl std::fmt::Debug for NoteLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteLink")
            .field("locked", &self.locked)
            .field("pdf", &self.pdf.as_ref().map(|_| "<signed link>"))
            .finish()
    }
}

/// The note block of `appointment_id`; `None` when the appointment is gone.
pub async fn note_link(client: &DrChronoClient<'_>, appointment_id: i64) -> Result<Option<NoteLink>, DrChronoError> {
    let path = format!("/api/appointments/{appointment_id}?verbose=true");
    let Some(appointment) = client.get_object(&path).await? else {
        return Ok(None);
    };
    let block = appointment.get("clinical_note").cloned().unwrap_or(Value::Null);
    let locked = block.get("locked").and_then(Value::as_bool).unwrap_or(false);
    let pdf = block
        .get("pdf")
        .and_then(Value::as_str)
        .and_then(|s| Url::parse(s).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    Ok(Some(NoteLink { locked, pdf }))
}

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// A presigned link past its expiry: storage answers 403.
    #[error("the PDF link expired (403 from storage)")]
    Expired,
    #[error("the PDF is larger than the {limit}-byte cap (ARCHIVE_MAX_PDF_BYTES)")]
    TooLarge { limit: u64 },
    #[error("the download is not a PDF (it does not start with %PDF-)")]
    NotPdf,
    #[error("storage answered {status} for the PDF; retrying later")]
    Status { status: u16 },
    #[error("the PDF download failed ({kind}); retrying later")]
    Transport { kind: &'static str },
}

impl DownloadError {
    /// A verdict on the file itself, recorded for review, rather than a
    /// failure of this attempt.
    pub fn is_about_the_file(&self) -> bool {
        matches!(self, Self::TooLarge { .. } | Self::NotPdf)
    }
}

impl From<DownloadError> for JobError {
    fn from(e: DownloadError) -> Self {
        JobError::retryable(e)
    }
}

/// Downloads `url` with no credentials, stopping as soon as the body passes
/// `limit` bytes or its first bytes show it is not a PDF.
pub async fn download(http: &reqwest::Client, url: &Url, limit: u64) -> Result<Vec<u8>, DownloadError> {
    let transport = |e: reqwest::Error| DownloadError::Transport { kind: crate::drchrono::transport_kind(&e) };
    let mut resp = http.get(url.clone()).timeout(DOWNLOAD_TIMEOUT).send().await.map_err(transport)?;
    match resp.status().as_u16() {
        200 => {}
        403 => return Err(DownloadError::Expired),
        status => return Err(DownloadError::Status { status }),
    }
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(DownloadError::TooLarge { limit });
    }
    let mut body = CappedBody::new(limit);
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        body.push(&chunk)?;
    }
    body.finish()
}

/// The body so far; refuses to grow past its cap or to go on once its head
/// is known not to be a PDF.
#[derive(Debug)]
pub struct CappedBody {
    limit: u64,
    bytes: Vec<u8>,
}

const MAGIC: &[u8] = b"%PDF-";

impl CappedBody {
    pub fn new(limit: u64) -> Self {
        Self { limit, bytes: Vec::new() }
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<(), DownloadError> {
        if (self.bytes.len() + chunk.len()) as u64 > self.limit {
            return Err(DownloadError::TooLarge { limit: self.limit });
        }
        self.bytes.extend_from_slice(chunk);
        let head = &self.bytes[..self.bytes.len().min(MAGIC.len())];
        if !MAGIC.starts_with(head) {
            return Err(DownloadError::NotPdf);
        }
        Ok(())
    }

    pub fn finish(self) -> Result<Vec<u8>, DownloadError> {
        if !self.bytes.starts_with(MAGIC) {
            return Err(DownloadError::NotPdf);
        }
        Ok(self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_holds_while_streaming() {
        let mut body = CappedBody::new(10);
        body.push(b"%PD").unwrap();
        body.push(b"F-1.7").unwrap();
        assert!(matches!(body.push(b"xxx"), Err(DownloadError::TooLarge { limit: 10 })));
    }

    #[test]
    fn a_body_that_is_not_a_pdf_stops_at_its_first_bytes() {
        let mut body = CappedBody::new(1 << 20);
        assert!(matches!(body.push(b"<?xml"), Err(DownloadError::NotPdf)));
        assert!(matches!(CappedBody::new(10).finish(), Err(DownloadError::NotPdf)));
        let mut split = CappedBody::new(100);
        split.push(b"%").unwrap();
        split.push(b"PDF-1.4 ...").unwrap();
        assert_eq!(split.finish().unwrap(), b"%PDF-1.4 ...");
    }

    #[test]
    fn debug_of_a_note_link_hides_the_signed_link() {
        let url = Url::parse("https://files.example/note.pdf?X-Amz-Signature=secret-signature").unwrap();
        let link = NoteLink { locked: true, pdf: Some(url) };
        let shown = format!("{link:?}");
        assert!(!shown.contains("secret-signature") && !shown.contains("files.example"), "{shown}");
        assert!(shown.contains("locked: true") && shown.contains("<signed link>"), "{shown}");
    }
}

//! Note PDFs behind short-lived signed links, like the presigned storage
//! URLs DrChrono hands out in an appointment's verbose `clinical_note.pdf`:
//! `/_files/notes/{id}.pdf?expires=…&signature=…`, served without the
//! bearer token, answered 403 (as S3 answers) once expired or tampered with,
//! and 400 when a bearer token is sent along (S3 allows one auth mechanism).
//!
//! Each note's PDF is generated from the note itself (its doctor's name on
//! the signature page, its sections, its `updated_at`), so it is the same
//! until the note changes. Tests can replace a note's file with a broken
//! one ([`PdfVariant`]), expire the next links, and count downloads.

use std::{collections::HashMap, sync::Arc};

use axum::{
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngExt as _;
use serde_json::Value;
use sha2::Sha256;
use url::Url;

use crate::{
    Kind, Sandbox,
    pdf::{self, NameFont, NotePdf},
    practice::{Practice, Record},
    state::Shared,
};

/// Presigned links die within about an hour [prod].
const LINK_LIFETIME_SECONDS: i64 = 3600;

/// What a note's PDF link serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PdfVariant {
    /// The generated PDF with the doctor's signature (the default).
    Signed,
    /// The generated PDF without a signature: no provider name anywhere.
    Unsigned,
    /// The name drawn in a composite font without a ToUnicode map.
    NameWithoutUnicodeMap,
    /// A scan: images only, no text.
    ImageOnly,
    /// The first half of the signed PDF.
    Truncated,
    /// An XML error page instead of a PDF.
    NotAPdf,
    /// Exactly these bytes.
    Bytes(Vec<u8>),
}

/// The files' share of the sandbox state.
pub(crate) struct Files {
    secret: [u8; 32],
    variants: HashMap<i64, PdfVariant>,
    downloads: HashMap<i64, u64>,
    /// Links still to be issued already expired.
    expired_links: u32,
}

impl Default for Files {
    fn default() -> Self {
        Self { secret: rand::rng().random(), variants: HashMap::new(), downloads: HashMap::new(), expired_links: 0 }
    }
}

impl Files {
    /// When the links of the response being built expire.
    pub(crate) fn next_expiry(&mut self) -> i64 {
        let now = Utc::now().timestamp();
        if self.expired_links > 0 {
            self.expired_links -= 1;
            return now - 1;
        }
        now + LINK_LIFETIME_SECONDS
    }

    fn signature(&self, note: i64, expires: i64) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret).expect("any key length");
        mac.update(format!("{note}:{expires}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The signed link to a note's PDF on `origin`.
    pub(crate) fn link(&self, origin: &Url, note: i64, expires: i64) -> String {
        let mut url = origin.clone();
        url.set_path(&format!("/_files/notes/{note}.pdf"));
        let signature = self.signature(note, expires);
        url.set_query(Some(&format!("expires={expires}&signature={signature}")));
        url.to_string()
    }
}

/// An S3-style refusal: what a presigned URL past its time gets.
fn forbidden(message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>\n"
    );
    (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// What S3 answers a presigned URL sent with an `Authorization` header too.
fn two_auth_mechanisms() -> Response {
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidArgument</Code>\
<Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string \
parameter or the Authorization header should be specified</Message></Error>\n";
    (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

pub(crate) async fn note_pdf(
    State(shared): State<Arc<Shared>>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        return two_auth_mechanisms();
    }
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let note = file.strip_suffix(".pdf").and_then(|id| id.parse::<i64>().ok());
    let expires = params.get("expires").and_then(|e| e.parse::<i64>().ok());
    let (Some(note), Some(expires)) = (note, expires) else {
        return forbidden("Query-string authentication requires the Signature and Expires parameters");
    };
    let mut state = shared.lock();
    if params.get("signature") != Some(&state.files.signature(note, expires)) {
        return forbidden("The request signature we calculated does not match the signature you provided.");
    }
    if expires < Utc::now().timestamp() {
        return forbidden("Request has expired");
    }
    let variant = state.files.variants.get(&note).cloned().unwrap_or(PdfVariant::Signed);
    let Some(body) = render(&state.practice, note, &variant) else {
        return (StatusCode::NOT_FOUND, "NoSuchKey").into_response();
    };
    *state.files.downloads.entry(note).or_default() += 1;
    drop(state);
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/pdf")], body).into_response()
}

/// The file a note's link serves now.
fn render(practice: &Practice, note: i64, variant: &PdfVariant) -> Option<Vec<u8>> {
    let record = practice.get(Kind::ClinicalNote, note)?;
    let signed = |name_font| note_pdf_of(practice, note, record, name_font);
    Some(match variant {
        PdfVariant::Signed => signed(default_name_font(note)).render(),
        PdfVariant::Unsigned => NotePdf { signature_page: None, ..signed(NameFont::Split) }.render(),
        PdfVariant::NameWithoutUnicodeMap => signed(NameFont::NoUnicodeMap).render(),
        PdfVariant::ImageOnly => pdf::image_only(3),
        PdfVariant::Truncated => pdf::truncated(&signed(NameFont::Split).render()),
        PdfVariant::NotAPdf => pdf::not_a_pdf(),
        PdfVariant::Bytes(bytes) => bytes.clone(),
    })
}

/// Notes alternate between the two readable ways of drawing the name.
fn default_name_font(note: i64) -> NameFont {
    if note % 2 == 0 { NameFont::Split } else { NameFont::ToUnicode }
}

/// "Dr. First Last" of a doctor, as their signature shows it.
pub(crate) fn provider_name(practice: &Practice, doctor: i64) -> String {
    let field = |name: &str| {
        practice
            .get(Kind::Doctor, doctor)
            .and_then(|d| d.get(name))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    format!("Dr. {} {}", field("first_name"), field("last_name"))
}

/// Three to five pages; the signature on page 3.
fn note_pdf_of(practice: &Practice, note: i64, record: &Record, name_font: NameFont) -> NotePdf {
    let doctor = record.get("doctor").and_then(Value::as_i64).unwrap_or_default();
    let updated = record.get("updated_at").and_then(Value::as_str).unwrap_or_default();
    let mut lines = Vec::new();
    for section in record.get("clinical_note_sections").and_then(Value::as_array).into_iter().flatten() {
        lines.push(section.get("name").and_then(Value::as_str).unwrap_or_default().to_owned());
        for value in section.get("values").and_then(Value::as_array).into_iter().flatten() {
            lines.push(format!("  {}", value.get("value").and_then(Value::as_str).unwrap_or_default()));
        }
    }
    lines.extend((1..=60).map(|i| format!("Visit record line {i} (note {note})")));
    NotePdf {
        title: format!("Clinical note {note}, last updated {updated}"),
        pages: 3 + (note % 3) as u32,
        signature_page: Some(3),
        provider: provider_name(practice, doctor),
        name_font,
        lines,
    }
}

impl Sandbox {
    /// Serves `variant` at note `note`'s PDF link from now on.
    pub fn set_note_pdf(&self, note: i64, variant: PdfVariant) {
        self.shared.lock().files.variants.insert(note, variant);
    }

    /// The bytes note `note`'s link serves now, as a download would get them.
    pub fn note_pdf_bytes(&self, note: i64) -> Option<Vec<u8>> {
        let state = self.shared.lock();
        let variant = state.files.variants.get(&note).cloned().unwrap_or(PdfVariant::Signed);
        render(&state.practice, note, &variant)
    }

    /// Successful downloads of note `note`'s PDF.
    pub fn pdf_downloads(&self, note: i64) -> u64 {
        self.shared.lock().files.downloads.get(&note).copied().unwrap_or(0)
    }

    /// The next `n` responses that carry PDF links carry expired ones.
    pub fn expire_next_pdf_links(&self, n: u32) {
        self.shared.lock().files.expired_links = n;
    }

    /// The name a note's doctor signs with, "Dr. First Last".
    pub fn note_provider(&self, note: i64) -> Option<String> {
        let state = self.shared.lock();
        let doctor = state.practice.get(Kind::ClinicalNote, note)?.get("doctor")?.as_i64()?;
        Some(provider_name(&state.practice, doctor))
    }
}

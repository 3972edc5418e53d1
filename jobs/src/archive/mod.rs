//! The note PDF archive: a locked note's PDF is fetched fresh from
//! DrChrono, checked for the provider's name, and put to S3 once.
//!
//! - [`download`]: the short-lived link from the verbose appointment, and the
//!   capped, credential-free download.
//! - [`provider_check`] over [`pdf_text`]: the name on any page, or a
//!   reason why the PDF needs a person.
//! - [`s3`]: `PutObject` only, with SSE and a SHA-256 checksum.
//! - [`store`]: `pdf_checks` and `archived_pdfs`, where idempotency lives.
//!
//! Nothing here logs or returns note text, names or links: ids and counts only.

pub mod download;
pub mod pdf_text;
pub mod provider_check;
pub mod s3;
pub mod settings;
pub mod store;

pub use provider_check::{MatchForm, Needle, Verdict, check};
pub use s3::S3Slot;
pub use settings::{ArchiveSettings, Sse, StaticCredentials};

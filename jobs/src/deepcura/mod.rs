//! Deep Cura Gridhooks: visit notes from the AI scribe. The endpoint stores
//! them still encrypted; `decrypt_gridhook` opens and parses them here, and
//! `link_note` ties each to its DrChrono clinical note.

mod cipher;
pub mod link;
pub mod manual;
mod note;
pub mod review;
mod store;

pub use cipher::{Cipher, DecryptError, Scheme, check_shape, decode_base64};
pub use note::{GridhookNote, ParseError};
pub use store::{NoteText, StoredNote, open_raw, open_text, store_note};
pub(crate) use store::{raw_aad, raw_fingerprint};

#[cfg(test)]
mod tests;

//! Does the provider's name appear in the text of any page of a note PDF?
//!
//! Text is compared lowercased, in two forms: whitespace collapsed to single
//! spaces ("dr. jane smith"), and whitespace removed ("dr.janesmith"), since
//! PDF text positioning often glues words together or splits one word in
//! two. Which form matched is recorded.
//!
//! A PDF whose text cannot be judged (damaged, encrypted, scanned images,
//! fonts without a Unicode map) is never "not matched": it needs review, with
//! the reason. Reasons name counts and causes, never page text.

use lopdf::Document;

use super::pdf_text::{Fonts, PageText, page_text};

/// A page's decompressed content may not exceed this.
const MAX_PAGE_CONTENT_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchForm {
    /// Matched with whitespace collapsed.
    Spaced,
    /// Matched only with whitespace removed.
    Compact,
}

impl MatchForm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spaced => "spaced",
            Self::Compact => "compact",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Found on `page` (1-based), the first page that has it.
    Matched {
        page: u32,
        pages: u32,
        form: MatchForm,
    },
    NotMatched {
        pages: u32,
    },
    NeedsReview {
        reason: String,
        pages: Option<u32>,
    },
}

impl Verdict {
    /// The stable name stored in `pdf_checks.result`.
    pub fn result(&self) -> &'static str {
        match self {
            Self::Matched { .. } => "matched",
            Self::NotMatched { .. } => "not_matched",
            Self::NeedsReview { .. } => "needs_review",
        }
    }

    fn review(reason: impl Into<String>, pages: Option<u32>) -> Self {
        Self::NeedsReview { reason: reason.into(), pages }
    }
}

/// The provider name, prepared once for many checks.
#[derive(Debug, Clone)]
pub struct Needle {
    spaced: String,
    compact: String,
}

impl Needle {
    /// `None` when the name has nothing to search for.
    pub fn new(provider: &str) -> Option<Self> {
        let (spaced, compact) = forms(provider);
        (!compact.is_empty()).then_some(Self { spaced, compact })
    }
}

/// Checks `pdf` for the provider name. CPU-bound: run it off the async runtime.
pub fn check(pdf: &[u8], needle: &Needle) -> Verdict {
    if !pdf.starts_with(b"%PDF-") {
        return Verdict::review("not a PDF (the file does not start with %PDF-)", None);
    }
    if !ends_with_eof_marker(pdf) {
        return Verdict::review("truncated: the file does not end with the %%EOF marker", None);
    }
    let doc = match Document::load_mem(pdf) {
        Ok(doc) => doc,
        Err(e) => return Verdict::review(unreadable(&e), None),
    };
    if doc.is_encrypted() {
        return Verdict::review("encrypted; it cannot be read without its password", None);
    }
    let page_ids = doc.get_pages();
    let pages = page_ids.len() as u32;
    if pages == 0 {
        return Verdict::review("the PDF has no pages", Some(0));
    }
    let fonts = Fonts::of(&doc, MAX_PAGE_CONTENT_BYTES);
    let mut seen = Seen::default();
    for (&number, &id) in &page_ids {
        let page = match page_text(&fonts, id) {
            Ok(page) => page,
            Err(_) => {
                seen.failed_pages += 1;
                continue;
            }
        };
        let (spaced, compact) = forms(&page.text);
        if spaced.contains(&needle.spaced) {
            return Verdict::Matched { page: number, pages, form: MatchForm::Spaced };
        }
        if compact.contains(&needle.compact) {
            return Verdict::Matched { page: number, pages, form: MatchForm::Compact };
        }
        seen.add(&page, &compact);
    }
    seen.verdict(pages)
}

/// What the pages held, for telling "not there" from "could not be read".
#[derive(Default)]
struct Seen {
    failed_pages: u32,
    unreadable_strings: usize,
    images: usize,
    letters: usize,
    garbage: usize,
}

impl Seen {
    fn add(&mut self, page: &PageText, compact: &str) {
        self.unreadable_strings += page.unreadable_strings;
        self.images += page.images;
        for c in compact.chars() {
            if c.is_alphabetic() {
                self.letters += 1;
            } else if c == char::REPLACEMENT_CHARACTER || c.is_control() {
                self.garbage += 1;
            }
        }
    }

    fn verdict(self, pages: u32) -> Verdict {
        let review = |reason: String| Verdict::review(reason, Some(pages));
        if self.failed_pages > 0 {
            review(format!("{} of {pages} pages could not be read (damaged or unsupported content)", self.failed_pages))
        } else if self.unreadable_strings > 0 {
            review(format!(
                "{} text strings use a font without a Unicode map and could not be read",
                self.unreadable_strings
            ))
        } else if self.letters == 0 && self.images > 0 {
            review(format!("no text, only {} images (a scanned document?)", self.images))
        } else if self.letters == 0 {
            review("no extractable text".into())
        } else if self.garbage > self.letters {
            review("the text is mostly undecodable characters".into())
        } else {
            Verdict::NotMatched { pages }
        }
    }
}

/// Every complete PDF ends with `%%EOF` (maybe followed by a line end);
/// readers look for it in the last kilobyte. lopdf may recover objects from
/// a cut-off file, so a missing marker is checked for before parsing.
fn ends_with_eof_marker(pdf: &[u8]) -> bool {
    let tail = &pdf[pdf.len().saturating_sub(1024)..];
    tail.windows(5).any(|w| w == b"%%EOF")
}

/// Why lopdf could not load a PDF, without quoting any of it.
fn unreadable(e: &lopdf::Error) -> String {
    use lopdf::Error as E;
    match e {
        E::Decryption(_) | E::InvalidPassword | E::AlreadyEncrypted => {
            "encrypted; it cannot be read without its password".into()
        }
        E::Decompress(_) => "damaged: a stream cannot be decompressed".into(),
        E::Unimplemented(_) => "uses a PDF feature the reader does not support".into(),
        _ => "damaged or truncated: the PDF cannot be parsed".into(),
    }
}

/// Both comparison forms of `text`, in one pass: lowercase, with ligatures
/// and typographic punctuation folded to ASCII, and whitespace runs as one
/// space ("dr. jane smith"); and the same without whitespace
/// ("dr.janesmith"). ASCII, nearly all of a note, takes the fast path.
fn forms(text: &str) -> (String, String) {
    let mut spaced = String::with_capacity(text.len());
    let mut compact = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        if c.is_whitespace() {
            gap = !spaced.is_empty();
            continue;
        }
        if gap {
            spaced.push(' ');
            gap = false;
        }
        if c.is_ascii() {
            let lower = c.to_ascii_lowercase();
            spaced.push(lower);
            compact.push(lower);
            continue;
        }
        match folded(c) {
            Some(ascii) => {
                spaced.push_str(ascii);
                compact.push_str(ascii);
            }
            None => {
                for lower in c.to_lowercase() {
                    spaced.push(lower);
                    compact.push(lower);
                }
            }
        }
    }
    (spaced, compact)
}

/// What a non-ASCII character is compared as, when not as itself. A font's
/// encoding decides which apostrophe or dash a name is drawn with (code 39
/// is a right quote in StandardEncoding and a straight one in WinAnsi), while
/// the configured name is typed with whichever the keyboard gave.
fn folded(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{FB00}' => "ff",
        '\u{FB01}' => "fi",
        '\u{FB02}' => "fl",
        '\u{FB03}' => "ffi",
        '\u{FB04}' => "ffl",
        '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{02BC}' | '\u{2032}' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201F}' | '\u{2033}' => "\"",
        '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
        '\u{00AD}' => "",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_case_and_whitespace_blind() {
        let needle = Needle::new("Dr.  Jane \t  Smith").unwrap();
        assert_eq!(needle.spaced, "dr. jane smith");
        assert_eq!(needle.compact, "dr.janesmith");
        let (spaced, compact) = forms("  Signed:\u{a0}DR. JANE\nSMITH, MD ");
        assert_eq!((spaced.as_str(), compact.as_str()), ("signed: dr. jane smith, md", "signed:dr.janesmith,md"));
        assert_eq!(forms("O\u{FB03}ce \u{C9}LODIE").0, "office élodie");
        assert_eq!(forms("O\u{2019}Brien\u{2011}Smith Ni\u{00AD}cole").0, "o'brien-smith nicole");
        assert!(Needle::new(" \n ").is_none());
    }

    #[test]
    fn what_is_not_a_readable_pdf_needs_review() {
        let needle = Needle::new("Dr. Jane Smith").unwrap();
        assert!(matches!(check(b"<html>expired</html>", &needle), Verdict::NeedsReview { .. }));
        assert!(matches!(check(b"%PDF-1.7\n1 0 obj\n<<", &needle), Verdict::NeedsReview { .. }));
    }
}

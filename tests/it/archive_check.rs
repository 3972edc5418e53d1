//! The provider check on PDFs shaped like DrChrono's: compressed, the name
//! split across operators on page 3, drawn through encodings and ToUnicode
//! maps, and the files that cannot be judged.

use jobs::archive::{MatchForm, Needle, Verdict, check};
use sandbox::pdf::{self, NameFont, NotePdf};

const PROVIDER: &str = "Dr. Jane Smith";

fn note(name_font: NameFont, signature_page: Option<u32>) -> NotePdf {
    signed_by(PROVIDER, name_font, signature_page)
}

fn signed_by(provider: &str, name_font: NameFont, signature_page: Option<u32>) -> NotePdf {
    NotePdf {
        title: "Clinical note 4242, last updated 2026-11-02T10:15:00".into(),
        pages: 4,
        signature_page,
        provider: provider.into(),
        name_font,
        lines: (1..=120).map(|i| format!("Plan line {i}: continue current management.")).collect(),
    }
}

fn needle(provider: &str) -> Needle {
    Needle::new(provider).expect("a name to search for")
}

#[test]
fn a_name_split_across_operators_on_page_three_matches_there() {
    let pdf = note(NameFont::Split, Some(3)).render();
    let verdict = check(&pdf, &needle("DR.  jane   SMITH"));
    assert_eq!(verdict, Verdict::Matched { page: 3, pages: 4, form: MatchForm::Compact });
}

#[test]
fn the_content_streams_are_compressed_and_hide_the_name_from_a_byte_search() {
    let pdf = note(NameFont::Split, Some(3)).render();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    for page in doc.get_pages().values() {
        for content in doc.get_page_contents(*page) {
            let stream = doc.get_object(content).unwrap().as_stream().unwrap();
            assert_eq!(stream.dict.get(b"Filter").unwrap().as_name().unwrap(), b"FlateDecode");
        }
    }
    assert!(!pdf.windows(5).any(|w| w == b"Smith" || w == b"Sm) Tj"));
    assert_eq!(pdf, note(NameFont::Split, Some(3)).render(), "rendering is deterministic");
}

#[test]
fn lopdfs_own_extraction_glues_the_words_the_checker_keeps_apart() {
    let pdf = note(NameFont::Split, Some(3)).render();
    let glued = lopdf::Document::load_mem(&pdf).unwrap().extract_text(&[3]).unwrap();
    assert!(!glued.to_lowercase().contains("dr. jane"), "lopdf ignores the -250.0 word gap: {glued:?}");
    let verdict = check(&pdf, &needle(PROVIDER));
    assert!(matches!(verdict, Verdict::Matched { page: 3, .. }), "{verdict:?}");
}

#[test]
fn a_name_in_a_composite_font_is_read_through_its_tounicode_map() {
    let pdf = note(NameFont::ToUnicode, Some(3)).render();
    assert_eq!(check(&pdf, &needle(PROVIDER)), Verdict::Matched { page: 3, pages: 4, form: MatchForm::Spaced });
}

#[test]
fn accented_letters_in_a_winansi_font_match_the_typed_name() {
    let pdf = signed_by("Dr. Jos\u{e9} Pe\u{f1}a-M\u{fc}ller", NameFont::Split, Some(3)).render();
    let verdict = check(&pdf, &needle("DR. JOS\u{c9} PE\u{d1}A-M\u{dc}LLER"));
    assert!(matches!(verdict, Verdict::Matched { page: 3, .. }), "{verdict:?}");
    assert_eq!(check(&pdf, &needle("Dr. Jose Pena-Muller")), Verdict::NotMatched { pages: 4 });
}

#[test]
fn a_standard_encoding_right_quote_matches_a_typed_apostrophe() {
    let pdf = signed_by("Dr. Sean O\u{2019}Brien", NameFont::Standard, Some(3)).render();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let raw = doc.extract_text(&[3]).unwrap();
    assert!(raw.contains('\u{2019}') && !raw.contains("O'"), "code 39 reads as a right quote: {raw:?}");
    let verdict = check(&pdf, &needle("Dr. Sean O'Brien"));
    assert!(matches!(verdict, Verdict::Matched { page: 3, .. }), "{verdict:?}");
}

#[test]
fn a_typographic_apostrophe_in_the_setting_matches_a_straight_one_in_the_pdf() {
    let pdf = signed_by("Dr. Sean O'Brien", NameFont::Split, Some(2)).render();
    let verdict = check(&pdf, &needle("Dr. Sean O\u{2019}Brien"));
    assert!(matches!(verdict, Verdict::Matched { page: 2, .. }), "{verdict:?}");
}

#[test]
fn an_encrypted_pdf_that_opens_without_a_password_is_read() {
    let pdf = pdf::encrypted(&note(NameFont::Split, Some(3)).render(), "");
    assert!(lopdf::Document::load_mem(&pdf).unwrap().was_encrypted());
    let verdict = check(&pdf, &needle(PROVIDER));
    assert!(matches!(verdict, Verdict::Matched { page: 3, .. }), "{verdict:?}");
}

#[test]
fn a_pdf_locked_with_a_user_password_needs_review() {
    let pdf = pdf::encrypted(&note(NameFont::Split, Some(3)).render(), "clinic-secret");
    let reason = reason_of(check(&pdf, &needle(PROVIDER)));
    assert!(reason.contains("encrypted"), "{reason}");
}

#[test]
fn a_name_inside_a_form_xobject_is_found() {
    let pdf = note(NameFont::InForm, Some(3)).render();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    assert!(!doc.extract_text(&[3]).unwrap().contains("Jane"), "lopdf does not follow Do");
    let verdict = check(&pdf, &needle(PROVIDER));
    assert!(matches!(verdict, Verdict::Matched { page: 3, .. }), "{verdict:?}");
}

#[test]
fn a_pdf_without_the_name_is_not_matched() {
    let pdf = note(NameFont::Split, None).render();
    assert_eq!(check(&pdf, &needle(PROVIDER)), Verdict::NotMatched { pages: 4 });
    let other = note(NameFont::Split, Some(3)).render();
    assert_eq!(check(&other, &needle("Dr. John Smithson")), Verdict::NotMatched { pages: 4 });
}

fn reason_of(verdict: Verdict) -> String {
    match verdict {
        Verdict::NeedsReview { reason, .. } => reason,
        other => panic!("expected needs_review, got {other:?}"),
    }
}

#[test]
fn text_in_a_font_without_a_unicode_map_needs_review_rather_than_no_match() {
    let pdf = note(NameFont::NoUnicodeMap, Some(3)).render();
    let reason = reason_of(check(&pdf, &needle(PROVIDER)));
    assert!(reason.contains("without a Unicode map"), "{reason}");
}

#[test]
fn an_image_only_pdf_needs_review() {
    let reason = reason_of(check(&pdf::image_only(3), &needle(PROVIDER)));
    assert!(reason.contains("only 3 images"), "{reason}");
}

#[test]
fn a_truncated_pdf_needs_review() {
    let pdf = pdf::truncated(&note(NameFont::Split, Some(3)).render());
    let reason = reason_of(check(&pdf, &needle(PROVIDER)));
    assert!(reason.contains("truncated"), "{reason}");
}

#[test]
fn a_file_that_is_not_a_pdf_needs_review() {
    let reason = reason_of(check(&pdf::not_a_pdf(), &needle(PROVIDER)));
    assert!(reason.contains("not a PDF"), "{reason}");
}

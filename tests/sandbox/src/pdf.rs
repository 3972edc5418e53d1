//! Note PDFs shaped like the ones DrChrono renders, built with lopdf, so
//! the service's provider check meets what real PDFs do to text:
//!
//! - every content stream is Flate-compressed (explicitly: lopdf's own
//!   `compress` skips small streams);
//! - the signature splits the provider's name across operators: a `TJ`
//!   array with kerning and a real-number word gap, then a last word cut in
//!   two by a `Td` move, as justified text is;
//! - body text uses WinAnsiEncoding, the signature lead StandardEncoding,
//!   and [`NameFont::ToUnicode`] draws the name with a composite font whose
//!   codes mean something only through its ToUnicode map;
//! - [`encrypted`] wraps any of them in a password.
//!
//! Output is deterministic: the same inputs give the same bytes.

use std::io::Write as _;

use flate2::{Compression, write::ZlibEncoder};
use lopdf::{
    Dictionary, Document, EncryptionState, EncryptionVersion, Object, ObjectId, Permissions, Stream, StringFormat,
    content::{Content, Operation},
    dictionary,
};

/// How the provider's name is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameFont {
    /// A simple font with WinAnsiEncoding, split across operators.
    Split,
    /// A composite (Type0, Identity-H) font with a ToUnicode map.
    ToUnicode,
    /// The same composite font without a ToUnicode map: unreadable text.
    NoUnicodeMap,
    /// [`NameFont::Split`], inside a Form XObject the page draws with `Do`.
    InForm,
    /// Split as [`NameFont::Split`], in a simple font with no `/Encoding`,
    /// so StandardEncoding: code 39 is a right single quote there.
    Standard,
}

/// One note's PDF.
#[derive(Clone, Debug)]
pub struct NotePdf {
    pub title: String,
    pub pages: u32,
    /// The 1-based page with the signature; `None` for an unsigned PDF.
    pub signature_page: Option<u32>,
    /// The provider's name, such as "Dr. Jane Smith".
    pub provider: String,
    pub name_font: NameFont,
    /// Body lines, spread over the pages.
    pub lines: Vec<String>,
}

const PAGE_WIDTH: i64 = 612;
const PAGE_HEIGHT: i64 = 792;
const LINES_PER_PAGE: usize = 40;

fn op(operator: &str, operands: Vec<Object>) -> Operation {
    Operation::new(operator, operands)
}

/// `s` as a string for a WinAnsiEncoding font.
fn text(s: &str) -> Object {
    let bytes = s.chars().map(|c| win_ansi(c).unwrap_or_else(|| panic!("WinAnsi has no code for {c:?}"))).collect();
    Object::String(bytes, StringFormat::Literal)
}

fn win_ansi(c: char) -> Option<u8> {
    match c {
        '\u{2018}' => Some(0x91),
        '\u{2019}' => Some(0x92),
        '\u{201C}' => Some(0x93),
        '\u{201D}' => Some(0x94),
        '\u{2013}' => Some(0x96),
        '\u{2014}' => Some(0x97),
        ' '..='~' | '\u{A0}'..='\u{FF}' => Some(c as u32 as u8),
        _ => None,
    }
}

/// `s` as a string for a StandardEncoding font: ASCII letters as they are,
/// and the typographic single quotes at 39 and 96.
fn standard(s: &str) -> Object {
    let bytes = s
        .chars()
        .map(|c| match c {
            '\u{2019}' => b'\'',
            '\u{2018}' => b'`',
            ' '..='~' if c != '\'' && c != '`' => c as u8,
            _ => panic!("this StandardEncoding test font has no code for {c:?}"),
        })
        .collect();
    Object::String(bytes, StringFormat::Literal)
}

/// `word` cut in two at its middle character.
fn halves(word: &str, round_up: bool) -> (&str, &str) {
    let count = word.chars().count();
    let middle = if round_up { count.div_ceil(2) } else { count / 2 };
    word.split_at(word.char_indices().nth(middle).map_or(word.len(), |(i, _)| i))
}

fn compressed(dict: Dictionary, plain: &[u8]) -> Stream {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(plain).expect("writing to memory");
    let mut dict = dict;
    dict.set("Filter", "FlateDecode");
    Stream::new(dict, encoder.finish().expect("compressing in memory")).with_compression(false)
}

impl NotePdf {
    pub fn render(&self) -> Vec<u8> {
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let fonts = self.fonts(&mut doc);
        let mut resources = dictionary! { "Font" => fonts };
        if self.name_font == NameFont::InForm {
            let content = Content { operations: self.signature() }.encode().expect("content encodes");
            let bbox = vec![0.into(), 0.into(), PAGE_WIDTH.into(), 200.into()];
            let form = dictionary! { "Type" => "XObject", "Subtype" => "Form", "BBox" => bbox };
            resources.set("XObject", dictionary! { "Sig" => doc.add_object(compressed(form, &content)) });
        }
        let resources = doc.add_object(resources);
        let mut kids = Vec::new();
        let mut lines = self.lines.chunks(LINES_PER_PAGE);
        for number in 1..=self.pages.max(1) {
            let mut ops = vec![op("BT", vec![]), op("Tf", vec!["F1".into(), 10.into()])];
            ops.push(op("Td", vec![72.into(), 740.into()]));
            ops.push(op("Tj", vec![text(&self.title)]));
            ops.push(op("TL", vec![14.into()]));
            for line in lines.next().unwrap_or_default() {
                ops.push(op("'", vec![text(line)]));
            }
            ops.push(op("ET", vec![]));
            match self.signature_page {
                Some(page) if page == number && self.name_font == NameFont::InForm => {
                    ops.extend([op("q", vec![]), op("Do", vec!["Sig".into()]), op("Q", vec![])]);
                }
                Some(page) if page == number => ops.extend(self.signature()),
                _ => {}
            }
            ops.push(op("BT", vec![]));
            ops.extend([op("Tf", vec!["F1".into(), 8.into()]), op("Td", vec![280.into(), 30.into()])]);
            ops.push(op("Tj", vec![text(&format!("Page {number} of {}", self.pages.max(1)))]));
            ops.push(op("ET", vec![]));
            kids.push(add_page(&mut doc, pages_id, resources, &ops).into());
        }
        finish(doc, pages_id, kids)
    }

    /// "Electronically signed by" in a StandardEncoding font, then the name.
    fn signature(&self) -> Vec<Operation> {
        let mut ops = vec![op("BT", vec![]), op("Tf", vec!["F2".into(), 11.into()])];
        ops.push(op("Td", vec![72.into(), 120.into()]));
        ops.push(op("Tj", vec![text("Electronically signed by")]));
        ops.push(op("Td", vec![130.into(), 0.into()]));
        let words: Vec<&str> = self.provider.split_whitespace().collect();
        match self.name_font {
            NameFont::Split | NameFont::InForm => ops.extend(split_name(&words, "F1", text)),
            NameFont::Standard => ops.extend(split_name(&words, "F2", standard)),
            NameFont::ToUnicode | NameFont::NoUnicodeMap => {
                let font = if self.name_font == NameFont::ToUnicode { "F3" } else { "F4" };
                ops.push(op("Tf", vec![font.into(), 11.into()]));
                let codes: Vec<u8> =
                    self.provider.chars().flat_map(|c| cid_of(&self.provider, c).to_be_bytes()).collect();
                ops.push(op("Tj", vec![Object::String(codes, StringFormat::Hexadecimal)]));
            }
        }
        ops.push(op("ET", vec![]));
        ops
    }

    /// F1 Helvetica/WinAnsi, F2 Times/Standard, and for the name the
    /// composite font F3 (with a ToUnicode map) or F4 (without) when used.
    fn fonts(&self, doc: &mut Document) -> Dictionary {
        let f1 = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
        });
        let f2 = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Times-Roman" });
        let mut fonts = dictionary! { "F1" => f1, "F2" => f2 };
        match self.name_font {
            NameFont::Split | NameFont::InForm | NameFont::Standard => {}
            NameFont::ToUnicode => {
                let map = doc.add_object(compressed(Dictionary::new(), to_unicode_cmap(&self.provider).as_bytes()));
                let font = composite_font(doc, Some(map));
                fonts.set("F3", doc.add_object(font));
            }
            NameFont::NoUnicodeMap => {
                let font = composite_font(doc, None);
                fonts.set("F4", doc.add_object(font));
            }
        }
        fonts
    }
}

/// The name in `font`: every word but the last in one `TJ`, each cut in two
/// by a kerning gap and set apart by a real-number word gap; the last word
/// in two `Tj`s placed with `Td`.
fn split_name(words: &[&str], font: &str, encode: fn(&str) -> Object) -> Vec<Operation> {
    let mut ops = vec![op("Tf", vec![font.into(), 11.into()])];
    let (last, first) = words.split_last().unwrap_or((&"", &[]));
    let mut parts = Vec::new();
    for (i, word) in first.iter().enumerate() {
        if i > 0 {
            parts.push(Object::Real(-250.0));
        }
        let (head, tail) = halves(word, false);
        parts.extend([encode(head), Object::Integer(-12), encode(tail)]);
    }
    ops.push(op("TJ", vec![Object::Array(parts)]));
    let (head, tail) = halves(last, true);
    ops.push(op("Td", vec![Object::Real(6.0 * first.len() as f32 + 40.0), 0.into()]));
    ops.push(op("Tj", vec![encode(head)]));
    ops.push(op("Td", vec![Object::Real(2.5 * head.chars().count() as f32 + 5.0), 0.into()]));
    ops.push(op("Tj", vec![encode(tail)]));
    ops
}

/// The name's distinct characters, in order of first appearance.
fn distinct(name: &str) -> Vec<char> {
    let mut seen: Vec<char> = Vec::new();
    for c in name.chars() {
        if !seen.contains(&c) {
            seen.push(c);
        }
    }
    seen
}

/// Codes of the composite font: 1 for the name's first distinct character, 2 for the next, ...
fn cid_of(name: &str, c: char) -> u16 {
    distinct(name).iter().position(|&d| d == c).map_or(0, |i| i as u16 + 1)
}

fn to_unicode_cmap(name: &str) -> String {
    let chars = distinct(name);
    let entries: String = chars.iter().map(|&c| format!("<{:04X}> <{:04X}>\n", cid_of(name, c), c as u32)).collect();
    format!(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n\
         {} beginbfchar\n{entries}endbfchar\nendcmap\n\
         CMapName currentdict /CMap defineresource pop\nend\nend\n",
        chars.len()
    )
}

fn composite_font(doc: &mut Document, to_unicode: Option<ObjectId>) -> Dictionary {
    let descriptor = doc.add_object(dictionary! {
        "Type" => "FontDescriptor", "FontName" => "NoteSans", "Flags" => 32,
        "FontBBox" => vec![0.into(), (-200).into(), 1000.into(), 900.into()],
        "ItalicAngle" => 0, "Ascent" => 900, "Descent" => -200, "CapHeight" => 700, "StemV" => 80,
    });
    let descendant = dictionary! {
        "Type" => "Font", "Subtype" => "CIDFontType2", "BaseFont" => "NoteSans",
        "CIDSystemInfo" => dictionary! { "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Identity"), "Supplement" => 0 },
        "FontDescriptor" => descriptor,
    };
    let mut font = dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "NoteSans", "Encoding" => "Identity-H",
        "DescendantFonts" => vec![descendant.into()],
    };
    if let Some(id) = to_unicode {
        font.set("ToUnicode", id);
    }
    font
}

fn add_page(doc: &mut Document, parent: ObjectId, resources: ObjectId, ops: &[Operation]) -> ObjectId {
    let content = Content { operations: ops.to_vec() }.encode().expect("content encodes");
    let contents = doc.add_object(compressed(Dictionary::new(), &content));
    doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => parent, "Contents" => contents, "Resources" => resources,
        "MediaBox" => vec![0.into(), 0.into(), PAGE_WIDTH.into(), PAGE_HEIGHT.into()],
    })
}

fn finish(mut doc: Document, pages_id: ObjectId, kids: Vec<Object>) -> Vec<u8> {
    let count = kids.len() as i64;
    doc.objects
        .insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("saving to memory");
    out
}

/// A scanned note: every page one grey image, no text at all.
pub fn image_only(pages: u32) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let pixels: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37)).collect();
    let image = doc.add_object(compressed(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 8, "Height" => 8,
        "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
        &pixels,
    ));
    let resources = doc.add_object(dictionary! { "XObject" => dictionary! { "Im1" => image } });
    let ops = [
        op("q", vec![]),
        op("cm", vec![500.into(), 0.into(), 0.into(), 700.into(), 56.into(), 46.into()]),
        op("Do", vec!["Im1".into()]),
        op("Q", vec![]),
    ];
    let kids = (0..pages.max(1)).map(|_| add_page(&mut doc, pages_id, resources, &ops).into()).collect();
    finish(doc, pages_id, kids)
}

/// `pdf` encrypted (RC4, 128-bit) with `user_password`; an empty one lets
/// any reader open it, as PDFs that only restrict printing or copying do.
pub fn encrypted(pdf: &[u8], user_password: &str) -> Vec<u8> {
    let mut doc = Document::load_mem(pdf).expect("a PDF this module made");
    // The file identifier feeds the key derivation; a fixed one keeps the output deterministic.
    let file_id = Object::String(b"sandbox-note-pdf".to_vec(), StringFormat::Hexadecimal);
    doc.trailer.set("ID", vec![file_id.clone(), file_id]);
    let state = EncryptionState::try_from(EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner-only",
        user_password,
        key_length: 128,
        permissions: Permissions::all(),
    })
    .expect("an RC4 security handler");
    doc.encrypt(&state).expect("encrypting in memory");
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("saving to memory");
    out
}

/// The first part of a PDF, as a download cut short leaves it.
pub fn truncated(pdf: &[u8]) -> Vec<u8> {
    pdf[..pdf.len() / 2].to_vec()
}

/// What a storage host answers instead of a file when something is wrong.
pub fn not_a_pdf() -> Vec<u8> {
    b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>\
<Message>We encountered an internal error. Please try again.</Message></Error>\n"
        .to_vec()
}

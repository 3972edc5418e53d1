//! The text of each page of a PDF, read with lopdf's parser and font
//! encodings but walked here, because lopdf's own `extract_text` ignores
//! text positioning: words placed with `Td` or separated by a real-number
//! `TJ` gap come out glued, and text inside Form XObjects is skipped.
//!
//! Every positioning operator becomes a space here, and any `TJ` gap wider
//! than a fifth of an em does too. That over-splits (kerning placed with
//! `Td` splits a word), which the matcher absorbs by also comparing
//! without whitespace. Nothing here logs: page text is PHI.

use std::collections::{BTreeMap, HashMap};

use lopdf::{Dictionary, Document, Encoding, Object, ObjectId, content::Content};

/// Text of one page and what could not be read on it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageText {
    pub text: String,
    /// Strings shown in a font whose encoding is unknown (a composite font
    /// without a ToUnicode map, a missing font): their text is not in `text`.
    pub unreadable_strings: usize,
    /// Images drawn on the page (XObjects and inline images).
    pub images: usize,
}

/// A `TJ` adjustment beyond this (thousandths of an em, negative moves
/// right) separates words; kerning inside a word is far smaller.
const WORD_GAP: f32 = -200.0;

/// Form XObjects nest; deeper ones are not followed.
const MAX_FORM_DEPTH: usize = 4;

/// The encodings of every font object in a document, resolved once: a
/// ToUnicode map or a `Differences` array is parsed once, not once per page.
pub struct Fonts<'a> {
    doc: &'a Document,
    max_content_bytes: usize,
    by_id: HashMap<ObjectId, Option<Encoding<'a>>>,
}

impl<'a> Fonts<'a> {
    /// A content stream or font map that inflates past `max_content_bytes`
    /// fails instead of exhausting memory.
    pub fn of(doc: &'a Document, max_content_bytes: usize) -> Self {
        let by_id = doc
            .objects
            .iter()
            .filter_map(|(id, object)| object.as_dict().ok().filter(|d| d.has_type(b"Font")).map(|d| (*id, d)))
            .map(|(id, font)| (id, readable_encoding(doc, font, max_content_bytes)))
            .collect();
        Self { doc, max_content_bytes, by_id }
    }
}

/// Reads page `page_id`.
pub fn page_text(fonts: &Fonts<'_>, page_id: ObjectId) -> lopdf::Result<PageText> {
    let doc = fonts.doc;
    let content = doc.get_page_content_with_limit(page_id, fonts.max_content_bytes)?;
    let (own, inherited) = doc.get_page_resources(page_id)?;
    let dicts = own.into_iter().chain(inherited.iter().filter_map(|id| doc.get_dictionary(*id).ok()));
    let mut resources = Resources::default();
    for dict in dicts {
        resources.add(doc, dict);
    }
    let mut walker = Walker { fonts, out: PageText::default() };
    walker.walk(&content, &resources, 0)?;
    Ok(walker.out)
}

/// Fonts and XObjects by resource name; the first definition of a name wins.
#[derive(Default, Clone)]
struct Resources<'a> {
    fonts: BTreeMap<Vec<u8>, &'a Object>,
    xobjects: BTreeMap<Vec<u8>, ObjectId>,
}

impl<'a> Resources<'a> {
    fn add(&mut self, doc: &'a Document, resources: &'a Dictionary) {
        if let Ok(fonts) = resources.get_deref(b"Font", doc).and_then(Object::as_dict) {
            for (name, font) in fonts.iter() {
                self.fonts.entry(name.clone()).or_insert(font);
            }
        }
        if let Ok(xobjects) = resources.get_deref(b"XObject", doc).and_then(Object::as_dict) {
            for (name, value) in xobjects.iter() {
                if let Ok(id) = value.as_reference() {
                    self.xobjects.entry(name.clone()).or_insert(id);
                }
            }
        }
    }
}

/// A composite (Type0) font maps two-byte codes to glyphs; without a
/// ToUnicode map those codes say nothing about the characters, and lopdf
/// would silently read them as single bytes of StandardEncoding.
fn readable_encoding<'a>(doc: &'a Document, font: &'a Dictionary, limit: usize) -> Option<Encoding<'a>> {
    let composite = font.get(b"Subtype").and_then(Object::as_name).is_ok_and(|s| s == b"Type0");
    if composite && font.get_deref(b"ToUnicode", doc).and_then(Object::as_stream).is_err() {
        return None;
    }
    font.get_font_encoding_with_limit(doc, limit).ok()
}

struct Walker<'f, 'a> {
    fonts: &'f Fonts<'a>,
    out: PageText,
}

impl<'f, 'a> Walker<'f, 'a> {
    fn walk(&mut self, content: &[u8], resources: &Resources<'a>, depth: usize) -> lopdf::Result<()> {
        let (fonts, doc, limit) = (self.fonts, self.fonts.doc, self.fonts.max_content_bytes);
        // Fonts defined inline, or missing from the table, are resolved here.
        let local: BTreeMap<&[u8], Option<Encoding<'a>>> = resources
            .fonts
            .iter()
            .filter(|(_, font)| !font.as_reference().is_ok_and(|id| fonts.by_id.contains_key(&id)))
            .map(|(name, font)| {
                let dict = match font {
                    Object::Reference(id) => doc.get_dictionary(*id).ok(),
                    other => other.as_dict().ok(),
                };
                (name.as_slice(), dict.and_then(|d| readable_encoding(doc, d, limit)))
            })
            .collect();
        let encoding_of = |name: &[u8]| -> Option<&Encoding<'a>> {
            match resources.fonts.get(name)?.as_reference().ok().and_then(|id| fonts.by_id.get(&id)) {
                Some(shared) => shared.as_ref(),
                None => local.get(name)?.as_ref(),
            }
        };
        let mut current: Option<&Encoding<'a>> = None;
        for op in Content::decode(content)?.operations {
            match op.operator.as_str() {
                "Tf" => {
                    current = op.operands.first().and_then(|o| o.as_name().ok()).and_then(encoding_of);
                }
                "Tj" => self.show(current, &op.operands),
                "'" | "\"" => {
                    self.out.text.push('\n');
                    self.show(current, op.operands.last().map(std::slice::from_ref).unwrap_or_default());
                }
                "TJ" => {
                    if let Some(Object::Array(parts)) = op.operands.first() {
                        self.show(current, parts);
                    }
                }
                "Td" | "TD" | "Tm" | "T*" => self.out.text.push(' '),
                "ET" => self.out.text.push('\n'),
                "BI" => self.out.images += 1,
                "Do" => {
                    let name = op.operands.first().and_then(|o| o.as_name().ok());
                    if let Some(id) = name.and_then(|n| resources.xobjects.get(n)) {
                        self.draw(*id, resources, depth)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Strings and `TJ` gaps, decoded with the current font's encoding.
    fn show(&mut self, encoding: Option<&Encoding<'a>>, operands: &[Object]) {
        for operand in operands {
            match operand {
                Object::String(bytes, _) => match encoding {
                    Some(e) if e.write_to_string(bytes, &mut self.out.text).is_ok() => {}
                    _ => self.out.unreadable_strings += 1,
                },
                Object::Integer(n) if (*n as f32) < WORD_GAP => self.out.text.push(' '),
                Object::Real(n) if *n < WORD_GAP => self.out.text.push(' '),
                _ => {}
            }
        }
    }

    /// `Do`: an image is counted; a form's own content is read with its own
    /// resources, falling back to those of the page.
    fn draw(&mut self, id: ObjectId, page: &Resources<'a>, depth: usize) -> lopdf::Result<()> {
        let doc = self.fonts.doc;
        let stream = doc.get_object(id)?.as_stream()?;
        match stream.dict.get(b"Subtype").and_then(Object::as_name) {
            Ok(b"Image") => self.out.images += 1,
            Ok(b"Form") if depth < MAX_FORM_DEPTH => {
                let content = stream.get_plain_content_with_limit(self.fonts.max_content_bytes)?;
                let mut resources = Resources::default();
                if let Ok(own) = stream.dict.get_deref(b"Resources", doc).and_then(Object::as_dict) {
                    resources.add(doc, own);
                }
                for (name, font) in &page.fonts {
                    resources.fonts.entry(name.clone()).or_insert(font);
                }
                self.out.text.push(' ');
                self.walk(&content, &resources, depth + 1)?;
            }
            _ => {}
        }
        Ok(())
    }
}

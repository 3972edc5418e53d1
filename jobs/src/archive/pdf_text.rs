//! The text of each page of a PDF, read with lopdf's parser and font
//! encodings but walked here, because lopdf's own `extract_text` ignores
//! text positioning: words placed with `Td` or separated by a real-number
//! `TJ` gap come out glued, and text inside Form XObjects is skipped.
//!
//! Every positioning operator becomes a space here, and any `TJ` gap wider
//! than a fifth of an em does too. That over-splits (kerning placed with
//! `Td` splits a word), which the matcher absorbs by also comparing
//! without whitespace. Nothing here logs: page text is PHI.

use std::collections::BTreeMap;

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

/// Reads page `page_id` of `doc`; a content stream that inflates past
/// `max_content_bytes` fails instead of exhausting memory.
pub fn page_text(doc: &Document, page_id: ObjectId, max_content_bytes: usize) -> lopdf::Result<PageText> {
    let content = doc.get_page_content_with_limit(page_id, max_content_bytes)?;
    let (resources, inherited) = doc.get_page_resources(page_id)?;
    let fonts = doc.get_page_fonts(page_id)?;
    let mut xobjects = BTreeMap::new();
    for dict in resources.into_iter().chain(inherited.iter().filter_map(|id| doc.get_dictionary(*id).ok())) {
        collect_xobjects(doc, dict, &mut xobjects);
    }
    let mut walker = Walker { doc, max_content_bytes, out: PageText::default() };
    walker.walk(&content, &fonts, &xobjects, 0)?;
    Ok(walker.out)
}

fn collect_xobjects<'a>(doc: &'a Document, resources: &'a Dictionary, into: &mut BTreeMap<Vec<u8>, ObjectId>) {
    let Ok(xobjects) = resources.get_deref(b"XObject", doc).and_then(Object::as_dict) else { return };
    for (name, value) in xobjects.iter() {
        if let Ok(id) = value.as_reference() {
            into.entry(name.clone()).or_insert(id);
        }
    }
}

fn fonts_of<'a>(doc: &'a Document, resources: &'a Dictionary) -> BTreeMap<Vec<u8>, &'a Dictionary> {
    let Ok(fonts) = resources.get_deref(b"Font", doc).and_then(Object::as_dict) else { return BTreeMap::new() };
    fonts
        .iter()
        .filter_map(|(name, value)| {
            let dict = match value {
                Object::Reference(id) => doc.get_dictionary(*id).ok()?,
                Object::Dictionary(d) => d,
                _ => return None,
            };
            Some((name.clone(), dict))
        })
        .collect()
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

struct Walker<'a> {
    doc: &'a Document,
    max_content_bytes: usize,
    out: PageText,
}

impl<'a> Walker<'a> {
    fn walk(
        &mut self,
        content: &[u8],
        fonts: &BTreeMap<Vec<u8>, &'a Dictionary>,
        xobjects: &BTreeMap<Vec<u8>, ObjectId>,
        depth: usize,
    ) -> lopdf::Result<()> {
        let encodings: BTreeMap<&[u8], Option<Encoding<'a>>> = fonts
            .iter()
            .map(|(name, font)| (name.as_slice(), readable_encoding(self.doc, font, self.max_content_bytes)))
            .collect();
        let mut current: Option<&Encoding<'a>> = None;
        for op in Content::decode(content)?.operations {
            match op.operator.as_str() {
                "Tf" => {
                    let name = op.operands.first().and_then(|o| o.as_name().ok());
                    current = name.and_then(|n| encodings.get(n)).and_then(Option::as_ref);
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
                "BI" | "ID" => self.out.images += usize::from(op.operator == "BI"),
                "Do" => {
                    let name = op.operands.first().and_then(|o| o.as_name().ok());
                    if let Some(id) = name.and_then(|n| xobjects.get(n)) {
                        self.draw(*id, fonts, depth)?;
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
    /// resources (falling back to the page's fonts).
    fn draw(&mut self, id: ObjectId, page_fonts: &BTreeMap<Vec<u8>, &'a Dictionary>, depth: usize) -> lopdf::Result<()> {
        let stream = self.doc.get_object(id)?.as_stream()?;
        match stream.dict.get(b"Subtype").and_then(Object::as_name) {
            Ok(b"Image") => self.out.images += 1,
            Ok(b"Form") if depth < MAX_FORM_DEPTH => {
                let content = stream.get_plain_content_with_limit(self.max_content_bytes)?;
                let resources = stream.dict.get_deref(b"Resources", self.doc).and_then(Object::as_dict).ok();
                let mut fonts = resources.map(|r| fonts_of(self.doc, r)).unwrap_or_default();
                for (name, font) in page_fonts {
                    fonts.entry(name.clone()).or_insert(font);
                }
                let mut xobjects = BTreeMap::new();
                if let Some(r) = resources {
                    collect_xobjects(self.doc, r, &mut xobjects);
                }
                self.out.text.push(' ');
                self.walk(&content, &fonts, &xobjects, depth + 1)?;
            }
            _ => {}
        }
        Ok(())
    }
}

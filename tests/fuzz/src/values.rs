//! Hostile values as raw JSON tokens (bytes, since some are not UTF-8):
//! the numbers, dates and strings that break parsers, casts and columns.

use crate::rng::Rng;

/// Numbers no field expects: past i64 and f64, negative, fractional, exponent forms.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "-0",
    "1.5",
    "-2.75",
    "1e3",
    "1E+2",
    "1e-7",
    "1e308",
    "1e309",
    "-1e999",
    "1e-999",
    "2147483648",
    "-2147483649",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "123456789012345678901234567890123456789012345678901234567890",
    "0.30000000000000004",
    "4.9e-324",
    "100000000000000000000000000000000000000000000000000.0",
];

/// Dates and times that are out of range, impossible, ambiguous or not dates.
const DATES: &[&str] = &[
    "2025-13-45",
    "2025-02-30",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31T23:59:59",
    "10000-01-01",
    "294277-01-01T00:00:00Z",
    "-0001-01-01",
    "2025-01-01T25:61:61Z",
    "2025-01-01T00:00:00+99:00",
    "2025-03-09T02:30:00",
    "2025-11-02T01:30:00",
    "2025-06-31",
    "1969-12-31T23:59:59.999999999Z",
    "2025-01-01T00:00:00.1234567890123Z",
    "20250101",
    "2025-1-1",
    "01/02/2025",
    "2025-01-01 00:00:00 BC",
    "infinity",
    "-infinity",
    "epoch",
    "now",
    "today",
    "allballs",
    "",
    " ",
    "T",
    "2025-01-01T",
    "2025-W01-1",
    "1736500000",
];

/// String tokens with escapes and bytes that parsers and Postgres treat specially.
const ESCAPES: &[&[u8]] = &[
    br#""\ud800""#,
    br#""\udfff""#,
    br#""a\ud800b""#,
    br#""\udc00\ud800""#,
    br#""\ud800\u0041""#,
    br#""\u0000""#,
    br#""x\u0000y""#,
    br#""\u0001\u0002\u001f""#,
    br#""\u007f""#,
    br#""\u2028\u2029""#,
    br#""\ufeff""#,
    br#""\uffff\ufffe""#,
    br#""\udbff\udfff""#,
    br#""\\""#,
    br#""\"""#,
    br#""\/""#,
    br#""\x41""#,
    br#""\u12""#,
    br#""\q""#,
];

/// String tokens that are not UTF-8: stray continuation, overlong, encoded surrogates, past U+10FFFF.
const INVALID_UTF8: &[&[u8]] = &[
    b"\"\xff\"",
    b"\"\xfe\xff\"",
    b"\"\xc3\x28\"",
    b"\"\xc0\xaf\"",
    b"\"\xe0\x80\xaf\"",
    b"\"\xed\xa0\x80\"",
    b"\"\xf4\x90\x80\x80\"",
    b"\"\x80\"",
    b"\"abc\xe2\x82\"",
];

/// Valid but awkward text: bidi controls, zero-width, combining marks, astral characters.
const AWKWARD: &[&str] = &[
    "\u{202e}evil\u{202c}",
    "\u{200b}\u{200d}",
    "e\u{301}\u{301}\u{301}\u{301}",
    "\u{1F600}\u{1F4A9}",
    "\u{10FFFF}",
    "\u{fffd}",
    "'; DROP TABLE patients; --",
    "%s%s%n",
    "${jndi:ldap://x}",
    "../../etc/passwd",
    "<script>",
    "null",
    "true",
    "NaN",
    "  padded  ",
    "\t\r\n",
];

/// A hostile number token.
pub fn number(rng: &mut Rng) -> Vec<u8> {
    rng.pick(NUMBERS).as_bytes().to_vec()
}

/// A hostile date token (a JSON string).
pub fn date(rng: &mut Rng) -> Vec<u8> {
    quoted(rng.pick::<&str>(DATES))
}

/// A string token with escapes, control characters or lone surrogates.
pub fn escape(rng: &mut Rng) -> Vec<u8> {
    rng.pick(ESCAPES).to_vec()
}

/// A string token that is not valid UTF-8.
pub fn invalid_utf8(rng: &mut Rng) -> Vec<u8> {
    rng.pick(INVALID_UTF8).to_vec()
}

/// A valid but awkward string token.
pub fn awkward(rng: &mut Rng) -> Vec<u8> {
    quoted(rng.pick::<&str>(AWKWARD))
}

/// Control characters (NUL included, now and then) in a string token.
pub fn control_chars(rng: &mut Rng) -> Vec<u8> {
    let text: String = (0..1 + rng.below(8))
        .map(|_| {
            let c = if rng.chance(20) { 0 } else { 1 + rng.below(31) as u32 };
            char::from_u32(c).unwrap_or('\u{1}')
        })
        .chain("visit".chars())
        .collect();
    quoted(&text)
}

/// A string token of about `len` characters of one repeated character.
pub fn long_string(rng: &mut Rng, len: usize) -> Vec<u8> {
    let unit = *rng.pick(&["a", "\u{e9}", "\u{1F600}", " ", "\\", "\""]);
    quoted(&unit.repeat(len))
}

/// Ids that do not exist, or are not ids.
pub fn id(rng: &mut Rng) -> Vec<u8> {
    const IDS: &[&str] = &[
        "0",
        "-1",
        "999999999",
        "9223372036854775807",
        "-9223372036854775808",
        "\"999999999\"",
        "\"abc\"",
        "\"1e3\"",
        "\" 42 \"",
        "\"42abc\"",
        "\"\u{661}\u{662}\u{663}\"",
        "\"0x10\"",
        "\"\"",
        "42.0",
        "1e2",
        "true",
        "[1001]",
        "{\"id\": 1001}",
    ];
    rng.pick(IDS).as_bytes().to_vec()
}

/// Another type than the field's: each JSON type in turn.
pub fn wrong_type(rng: &mut Rng) -> Vec<u8> {
    const ANY: &[&str] = &["null", "true", "false", "0", "\"\"", "\"text\"", "[]", "{}", "[1, \"a\"]", "{\"a\": 1}"];
    rng.pick(ANY).as_bytes().to_vec()
}

/// `depth` nested arrays or objects around a number.
pub fn nested(rng: &mut Rng, depth: usize) -> Vec<u8> {
    let (open, close) = if rng.chance(50) { ("[", "]") } else { ("{\"a\":", "}") };
    [open.repeat(depth), "1".into(), close.repeat(depth)].concat().into_bytes()
}

fn quoted(text: &str) -> Vec<u8> {
    serde_json::to_vec(text).unwrap_or_default()
}

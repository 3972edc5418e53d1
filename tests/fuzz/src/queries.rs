//! Operator queries and path parameters with hostile values: broken
//! percent-encoding, `%00`, bytes that are not UTF-8, out-of-range numbers
//! and times, repeated and unknown keys.

use reqwest::Method;

use crate::{
    case::{Case, Endpoint},
    rng::Rng,
    samples::Target,
};

/// Text values, percent-encoded when sent.
const TEXT: &[&str] = &[
    "",
    "0",
    "-1",
    "1.5",
    "1e3",
    "501",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "2025-01-10T12:30:00Z",
    "2025-13-45T99:99:99Z",
    "+275760-09-13T00:00:00Z",
    "-001000-01-01T00:00:00Z",
    "2025-01-10T12:30:00+24:00",
    "9999-12-31T23:59:59.999999999+14:00",
    "infinity",
    "appointment.scheduled",
    "appointment.nope",
    "unlinked",
    "ambiguous",
    "UNLINKED",
    "'; SELECT pg_sleep(1); --",
    "\u{202e}\u{1F600}",
    "a b+c",
    "../../etc/passwd",
    "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "00000000-0000-0000-0000-000000000000",
];

/// Already-encoded values no text above produces: NUL, not UTF-8, broken escapes.
const ENCODED: &[&str] = &["%00", "a%00b", "%FF%FE", "%C0%AF", "%ED%A0%80", "%ZZ", "%", "%2", "%E2%82", "%0A%0D"];

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One hostile value, encoded for a query or a path segment.
pub fn value(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=5 => encode(rng.pick::<&str>(TEXT)),
        6 | 7 => rng.pick(ENCODED).to_string(),
        8 => encode(&"9".repeat(1 + rng.below(4_000))),
        _ => encode(&rng.pick(TEXT).repeat(50)),
    }
}

/// A query of known keys (some repeated) and unknown ones, with hostile values.
fn query(rng: &mut Rng, keys: &[&str]) -> String {
    let pairs: Vec<String> = (0..1 + rng.below(5))
        .map(|_| {
            let key = if rng.chance(85) { rng.pick(keys).to_string() } else { value(rng) };
            match rng.below(10) {
                0 => key,
                1 => format!("{key}[]={}", value(rng)),
                _ => format!("{key}={}", value(rng)),
            }
        })
        .collect();
    pairs.join(if rng.chance(90) { "&" } else { ";" })
}

pub fn verify(rng: &mut Rng) -> Case {
    let mut case =
        Case::new(Endpoint::DrChronoVerify, Method::GET, format!("/webhooks/drchrono?{}", query(rng, &["msg"])));
    case.mutations.push("query");
    case
}

pub fn events(rng: &mut Rng, target: &Target) -> Case {
    const KEYS: &[&str] = &["appointment_id", "patient_id", "event_type", "from", "to", "before", "limit"];
    let mut case = Case::new(Endpoint::Events, Method::GET, format!("/events?{}", query(rng, KEYS)));
    case.mutations.push("query");
    case.bearer(&target.admin_token)
}

pub fn unlinked(rng: &mut Rng, target: &Target) -> Case {
    let path = format!("/admin/deepcura/unlinked?{}", query(rng, &["status", "limit"]));
    let mut case = Case::new(Endpoint::Unlinked, Method::GET, path);
    case.mutations.push("query");
    case.bearer(&target.admin_token)
}

pub fn job_status(rng: &mut Rng, target: &Target) -> Case {
    let mut case = Case::new(Endpoint::JobStatus, Method::GET, format!("/api/jobs/{}", value(rng)));
    case.mutations.push("path_id");
    let token = if rng.chance(70) { &target.admin_token } else { &target.partner_token };
    case.bearer(token)
}

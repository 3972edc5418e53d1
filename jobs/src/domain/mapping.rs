//! The normalized fields computed in Rust before a batch is upserted: phones
//! in E.164, by libphonenumber's rules rather than hand-written ones. The
//! other mappings (gender, address lines, codes and labels, appointment
//! times) are SQL functions used by the upsert itself. A number that cannot
//! be parsed is left out and counted; it is never guessed.

use std::{fmt, str::FromStr};

use phonenumber::{Mode, country};
use serde_json::{Value, json};

use super::RecordKind;

/// Where an upsert reads the practice's local conventions from.
#[derive(Debug, Clone, Copy)]
pub struct Locale<'a> {
    /// IANA zone of DrChrono's naive timestamps.
    pub time_zone: &'a str,
    /// The country of numbers written without a `+` country code.
    pub phone_country: PhoneCountry,
}

/// An ISO 3166-1 alpha-2 country that libphonenumber knows, such as `US`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PhoneCountry(country::Id);

impl PhoneCountry {
    pub const US: PhoneCountry = PhoneCountry(country::Id::US);
}

impl Default for PhoneCountry {
    fn default() -> Self {
        Self::US
    }
}

impl FromStr for PhoneCountry {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        country::Id::from_str(&s.trim().to_ascii_uppercase())
            .map(PhoneCountry)
            .map_err(|_| format!("`{s}` is not an ISO 3166-1 alpha-2 country code; set a code such as US, CA or GB"))
    }
}

impl fmt::Debug for PhoneCountry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_ref())
    }
}

impl fmt::Display for PhoneCountry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_ref())
    }
}

/// One phone field's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phone {
    /// Nothing given (absent, null or blank).
    Absent,
    E164(String),
    /// Given, but not a valid number: stored as NULL and counted.
    Unparsed,
}

/// A DrChrono phone field in E.164, with `default` for national numbers.
/// Valid means libphonenumber's `is_valid`, not merely parseable, so a
/// number of the wrong length is counted rather than stored.
pub fn e164(value: Option<&Value>, default: PhoneCountry) -> Phone {
    let text = match value {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim(),
        Some(Value::Number(n)) => return e164(Some(&Value::String(n.to_string())), default),
        Some(Value::String(_)) | Some(Value::Null) | None => return Phone::Absent,
        Some(_) => return Phone::Unparsed,
    };
    match phonenumber::parse(Some(default.0), text) {
        Ok(number) if phonenumber::is_valid(&number) => Phone::E164(number.format().mode(Mode::E164).to_string()),
        _ => Phone::Unparsed,
    }
}

/// Loads libphonenumber's metadata now. The first parse builds it (0.2 s in a dev
/// build, more on a loaded machine), which would otherwise stall the first patient upsert
/// and, on a single-threaded runtime, the worker's heartbeat with it.
pub fn warm_up() {
    let _ = e164(Some(&Value::from("+12175550123")), PhoneCountry::US);
}

/// What the upsert reads as `m` beside each object, in the same order.
/// `None` for kinds without Rust-side mappings.
pub fn mapped(kind: RecordKind, objects: &[Value], locale: &Locale<'_>) -> Option<Vec<Value>> {
    (kind == RecordKind::Patient).then(|| objects.iter().map(|o| patient(o, locale.phone_country)).collect())
}

/// How many phone fields in these mapped values could not be parsed.
pub fn unparsed_phones(mapped: &[Value]) -> u64 {
    mapped.iter().filter_map(|m| m.get("phones_unparsed").and_then(Value::as_u64)).sum()
}

fn patient(object: &Value, country: PhoneCountry) -> Value {
    let home = e164(object.get("home_phone"), country);
    let mobile = e164(object.get("cell_phone"), country);
    let unparsed = [&home, &mobile].iter().filter(|p| matches!(p, Phone::Unparsed)).count();
    let column = |p: Phone| match p {
        Phone::E164(s) => Value::String(s),
        Phone::Absent | Phone::Unparsed => Value::Null,
    };
    json!({
        "phone_home_e164": column(home),
        "phone_mobile_e164": column(mobile),
        "phones_unparsed": unparsed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, default country, expected). Numbers are fictional (555-01xx)
    /// or documentation ranges.
    const CASES: &[(&str, &str, Option<&str>)] = &[
        ("(217) 555-0123", "US", Some("+12175550123")),
        ("217.555.0123", "US", Some("+12175550123")),
        ("1-217-555-0123", "US", Some("+12175550123")),
        ("+1 217 555 0123", "GB", Some("+12175550123")),
        ("217-555-0123 ext. 12", "US", Some("+12175550123")),
        ("020 7946 0018", "GB", Some("+442079460018")),
        ("+44 20 7946 0018", "US", Some("+442079460018")),
        ("(416) 555-0199", "CA", Some("+14165550199")),
        ("555-0123", "US", None),
        ("123", "US", None),
        ("not a phone", "US", None),
        ("(117) 555-0123", "US", None),
        ("020 7946 0018", "US", None),
        ("+999 1234 5678", "US", None),
    ];

    #[test]
    fn phones_map_to_e164_or_are_counted_as_unparsed() {
        for (input, country, expected) in CASES {
            let country: PhoneCountry = country.parse().unwrap();
            let got = e164(Some(&Value::from(*input)), country);
            let want = match expected {
                Some(e) => Phone::E164((*e).to_string()),
                None => Phone::Unparsed,
            };
            assert_eq!(got, want, "{input} with default {country}");
        }
    }

    #[test]
    fn absent_phones_are_neither_mapped_nor_counted() {
        for value in [None, Some(Value::Null), Some(Value::from("")), Some(Value::from("  "))] {
            assert_eq!(e164(value.as_ref(), PhoneCountry::US), Phone::Absent);
        }
    }

    #[test]
    fn a_patient_counts_each_unparsed_field() {
        let locale = Locale { time_zone: "America/New_York", phone_country: PhoneCountry::US };
        let objects = [
            json!({"id": 1, "home_phone": "12", "cell_phone": "(217) 555-0123"}),
            json!({"id": 2, "home_phone": "x", "cell_phone": "y"}),
            json!({"id": 3, "home_phone": "", "cell_phone": null}),
        ];
        let patients = mapped(RecordKind::Patient, &objects, &locale).unwrap();
        assert_eq!(patients[0]["phone_mobile_e164"], "+12175550123");
        assert_eq!(patients[0]["phone_home_e164"], Value::Null);
        assert_eq!(unparsed_phones(&patients), 3);
        assert!(mapped(RecordKind::Appointment, &objects, &locale).is_none());
    }

    #[test]
    fn the_default_country_must_be_a_known_code() {
        assert_eq!("us".parse::<PhoneCountry>().unwrap(), PhoneCountry::US);
        assert!("USA".parse::<PhoneCountry>().unwrap_err().contains("such as US"));
    }
}

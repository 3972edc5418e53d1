//! What a caller may search patients by, parsed from text the same way for
//! the HTTP endpoint and the CLI. Error messages name the parameter and the
//! expected form, never the value sent: a name, a birth date or a phone is
//! PHI, and an error text ends up in logs and terminals.

use chrono::NaiveDate;
use serde_json::Value;

use crate::domain::mapping::{Phone, PhoneCountry, e164};

/// Hits per page unless the caller asks otherwise.
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
/// Deeper pages cost a scan of every earlier hit; past this, a caller
/// should narrow the search instead.
pub const MAX_OFFSET: u32 = 10_000;
/// Longer than any real name; bounds the trigram work of one query.
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CriteriaError {
    #[error("give at least one of q (a name), date_of_birth or phone")]
    NoCriterion,
    #[error("q must be at most {MAX_NAME_CHARS} characters, without control characters")]
    BadName,
    #[error("date_of_birth must be a date as YYYY-MM-DD")]
    BadDate,
    #[error("phone is not a valid phone number (national numbers are read as {0})")]
    BadPhone(PhoneCountry),
    #[error("limit must be a whole number from 1 to {MAX_LIMIT}")]
    BadLimit,
    #[error("offset must be a whole number from 0 to {MAX_OFFSET}; narrow the search instead of paging further")]
    BadOffset,
}

/// A parsed search. `Debug` shows which criteria are present, not their
/// values.
#[derive(Clone, PartialEq, Eq)]
pub struct Criteria {
    /// Trimmed, inner runs of whitespace made one space; Postgres does the
    /// rest of the normalization (accents, case), as for the stored names.
    pub name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    /// E.164, as the patients' phone columns hold them.
    pub phone: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

impl std::fmt::Debug for Criteria {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Criteria")
            .field("name", &self.name.is_some())
            .field("date_of_birth", &self.date_of_birth.is_some())
            .field("phone", &self.phone.is_some())
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .finish()
    }
}

/// The criteria as sent: each one absent or text. Blank counts as absent.
#[derive(Debug, Default, Clone, Copy)]
pub struct RawCriteria<'a> {
    pub name: Option<&'a str>,
    pub date_of_birth: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub limit: Option<&'a str>,
    pub offset: Option<&'a str>,
}

impl Criteria {
    /// `country` reads a phone written without `+`, as the patient upsert
    /// does (`PHONE_DEFAULT_COUNTRY`), so a number finds the E.164 value it
    /// was stored as.
    pub fn parse(raw: RawCriteria<'_>, country: PhoneCountry) -> Result<Self, CriteriaError> {
        let given = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        let name = given(raw.name).map(|n| parse_name(&n)).transpose()?;
        let date_of_birth = given(raw.date_of_birth).map(|d| parse_date(&d)).transpose()?;
        let phone = given(raw.phone).map(|p| parse_phone(&p, country)).transpose()?;
        if name.is_none() && date_of_birth.is_none() && phone.is_none() {
            return Err(CriteriaError::NoCriterion);
        }
        let limit = match given(raw.limit) {
            None => DEFAULT_LIMIT,
            Some(l) => l.parse().ok().filter(|l| (1..=MAX_LIMIT).contains(l)).ok_or(CriteriaError::BadLimit)?,
        };
        let offset = match given(raw.offset) {
            None => 0,
            Some(o) => o.parse().ok().filter(|o| *o <= MAX_OFFSET).ok_or(CriteriaError::BadOffset)?,
        };
        Ok(Self { name, date_of_birth, phone, limit, offset })
    }
}

fn parse_name(name: &str) -> Result<String, CriteriaError> {
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(CriteriaError::BadName);
    }
    Ok(name.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Exactly `YYYY-MM-DD`: chrono alone would also take `1980-1-5`.
fn parse_date(date: &str) -> Result<NaiveDate, CriteriaError> {
    let shaped = date.len() == 10 && date.bytes().enumerate().all(|(i, b)| matches!(i, 4 | 7) == (b == b'-'));
    let digits = date.bytes().enumerate().all(|(i, b)| matches!(i, 4 | 7) || b.is_ascii_digit());
    if !(shaped && digits) {
        return Err(CriteriaError::BadDate);
    }
    NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| CriteriaError::BadDate)
}

fn parse_phone(phone: &str, country: PhoneCountry) -> Result<String, CriteriaError> {
    match e164(Some(&Value::from(phone)), country) {
        Phone::E164(number) => Ok(number),
        Phone::Absent | Phone::Unparsed => Err(CriteriaError::BadPhone(country)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: RawCriteria<'_>) -> Result<Criteria, CriteriaError> {
        Criteria::parse(raw, PhoneCountry::US)
    }

    #[test]
    fn one_criterion_is_required_and_blank_is_absent() {
        assert_eq!(parse(RawCriteria::default()), Err(CriteriaError::NoCriterion));
        let blank = RawCriteria { name: Some("  "), phone: Some(""), limit: Some("5"), ..Default::default() };
        assert_eq!(parse(blank), Err(CriteriaError::NoCriterion));
    }

    #[test]
    fn names_are_trimmed_and_spaces_collapsed() {
        let c = parse(RawCriteria { name: Some("  José \t García "), ..Default::default() }).unwrap();
        assert_eq!(c.name.as_deref(), Some("José García"));
        assert_eq!((c.limit, c.offset), (DEFAULT_LIMIT, 0));
        assert_eq!(parse(RawCriteria { name: Some("a\0b"), ..Default::default() }), Err(CriteriaError::BadName));
        let long = "x".repeat(MAX_NAME_CHARS + 1);
        assert_eq!(parse(RawCriteria { name: Some(&long), ..Default::default() }), Err(CriteriaError::BadName));
    }

    #[test]
    fn birth_dates_are_strictly_year_month_day() {
        let ok = parse(RawCriteria { date_of_birth: Some("1980-02-29"), ..Default::default() }).unwrap();
        assert_eq!(ok.date_of_birth, NaiveDate::from_ymd_opt(1980, 2, 29));
        for bad in ["1980-1-5", "02/29/1980", "1981-02-29", "1980-13-01", "19800229", "tomorrow", "1980-02-2x"] {
            let raw = RawCriteria { date_of_birth: Some(bad), ..Default::default() };
            assert_eq!(parse(raw), Err(CriteriaError::BadDate), "{bad}");
        }
    }

    #[test]
    fn phones_in_any_format_become_e164_with_the_default_country() {
        for given in ["(217) 555-0123", "217.555.0123", "+1 217 555 0123", "1-217-555-0123"] {
            let c = parse(RawCriteria { phone: Some(given), ..Default::default() }).unwrap();
            assert_eq!(c.phone.as_deref(), Some("+12175550123"), "{given}");
        }
        let uk =
            Criteria::parse(RawCriteria { phone: Some("020 7946 0018"), ..Default::default() }, "GB".parse().unwrap());
        assert_eq!(uk.unwrap().phone.as_deref(), Some("+442079460018"));
        let bad = parse(RawCriteria { phone: Some("12345"), ..Default::default() });
        assert_eq!(bad, Err(CriteriaError::BadPhone(PhoneCountry::US)));
    }

    #[test]
    fn limit_and_offset_are_bounded() {
        let with = |limit, offset| parse(RawCriteria { name: Some("ana"), limit, offset, ..Default::default() });
        assert_eq!(with(Some("100"), Some("40")).map(|c| (c.limit, c.offset)), Ok((100, 40)));
        for bad in ["0", "101", "-1", "ten"] {
            assert_eq!(with(Some(bad), None), Err(CriteriaError::BadLimit), "{bad}");
        }
        assert_eq!(with(None, Some("10001")), Err(CriteriaError::BadOffset));
    }

    #[test]
    fn errors_never_quote_the_value() {
        let raw = RawCriteria { phone: Some("555-HELP-ME-NOW"), ..Default::default() };
        assert!(!parse(raw).unwrap_err().to_string().contains("HELP"));
        let c = parse(RawCriteria { name: Some("Ana Ruiz"), ..Default::default() }).unwrap();
        assert!(!format!("{c:?}").contains("Ruiz"));
    }
}

//! The write API's body rules: which fields each kind accepts, which a
//! create requires, and each field's type. Every problem is listed, each
//! naming its field and rule, never the value sent (it may be PHI).

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Appointment,
    Patient,
}

impl WriteKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Appointment => "appointment",
            Self::Patient => "patient",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

#[derive(Clone, Copy)]
enum Rule {
    /// A DrChrono id: a positive integer.
    Id,
    /// DrChrono's naive `YYYY-MM-DDTHH:MM:SS`, in the practice's zone.
    LocalTime,
    Date,
    /// Whole minutes, 1 to 1440.
    Minutes,
    /// A string of at most this many characters.
    Text(usize),
    OneOf(&'static [&'static str]),
}

const APPOINTMENT_STATUSES: &[&str] = &[
    "",
    "Arrived",
    "Checked In",
    "In Room",
    "Cancelled",
    "Complete",
    "Confirmed",
    "In Session",
    "No Show",
    "Not Confirmed",
    "Rescheduled",
];
const GENDERS: &[&str] = &["Male", "Female", "Other", "UNK"];

/// (field, rule, required on create).
const APPOINTMENT: &[(&str, Rule, bool)] = &[
    ("patient", Rule::Id, true),
    ("doctor", Rule::Id, true),
    ("office", Rule::Id, true),
    ("exam_room", Rule::Id, false),
    ("scheduled_time", Rule::LocalTime, true),
    ("duration", Rule::Minutes, true),
    ("status", Rule::OneOf(APPOINTMENT_STATUSES), false),
    ("reason", Rule::Text(1000), false),
    ("notes", Rule::Text(5000), false),
];

const PATIENT: &[(&str, Rule, bool)] = &[
    ("doctor", Rule::Id, true),
    ("first_name", Rule::Text(255), true),
    ("last_name", Rule::Text(255), true),
    ("middle_name", Rule::Text(255), false),
    ("gender", Rule::OneOf(GENDERS), true),
    ("date_of_birth", Rule::Date, true),
    ("email", Rule::Text(254), false),
    ("cell_phone", Rule::Text(50), false),
    ("home_phone", Rule::Text(50), false),
    ("office_phone", Rule::Text(50), false),
    ("address", Rule::Text(500), false),
    ("city", Rule::Text(100), false),
    ("state", Rule::Text(50), false),
    ("zip_code", Rule::Text(20), false),
    ("chart_id", Rule::Text(100), false),
    ("preferred_language", Rule::Text(20), false),
    ("race", Rule::Text(20), false),
    ("ethnicity", Rule::Text(20), false),
];

fn fields(kind: WriteKind) -> &'static [(&'static str, Rule, bool)] {
    match kind {
        WriteKind::Appointment => APPOINTMENT,
        WriteKind::Patient => PATIENT,
    }
}

/// The body as DrChrono will be sent it, or every problem found.
pub fn validate(kind: WriteKind, create: bool, body: &Value) -> Result<Map<String, Value>, Vec<Problem>> {
    let problem = |field: &str, message: String| Problem { field: field.to_string(), message };
    let Value::Object(map) = body else {
        return Err(vec![problem("(body)", "must be a JSON object".into())]);
    };
    let rules = fields(kind);
    let mut problems = Vec::new();
    for key in map.keys() {
        if !rules.iter().any(|(f, _, _)| f == key) {
            let allowed: Vec<&str> = rules.iter().map(|(f, _, _)| *f).collect();
            problems.push(problem(key, format!("is not a writable field; use {}", allowed.join(", "))));
        }
    }
    for (field, rule, required) in rules {
        match map.get(*field) {
            None | Some(Value::Null) if create && *required => problems.push(problem(field, "is required".into())),
            None => {}
            Some(value) => {
                if let Some(message) = check(*rule, value) {
                    problems.push(problem(field, message));
                }
            }
        }
    }
    if !create && map.is_empty() {
        problems.push(problem("(body)", "must change at least one field".into()));
    }
    if problems.is_empty() { Ok(map.clone()) } else { Err(problems) }
}

fn check(rule: Rule, value: &Value) -> Option<String> {
    let text = value.as_str();
    let ok = match rule {
        Rule::Id => value.as_i64().is_some_and(|n| n > 0),
        Rule::Minutes => value.as_i64().is_some_and(|n| (1..=1440).contains(&n)),
        Rule::LocalTime => text.is_some_and(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").is_ok()),
        Rule::Date => text.is_some_and(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok()),
        Rule::Text(max) => text.is_some_and(|t| t.chars().count() <= max),
        Rule::OneOf(values) => text.is_some_and(|t| values.contains(&t)),
    };
    (!ok).then(|| match rule {
        Rule::Id => "must be a DrChrono id (a positive integer)".into(),
        Rule::Minutes => "must be whole minutes from 1 to 1440".into(),
        Rule::LocalTime => "must be a practice-local time YYYY-MM-DDTHH:MM:SS, without an offset".into(),
        Rule::Date => "must be a date YYYY-MM-DD".into(),
        Rule::Text(max) => format!("must be a string of at most {max} characters"),
        Rule::OneOf(values) => {
            format!("must be one of: {}", values.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", "))
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields_of(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.field.as_str()).collect()
    }

    #[test]
    fn a_create_lists_every_problem_by_field() {
        let body =
            json!({"patient": "x", "duration": 0, "scheduled_time": "2031-05-06T10:30:00Z", "color": "vermilion"});
        let problems = validate(WriteKind::Appointment, true, &body).unwrap_err();
        assert_eq!(fields_of(&problems), ["color", "patient", "doctor", "office", "scheduled_time", "duration"]);
        assert!(problems.iter().all(|p| !p.message.contains("vermilion")));
    }

    #[test]
    fn an_update_needs_no_required_field_but_at_least_one() {
        assert!(validate(WriteKind::Patient, false, &json!({"city": "Salem"})).is_ok());
        let problems = validate(WriteKind::Patient, false, &json!({})).unwrap_err();
        assert_eq!(fields_of(&problems), ["(body)"]);
        let problems = validate(WriteKind::Patient, false, &json!({"gender": "male"})).unwrap_err();
        assert_eq!(fields_of(&problems), ["gender"]);
    }

    #[test]
    fn a_valid_create_passes_through_unchanged() {
        let body = json!({"doctor": 2, "first_name": "A", "last_name": "B", "gender": "Other",
                          "date_of_birth": "1990-02-03"});
        assert_eq!(Value::Object(validate(WriteKind::Patient, true, &body).unwrap()), body);
    }
}

//! The partner event's JSON Schema, shipped as `schemas/appointment_event.json`
//! and compiled once, and the violations a 400 lists.
//!
//! Messages name the field and the rule, never the value sent: values can be
//! PHI, and error bodies end up in partners' logs and in ours.

use chrono::{DateTime, Utc};
use jsonschema::{ValidationError, Validator, error::ValidationErrorKind};
use serde::Serialize;
use serde_json::Value;
use std::sync::LazyLock;

const SCHEMA: &str = include_str!("../../schemas/appointment_event.json");

/// Violations are listed in the order the fields are documented.
const FIELD_ORDER: [&str; 6] = ["body", "event_type", "appointment_id", "patient_id", "timestamp", "notes"];

const TIMESTAMP_RULE: &str = "must be an ISO 8601 date-time with a time zone, such as 2025-01-10T12:30:00Z";

static VALIDATOR: LazyLock<Validator> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(SCHEMA).expect("the shipped schema is JSON");
    jsonschema::options().should_validate_formats(true).build(&schema).expect("the shipped schema compiles")
});

/// One broken rule: the field (dotted path; `body` for the whole body) and what it must be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub field: String,
    pub message: String,
}

/// A valid event, borrowed from the parsed body.
#[derive(Debug)]
pub struct PartnerEvent<'a> {
    pub event_type: &'a str,
    pub appointment_id: &'a str,
    pub patient_id: &'a str,
    /// As sent; echoed in the duplicate message.
    pub timestamp: &'a str,
    pub occurred_at: DateTime<Utc>,
    pub notes: Option<&'a str>,
}

/// Compiles the schema now, so a broken schema stops the service at start
/// instead of failing its first request.
pub fn check() {
    LazyLock::force(&VALIDATOR);
}

/// The event, or every violation (one per field and rule).
pub fn parse(body: &Value) -> Result<PartnerEvent<'_>, Vec<Violation>> {
    let mut violations: Vec<Violation> = Vec::new();
    for error in VALIDATOR.iter_errors(body) {
        let v = describe(&error);
        if !violations.contains(&v) {
            violations.push(v);
        }
    }
    if !violations.is_empty() {
        violations.sort_by_key(|v| FIELD_ORDER.iter().position(|f| *f == v.field).unwrap_or(FIELD_ORDER.len()));
        return Err(violations);
    }
    let text = |field: &str| body.get(field).and_then(Value::as_str).unwrap_or_default();
    let timestamp = text("timestamp");
    // The schema's date-time format is RFC 3339; this parse agrees with it,
    // and guards the stored instant should the two ever differ.
    let occurred_at = DateTime::parse_from_rfc3339(timestamp)
        .map_err(|_| vec![Violation { field: "timestamp".into(), message: TIMESTAMP_RULE.into() }])?;
    Ok(PartnerEvent {
        event_type: text("event_type"),
        appointment_id: text("appointment_id"),
        patient_id: text("patient_id"),
        timestamp,
        occurred_at: occurred_at.to_utc(),
        notes: body.get("notes").and_then(Value::as_str),
    })
}

/// `field: message; field: message`, the 400's `message`.
pub fn summary(violations: &[Violation]) -> String {
    violations.iter().map(|v| format!("{}: {}", v.field, v.message)).collect::<Vec<_>>().join("; ")
}

fn describe(error: &ValidationError<'_>) -> Violation {
    let path: Vec<String> = error.instance_path().segments().map(|s| s.to_string()).collect();
    let at = |extra: Option<&str>| {
        let mut parts = path.clone();
        parts.extend(extra.map(str::to_string));
        if parts.is_empty() { "body".to_string() } else { parts.join(".") }
    };
    let (field, message) = match error.kind() {
        ValidationErrorKind::Required { property } => (at(property.as_str()), "is required".to_string()),
        _ if error.instance().is_null() => (at(None), "must not be null".to_string()),
        ValidationErrorKind::Type { .. } if path.is_empty() => (at(None), "must be a JSON object".to_string()),
        ValidationErrorKind::Type { kind } => (at(None), format!("must be of type {}", type_name(kind))),
        ValidationErrorKind::Enum { options } => (at(None), format!("must be one of {}", one_of(options))),
        ValidationErrorKind::Format { format } if format == "date-time" => (at(None), TIMESTAMP_RULE.to_string()),
        ValidationErrorKind::Pattern { .. } => (at(None), "must not be empty or whitespace".to_string()),
        ValidationErrorKind::MaxLength { limit } => (at(None), format!("must be at most {limit} characters")),
        other => (at(None), format!("breaks the schema's `{}` rule", other.keyword())),
    };
    Violation { field, message }
}

fn type_name(kind: &jsonschema::error::TypeKind) -> String {
    match kind {
        jsonschema::error::TypeKind::Single(t) => t.to_string(),
        jsonschema::error::TypeKind::Multiple(set) => {
            set.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" or ")
        }
    }
}

fn one_of(options: &Value) -> String {
    let names: Vec<&str> = options.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({"event_type": "appointment.scheduled", "appointment_id": "A12345", "patient_id": "P8765",
               "timestamp": "2025-01-10T12:30:00Z", "notes": "Annual physical"})
    }

    fn messages(body: &Value) -> String {
        summary(&parse(body).expect_err("invalid"))
    }

    #[test]
    fn the_shipped_schema_compiles_and_accepts_the_documented_example() {
        check();
        let body = valid();
        let event = parse(&body).unwrap();
        assert_eq!((event.appointment_id, event.timestamp), ("A12345", "2025-01-10T12:30:00Z"));
        assert_eq!(event.occurred_at.to_rfc3339(), "2025-01-10T12:30:00+00:00");
    }

    #[test]
    fn notes_are_optional_and_may_be_null() {
        let mut body = valid();
        body["notes"] = Value::Null;
        assert!(parse(&body).is_ok());
        body.as_object_mut().unwrap().remove("notes");
        assert!(parse(&body).is_ok());
    }

    #[test]
    fn every_violation_is_named_with_its_field_and_no_value() {
        let body = json!({"event_type": "appointment.deleted", "patient_id": null, "timestamp": "Jan 10",
                          "notes": 7, "appointment_id": "   "});
        assert_eq!(
            messages(&body),
            "event_type: must be one of appointment.scheduled, appointment.cancelled, appointment.updated; \
             appointment_id: must not be empty or whitespace; patient_id: must not be null; \
             timestamp: must be an ISO 8601 date-time with a time zone, such as 2025-01-10T12:30:00Z; \
             notes: must be of type null or string"
        );
    }

    #[test]
    fn missing_fields_and_non_objects() {
        assert_eq!(
            messages(&json!({"event_type": "appointment.updated"})),
            "appointment_id: is required; patient_id: is required; timestamp: is required"
        );
        assert_eq!(messages(&json!([1])), "body: must be a JSON object");
    }

    #[test]
    fn timestamps_need_a_zone() {
        for ts in ["2025-01-10T12:30:00", "2025-01-10", "2025-13-10T12:30:00Z", "not-a-timestamp"] {
            let mut body = valid();
            body["timestamp"] = json!(ts);
            assert!(parse(&body).is_err(), "{ts}");
        }
        let mut body = valid();
        body["timestamp"] = json!("2025-01-10T07:30:00.250-05:00");
        assert_eq!(parse(&body).unwrap().occurred_at.to_rfc3339(), "2025-01-10T12:30:00.250+00:00");
    }
}

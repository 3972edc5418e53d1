//! The decrypted Gridhook JSON. Its shape is the best known one, not a
//! published contract, so parsing is tolerant: only the session id is
//! required, ids may be numbers or numeric strings, and every field,
//! unknown ones included, stays in the sealed raw copy.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

use crate::domain::id_of;

/// Why a decrypted payload cannot be stored. Messages name fields, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("decrypted payload is not JSON (the key or scheme may be wrong, or the sender changed format)")]
    NotJson,
    #[error("decrypted payload is JSON but not an object")]
    NotAnObject,
    #[error("decrypted payload has no session_id; Deep Cura notes are keyed by it")]
    NoSessionId,
    #[error("decrypted payload's session_id is {0} bytes, over the {MAX_SESSION_ID_LEN} a session id can be")]
    SessionIdTooLong(usize),
}

/// Longer ids are refused: the id is a unique index key, and an index
/// entry has a size limit.
pub const MAX_SESSION_ID_LEN: usize = 200;

/// The fields the service keeps in columns. `Debug` is written by hand:
/// it shows ids and which sections are present, never the note's text.
#[derive(Clone, PartialEq)]
pub struct GridhookNote {
    pub session_id: String,
    pub appointment_id: Option<i64>,
    pub patient_id: Option<i64>,
    pub doctor_id: Option<i64>,
    pub session_date: Option<NaiveDate>,
    /// The note's own version time: `updated_at`, else `created_at`.
    pub note_time: Option<DateTime<Utc>>,
    pub subjective: Option<String>,
    pub objective: Option<String>,
    pub assessment: Option<String>,
    pub plan: Option<String>,
    pub transcript: Option<String>,
    pub icd10_codes: Value,
    pub cpt_codes: Value,
    pub medication_mentions: Option<Value>,
    pub billing_summary: Option<Value>,
    pub risk_assessment: Option<Value>,
}

impl std::fmt::Debug for GridhookNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let present = |o: &Option<String>| o.as_ref().map(|t| format!("<{} bytes>", t.len()));
        let given = |o: &Option<Value>| o.as_ref().map(|_| "<redacted>");
        f.debug_struct("GridhookNote")
            .field("session_id", &self.session_id)
            .field("appointment_id", &self.appointment_id)
            .field("patient_id", &self.patient_id)
            .field("doctor_id", &self.doctor_id)
            .field("session_date", &self.session_date)
            .field("note_time", &self.note_time)
            .field("subjective", &present(&self.subjective))
            .field("objective", &present(&self.objective))
            .field("assessment", &present(&self.assessment))
            .field("plan", &present(&self.plan))
            .field("transcript", &present(&self.transcript))
            .field("icd10_codes", &"<redacted>")
            .field("cpt_codes", &"<redacted>")
            .field("medication_mentions", &given(&self.medication_mentions))
            .field("billing_summary", &given(&self.billing_summary))
            .field("risk_assessment", &given(&self.risk_assessment))
            .finish()
    }
}

impl GridhookNote {
    /// Parses decrypted bytes; returns the note and the JSON text to seal.
    pub fn parse(plain: &[u8]) -> Result<(Self, Value), ParseError> {
        let raw: Value = serde_json::from_slice(plain).map_err(|_| ParseError::NotJson)?;
        let object = raw.as_object().ok_or(ParseError::NotAnObject)?;
        let session_id = match object.get("session_id") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(ParseError::NoSessionId),
        };
        if session_id.len() > MAX_SESSION_ID_LEN {
            return Err(ParseError::SessionIdTooLong(session_id.len()));
        }
        let soap = object.get("soap");
        let section = |name: &str| soap.and_then(|s| s.get(name)).and_then(text);
        let note = Self {
            session_id,
            appointment_id: id_of(object.get("appointment_id")),
            patient_id: id_of(object.get("patient_id")),
            doctor_id: id_of(object.get("doctor_id")),
            session_date: object.get("session_date").and_then(Value::as_str).and_then(date),
            note_time: ["updated_at", "created_at"]
                .iter()
                .find_map(|k| object.get(*k).and_then(Value::as_str).and_then(|t| time(t, Utc::now()))),
            subjective: section("subjective"),
            objective: section("objective"),
            assessment: section("assessment"),
            plan: section("plan"),
            transcript: object.get("transcript").and_then(text),
            icd10_codes: codes(object.get("icd10_codes")),
            cpt_codes: codes(object.get("cpt_codes")),
            medication_mentions: present(object.get("medication_mentions")),
            billing_summary: present(object.get("billing_summary")),
            risk_assessment: present(object.get("risk_assessment")),
        };
        Ok((note, raw))
    }
}

/// Text as sent; a structured value (some senders nest sections) is kept as JSON text.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `YYYY-MM-DD`, alone or at the start of a timestamp.
fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// An RFC 3339 time, or one without an offset taken as UTC (the sender's
/// zone is not known). A time further ahead than
/// [`FUTURE_SKEW`](crate::domain::FUTURE_SKEW) is taken as that far ahead,
/// so one note dated years ahead cannot freeze its row.
fn time(s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let parsed = DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).or_else(|_| {
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .map(|t| t.and_utc())
            .ok_or(())
    });
    parsed.ok().map(|t| t.min(now + crate::domain::FUTURE_SKEW))
}

/// Code lists as structured JSON: an array as sent, a single object wrapped,
/// nothing as an empty list.
fn codes(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Array(a)) => Value::Array(a.clone()),
        Some(Value::Null) | None => Value::Array(Vec::new()),
        Some(other) => Value::Array(vec![other.clone()]),
    }
}

fn present(v: Option<&Value>) -> Option<Value> {
    v.filter(|v| !v.is_null()).cloned()
}

#[cfg(test)]
mod tests {
    use super::GridhookNote;

    #[test]
    fn debug_shows_ids_but_not_the_note_text() {
        let plain = br#"{"session_id":"s-1","patient_id":7,"transcript":"Patient reports chest pain",
            "soap":{"subjective":"Chest pain since Monday","plan":"ECG"},"icd10_codes":["R07.9"]}"#;
        let (note, _) = GridhookNote::parse(plain).unwrap();
        let shown = format!("{note:?}");
        for text in ["chest pain", "Chest pain", "ECG", "R07.9"] {
            assert!(!shown.contains(text), "Debug shows {text}: {shown}");
        }
        assert!(shown.contains("s-1") && shown.contains("Some(7)"), "{shown}");
    }
}

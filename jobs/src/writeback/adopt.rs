//! Finding the appointment an earlier, unconfirmed POST may have created:
//! same patient, same doctor, same scheduled time (compared as times, so
//! `T` and a space are one), not deleted. The newest such appointment wins.

use chrono::NaiveDateTime;
use serde_json::Value;

use crate::{domain::id_of, drchrono::DrChronoClient, runner::JobError};

/// The appointment matching the request `body`, if DrChrono holds one.
pub(super) async fn find_appointment(client: &DrChronoClient<'_>, body: &Value) -> Result<Option<Value>, JobError> {
    let (Some(patient), Some(doctor), Some(at)) = (
        id_of(body.get("patient")),
        id_of(body.get("doctor")),
        body.get("scheduled_time").and_then(Value::as_str).and_then(naive_time),
    ) else {
        return Ok(None);
    };
    let query = [
        ("patient", patient.to_string()),
        ("doctor", doctor.to_string()),
        ("date", at.date().format("%Y-%m-%d").to_string()),
    ];
    let mut pages = client.pages("/api/appointments", &query, None)?;
    let mut best: Option<(i64, Value)> = None;
    while let Some(page) = pages.next_page().await? {
        for appointment in page {
            if !same_slot(&appointment, patient, doctor, at) {
                continue;
            }
            let id = id_of(appointment.get("id")).unwrap_or_default();
            if best.as_ref().is_none_or(|(b, _)| id > *b) {
                best = Some((id, appointment));
            }
        }
    }
    pages.finish();
    Ok(best.map(|(_, a)| a))
}

fn same_slot(appointment: &Value, patient: i64, doctor: i64, at: NaiveDateTime) -> bool {
    id_of(appointment.get("patient")) == Some(patient)
        && id_of(appointment.get("doctor")) == Some(doctor)
        && appointment.get("scheduled_time").and_then(Value::as_str).and_then(naive_time) == Some(at)
        && appointment.get("deleted_flag").and_then(Value::as_bool) != Some(true)
}

/// DrChrono's naive `YYYY-MM-DDTHH:MM:SS`, or with a space.
pub(crate) fn naive_time(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(&text.trim().replace(' ', "T"), "%Y-%m-%dT%H:%M:%S").ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_slot_matches_on_patient_doctor_and_time_only() {
        let at = naive_time("2031-05-06T10:30:00").unwrap();
        let a = json!({"id": "7", "patient": 1, "doctor": 2, "scheduled_time": "2031-05-06 10:30:00"});
        assert!(same_slot(&a, 1, 2, at));
        assert!(!same_slot(&a, 1, 3, at));
        assert!(!same_slot(&a, 9, 2, at));
        assert!(!same_slot(&a, 1, 2, naive_time("2031-05-06T10:31:00").unwrap()));
        let deleted = json!({"patient": 1, "doctor": 2, "scheduled_time": "2031-05-06T10:30:00", "deleted_flag": true});
        assert!(!same_slot(&deleted, 1, 2, at));
    }
}

//! Finding the record an earlier, unconfirmed POST may have created.
//!
//! - An appointment: same patient, same doctor, same scheduled time
//!   (compared as times, so `T` and a space are one), not deleted.
//! - A patient: same doctor, same first and last name (case and outer
//!   spaces aside), the same date of birth when the request gave one, and
//!   created no earlier than the POST was started, less [`CLOCK_SKEW`]. The
//!   creation time is what keeps an older namesake from being taken for the
//!   new record.
//!
//! The newest match wins.

use chrono::{DateTime, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::{
    domain::{RecordKind, id_of},
    drchrono::DrChronoClient,
};
use job_runner::JobError;

/// How far DrChrono's clock may trail ours when judging a patient's
/// `created_at` against the time our POST started.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(10);

/// The record of `kind` an earlier POST of `body`, started at `started`,
/// created, if DrChrono holds one. DrChrono's naive timestamps are in the
/// practice's time zone `tz`.
pub(super) async fn find_earlier(
    client: &DrChronoClient<'_>,
    kind: RecordKind,
    body: &Value,
    started: DateTime<Utc>,
    tz: Tz,
) -> Result<Option<Value>, JobError> {
    match kind {
        RecordKind::Appointment => find_appointment(client, body).await,
        RecordKind::Patient => find_patient(client, body, started - CLOCK_SKEW, tz).await,
        _ => Ok(None),
    }
}

async fn find_appointment(client: &DrChronoClient<'_>, body: &Value) -> Result<Option<Value>, JobError> {
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
    newest(client, "/api/appointments", &query, |a| same_slot(a, patient, doctor, at)).await
}

async fn find_patient(
    client: &DrChronoClient<'_>,
    body: &Value,
    not_before: DateTime<Utc>,
    tz: Tz,
) -> Result<Option<Value>, JobError> {
    let (Some(doctor), Some(first), Some(last)) =
        (id_of(body.get("doctor")), trimmed(body, "first_name"), trimmed(body, "last_name"))
    else {
        return Ok(None);
    };
    let birth = trimmed(body, "date_of_birth");
    // The filters get the names as they were POSTed, so DrChrono finds them
    // however it compares; the match below ignores case.
    let mut query = vec![("doctor", doctor.to_string()), ("first_name", first.into()), ("last_name", last.into())];
    query.extend(birth.map(|b| ("date_of_birth", b.to_string())));
    let same = |record: &Value, field: &str, wanted: &str| {
        trimmed(record, field).is_some_and(|v| v.to_lowercase() == wanted.to_lowercase())
    };
    newest(client, "/api/patients", &query, |p| {
        id_of(p.get("doctor")) == Some(doctor)
            && same(p, "first_name", first)
            && same(p, "last_name", last)
            && birth.is_none_or(|b| same(p, "date_of_birth", b))
            && created_at(p, tz).is_some_and(|at| at >= not_before)
    })
    .await
}

/// The listed record with the highest id that `matches`.
async fn newest(
    client: &DrChronoClient<'_>,
    path: &str,
    query: &[(&str, String)],
    matches: impl Fn(&Value) -> bool,
) -> Result<Option<Value>, JobError> {
    let mut pages = client.pages(path, query, None)?;
    let mut best: Option<(i64, Value)> = None;
    while let Some(page) = pages.next_page().await? {
        for record in page {
            if !matches(&record) {
                continue;
            }
            let id = id_of(record.get("id")).unwrap_or_default();
            if best.as_ref().is_none_or(|(b, _)| id > *b) {
                best = Some((id, record));
            }
        }
    }
    pages.finish();
    Ok(best.map(|(_, r)| r))
}

/// A text field without its outer spaces; `None` when absent or blank.
fn trimmed<'v>(record: &'v Value, field: &str) -> Option<&'v str> {
    Some(record.get(field)?.as_str()?.trim()).filter(|v| !v.is_empty())
}

/// `created_at`, a naive time in the practice's zone, as UTC.
fn created_at(record: &Value, tz: Tz) -> Option<DateTime<Utc>> {
    let naive = naive_time(record.get("created_at")?.as_str()?)?;
    Some(tz.from_local_datetime(&naive).earliest()?.with_timezone(&Utc))
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

    #[test]
    fn a_patients_creation_time_is_read_in_the_practice_zone() {
        let p = json!({"created_at": "2031-05-06 10:30:00", "first_name": "  Ana "});
        let utc = created_at(&p, chrono_tz::America::New_York).unwrap();
        assert_eq!(utc.to_rfc3339(), "2031-05-06T14:30:00+00:00");
        assert_eq!(trimmed(&p, "first_name"), Some("Ana"));
        assert_eq!(trimmed(&json!({"first_name": " "}), "first_name"), None);
        assert_eq!(created_at(&json!({"created_at": "yesterday"}), chrono_tz::UTC), None);
    }
}

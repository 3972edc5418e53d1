//! The query filters each list understands, as DrChrono documents them.
//!
//! Unknown parameters are ignored, as DRF ignores them. A known filter whose
//! value cannot be read is a 400 with a `detail`, so a client bug shows up
//! instead of silently widening the result.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::Value;

use crate::{
    Kind,
    pagination::param,
    practice::{self, Practice, Record, reference},
    stamps,
};

/// The widest `date_range` `/api/appointments` serves, in days between its
/// ends. Wider ranges answer an empty list, not an error [prod].
pub(crate) const MAX_DATE_RANGE_DAYS: i64 = 190;

enum Check {
    /// A reference field (`patient`, `doctor`, `office`) equals the id,
    /// whether the record spells it as a number or a string.
    Id(&'static str, i64),
    /// A clinical note or line item has no `office`; it is its appointment's.
    NoteOffice(i64),
    /// A lab result has no `doctor`; it is its order's.
    OrderDoctor(i64),
    /// `updated_at` is at or after the stamp.
    Since(NaiveDateTime),
    /// The date part of a date-time field lies in `[from, to]`.
    Days(&'static str, NaiveDate, NaiveDate),
    /// A text field equals the value, ignoring case.
    Text(&'static str, String),
    /// A deleted (archived) appointment is left out unless `show_archived=true`.
    NotArchived,
}

pub(crate) struct Filters {
    checks: Vec<Check>,
    /// Set when DrChrono would answer an empty list whatever the data.
    pub(crate) nothing: bool,
}

impl Filters {
    pub(crate) fn parse(kind: Kind, params: &[(String, String)]) -> Result<Filters, String> {
        let mut filters = Filters { checks: Vec::new(), nothing: false };
        match kind {
            Kind::Doctor | Kind::Office | Kind::AppointmentProfile => {}
            Kind::Patient => {
                filters.since(params)?;
                filters.id(params, "doctor")?;
                for field in ["first_name", "last_name", "gender", "date_of_birth"] {
                    if let Some(value) = param(params, field) {
                        filters.checks.push(Check::Text(field, value.trim().to_lowercase()));
                    }
                }
                if param(params, "date_of_birth").is_some_and(|d| stamps::parse_date(d).is_none()) {
                    return Err("Invalid date_of_birth: use YYYY-MM-DD.".to_owned());
                }
            }
            Kind::Appointment => {
                if ["since", "date", "date_range"].iter().all(|name| param(params, name).is_none()) {
                    return Err("One of since, date or date_range is required.".to_owned());
                }
                filters.ids(params, &["patient", "doctor", "office"])?;
                filters.since(params)?;
                filters.dates(params, "scheduled_time", true)?;
                if !param(params, "show_archived").is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1") {
                    filters.checks.push(Check::NotArchived);
                }
            }
            Kind::ClinicalNote => {
                filters.ids(params, &["patient", "doctor"])?;
                if let Some(office) = number(params, "office")? {
                    filters.checks.push(Check::NoteOffice(office));
                }
                filters.since(params)?;
                filters.dates(params, "date", false)?;
            }
            Kind::Medication | Kind::Problem | Kind::Allergy => {
                filters.ids(params, &["patient", "doctor"])?;
            }
            Kind::LabOrder => {
                filters.since(params)?;
                filters.id(params, "doctor")?;
            }
            Kind::LabResult => {
                if let Some(order) = number(params, "order")? {
                    filters.checks.push(Check::Id("lab_order", order));
                }
                if let Some(doctor) = number(params, "doctor")? {
                    filters.checks.push(Check::OrderDoctor(doctor));
                }
            }
            Kind::PatientLabResult => {
                filters.since(params)?;
                filters.ids(params, &["patient", "ordering_doctor"])?;
                if let Some(doctor) = number(params, "doctor")? {
                    filters.checks.push(Check::Id("ordering_doctor", doctor));
                }
            }
            Kind::Task => {
                filters.since(params)?;
                filters.ids(params, &["status", "category", "assignee_user", "assignee_group"])?;
            }
            Kind::LineItem => {
                filters.since(params)?;
                filters.ids(params, &["patient", "doctor", "appointment"])?;
                if let Some(office) = number(params, "office")? {
                    filters.checks.push(Check::NoteOffice(office));
                }
                for field in ["service_date", "posted_date"] {
                    if let Some(text) = param(params, field) {
                        let day = stamps::parse_date(text).ok_or(format!("Invalid {field}: use YYYY-MM-DD."))?;
                        filters.checks.push(Check::Days(field, day, day));
                    }
                }
            }
        }
        Ok(filters)
    }

    fn id(&mut self, params: &[(String, String)], field: &'static str) -> Result<(), String> {
        if let Some(id) = number(params, field)? {
            self.checks.push(Check::Id(field, id));
        }
        Ok(())
    }

    fn ids(&mut self, params: &[(String, String)], fields: &[&'static str]) -> Result<(), String> {
        fields.iter().try_for_each(|field| self.id(params, field))
    }

    fn since(&mut self, params: &[(String, String)]) -> Result<(), String> {
        if let Some(text) = param(params, "since") {
            let since = stamps::parse_stamp(text).ok_or("Invalid since: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.")?;
            self.checks.push(Check::Since(since));
        }
        Ok(())
    }

    /// `date=YYYY-MM-DD` and `date_range=YYYY-MM-DD/YYYY-MM-DD` on `field`.
    /// `capped` applies the appointments list's 190-day rule.
    fn dates(&mut self, params: &[(String, String)], field: &'static str, capped: bool) -> Result<(), String> {
        if let Some(text) = param(params, "date") {
            let day = stamps::parse_date(text).ok_or("Invalid date: use YYYY-MM-DD.")?;
            self.checks.push(Check::Days(field, day, day));
        }
        if let Some(text) = param(params, "date_range") {
            let invalid = "Invalid date_range: use YYYY-MM-DD/YYYY-MM-DD.";
            let (from, to) = text.split_once('/').ok_or(invalid)?;
            let from = stamps::parse_date(from).ok_or(invalid)?;
            let to = stamps::parse_date(to).ok_or(invalid)?;
            if to < from {
                return Err("Invalid date_range: the end is before the start.".to_owned());
            }
            if capped && (to - from).num_days() > MAX_DATE_RANGE_DAYS {
                self.nothing = true;
            }
            self.checks.push(Check::Days(field, from, to));
        }
        Ok(())
    }

    /// `practice` resolves what a record only refers to (a note's office).
    pub(crate) fn matches(&self, record: &Record, practice: &Practice) -> bool {
        !self.nothing && self.checks.iter().all(|check| check.holds(record, practice))
    }
}

impl Check {
    fn holds(&self, record: &Record, practice: &Practice) -> bool {
        let text = |field: &str| record.get(field).and_then(Value::as_str);
        match self {
            Check::Id(field, id) => reference(record.get(*field)) == Some(*id),
            Check::OrderDoctor(doctor) => {
                reference(record.get("lab_order"))
                    .and_then(|order| practice.get(Kind::LabOrder, order))
                    .and_then(|order| reference(order.get("doctor")))
                    == Some(*doctor)
            }
            Check::NoteOffice(office) => {
                practice::appointment_of(record)
                    .and_then(|a| practice.get(Kind::Appointment, a))
                    .and_then(|a| a.get("office"))
                    .and_then(Value::as_i64)
                    == Some(*office)
            }
            Check::Since(since) => stamps::updated_at_of(record).is_some_and(|u| u >= *since),
            Check::Days(field, from, to) => {
                text(field).and_then(stamps::parse_stamp).is_some_and(|at| (*from..=*to).contains(&at.date()))
            }
            Check::Text(field, value) => text(field).is_some_and(|t| t.to_lowercase() == *value),
            Check::NotArchived => record.get("deleted_flag") != Some(&Value::Bool(true)),
        }
    }
}

fn number(params: &[(String, String)], name: &str) -> Result<Option<i64>, String> {
    param(params, name).map(|text| text.trim().parse().map_err(|_| format!("Invalid {name}."))).transpose()
}

//! The whole fake practice: one id-ordered table per record kind (built by
//! `generate`), and the edits a test makes to it.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use serde_json::{Map, Value};

use crate::{Kind, stamps};

/// One record as DrChrono serializes it.
pub(crate) type Record = Map<String, Value>;

/// Builds a record from its fields. Generators use this rather than `json!`,
/// which runs every value through serde: several times slower, and a
/// 10,000-patient practice is over 100,000 records.
pub(crate) fn record<const N: usize>(fields: [(&str, Value); N]) -> Record {
    let mut record = Record::new();
    for (key, value) in fields {
        record.insert(key.to_owned(), value);
    }
    record
}

pub(crate) struct Practice {
    /// Indexed by `Kind::index`; each ordered by id, which is the order
    /// DrChrono lists them in.
    tables: [BTreeMap<i64, Record>; Kind::ALL.len()],
    /// Appointment id to its clinical note's id, for `verbose=true`.
    note_of_appointment: HashMap<i64, i64>,
    /// Appointments whose id on the wire is not a number: DrChrono spells a
    /// recurring appointment's occurrences `{date}_{id}`.
    wire_ids: HashMap<i64, String>,
}

impl Practice {
    /// Assembles generated tables; `generate` is the only caller.
    pub(crate) fn from_tables(tables: [BTreeMap<i64, Record>; Kind::ALL.len()]) -> Practice {
        let links = tables[Kind::ClinicalNote.index()]
            .iter()
            .filter_map(|(&note, record)| Some((appointment_of(record)?, note)));
        let note_of_appointment = links.collect();
        Practice { tables, note_of_appointment, wire_ids: HashMap::new() }
    }

    pub(crate) fn table(&self, kind: Kind) -> &BTreeMap<i64, Record> {
        &self.tables[kind.index()]
    }

    pub(crate) fn get(&self, kind: Kind, id: i64) -> Option<&Record> {
        self.table(kind).get(&id)
    }

    /// The clinical note written for an appointment, if there is one.
    pub(crate) fn note_of(&self, appointment: i64) -> Option<(i64, &Record)> {
        let note = *self.note_of_appointment.get(&appointment)?;
        Some((note, self.get(Kind::ClinicalNote, note)?))
    }

    /// The record's `id` as the API spells it.
    fn id_value(&self, kind: Kind, id: i64) -> Value {
        match self.wire_ids.get(&id) {
            Some(wire) if kind == Kind::Appointment => Value::from(wire.as_str()),
            _ => kind.id_value(id),
        }
    }

    /// Adds a record under the next free id of its kind; returns the id.
    pub(crate) fn insert(&mut self, kind: Kind, mut record: Record) -> i64 {
        let id = self.table(kind).keys().next_back().map_or(1, |last| last + 1);
        record.insert("id".to_owned(), self.id_value(kind, id));
        if kind == Kind::ClinicalNote
            && let Some(appointment) = appointment_of(&record)
        {
            self.note_of_appointment.insert(appointment, id);
        }
        self.tables[kind.index()].insert(id, record);
        id
    }

    /// Edits a record as a user in DrChrono would. The id cannot change, and
    /// `updated_at` moves strictly forward (even within one second), because
    /// the service deduplicates on `(event, id, updated_at)`.
    pub(crate) fn modify(&mut self, kind: Kind, id: i64, f: impl FnOnce(&mut Record)) -> Option<Record> {
        let wire_id = self.id_value(kind, id);
        let record = self.tables[kind.index()].get_mut(&id)?;
        let previous = stamps::updated_at_of(record);
        let linked_before = appointment_of(record);
        f(record);
        record.insert("id".to_owned(), wire_id);
        if kind.has_updated_at() {
            let stamp = stamps::next_stamp(previous);
            record.insert("updated_at".to_owned(), Value::from(stamp));
        }
        let record = record.clone();
        if kind == Kind::ClinicalNote && appointment_of(&record) != linked_before {
            if let Some(old) = linked_before {
                self.note_of_appointment.remove(&old);
            }
            if let Some(new) = appointment_of(&record) {
                self.note_of_appointment.insert(new, id);
            }
        }
        Some(record)
    }

    /// Gives an appointment a recurring occurrence's id, `{YYYYMMDD}_{id}`,
    /// as DrChrono spells them, as an edit (a new `updated_at`); returns the
    /// new wire id.
    pub(crate) fn make_recurring(&mut self, id: i64, day: NaiveDate) -> Option<String> {
        let wire = format!("{}_{id}", day.format("%Y%m%d"));
        self.get(Kind::Appointment, id)?;
        self.wire_ids.insert(id, wire.clone());
        self.modify(Kind::Appointment, id, |_| {});
        Some(wire)
    }

    /// Deletes a record outright, as DrChrono deletes a chart entry: it is
    /// gone from every list and its detail answers 404.
    pub(crate) fn remove(&mut self, kind: Kind, id: i64) -> Option<Record> {
        let record = self.tables[kind.index()].remove(&id)?;
        if kind == Kind::ClinicalNote
            && let Some(appointment) = appointment_of(&record)
        {
            self.note_of_appointment.remove(&appointment);
        }
        Some(record)
    }
}

/// A reference to an appointment: a number, though a string is tolerated
/// since the appointment's own id is one.
/// The patient a record concerns, however its kind names it: `patient` as
/// a number or a string, a task's associated item of type `Patient`, or a
/// lab result's order's patient.
#[cfg(test)]
pub(crate) fn patient_of(practice: &Practice, kind: Kind, record: &Record) -> Option<i64> {
    match kind {
        Kind::Patient => reference(record.get("id")),
        Kind::LabResult => {
            let order = practice.get(Kind::LabOrder, reference(record.get("lab_order"))?)?;
            reference(order.get("patient"))
        }
        Kind::Task => record.get("associated_items")?.as_array()?.iter().find_map(|item| {
            (item.get("type").and_then(Value::as_str) == Some("Patient")).then(|| reference(item.get("value")))?
        }),
        _ => reference(record.get("patient")),
    }
}

/// An id as DrChrono spells a reference: a number, or a string of digits.
pub(crate) fn reference(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The appointment a record links to (a note, a medication, a line item).
pub(crate) fn appointment_of(record: &Record) -> Option<i64> {
    reference(record.get("appointment"))
}

//! The test's back door to the practice: read any record, and change records
//! the way a user in DrChrono would, without any webhook being sent. A test
//! that wants the webhook too builds it with `delivery_object` or passes the
//! returned record to a `WebhookSender`.

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use crate::{Kind, Sandbox, events, stamps};

impl Sandbox {
    /// A record exactly as `GET {kind.path()}/{id}` serves it without
    /// `verbose` (an appointment's own `id` is a string, as at DrChrono).
    pub fn record(&self, kind: Kind, id: i64) -> Option<Value> {
        let state = self.shared.lock();
        state.practice.get(kind, id).cloned().map(Value::Object)
    }

    /// Every id of a kind, in the order the list serves them.
    pub fn ids(&self, kind: Kind) -> Vec<i64> {
        self.shared.lock().practice.table(kind).keys().copied().collect()
    }

    /// Edits a record, then bumps its `updated_at` (doctors carry none) so
    /// `since` walks and webhook deduplication see a new version. The new
    /// stamp is strictly later than the old one even within one second,
    /// because dedup keys on `(event, id, updated_at)`. The id cannot change.
    pub fn modify(&self, kind: Kind, id: i64, f: impl FnOnce(&mut Map<String, Value>)) -> Option<Value> {
        let mut state = self.shared.lock();
        state.practice.modify(kind, id, f).map(Value::Object)
    }

    /// Deletes an appointment as DrChrono does: it is archived, with
    /// `deleted_flag` set and a new `updated_at`; lists leave it out unless
    /// asked for `show_archived=true`.
    pub fn delete_appointment(&self, id: i64) -> Option<Value> {
        self.modify(Kind::Appointment, id, |appointment| {
            appointment.insert("deleted_flag".to_owned(), Value::Bool(true));
        })
    }

    /// Deletes a record outright, with no webhook, as when a medication,
    /// problem or allergy is removed from a chart; `None` if it was not there.
    pub fn remove(&self, kind: Kind, id: i64) -> Option<Value> {
        self.shared.lock().practice.remove(kind, id).map(Value::Object)
    }

    /// Books a break in `doctor`'s schedule at `at`: an appointment with no
    /// patient, as DrChrono lists them. Returns its id.
    pub fn add_break(&self, doctor: i64, office: i64, at: NaiveDateTime) -> i64 {
        let mut state = self.shared.lock();
        let record = crate::practice::record([
            ("doctor", Value::from(doctor)),
            ("office", Value::from(office)),
            ("patient", Value::Null),
            ("exam_room", Value::from(1)),
            ("scheduled_time", Value::from(stamps::stamp(at))),
            ("duration", Value::from(30)),
            ("status", Value::from("")),
            ("reason", Value::from("Break")),
            ("appt_is_break", Value::Bool(true)),
            ("deleted_flag", Value::Bool(false)),
            ("updated_at", Value::from(stamps::next_stamp(None))),
        ]);
        state.practice.insert(Kind::Appointment, record)
    }

    /// Turns appointment `id` into an occurrence of a recurring series,
    /// whose id DrChrono serves as `{YYYYMMDD}_{id}` rather than a number,
    /// and bumps its `updated_at`. Returns the new wire id.
    pub fn make_recurring(&self, id: i64) -> Option<String> {
        let mut state = self.shared.lock();
        let practice = &mut state.practice;
        let day = practice
            .get(Kind::Appointment, id)?
            .get("scheduled_time")
            .and_then(Value::as_str)
            .and_then(stamps::parse_stamp)?
            .date();
        practice.make_recurring(id, day)
    }

    /// Locks (signs) or unlocks a clinical note, bumping its `updated_at`;
    /// the appointment's verbose `clinical_note` follows.
    pub fn lock_note(&self, id: i64, locked: bool) -> Option<Value> {
        self.modify(Kind::ClinicalNote, id, |note| {
            note.insert("locked".to_owned(), Value::Bool(locked));
        })
    }

    /// A realistic `object` for a delivery of `event`: the sandbox's own
    /// record for the kinds it models (patients, appointments, clinical
    /// notes, medications, problems, allergies), else a small plausible
    /// object with an `id` and a real `patient`. Pair it with
    /// `WebhookSender::send`.
    pub fn delivery_object(&self, event: &str) -> Value {
        events::delivery_object(&self.shared.lock().practice, event)
    }

    /// Books and documents a new visit for `patient` at `at` (practice
    /// time), as staff would in DrChrono: an appointment and its unlocked
    /// clinical note, shaped like the patient's other ones. Returns the
    /// appointment and note ids; `None` for a patient with no visit to copy.
    pub fn add_visit(&self, patient: i64, at: NaiveDateTime) -> Option<(i64, i64)> {
        let mut state = self.shared.lock();
        let practice = &mut state.practice;
        let of_patient = |r: &&Map<String, Value>| r.get("patient") == Some(&Value::from(patient));
        let mut appointment = practice.table(Kind::Appointment).values().find(of_patient)?.clone();
        let mut note = practice.table(Kind::ClinicalNote).values().find(of_patient)?.clone();
        let stamp = stamps::next_stamp(None);
        appointment.insert("scheduled_time".to_owned(), Value::from(stamps::stamp(at)));
        appointment.insert("deleted_flag".to_owned(), Value::Bool(false));
        appointment.insert("updated_at".to_owned(), Value::from(stamp.clone()));
        let appointment_id = practice.insert(Kind::Appointment, appointment);
        note.insert("appointment".to_owned(), Value::from(appointment_id));
        note.insert("date".to_owned(), Value::from(stamps::stamp(at)));
        note.insert("locked".to_owned(), Value::Bool(false));
        note.insert("updated_at".to_owned(), Value::from(stamp));
        let note_id = practice.insert(Kind::ClinicalNote, note);
        Some((appointment_id, note_id))
    }

    pub fn patient(&self, id: i64) -> Option<Value> {
        self.record(Kind::Patient, id)
    }

    pub fn patient_ids(&self) -> Vec<i64> {
        self.ids(Kind::Patient)
    }

    /// `modify` for a patient.
    pub fn modify_patient(&self, id: i64, f: impl FnOnce(&mut Map<String, Value>)) -> Option<Value> {
        self.modify(Kind::Patient, id, f)
    }
}

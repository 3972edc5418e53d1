//! The DrChrono record kinds the sandbox serves, and what differs between
//! them on the wire: the resource path, the page-size maximum, and how the
//! id is spelled.

use serde_json::Value;

/// The largest `page_size` `/api/patients` honours; larger requests are
/// clamped, as DrChrono does. Also the default, since DrChrono's default is
/// "about 250".
pub const PATIENTS_MAX_PAGE_SIZE: usize = 250;
/// `/api/doctors`: DrChrono's general default.
pub const DOCTORS_MAX_PAGE_SIZE: usize = 250;
/// `/api/offices`: DrChrono's general default.
pub const OFFICES_MAX_PAGE_SIZE: usize = 250;
/// `/api/appointments`: 250, as DrChrono's OpenAPI (v4) states it (the
/// facts file had 20); 25 with `verbose=true` ([`APPOINTMENTS_VERBOSE_MAX_PAGE_SIZE`]).
pub const APPOINTMENTS_MAX_PAGE_SIZE: usize = 250;
/// `/api/appointments?verbose=true`: the spec's maximum.
pub const APPOINTMENTS_VERBOSE_MAX_PAGE_SIZE: usize = 25;
/// `/api/appointment_profiles`: DrChrono's general default.
pub const APPOINTMENT_PROFILES_MAX_PAGE_SIZE: usize = 250;
/// `/api/clinical_notes`: DrChrono's general default.
pub const CLINICAL_NOTES_MAX_PAGE_SIZE: usize = 250;
/// `/api/medications`: DrChrono's general default.
pub const MEDICATIONS_MAX_PAGE_SIZE: usize = 250;
/// `/api/problems`: DrChrono's general default.
pub const PROBLEMS_MAX_PAGE_SIZE: usize = 250;
/// `/api/allergies`: DrChrono's general default.
pub const ALLERGIES_MAX_PAGE_SIZE: usize = 250;
/// `/api/lab_orders`, `/api/lab_results`, `/api/patient_lab_results`,
/// `/api/tasks`, `/api/line_items`:
/// DrChrono's general default.
pub const ORDERS_AND_BILLING_MAX_PAGE_SIZE: usize = 250;

/// One kind of DrChrono record. Each is listed at `path()` and fetched at
/// `path()/{id}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Patient,
    Doctor,
    Appointment,
    ClinicalNote,
    Medication,
    Problem,
    Allergy,
    Office,
    AppointmentProfile,
    LabOrder,
    LabResult,
    PatientLabResult,
    Task,
    LineItem,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::Patient,
        Kind::Doctor,
        Kind::Appointment,
        Kind::ClinicalNote,
        Kind::Medication,
        Kind::Problem,
        Kind::Allergy,
        Kind::Office,
        Kind::AppointmentProfile,
        Kind::LabOrder,
        Kind::LabResult,
        Kind::PatientLabResult,
        Kind::Task,
        Kind::LineItem,
    ];

    /// The list's API path, without a trailing slash, e.g. `/api/patients`.
    pub fn path(self) -> &'static str {
        match self {
            Kind::Patient => "/api/patients",
            Kind::Doctor => "/api/doctors",
            Kind::Appointment => "/api/appointments",
            Kind::ClinicalNote => "/api/clinical_notes",
            Kind::Medication => "/api/medications",
            Kind::Problem => "/api/problems",
            Kind::Allergy => "/api/allergies",
            Kind::Office => "/api/offices",
            Kind::AppointmentProfile => "/api/appointment_profiles",
            Kind::LabOrder => "/api/lab_orders",
            Kind::LabResult => "/api/lab_results",
            Kind::PatientLabResult => "/api/patient_lab_results",
            Kind::Task => "/api/tasks",
            Kind::LineItem => "/api/line_items",
        }
    }

    /// The default and maximum `page_size` of the list.
    pub fn max_page_size(self) -> usize {
        match self {
            Kind::Patient => PATIENTS_MAX_PAGE_SIZE,
            Kind::Doctor => DOCTORS_MAX_PAGE_SIZE,
            Kind::Appointment => APPOINTMENTS_MAX_PAGE_SIZE,
            Kind::ClinicalNote => CLINICAL_NOTES_MAX_PAGE_SIZE,
            Kind::Medication => MEDICATIONS_MAX_PAGE_SIZE,
            Kind::Problem => PROBLEMS_MAX_PAGE_SIZE,
            Kind::Allergy => ALLERGIES_MAX_PAGE_SIZE,
            Kind::Office => OFFICES_MAX_PAGE_SIZE,
            Kind::AppointmentProfile => APPOINTMENT_PROFILES_MAX_PAGE_SIZE,
            Kind::LabOrder | Kind::LabResult | Kind::PatientLabResult | Kind::Task | Kind::LineItem => {
                ORDERS_AND_BILLING_MAX_PAGE_SIZE
            }
        }
    }

    /// The kind served under `/api/{resource}`.
    pub(crate) fn from_resource(resource: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.path().strip_prefix("/api/") == Some(resource))
    }

    /// DrChrono serializes an appointment's own id as a string, while every
    /// other object (and every reference to an appointment) uses a number.
    pub(crate) fn id_value(self, id: i64) -> Value {
        match self {
            Kind::Appointment => Value::from(id.to_string()),
            _ => Value::from(id),
        }
    }

    /// Whether records of this kind carry an `updated_at` that edits bump.
    /// Doctors, offices, appointment profiles and lab results carry none in
    /// DrChrono's serializer.
    pub(crate) fn has_updated_at(self) -> bool {
        !matches!(self, Kind::Doctor | Kind::Office | Kind::AppointmentProfile | Kind::LabResult)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_round_trip() {
        for kind in Kind::ALL {
            let resource = kind.path().trim_start_matches("/api/");
            assert_eq!(Kind::from_resource(resource), Some(kind));
            assert_eq!(Kind::ALL[kind.index()], kind);
        }
        assert_eq!(Kind::from_resource("nothing"), None);
        assert_eq!(Kind::Appointment.id_value(7), Value::from("7"));
        assert_eq!(Kind::ClinicalNote.id_value(7), Value::from(7));
    }
}

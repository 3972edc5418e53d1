//! The job catalogue: one file per job, each registered in
//! [`crate::registry`], and [`apply_records`], the one way records are
//! written, which enqueues the jobs a write starts.

pub mod apply_partner_appointment_event;
mod apply_records;
pub mod archive_pdf;
pub mod cleanup;
pub mod decrypt_gridhook;
pub mod fetch_record;
pub mod link_note;
pub mod push_appointment;
pub mod push_patient;
pub mod sync_patient_lists;
pub mod sync_records;
pub mod upsert_record;

pub use apply_partner_appointment_event::ApplyPartnerAppointmentEvent;
pub use apply_records::apply_records;
pub use archive_pdf::ArchivePdf;
pub use cleanup::Cleanup;
pub use decrypt_gridhook::DecryptGridhook;
pub use fetch_record::FetchRecord;
pub use link_note::LinkNote;
pub use push_appointment::PushAppointment;
pub use push_patient::PushPatient;
pub use sync_patient_lists::SyncPatientLists;
pub use sync_records::SyncRecords;
pub use upsert_record::UpsertRecord;

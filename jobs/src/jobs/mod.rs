//! One file per job. Each is registered in [`crate::registry`].

pub mod archive_pdf;
pub mod cleanup;
pub mod fetch_record;
pub mod sync_patient_lists;
pub mod sync_records;
pub mod upsert_record;

pub use archive_pdf::ArchivePdf;
pub use cleanup::Cleanup;
pub use fetch_record::FetchRecord;
pub use sync_patient_lists::SyncPatientLists;
pub use sync_records::SyncRecords;
pub use upsert_record::UpsertRecord;

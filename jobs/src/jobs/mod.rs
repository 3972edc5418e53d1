//! One file per job. Each is registered in [`crate::registry`].

pub mod fetch_record;
pub mod sync_records;
pub mod upsert_record;

pub use fetch_record::FetchRecord;
pub use sync_records::SyncRecords;
pub use upsert_record::UpsertRecord;

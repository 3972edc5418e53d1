//! One file per job. Each is registered in [`crate::registry`].

pub mod fetch_patient;
pub mod upsert_patient;

pub use fetch_patient::FetchPatient;
pub use upsert_patient::UpsertPatient;

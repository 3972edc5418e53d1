//! The partner appointment feed: the event schema and the event store.
//! Handlers live in `routes::partner`; the work an event causes is the
//! `apply_partner_appointment_event` job.

pub mod schema;
pub mod store;

//! Domain tables mirrored from DrChrono. Upserts are idempotent and
//! stale-safe: an older `updated_at` never overwrites a newer one.

pub mod patients;

/// What an upsert did to its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Inserted,
    Updated,
    /// The stored row is newer or identical.
    Unchanged,
}

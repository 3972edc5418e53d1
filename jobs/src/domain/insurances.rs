//! `patient_insurances`: the coverage blocks of the verbose patient as rows
//! a practice can query. The rows are rebuilt from the stored `raw`
//! (`level_patient_insurances`, in the migration that made the table), in the
//! transaction of the patient upsert, so a plain object, which lacks the
//! blocks and so keeps the stored ones, leaves the coverage as it was.

use sqlx::PgConnection;

/// Levels the coverage rows of these just-written patients; returns how many
/// rows it wrote or removed.
pub async fn level(db: &mut PgConnection, patients: &[i64]) -> Result<i64, sqlx::Error> {
    if patients.is_empty() {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT level_patient_insurances($1)").bind(patients).fetch_one(db).await
}

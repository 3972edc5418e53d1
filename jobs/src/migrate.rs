//! Applies apalis-postgres's migrations, then the project's own.
//!
//! Both sets share sqlx's `_sqlx_migrations` table, so each ignores the
//! other's entries. The project's versions sort after apalis 1.0's.

use sqlx::PgPool;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("applying the job-runner (apalis) migrations failed: {0}")]
    Apalis(#[source] sqlx::migrate::MigrateError),
    #[error("applying the project migrations failed: {0}")]
    Project(#[source] sqlx::migrate::MigrateError),
}

/// Brings the schema up to date; safe to run from several processes at once
/// (sqlx takes an advisory lock).
pub async fn run(pool: &PgPool) -> Result<(), MigrateError> {
    job_runner::queries::migrate_queue(pool).await.map_err(MigrateError::Apalis)?;
    let mut project = sqlx::migrate!("../migrations");
    project.set_ignore_missing(true);
    project.run(pool).await.map_err(MigrateError::Project)
}

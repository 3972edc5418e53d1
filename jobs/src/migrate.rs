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

/// The project migrations embedded in this binary that the database has not
/// applied (or applied from a different file: its checksum differs), by
/// version and description. All of them when nothing was ever applied.
pub async fn unapplied(pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    let applied: Vec<(i64, Vec<u8>)> =
        match sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success").fetch_all(pool).await {
            Ok(rows) => rows,
            Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P01") => Vec::new(),
            Err(e) => return Err(e),
        };
    let project = sqlx::migrate!("../migrations");
    Ok(project
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .filter(|m| !applied.iter().any(|(v, sum)| *v == m.version && sum.as_slice() == &*m.checksum))
        .map(|m| format!("{} {}", m.version, m.description))
        .collect())
}

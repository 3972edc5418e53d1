//! The archive's rows: `pdf_checks` (one verdict per note version) and
//! `archived_pdfs` (every object put). Idempotency lives here, because the
//! uploader cannot ask S3 what it already holds.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};

/// What the job needs to know about a stored clinical note.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredNote {
    pub patient_id: Option<i64>,
    pub appointment_id: Option<i64>,
    pub locked: bool,
    /// DrChrono's `updated_at`: the note version a check is for.
    pub source_updated_at: Option<DateTime<Utc>>,
}

pub async fn stored_note(db: impl PgExecutor<'_>, note_id: i64) -> Result<Option<StoredNote>, sqlx::Error> {
    sqlx::query_as("SELECT patient_id, appointment_id, locked, source_updated_at FROM clinical_notes WHERE id = $1")
        .bind(note_id)
        .fetch_optional(db)
        .await
}

/// The result already recorded for this version of the note, if any.
pub async fn recorded_result(
    db: impl PgExecutor<'_>,
    note_id: i64,
    version: Option<DateTime<Utc>>,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT result FROM pdf_checks WHERE clinical_note_id = $1 AND note_updated_at IS NOT DISTINCT FROM $2",
    )
    .bind(note_id)
    .bind(version)
    .fetch_optional(db)
    .await
}

/// The archived version that holds exactly these bytes, if one does.
pub async fn archived_version_with(
    db: impl PgExecutor<'_>,
    note_id: i64,
    sha256: &str,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar("SELECT version FROM archived_pdfs WHERE clinical_note_id = $1 AND sha256 = $2")
        .bind(note_id)
        .bind(sha256)
        .fetch_optional(db)
        .await
}

/// The version number a new, different PDF of the note gets.
pub async fn next_version(db: impl PgExecutor<'_>, note_id: i64) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("SELECT coalesce(max(version), 0) + 1 FROM archived_pdfs WHERE clinical_note_id = $1")
        .bind(note_id)
        .fetch_one(db)
        .await
}

/// One `pdf_checks` row.
#[derive(Debug, Clone)]
pub struct Check {
    pub note_id: i64,
    pub note_updated_at: Option<DateTime<Utc>>,
    pub result: &'static str,
    pub reason: Option<String>,
    pub matched_page: Option<i32>,
    pub pages: Option<i32>,
    pub sha256: Option<String>,
    pub size_bytes: Option<i64>,
    pub job_id: Option<String>,
}

/// One `archived_pdfs` row.
#[derive(Debug, Clone)]
pub struct Archived {
    pub patient_id: Option<i64>,
    pub version: i32,
    pub bucket: String,
    pub key: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub etag: Option<String>,
    pub s3_version_id: Option<String>,
}

/// Records a verdict; returns its id, or `None` when this note version was
/// already recorded (another attempt got there first).
pub async fn record_check(db: impl PgExecutor<'_>, c: &Check) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO pdf_checks (clinical_note_id, note_updated_at, result, reason, matched_page, pages, \
         sha256, size_bytes, job_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (clinical_note_id, note_updated_at) DO NOTHING RETURNING id",
    )
    .bind(c.note_id)
    .bind(c.note_updated_at)
    .bind(c.result)
    .bind(&c.reason)
    .bind(c.matched_page)
    .bind(c.pages)
    .bind(&c.sha256)
    .bind(c.size_bytes)
    .bind(&c.job_id)
    .fetch_optional(db)
    .await
}

/// Records a match and the object it was put as, in one transaction:
/// either both rows exist or neither does, so a crash between the PUT and
/// this commit leads to the same PUT (same key, same bytes) and these rows.
pub async fn record_archived(pool: &PgPool, check: &Check, a: &Archived) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let Some(check_id) = record_check(&mut *tx, check).await? else {
        return Ok(false);
    };
    sqlx::query(
        "INSERT INTO archived_pdfs (clinical_note_id, patient_id, version, bucket, object_key, sha256, \
         size_bytes, etag, s3_version_id, check_id, job_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(check.note_id)
    .bind(a.patient_id)
    .bind(a.version)
    .bind(&a.bucket)
    .bind(&a.key)
    .bind(&a.sha256)
    .bind(a.size_bytes)
    .bind(&a.etag)
    .bind(&a.s3_version_id)
    .bind(check_id)
    .bind(&check.job_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// A note waiting for a person: its latest check needs review.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Review {
    pub clinical_note_id: i64,
    pub patient_id: Option<i64>,
    pub note_updated_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub pages: Option<i32>,
    pub size_bytes: Option<i64>,
    pub checked_at: DateTime<Utc>,
    pub job_id: Option<String>,
}

/// Notes whose most recent check needs review, oldest first.
pub async fn needing_review(db: impl PgExecutor<'_>, limit: i64) -> Result<Vec<Review>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.clinical_note_id, n.patient_id, c.note_updated_at, c.reason, c.pages, c.size_bytes, \
                c.checked_at, c.job_id \
         FROM pdf_checks c LEFT JOIN clinical_notes n ON n.id = c.clinical_note_id \
         WHERE c.result = 'needs_review' AND NOT EXISTS ( \
             SELECT 1 FROM pdf_checks later WHERE later.clinical_note_id = c.clinical_note_id \
             AND later.checked_at > c.checked_at) \
         ORDER BY c.checked_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Forgets the needs-review verdict of a note's current version, so the
/// next `archive_pdf` job checks it afresh (after a person fixed the cause).
pub async fn forget_review(db: impl PgExecutor<'_>, note_id: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM pdf_checks c USING clinical_notes n WHERE n.id = c.clinical_note_id \
         AND c.clinical_note_id = $1 AND c.result = 'needs_review' \
         AND c.note_updated_at IS NOT DISTINCT FROM n.source_updated_at",
    )
    .bind(note_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

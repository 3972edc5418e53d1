//! `archive_pdf`: a locked note's PDF → provider check → S3, exactly once.
//!
//! Enqueued by [`super::apply_records`] when a note becomes locked, whatever brought
//! the lock (webhook, fetch, reconciliation or write-back), one active job per note.
//!
//! Exactly once, with an uploader that may only PutObject:
//! - every verdict is a `pdf_checks` row per note version, so a rerun for a
//!   version already checked does nothing, and fetches nothing;
//! - the object key is fixed before the PUT by the note and its version
//!   number, so a crash after the PUT and before the rows commit leads the
//!   retry to put the same bytes at the same key: one object, one row;
//! - the same bytes are put once per note (`archived_pdfs` holds their
//!   SHA-256); different bytes after a re-lock become the next version.

use anyhow::anyhow;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{
    JobContext,
    archive::{
        self, Needle, Verdict,
        download::{DownloadError, download, note_link},
        s3::put_pdf,
        store::{self, Archived, Check, StoredNote},
    },
    domain::audit::{self, OperatorAction},
    faults::{self, FaultPoint},
};
use job_runner::{BackgroundJob, JobError, JobOutcome, current_job_id};

#[doc(alias("archive_pdf"))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivePdf {
    pub clinical_note_id: i64,
}

/// Expired links fetched afresh within one attempt before it gives up.
const LINK_ATTEMPTS: usize = 3;

impl BackgroundJob for ArchivePdf {
    const NAME: &'static str = "archive_pdf";
    const MAX_ATTEMPTS: i32 = 8;
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);
    /// Parsing is CPU-bound and a PDF may be 50 MB in memory.
    const CONCURRENCY: usize = 2;
    type Context = JobContext;

    fn dedup_key(&self) -> Option<String> {
        Some(self.clinical_note_id.to_string())
    }

    async fn run(self, ctx: JobContext) -> Result<JobOutcome, JobError> {
        let id = self.clinical_note_id;
        if ctx.settings.archive.enabled().is_none() {
            return Ok(JobOutcome::skipped("archiving is off: PROVIDER_STRING or S3_BUCKET is not set"));
        }
        let Some(note) = store::stored_note(&ctx.pool, id).await? else {
            return Ok(JobOutcome::skipped("the note is not stored"));
        };
        if !note.locked {
            return Ok(JobOutcome::skipped("the note is not locked"));
        }
        if let Some(result) = store::recorded_result(&ctx.pool, id, note.source_updated_at).await? {
            return Ok(JobOutcome::skipped(format!("this version of the note was already checked: {result}")));
        }
        let outcome = archive_version(&ctx, id, &note).await?;
        // A re-lock while this ran enqueued nothing (this job held the note's
        // key), so this job goes on to the newer version itself.
        let now = store::stored_note(&ctx.pool, id).await?;
        if now.is_some_and(|n| n.locked && n.source_updated_at != note.source_updated_at) {
            let wait = Utc::now() + chrono::Duration::seconds(1);
            return Err(JobError::WaitUntil(
                wait,
                anyhow!("note {id} changed while it was checked; checking its newer version"),
            ));
        }
        Ok(outcome)
    }
}

/// What fetching the PDF came to.
enum Fetched {
    Pdf(Vec<u8>),
    /// DrChrono shows the note unlocked (again): nothing to archive.
    Unlocked,
    AppointmentGone,
    /// The file itself is the problem (too large, not a PDF): for review.
    FileProblem(DownloadError),
}

async fn archive_version(ctx: &JobContext, id: i64, note: &StoredNote) -> Result<JobOutcome, JobError> {
    let settings = &ctx.settings.archive;
    let (provider, bucket) = settings.enabled().ok_or_else(|| JobError::permanent(anyhow!("archiving is off")))?;
    let needle = Needle::new(provider).ok_or_else(|| {
        JobError::permanent(anyhow!("PROVIDER_STRING has no characters to search for; set it to the provider's name"))
    })?;
    let mut check = Check {
        note_id: id,
        note_updated_at: note.source_updated_at,
        result: "needs_review",
        reason: None,
        matched_page: None,
        pages: None,
        sha256: None,
        size_bytes: None,
        job_id: current_job_id(),
    };
    let Some(appointment) = note.appointment_id else {
        check.reason =
            Some("the note has no appointment, and DrChrono links a note's PDF only from its appointment".into());
        return record(ctx, &check).await;
    };
    let pdf = match fetch_pdf(ctx, id, appointment).await? {
        Fetched::Pdf(pdf) => pdf,
        Fetched::Unlocked => return Ok(JobOutcome::skipped("DrChrono shows the note unlocked")),
        Fetched::AppointmentGone => return Ok(JobOutcome::skipped("the note's appointment is gone at DrChrono")),
        Fetched::FileProblem(e) => {
            check.reason = Some(e.to_string());
            return record(ctx, &check).await;
        }
    };
    let digest = Sha256::digest(&pdf);
    let sha256 = hex_lower(&digest);
    check.sha256 = Some(sha256.clone());
    check.size_bytes = Some(pdf.len() as i64);
    if let Some(version) = store::archived_version_with(&ctx.pool, id, &sha256).await? {
        check.result = "matched";
        check.reason = Some(format!("identical to archived version {version}"));
        record(ctx, &check).await?;
        return Ok(JobOutcome::skipped(format!("these bytes are already archived as version {version}")));
    }
    let (verdict, pdf) = tokio::task::spawn_blocking(move || (archive::check(&pdf, &needle), pdf))
        .await
        .map_err(|_| JobError::retryable(anyhow!("the provider check of note {id} did not finish")))?;
    check.result = verdict.result();
    match verdict {
        Verdict::NotMatched { pages } => check.pages = Some(pages as i32),
        Verdict::NeedsReview { reason, pages } => {
            check.reason = Some(reason);
            check.pages = pages.map(|p| p as i32);
        }
        Verdict::Matched { page, pages, form } => {
            check.matched_page = Some(page as i32);
            check.pages = Some(pages as i32);
            check.reason = Some(format!("matched {}", form.as_str()));
        }
    }
    if check.result != "matched" {
        return record(ctx, &check).await;
    }
    let version = store::next_version(&ctx.pool, id).await?;
    let key = settings.object_key(note.patient_id, id, version);
    let client = ctx.s3.client(settings).await;
    let size_bytes = pdf.len() as i64;
    let stored = put_pdf(client, bucket, &key, pdf, &digest, &settings.sse).await?;
    faults::reached(FaultPoint::AfterS3Put);
    let archived = Archived {
        patient_id: note.patient_id,
        version,
        bucket: bucket.to_string(),
        key,
        sha256,
        size_bytes,
        etag: stored.etag,
        s3_version_id: stored.version_id,
    };
    store::record_archived(&ctx.pool, &check, &archived).await?;
    tracing::info!(note_id = id, version, size_bytes, "note PDF archived");
    Ok(JobOutcome::applied(2))
}

/// A fresh link, then the file; an expired link is replaced by a fresh one.
async fn fetch_pdf(ctx: &JobContext, id: i64, appointment: i64) -> Result<Fetched, JobError> {
    let client = ctx.drchrono();
    for _ in 0..LINK_ATTEMPTS {
        let Some(link) = note_link(&client, appointment).await? else {
            return Ok(Fetched::AppointmentGone);
        };
        if !link.locked {
            return Ok(Fetched::Unlocked);
        }
        let Some(url) = link.pdf else {
            return Err(JobError::retryable(anyhow!("DrChrono offers no PDF for note {id} yet")));
        };
        match download(&ctx.http, &url, ctx.settings.archive.max_pdf_bytes).await {
            Ok(pdf) => return Ok(Fetched::Pdf(pdf)),
            Err(DownloadError::Expired) => tracing::info!(note_id = id, "note PDF link expired; fetching a fresh one"),
            Err(e) if e.is_about_the_file() => return Ok(Fetched::FileProblem(e)),
            Err(e) => return Err(e.into()),
        }
    }
    Err(JobError::retryable(anyhow!("note {id}'s PDF link expired {LINK_ATTEMPTS} times in a row; retrying later")))
}

async fn record(ctx: &JobContext, check: &Check) -> Result<JobOutcome, JobError> {
    store::record_check(&ctx.pool, check).await?;
    tracing::info!(note_id = check.note_id, result = check.result, page = check.matched_page, "note PDF checked");
    Ok(JobOutcome::applied(1))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// An operator's recheck of a note whose check needs review: the verdict is
// forgotten and this job enqueued again, in one transaction with its
// `operator_actions` row (`cargo xtask pdf recheck`, the console's Review page).

/// What a recheck did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recheck {
    /// The note's current version has no needs-review verdict: nothing done.
    NoVerdict,
    Enqueued(String),
    /// The verdict is forgotten; the note's job was already waiting.
    AlreadyQueued,
}

pub async fn recheck(pool: &sqlx::PgPool, note: i64, actor: &str) -> Result<Recheck, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let outcome = if store::forget_review(&mut *tx, note).await? == 0 {
        Recheck::NoVerdict
    } else {
        match job_runner::enqueue(&mut *tx, &ArchivePdf { clinical_note_id: note }).await? {
            Some(job) => Recheck::Enqueued(job),
            None => Recheck::AlreadyQueued,
        }
    };
    let (said, job_ids) = match &outcome {
        Recheck::NoVerdict => ("refused: no needs-review verdict", vec![]),
        Recheck::Enqueued(job) => ("rechecked", vec![job.clone()]),
        Recheck::AlreadyQueued => ("rechecked; job already queued", vec![]),
    };
    let row = OperatorAction {
        actor,
        action: "pdf_recheck",
        filters: json!({ "clinical_note": note }),
        dry_run: false,
        job_ids: &job_ids,
        delivery_ids: &[],
        outcome: said,
    };
    audit::record_action(&mut *tx, &row).await?;
    tx.commit().await?;
    Ok(outcome)
}

//! `cargo xtask pdf`: the note PDF archive's operator commands.
//!
//! - `review` lists the notes whose PDF could not be judged (scanned,
//!   damaged, encrypted, too large, unreadable fonts), with the reason;
//! - `recheck NOTE` forgets that verdict and enqueues the note's
//!   `archive_pdf` job again, once the cause is fixed (a larger
//!   `ARCHIVE_MAX_PDF_BYTES`, a re-exported PDF).
//!
//! It reads the service's configuration (environment or `.env`). Output
//! names ids, counts and reasons: never note text or names.

use anyhow::{Result, bail};
use clap::Subcommand;
use jobs::{
    archive::store,
    catalog::archive_pdf::{self, Recheck},
};

#[derive(Subcommand, Debug)]
pub enum PdfCommand {
    /// List notes whose PDF needs a person (latest check `needs_review`), oldest first.
    Review {
        /// At most this many notes.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Check a note's PDF again: forget its needs-review verdict and enqueue its archive job.
    Recheck {
        /// The clinical note id.
        note: i64,
    },
}

pub async fn run(cmd: PdfCommand) -> Result<()> {
    let pool = crate::config::service_pool(&crate::config::service_settings()).await?;
    match cmd {
        PdfCommand::Review { limit } => review(&pool, limit).await,
        PdfCommand::Recheck { note } => recheck(&pool, note).await,
    }
}

async fn review(pool: &sqlx::PgPool, limit: i64) -> Result<()> {
    let rows = store::needing_review(pool, limit).await?;
    if rows.is_empty() {
        println!("no note PDF needs review");
        return Ok(());
    }
    println!("{:>10}  {:>10}  {:<20}  {:>5}  {:>9}  reason", "note", "patient", "checked", "pages", "bytes");
    for r in &rows {
        let dash = || "-".to_string();
        println!(
            "{:>10}  {:>10}  {:<20}  {:>5}  {:>9}  {}",
            r.clinical_note_id,
            r.patient_id.map_or_else(dash, |p| p.to_string()),
            r.checked_at.format("%Y-%m-%d %H:%M:%S"),
            r.pages.map_or_else(dash, |p| p.to_string()),
            r.size_bytes.map_or_else(dash, |s| s.to_string()),
            r.reason.as_deref().unwrap_or("-"),
        );
    }
    println!("{} note(s); after fixing the cause: cargo xtask pdf recheck NOTE", rows.len());
    Ok(())
}

async fn recheck(pool: &sqlx::PgPool, note: i64) -> Result<()> {
    match archive_pdf::recheck(pool, note, &crate::config::cli_actor()).await? {
        Recheck::NoVerdict => {
            bail!("note {note}'s current version has no needs-review verdict; see `cargo xtask pdf review`")
        }
        Recheck::Enqueued(job) => println!("note {note}: verdict forgotten; archive_pdf job {job} enqueued"),
        Recheck::AlreadyQueued => println!("note {note}: verdict forgotten; its archive_pdf job is already queued"),
    }
    println!("a running `drchrono-sync work` (or `all`) picks it up");
    Ok(())
}

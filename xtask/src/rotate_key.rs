//! `cargo xtask rotate-key`: after a new `TOKEN_ENCRYPTION_KEY` (the old one
//! in `TOKEN_ENCRYPTION_KEY_PREVIOUS`), re-seal every sealed value under it,
//! so the previous key can be dropped. Reads the service's environment and
//! database, as the service does; the work is `jobs::rotation`'s.
//!
//! Prints tables, key ids and counts, never a value; exits non-zero when a
//! value opens with neither key.

use anyhow::{Result, bail};
use clap::Args;
use jobs::rotation::{RotateOptions, RotationReport, TableReport, rotate_keys};

use crate::config;

#[derive(Args, Debug)]
pub struct RotateKeyArgs {
    /// Count what would be re-sealed, and check that it opens, without writing.
    #[arg(long)]
    dry_run: bool,
    /// Rows per transaction.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..=10_000))]
    batch_size: i64,
    /// Stop after this many batches; running it again does the rest.
    #[arg(long)]
    max_batches: Option<u64>,
}

pub async fn run(args: RotateKeyArgs) -> Result<()> {
    let settings = config::service_settings();
    let Some(keys) = settings.token_keys() else {
        bail!(
            "TOKEN_ENCRYPTION_KEY is not set: set it to the new key and TOKEN_ENCRYPTION_KEY_PREVIOUS to the old one, as the service has them"
        );
    };
    let previous = keys.previous().map_or_else(|| "unset".to_string(), |p| format!("key id {}", p.key_id()));
    println!(
        "{} under TOKEN_ENCRYPTION_KEY (key id {}); TOKEN_ENCRYPTION_KEY_PREVIOUS: {previous}",
        if args.dry_run { "Dry run: counting what is not" } else { "Re-sealing what is not" },
        keys.current().key_id()
    );
    let pool = config::service_pool(&settings).await?;
    let client = settings.job_settings().drchrono;
    let seed = client.access_token.as_deref().map(|access| (access, client.refresh_token.as_deref()));
    let options = RotateOptions {
        batch_size: args.batch_size,
        max_batches: args.max_batches,
        dry_run: args.dry_run,
        actor: format!("{}:rotate-key", config::cli_actor()),
    };
    let report = rotate_keys(&pool, &keys, seed, &options, |t| println!("  {}", progress(t, args.dry_run))).await?;
    print_summary(&report, args.dry_run);
    finish(&report, seed.is_some(), args.dry_run)
}

fn progress(t: &TableReport, dry_run: bool) -> String {
    let verb = if dry_run { "to re-seal" } else { "re-sealed" };
    format!(
        "{}: batch {}, {} row(s) {verb}, {} fingerprint(s), {} unopenable",
        t.table, t.batches, t.resealed, t.fingerprints, t.unopenable
    )
}

fn print_summary(report: &RotationReport, dry_run: bool) {
    println!(
        "{:<16} {:>10} {:>12} {:>10}",
        "table",
        if dry_run { "to re-seal" } else { "re-sealed" },
        "fingerprints",
        "unopenable"
    );
    for t in &report.tables {
        println!("{:<16} {:>10} {:>12} {:>10}", t.table, t.resealed, t.fingerprints, t.unopenable);
    }
}

/// The outcome's last lines, and an error (a non-zero exit) when a value
/// did not open.
fn finish(report: &RotationReport, seed_known: bool, dry_run: bool) -> Result<()> {
    if !seed_known {
        println!(
            "oauth_tokens.seed_fingerprint: left as it is (DRCHRONO_ACCESS_TOKEN is not set here, so it cannot be recomputed; the service only compares it with that variable)"
        );
    }
    if report.unopenable_rows() > 0 {
        for u in &report.unopenable {
            eprintln!("  {u}");
        }
        bail!(
            "{} row(s) hold a value that opens with neither TOKEN_ENCRYPTION_KEY nor TOKEN_ENCRYPTION_KEY_PREVIOUS (listed above, at most {}); \
             set TOKEN_ENCRYPTION_KEY_PREVIOUS to the key that sealed them and run `cargo xtask rotate-key` again. \
             Keep TOKEN_ENCRYPTION_KEY_PREVIOUS until a run reports none",
            report.unopenable_rows(),
            jobs::rotation::LISTED
        );
    }
    if report.stopped_early {
        println!("Stopped after --max-batches; run `cargo xtask rotate-key` again to do the rest.");
    } else if report.resealed() == 0 {
        println!("Every sealed value is under TOKEN_ENCRYPTION_KEY; TOKEN_ENCRYPTION_KEY_PREVIOUS can be unset.");
    } else if dry_run {
        println!("{} row(s) to re-seal; run `cargo xtask rotate-key` without --dry-run.", report.resealed());
    } else {
        println!(
            "{} row(s) re-sealed; run it again to confirm 0, then unset TOKEN_ENCRYPTION_KEY_PREVIOUS.",
            report.resealed()
        );
    }
    Ok(())
}

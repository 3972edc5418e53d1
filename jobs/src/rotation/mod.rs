//! Re-sealing every sealed value under the current `TOKEN_ENCRYPTION_KEY`
//! (`cargo xtask rotate-key`), so that `TOKEN_ENCRYPTION_KEY_PREVIOUS` can
//! be dropped afterwards.
//!
//! Table by table, in small batches, each its own transaction: a run that
//! stops (a crash, `max_batches`) has committed whole batches only, and the
//! next run finds just the values still not under the current key, which is
//! a comparison of each value's first bytes (its layout and key id). The rows
//! of a batch are locked (`FOR UPDATE`) from reading to committing, so a
//! token refresh or a note stored meanwhile is never overwritten with the
//! older value. Fingerprints are recomputed with the current key's
//! fingerprint subkey as their values are re-sealed.
//!
//! Nothing here logs or returns a value, sealed or opened: tables, row ids,
//! key ids and counts only.

mod tables;

use serde::Serialize;
use sqlx::PgPool;

use crate::drchrono::{KeyId, Keyring, OpenError};
use tables::{Cursor, Table};

/// How a run goes.
#[derive(Debug, Clone)]
pub struct RotateOptions {
    /// Rows per transaction.
    pub batch_size: i64,
    /// Stop after this many batches (every table together); the next run
    /// does the rest. `None`: until done.
    pub max_batches: Option<u64>,
    /// Count what would change, and check that it opens, without writing.
    pub dry_run: bool,
    /// Who re-sealed: `synced_by` of re-sealed Deep Cura notes, so their
    /// change_log entries name the rotation.
    pub actor: String,
}

impl Default for RotateOptions {
    fn default() -> Self {
        Self { batch_size: 100, max_batches: None, dry_run: false, actor: "rotate-key".into() }
    }
}

/// The environment's seed tokens (`DRCHRONO_ACCESS_TOKEN`,
/// `DRCHRONO_REFRESH_TOKEN`), when set: `oauth_tokens.seed_fingerprint` is
/// a fingerprint of them, recomputed only with them at hand.
pub type SeedPair<'a> = Option<(&'a str, Option<&'a str>)>;

/// What one table's pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TableReport {
    pub table: &'static str,
    /// Rows now wholly under the current key (in a dry run: that would be).
    pub resealed: u64,
    /// Fingerprints recomputed with the current key (dry run: would be).
    pub fingerprints: u64,
    /// Rows with a value that opens with neither key: left as they were.
    pub unopenable: u64,
    pub batches: u64,
}

/// A value that opens with neither key: where it is and why, never what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unopenable {
    pub table: &'static str,
    pub column: &'static str,
    /// The row's key: `oauth_tokens.key`, `deepcura_notes.id`, or the first
    /// bytes of `oauth_pending.state_hash` in hex.
    pub row: String,
    pub error: OpenError,
}

impl std::fmt::Display for Unopenable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{} of row {}: {}", self.table, self.column, self.row, self.error)
    }
}

#[derive(Debug, Clone, Default)]
pub struct RotationReport {
    pub tables: Vec<TableReport>,
    /// The first values that opened with neither key (at most [`LISTED`]).
    pub unopenable: Vec<Unopenable>,
    /// `max_batches` stopped the run before the end.
    pub stopped_early: bool,
}

/// How many unopenable values a report lists by row.
pub const LISTED: usize = 20;

impl RotationReport {
    /// Rows re-sealed (or, dry, to re-seal) in every table.
    pub fn resealed(&self) -> u64 {
        self.tables.iter().map(|t| t.resealed).sum()
    }

    pub fn unopenable_rows(&self) -> u64 {
        self.tables.iter().map(|t| t.unopenable).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(
        "TOKEN_ENCRYPTION_KEY and TOKEN_ENCRYPTION_KEY_PREVIOUS are different keys with the same key id {0} \
         (one pair in four billion); generate another new key (`openssl rand -base64 32`) and set it as TOKEN_ENCRYPTION_KEY"
    )]
    SharedKeyId(KeyId),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// One run over every sealed column. `progress` sees each table's report
/// after each of its batches.
pub async fn rotate_keys(
    pool: &PgPool,
    keys: &Keyring,
    seed: SeedPair<'_>,
    options: &RotateOptions,
    mut progress: impl FnMut(&TableReport),
) -> Result<RotationReport, RotateError> {
    if let Some(previous) = keys.previous().filter(|p| p.key_id() == keys.current().key_id()) {
        return Err(RotateError::SharedKeyId(previous.key_id()));
    }
    let run = tables::Run { keys, seed, options };
    let mut report = RotationReport::default();
    let mut batches_left = options.max_batches;
    for table in Table::ALL {
        let mut done = TableReport { table: table.name(), ..Default::default() };
        let mut cursor = table.start();
        loop {
            if batches_left == Some(0) {
                report.stopped_early = true;
                break;
            }
            let Some(next) = batch(pool, &run, table, &cursor, &mut done, &mut report.unopenable).await? else { break };
            cursor = next;
            batches_left = batches_left.map(|n| n - 1);
            progress(&done);
        }
        report.tables.push(done);
        if report.stopped_early {
            break;
        }
    }
    Ok(report)
}

/// One transaction: the next rows after `cursor` not under the current
/// key, re-sealed and committed (rolled back in a dry run). `None` when
/// none are left.
async fn batch(
    pool: &PgPool,
    run: &tables::Run<'_>,
    table: Table,
    cursor: &Cursor,
    done: &mut TableReport,
    unopenable: &mut Vec<Unopenable>,
) -> Result<Option<Cursor>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let outcome = table.batch(&mut tx, run, cursor).await?;
    let Some(last) = outcome.last else { return Ok(None) };
    if run.options.dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    done.batches += 1;
    done.resealed += outcome.resealed;
    done.fingerprints += outcome.fingerprints;
    done.unopenable += outcome.unopenable.len() as u64;
    let room = LISTED.saturating_sub(unopenable.len());
    unopenable.extend(outcome.unopenable.into_iter().take(room));
    Ok(Some(last))
}

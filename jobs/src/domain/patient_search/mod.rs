//! Patient search in the mirrored `patients` table, for the partner and
//! admin API (`GET /api/patients/search`) and `cargo xtask patients search`.
//! It never calls DrChrono: finding a patient must not spend the practice's
//! API budget, and must work while DrChrono is down.
//!
//! Names match accent- and case-blind (both sides through
//! `patient_search_name` in SQL). Word-prefix hits come first, and the
//! trigram (typo) query runs only when they do not fill the page: on a
//! common prefix the fuzzy candidates number in the thousands, and ranking
//! them would cost more than the page is worth.
//!
//! Every search is recorded in `read_audit`, in the transaction that reads,
//! so no read goes unaudited; a hit carries only what identifies a patient.

mod criteria;

pub use criteria::{Criteria, CriteriaError, DEFAULT_LIMIT, MAX_LIMIT, MAX_NAME_CHARS, MAX_OFFSET, RawCriteria};

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::audit;

/// Whole-name trigram similarity a multi-word term needs. One typo in a
/// full name stays above it ("jonh smith" is 0.57 from "john smith"); at
/// pg_trgm's default (0.3) a shared last name alone passes, and every
/// namesake was fetched and ranked.
const SIMILARITY: &str = "0.4";
/// Similarity of a one-word term to the closest part of a name (pg_trgm's
/// default); set explicitly so a database-wide setting cannot change hits.
const WORD_SIMILARITY: &str = "0.6";
/// Shorter terms have too few trigrams for similarity to mean anything.
const MIN_FUZZY_CHARS: usize = 4;

/// One patient found: what identifies them to the caller, nothing more.
#[derive(Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PatientHit {
    pub id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub chart_id: Option<String>,
}

impl std::fmt::Debug for PatientHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientHit").field("id", &self.id).finish_non_exhaustive()
    }
}

/// One page of hits, in rank order.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub patients: Vec<PatientHit>,
    pub limit: u32,
    pub offset: u32,
    /// The offset of the next page; `None` on the last one.
    pub next_offset: Option<u32>,
}

/// Searches and records the read as `actor` through `what` (a route or a
/// command), with the number of hits, zero included.
pub async fn search(pool: &PgPool, criteria: &Criteria, actor: &str, what: &str) -> Result<Page, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let page = find(&mut tx, criteria).await?;
    audit::record_read(&mut *tx, actor, what, page.patients.len()).await?;
    tx.commit().await?;
    Ok(page)
}

/// The page for `c`. The thresholds are set for this transaction only.
async fn find(conn: &mut PgConnection, c: &Criteria) -> Result<Page, sqlx::Error> {
    let term = match &c.name {
        Some(name) => Some(normalize(conn, name).await?),
        None => None,
    };
    // A term that normalizes to nothing (only marks unaccent removes) would
    // match every name: it matches none instead.
    if term.as_deref() == Some("") {
        return Ok(Page { patients: Vec::new(), limit: c.limit, offset: c.offset, next_offset: None });
    }
    let pattern = term.as_deref().map(criteria::regex_literal);
    let (offset, limit) = (c.offset as usize, c.limit as usize);
    let want = offset + limit + 1;
    let mut hits: Vec<PatientHit> = sqlx::query_as(include_str!("prefix.sql"))
        .bind(&term)
        .bind(&pattern)
        .bind(c.date_of_birth)
        .bind(&c.phone)
        .bind(want as i64)
        .persistent(false)
        .fetch_all(&mut *conn)
        .await?;
    let found = hits.len();
    hits.drain(..offset.min(found));
    if let Some(term) = term.as_deref().filter(|t| found < want && t.chars().count() >= MIN_FUZZY_CHARS) {
        let more: Vec<PatientHit> = sqlx::query_as(include_str!("fuzzy.sql"))
            .bind(term)
            .bind(&pattern)
            .bind(c.date_of_birth)
            .bind(&c.phone)
            .bind(term.contains(' '))
            .bind((limit + 1 - hits.len()) as i64)
            .bind(offset.saturating_sub(found) as i64)
            .persistent(false)
            .fetch_all(&mut *conn)
            .await?;
        hits.extend(more);
    }
    let next_offset = (hits.len() > limit).then_some(c.offset + c.limit);
    hits.truncate(limit);
    Ok(Page { patients: hits, limit: c.limit, offset: c.offset, next_offset })
}

/// The term as the stored names are normalized (`patient_search_name`),
/// with the similarity thresholds set for the rest of the transaction.
async fn normalize(conn: &mut PgConnection, name: &str) -> Result<String, sqlx::Error> {
    let (term,): (Option<String>,) = sqlx::query_as(
        "SELECT patient_search_name($1, NULL), \
                set_config('pg_trgm.similarity_threshold', $2, true), \
                set_config('pg_trgm.word_similarity_threshold', $3, true)",
    )
    .bind(name)
    .bind(SIMILARITY)
    .bind(WORD_SIMILARITY)
    .fetch_one(&mut *conn)
    .await?;
    Ok(term.unwrap_or_default())
}

//! Patient search in the mirrored `patients` table, for the partner and
//! admin API (`GET /api/patients/search`) and `cargo xtask patients search`.
//! It never calls DrChrono: finding a patient must not spend the practice's
//! API budget, and must work while DrChrono is down.
//!
//! Names match accent- and case-blind (both sides through
//! `patient_search_name` in SQL). Word-prefix hits come first, and the
//! typo step runs only when they do not fill the page. It corrects each word
//! of the term against the few thousand distinct words of the patients'
//! names (`patient_name_words`), then finds patients by the corrected words
//! through the name index: ranking every patient whose whole name is merely
//! close by trigrams cost thousands of comparisons on a common surname.
//!
//! Every search is recorded in `read_audit`, in the transaction that reads,
//! so no read goes unaudited; a hit carries only what identifies a patient.

mod criteria;

pub use criteria::{Criteria, CriteriaError, DEFAULT_LIMIT, MAX_LIMIT, MAX_NAME_CHARS, MAX_OFFSET, RawCriteria};

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::audit;

/// Trigram similarity a name word needs to a term word to be one of its
/// corrections. Short words share few trigrams: "jonh" is only 0.25 from
/// "john". Only the closest four per term word are kept, so a low floor
/// adds no noise beyond them. Set per transaction, so a database-wide
/// setting cannot change hits.
const SIMILARITY: &str = "0.2";
/// The term words whose corrections must all be in a name; further words
/// only rank.
const MAX_FUZZY_WORDS: usize = 3;
/// The mean similarity, over the term's words, of a hit's closest
/// corrections. One short word with a swap ("jonh" 0.25 from "john") passes
/// beside an exact one; one word merely sharing a stem ("quetzalnobody" is
/// 0.32 from "quetzaltenango") does not, nor does one name word standing
/// in for two term words ("maria mar" is 0.34 from "martha").
const MIN_MEAN_SIMILARITY: f64 = 0.5;
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
        let skip = offset.saturating_sub(found);
        let more = corrected(conn, term, pattern.as_deref(), c, limit + 1 - hits.len(), skip).await?;
        hits.extend(more);
    }
    let next_offset = (hits.len() > limit).then_some(c.offset + c.limit);
    hits.truncate(limit);
    Ok(Page { patients: hits, limit: c.limit, offset: c.offset, next_offset })
}

/// A term word's correction: (the term word's number, from 1; a word of
/// the stored names; their trigram similarity).
type Fix = (i32, String, f64);

/// Patients found through the term's words corrected against the names'
/// words (fixes.sql, fuzzy.sql): none when a word has no close name word.
async fn corrected(
    conn: &mut PgConnection,
    term: &str,
    pattern: Option<&str>,
    c: &Criteria,
    limit: usize,
    skip: usize,
) -> Result<Vec<PatientHit>, sqlx::Error> {
    let words: Vec<&str> = term.split(' ').filter(|w| !w.is_empty()).collect();
    let fixes: Vec<Fix> =
        sqlx::query_as(include_str!("fixes.sql")).bind(&words).persistent(false).fetch_all(&mut *conn).await?;
    // A correction too far to reach the mean even beside exact words would
    // only widen the candidates the name index fetches.
    let others = (words.len() - 1) as f64;
    let floor = MIN_MEAN_SIMILARITY * words.len() as f64;
    let fixes: Vec<Fix> = fixes.into_iter().filter(|f| f.2 + others >= floor).collect();
    let typo = Typo { term, pattern, criteria: c, words: words.len(), limit, skip };
    // A name holding every word's closest correction (ties included) has the
    // highest score, so those names rank first: when they alone fill the
    // page, the other corrections' namesakes need not be fetched and sorted.
    // Only a one-word term is worth the extra query: there a correction's
    // namesakes are a whole surname's, while several words narrow each other.
    let best: Vec<Fix> = fixes.iter().filter(|f| fixes.iter().all(|g| g.0 != f.0 || g.2 <= f.2)).cloned().collect();
    if words.len() == 1 && best.len() < fixes.len() {
        let hits = typo.hits(conn, &best).await?;
        if hits.len() == limit {
            return Ok(hits);
        }
    }
    typo.hits(conn, &fixes).await
}

/// One typo search's term and page.
struct Typo<'a> {
    term: &'a str,
    pattern: Option<&'a str>,
    criteria: &'a Criteria,
    words: usize,
    limit: usize,
    skip: usize,
}

impl Typo<'_> {
    /// The page of patients whose names hold, for each term word, one of
    /// `fixes` (fuzzy.sql).
    async fn hits(&self, conn: &mut PgConnection, fixes: &[Fix]) -> Result<Vec<PatientHit>, sqlx::Error> {
        let patterns: Vec<String> = (1..=self.words.min(MAX_FUZZY_WORDS) as i32)
            .map(|n| {
                let alternatives: Vec<String> =
                    fixes.iter().filter(|f| f.0 == n).map(|f| criteria::regex_literal(&f.1)).collect();
                format!("(^| )({})( |$)", alternatives.join("|"))
            })
            .collect();
        if patterns.iter().any(|p| p.ends_with("()( |$)")) {
            return Ok(Vec::new());
        }
        sqlx::query_as(include_str!("fuzzy.sql"))
            .bind(self.term)
            .bind(self.pattern)
            .bind(self.criteria.date_of_birth)
            .bind(&self.criteria.phone)
            .bind(fixes.iter().map(|f| f.0).collect::<Vec<_>>())
            .bind(fixes.iter().map(|f| f.1.as_str()).collect::<Vec<_>>())
            .bind(fixes.iter().map(|f| f.2).collect::<Vec<_>>())
            .bind(&patterns[0])
            .bind(patterns.get(1))
            .bind(patterns.get(2))
            .bind(self.limit as i64)
            .bind(self.skip as i64)
            .bind(MIN_MEAN_SIMILARITY * self.words as f64)
            .persistent(false)
            .fetch_all(&mut *conn)
            .await
    }
}

/// The term as the stored names are normalized (`patient_search_name`),
/// with the similarity threshold set for the rest of the transaction.
async fn normalize(conn: &mut PgConnection, name: &str) -> Result<String, sqlx::Error> {
    let (term,): (Option<String>,) =
        sqlx::query_as("SELECT patient_search_name($1, NULL), set_config('pg_trgm.similarity_threshold', $2, true)")
            .bind(name)
            .bind(SIMILARITY)
            .fetch_one(&mut *conn)
            .await?;
    Ok(term.unwrap_or_default())
}

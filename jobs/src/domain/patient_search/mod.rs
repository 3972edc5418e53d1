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
//! through the index of the names' words: ranking every patient whose whole
//! name is merely close by trigrams cost thousands of comparisons on a
//! common surname.
//!
//! A search is one statement (search.sql), its `read_audit` row included, so
//! no read goes unaudited and a search costs one round trip: on a busy host
//! each further round trip waited for the server to be scheduled again.
//! A hit carries only what identifies a patient.

mod criteria;

pub use criteria::{Criteria, CriteriaError, DEFAULT_LIMIT, MAX_LIMIT, MAX_NAME_CHARS, MAX_OFFSET, RawCriteria};

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::PgPool;

/// Trigram similarity a name word needs to a term word to be one of its
/// corrections. Short words share few trigrams: "jonh" is only 0.25 from
/// "john". Only the closest four per term word are kept, so a low floor
/// adds no noise beyond them. Set for the search's statement only, so a
/// database-wide setting cannot change hits.
const SIMILARITY: &str = "0.2";
/// The mean similarity, over the term's words, of a hit's closest
/// corrections. One short word with a swap ("jonh" 0.25 from "john") passes
/// beside an exact one; one word merely sharing a stem ("quetzalnobody" is
/// 0.32 from "quetzaltenango") does not, nor does one name word standing
/// in for two term words ("maria mar" is 0.34 from "martha").
const MIN_MEAN_SIMILARITY: f64 = 0.5;
/// Shorter terms have too few trigrams for similarity to mean anything.
const MIN_FUZZY_CHARS: i32 = 4;

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
/// command), with the number of hits, zero included. Only the first three
/// words of a term must each have a correction in a typo hit; further words
/// only rank.
pub async fn search(pool: &PgPool, criteria: &Criteria, actor: &str, what: &str) -> Result<Page, sqlx::Error> {
    let (offset, limit) = (i64::from(criteria.offset), i64::from(criteria.limit));
    // Unnamed statements, so each search is planned with its own values: the
    // term's words become constants the indexes and steps are chosen by.
    let query = match criteria.name.as_deref() {
        Some(name) => sqlx::query_as(include_str!("search.sql"))
            .bind(name)
            .bind(criteria.date_of_birth)
            .bind(criteria.phone.as_deref())
            .bind(offset)
            .bind(limit)
            .bind(actor)
            .bind(what)
            .bind(SIMILARITY)
            .bind(MIN_MEAN_SIMILARITY)
            .bind(MIN_FUZZY_CHARS),
        // Planning the name steps only to plan them away cost more than
        // the search by birth date or phone itself.
        None => sqlx::query_as(include_str!("filter.sql"))
            .bind(criteria.date_of_birth)
            .bind(criteria.phone.as_deref())
            .bind(offset)
            .bind(limit)
            .bind(actor)
            .bind(what),
    };
    let mut patients: Vec<PatientHit> = query.persistent(false).fetch_all(pool).await?;
    let more = patients.len() > criteria.limit as usize;
    patients.truncate(criteria.limit as usize);
    Ok(Page {
        patients,
        limit: criteria.limit,
        offset: criteria.offset,
        next_offset: more.then_some(criteria.offset + criteria.limit),
    })
}

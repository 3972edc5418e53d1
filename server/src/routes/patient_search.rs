//! `GET /api/patients/search?q=&date_of_birth=&phone=&limit=&offset=`,
//! behind the admin or the partner token: patients found in the mirror
//! (`jobs::domain::patient_search`), never by asking DrChrono.
//!
//! The query string is PHI. It is never logged: the request span names the
//! route template only, errors name the parameter and not its value, and
//! the log line of a search holds which criteria were given and the count.

use axum::{
    Json, Router,
    extract::{Query, State, rejection::QueryRejection},
    http::HeaderMap,
    routing::get,
};
use jobs::domain::patient_search::{self, Criteria, Page, RawCriteria};
use serde::Deserialize;

use crate::{AppState, bearer, error::ApiError};

/// What `read_audit` names this read.
const WHAT: &str = "GET /api/patients/search";

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/patients/search", get(search))
}

/// Every parameter as text, so that each bad one gets our message rather
/// than the extractor's.
#[derive(Deserialize)]
struct Params {
    q: Option<String>,
    date_of_birth: Option<String>,
    phone: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Page>, ApiError> {
    let role = bearer::admin_or_partner(&state, &headers)?;
    let Query(p) = params.map_err(|_| {
        ApiError::BadRequest(
            "the query string must be q, date_of_birth, phone, limit and offset, each at most once".into(),
        )
    })?;
    let raw = RawCriteria {
        name: p.q.as_deref(),
        date_of_birth: p.date_of_birth.as_deref(),
        phone: p.phone.as_deref(),
        limit: p.limit.as_deref(),
        offset: p.offset.as_deref(),
    };
    let criteria =
        Criteria::parse(raw, state.settings.phone_default_country).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let page = patient_search::search(&state.pool, &criteria, &format!("api:{role}"), WHAT).await?;
    tracing::info!(
        role,
        by_name = criteria.name.is_some(),
        by_date_of_birth = criteria.date_of_birth.is_some(),
        by_phone = criteria.phone.is_some(),
        hits = page.patients.len(),
        "patient search"
    );
    Ok(Json(page))
}

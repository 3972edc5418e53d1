//! DrChrono's bulk lists, as its OpenAPI (v4) describes them.
//!
//! `/api/patients_list` and `/api/clinical_notes_list`: a POST with the
//! list's filters starts a batch and answers 201 `{status, uuid}`; a GET
//! with `?uuid=` answers `{status: "In progress"}` until the batch is ready,
//! then `{status: "Complete", pagination: {count, pages, page}, results}`
//! at up to 1,000 records a page (`page=N`, from 1). A batch lives an hour;
//! after that, or for an unknown uuid, the GET is a 404.
//!
//! `/api/appointments_list` is different in the spec: a plain GET, cursor
//! paginated, with the records under `data`, at up to 1,000 a page.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use rand::RngExt as _;
use serde_json::{Value, json};

use crate::{
    Kind,
    filters::Filters,
    lists::{self, Shape},
    pagination::{self, param},
    reply,
    state::Shared,
};

/// The largest page a bulk list serves, and its default.
pub const BULK_MAX_PAGE_SIZE: usize = 1000;

/// How long DrChrono keeps a batch: "UUIDs have a 1 hour lifetime".
const BATCH_LIFETIME: Duration = Duration::from_secs(3600);

/// One started batch: the ids it matched when it was started (their current
/// versions are served), its page size, and how many more polls answer
/// "In progress" before it is ready.
struct Batch {
    kind: Kind,
    ids: Vec<i64>,
    verbose: bool,
    page_size: usize,
    started: Instant,
    polls_in_progress: u32,
}

/// The batches started so far.
#[derive(Default)]
pub(crate) struct Batches {
    batches: HashMap<String, Batch>,
    started: u64,
    /// Replaces `SandboxConfig::bulk_polls_in_progress` for batches started from now.
    pub(crate) polls_in_progress: Option<u32>,
}

impl Batches {
    /// Ends every batch, as if an hour had passed.
    pub(crate) fn expire_all(&mut self) {
        self.batches.clear();
    }

    /// Batches started so far, for tests that count them.
    pub(crate) fn started(&self) -> u64 {
        self.started
    }
}

/// The batch lists and the kind each serves.
const BATCH_LISTS: [(&str, Kind); 2] =
    [("/api/patients_list", Kind::Patient), ("/api/clinical_notes_list", Kind::ClinicalNote)];

fn kind_of(path: &str) -> Option<Kind> {
    let path = path.trim_end_matches('/');
    BATCH_LISTS.iter().find(|(p, _)| *p == path).map(|(_, kind)| *kind)
}

fn kind_path(kind: Kind) -> &'static str {
    BATCH_LISTS.iter().find(|(_, k)| *k == kind).map_or("/api/patients_list", |(p, _)| *p)
}

/// `POST /api/patients_list` and `POST /api/clinical_notes_list`.
pub(crate) async fn start(
    State(shared): State<Arc<Shared>>,
    uri: axum::http::Uri,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(kind) = kind_of(uri.path()) else { return reply::not_found() };
    let params = lists::query_params(query);
    let page_size = match pagination::page_size(&params, BULK_MAX_PAGE_SIZE) {
        Ok(size) => size,
        Err(message) => return reply::detail(StatusCode::BAD_REQUEST, message),
    };
    let filters = match Filters::parse(kind, &params) {
        Ok(filters) => filters,
        Err(message) => return reply::detail(StatusCode::BAD_REQUEST, &message),
    };
    let mut state = shared.lock();
    let page_size = crate::faults::page_size(&state, page_size);
    let ids = lists::matching(&state.practice, kind, &filters);
    state.batches.started += 1;
    let uuid = format!("{:08x}-sbx0-4000-8000-{:012x}", state.batches.started, rand::rng().random::<u64>() >> 16);
    let batch = Batch {
        kind,
        ids,
        verbose: lists::verbose(&params),
        page_size,
        started: Instant::now(),
        polls_in_progress: state.batches.polls_in_progress.unwrap_or(shared.config.bulk_polls_in_progress),
    };
    state.batches.batches.insert(uuid.clone(), batch);
    let description = format!("GET {}?uuid={uuid} to load the batch", kind_path(kind));
    reply::json(StatusCode::CREATED, json!({ "status": "In progress", "uuid": uuid, "description": description }))
}

/// `GET /api/patients_list?uuid=` and `GET /api/clinical_notes_list?uuid=`.
pub(crate) async fn poll(
    State(shared): State<Arc<Shared>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(kind) = kind_of(uri.path()) else { return reply::not_found() };
    let params = lists::query_params(query);
    let Some(uuid) = param(&params, "uuid").map(str::to_owned) else {
        return reply::detail(StatusCode::BAD_REQUEST, "uuid is required: POST to start a batch first.");
    };
    let page = match param(&params, "page").map(str::parse::<usize>) {
        None => 1,
        Some(Ok(page)) if page >= 1 => page,
        Some(_) => return reply::detail(StatusCode::BAD_REQUEST, "Invalid page."),
    };
    let origin = pagination::origin(&headers, shared.addr);
    let mut state = shared.lock();
    let expired = state.batches.batches.get(&uuid).is_some_and(|b| b.started.elapsed() > BATCH_LIFETIME);
    if expired {
        state.batches.batches.remove(&uuid);
    }
    let Some(batch) = state.batches.batches.get_mut(&uuid).filter(|b| b.kind == kind) else {
        return reply::not_found();
    };
    if batch.polls_in_progress > 0 {
        batch.polls_in_progress -= 1;
        return reply::json(StatusCode::OK, json!({ "status": "In progress", "uuid": uuid }));
    }
    let (count, verbose) = (batch.ids.len(), batch.verbose);
    let pages = count.div_ceil(batch.page_size).max(1);
    let start = (page - 1).saturating_mul(batch.page_size).min(count);
    let end = start.saturating_add(batch.page_size).min(count);
    let ids = batch.ids[start..end].to_vec();
    let results: Vec<Value> = lists::rendered(&mut state, kind, &ids, verbose, &origin);
    if let Some(response) = crate::faults::list_page(&mut state, page - 1) {
        return response;
    }
    let body = json!({
        "status": "Complete",
        "uuid": uuid,
        "pagination": { "count": count, "pages": pages, "page": page },
        "results": results,
    });
    reply::json(StatusCode::OK, body)
}

/// `GET /api/appointments_list`: the appointments list at up to 1,000 a
/// page, records under `data`.
pub(crate) async fn appointments(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = lists::query_params(query);
    let shape = Shape { max: BULK_MAX_PAGE_SIZE, path: "/api/appointments_list", key: "data" };
    lists::page(&shared, Kind::Appointment, &headers, &params, shape)
}

//! `GET /api/{resource}` and `GET /api/{resource}/{id}` for every record
//! kind: one list handler, so paging, faults and links behave the same
//! everywhere, as they do at DrChrono.
//!
//! The gate has already authenticated the caller. Handlers never panic on
//! input: a filter that cannot be read is a 400 with a `detail`.

use std::sync::Arc;

use axum::{
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde_json::{Value, json};
use url::Url;

use crate::{
    APPOINTMENTS_VERBOSE_MAX_PAGE_SIZE, Kind, data, faults,
    files::Files,
    filters::Filters,
    pagination::{self, Position, param},
    practice::{Practice, Record},
    reply,
    state::{Shared, State as SandboxState},
};

/// DrChrono lowers the maximum page size with `verbose=true`: the spec says
/// 25 for appointments, support pages "about 25–50" for the rest, where the
/// sandbox picks the generous end.
const VERBOSE_MAX_PAGE_SIZE: usize = 50;

pub(crate) fn query_params(query: Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect()
}

pub(crate) fn verbose(params: &[(String, String)]) -> bool {
    param(params, "verbose").is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// What rendering a record needs besides the record: where note PDF links
/// point and until when they work, and whether the `omit_updated_at` fault
/// strips the stamp.
struct Links<'a> {
    origin: &'a Url,
    files: &'a Files,
    expires: i64,
    omit_updated_at: bool,
}

impl Links<'_> {
    /// Takes the links' expiry from the files only when a response carries
    /// links, so expiring "the next links" means exactly those.
    fn expiry(files: &mut Files, kind: Kind, verbose: bool) -> i64 {
        if verbose && kind == Kind::Appointment { files.next_expiry() } else { 0 }
    }
}

/// A record as the API serves it; `verbose` adds what DrChrono adds only on
/// request.
fn render(kind: Kind, id: i64, record: &Record, practice: &Practice, verbose: bool, links: &Links) -> Value {
    let mut record = record.clone();
    if links.omit_updated_at {
        record.remove("updated_at");
    }
    if !verbose && kind == Kind::Allergy {
        record.remove("description");
    }
    if verbose {
        match kind {
            Kind::Patient => {
                for (key, value) in data::verbose_fields(id) {
                    record.insert(key.to_owned(), value);
                }
            }
            Kind::Appointment => {
                record.insert("clinical_note".to_owned(), clinical_note(id, practice, links));
            }
            _ => {}
        }
    }
    Value::Object(record)
}

/// The appointment's `clinical_note` block. The PDF link is the only way to
/// a note's PDF (the note itself has no `pdf` field); it is fetched without
/// the bearer token and expires, like the presigned URL it imitates.
fn clinical_note(appointment: i64, practice: &Practice, links: &Links) -> Value {
    let Some((note, record)) = practice.note_of(appointment) else {
        return json!({ "locked": false, "pdf": null, "updated_at": null });
    };
    let pdf = links.files.link(links.origin, note, links.expires);
    json!({
        "locked": record.get("locked").cloned().unwrap_or(Value::Bool(false)),
        "pdf": pdf,
        "updated_at": record.get("updated_at").cloned().unwrap_or(Value::Null),
    })
}

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Path(resource): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(kind) = Kind::from_resource(&resource) else {
        return reply::not_found();
    };
    let params = query_params(query);
    let mut max = kind.max_page_size();
    if verbose(&params) {
        let verbose_max =
            if kind == Kind::Appointment { APPOINTMENTS_VERBOSE_MAX_PAGE_SIZE } else { VERBOSE_MAX_PAGE_SIZE };
        max = max.min(verbose_max);
    }
    let shape = Shape { max, path: kind.path(), key: "results" };
    page(&shared, kind, &headers, &params, shape)
}

/// How one list endpoint pages: its maximum page size, the path its links
/// point at, and the key its records are under (`results` for the plain
/// lists, `data` for `/api/appointments_list`, as the spec writes them).
pub(crate) struct Shape {
    pub(crate) max: usize,
    pub(crate) path: &'static str,
    pub(crate) key: &'static str,
}

/// One page of a cursor-paginated list of `kind`.
pub(crate) fn page(
    shared: &Shared,
    kind: Kind,
    headers: &HeaderMap,
    params: &[(String, String)],
    shape: Shape,
) -> Response {
    let verbose = verbose(params);
    let size = match pagination::page_size(params, shape.max) {
        Ok(size) => size,
        Err(message) => return reply::detail(StatusCode::BAD_REQUEST, message),
    };
    let position = match Position::from_params(params) {
        Ok(position) => position,
        Err(message) => return reply::detail(StatusCode::BAD_REQUEST, message),
    };
    let filters = match Filters::parse(kind, params) {
        Ok(filters) => filters,
        Err(message) => return reply::detail(StatusCode::BAD_REQUEST, &message),
    };
    let origin = pagination::origin(headers, shared.addr);

    let mut state = shared.lock();
    let size = faults::page_size(&state, size);
    let ids = matching(&state.practice, kind, &filters);
    let window = pagination::window(&ids, position, size);
    let results = rendered(&mut state, kind, &ids[window.start..window.end], verbose, &origin);
    if let Some(response) = faults::list_page(&mut state, window.index) {
        return response;
    }
    drop(state);

    let mut base = origin;
    base.set_path(shape.path);
    let mut body = pagination::page_body(base, params, &ids, &window, results);
    if shape.key != "results"
        && let Some(results) = body.as_object_mut().and_then(|b| b.remove("results"))
    {
        body[shape.key] = results;
    }
    reply::json(StatusCode::OK, body)
}

/// The ids of `kind` that pass `filters`, in id order.
pub(crate) fn matching(practice: &Practice, kind: Kind, filters: &Filters) -> Vec<i64> {
    practice.table(kind).iter().filter(|(_, record)| filters.matches(record, practice)).map(|(id, _)| *id).collect()
}

/// The records `ids` as the API serves them; ids no longer there are left out.
pub(crate) fn rendered(state: &mut SandboxState, kind: Kind, ids: &[i64], verbose: bool, origin: &Url) -> Vec<Value> {
    let expires = Links::expiry(&mut state.files, kind, verbose);
    let links = Links { origin, files: &state.files, expires, omit_updated_at: state.faults.omit_updated_at };
    let practice = &state.practice;
    ids.iter()
        .filter_map(|id| practice.get(kind, *id).map(|record| render(kind, *id, record, practice, verbose, &links)))
        .collect()
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Path((resource, id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    // Django's URL pattern only matches digits, so anything else is a 404.
    let (Some(kind), Ok(id)) = (Kind::from_resource(&resource), id.parse::<i64>()) else {
        return reply::not_found();
    };
    let verbose = verbose(&query_params(query));
    let origin = pagination::origin(&headers, shared.addr);
    let mut state = shared.lock();
    let expires = Links::expiry(&mut state.files, kind, verbose);
    let state = &*state;
    let links = Links { origin: &origin, files: &state.files, expires, omit_updated_at: state.faults.omit_updated_at };
    match state.practice.get(kind, id) {
        Some(record) => {
            let body = render(kind, id, record, &state.practice, verbose, &links);
            reply::json(StatusCode::OK, body)
        }
        None => reply::not_found(),
    }
}

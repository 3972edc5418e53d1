//! Switchable reproductions of what DrChrono does on a bad day.
//!
//! Each switch mirrors a fact in `docs/drchrono-facts.md`. Faulted requests
//! still count as calls, because DrChrono bills them against the rate budget
//! too. The request-independent faults are decided here; `fail_page` needs
//! the list position, so the list handler asks for it.

use std::time::Duration;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{reply, state::State};

/// The fault switches. `Faults::default()` is a healthy DrChrono.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Every `/api/*` call answers 429 until cleared, as when the hourly
    /// budget is spent.
    pub rate_limited: Option<RateLimit>,
    /// The next `/api/*` call answers `200 text/html` (an edge page), then the
    /// switch clears itself.
    pub html_once: bool,
    /// The list page at this zero-based index (0 = first page of a walk)
    /// answers 500 once, then the switch clears itself, so a retry succeeds.
    pub fail_page: Option<usize>,
    /// Every `/api/*` and token call is delayed this long before answering,
    /// to exercise client timeouts.
    pub slow: Option<Duration>,
    /// Every refresh answers 401 `invalid_grant`, as when the grant was
    /// revoked in the console: only a person can fix that.
    pub invalid_grant: bool,
    /// Lists serve at most this many records a page, below what the client
    /// asked for and below the documented maximum: DrChrono may cap lower,
    /// and a client must follow `next` whatever size comes back.
    pub page_cap: Option<usize>,
    /// Lists and details serve records without `updated_at`, as the spec's
    /// `ClinicalNote` schema describes them: a client must not rely on it.
    pub omit_updated_at: bool,
}

/// How the 429 looks: DrChrono always states the wait in `detail`; whether it
/// also sends `Retry-After` is unknown, so both are testable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub retry_after_header: bool,
    pub seconds: u64,
}

/// DrChrono's edge occasionally answers 200 with a page meant for browsers.
const EDGE_HTML: &str = "<!DOCTYPE html>\n<html><head><title>drchrono</title></head>\
<body><h1>We'll be right back</h1><p>drchrono is undergoing scheduled maintenance.</p></body></html>\n";

/// Faults that strike before authentication, the way an edge proxy would.
pub(crate) fn at_edge(state: &mut State) -> Option<Response> {
    if std::mem::take(&mut state.faults.html_once) {
        let page = (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], EDGE_HTML);
        return Some(page.into_response());
    }
    None
}

/// DRF checks throttles after authentication, so an unauthenticated call is
/// 401 even when the budget is spent.
pub(crate) fn after_auth(state: &State) -> Option<Response> {
    state.faults.rate_limited.map(throttled)
}

/// DrChrono's 429: the wait is always stated in `detail`.
pub(crate) fn throttled(limit: RateLimit) -> Response {
    let message = format!("Request was throttled. Expected available in {}.0 seconds.", limit.seconds);
    let mut response = reply::detail(StatusCode::TOO_MANY_REQUESTS, &message);
    if limit.retry_after_header {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(limit.seconds));
    }
    response
}

/// `size` lowered to the `page_cap` switch, if set.
pub(crate) fn page_size(state: &State, size: usize) -> usize {
    state.faults.page_cap.map_or(size, |cap| size.min(cap.max(1)))
}

/// Fires `fail_page` when a list serves that page index; one-shot.
pub(crate) fn list_page(state: &mut State, page_index: usize) -> Option<Response> {
    if state.faults.fail_page == Some(page_index) {
        state.faults.fail_page = None;
        return Some(reply::server_error());
    }
    None
}

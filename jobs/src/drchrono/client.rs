//! Requests to DrChrono: the token, the shared budget, then the call, with
//! DrChrono's status codes mapped onto job error classes.
//!
//! Every request goes through [`DrChronoClient::get_json`]:
//! 1. the token (the re-authorization flag is checked first, so a locked-out
//!    practice costs no network at all);
//! 2. one call from the shared hourly budget, or a wait until it resets;
//! 3. the request; a 401 refreshes once (single-flight) and retries once.

use serde_json::Value;
use std::{
    future::Future,
    sync::atomic::{AtomicU64, Ordering},
    time::Instant,
};
use tracing::Instrument as _;
use url::Url;

use super::{
    ApiError,
    budget::{self, Priority},
    pages::max_page_size,
    responses::{list_parts, rate_limited_until, read_json, strip_query, transport_kind},
    tokens::Auth,
};
use crate::{JobContext, runner::JobError, telemetry};

/// Requests made, token refreshes included: what DrChrono bills.
#[derive(Debug, Default)]
pub(crate) struct CallCount(AtomicU64);

impl CallCount {
    pub(crate) fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What one [`DrChronoClient::walk`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WalkStats {
    /// Pages handed to the caller.
    pub pages: u64,
    /// Requests made, re-requested pages and token refreshes included.
    pub calls: u64,
    /// Records handed to the caller.
    pub records: u64,
    /// Pages that failed once or more and were re-requested.
    pub page_retries: u64,
}

/// A list walk in progress; see [`DrChronoClient::pages`].
pub struct Pages<'c, 'a> {
    client: &'c DrChronoClient<'a>,
    path: String,
    origin: url::Origin,
    next: Option<Url>,
    calls_before: u64,
    started: Instant,
    stats: WalkStats,
}

impl Pages<'_, '_> {
    /// The next page's records; `None` once the list is done.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Value>>, ApiError> {
        let Some(url) = self.next.take() else { return Ok(None) };
        let path = self.path.as_str();
        let page = self.client.get_page(&url, path, &mut self.stats).await;
        self.stats.calls = self.client.calls() - self.calls_before;
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                // Not done: asking again re-requests the same page.
                self.next = Some(url);
                return Err(e);
            }
        };
        let (results, next) = list_parts(page).ok_or_else(|| ApiError::NotAList { path: path.to_string() })?;
        if let Some(next) = next {
            let next = Url::parse(&next).map_err(|_| ApiError::NotAList { path: path.to_string() })?;
            if next.origin() != self.origin || !next.path().starts_with("/api/") {
                return Err(ApiError::OffOrigin { path: path.to_string() });
            }
            if next == url {
                return Err(ApiError::NotAList { path: path.to_string() });
            }
            self.next = Some(next);
        }
        self.stats.pages += 1;
        self.stats.records += results.len() as u64;
        Ok(Some(results))
    }

    /// What the walk has cost so far.
    pub fn stats(&self) -> WalkStats {
        self.stats
    }

    /// Ends the walk and logs its counts (path, pages, calls, records).
    pub fn finish(self) -> WalkStats {
        let stats = self.stats;
        tracing::info!(
            path = self.path,
            pages = stats.pages,
            calls = stats.calls,
            records = stats.records,
            page_retries = stats.page_retries,
            complete = self.next.is_none(),
            elapsed_ms = self.started.elapsed().as_millis() as u64,
            "DrChrono list walked"
        );
        stats
    }
}

pub struct DrChronoClient<'a> {
    ctx: &'a JobContext,
    priority: Priority,
    calls: CallCount,
}

impl<'a> DrChronoClient<'a> {
    /// A client for webhook-driven work, which may use the whole hourly budget.
    pub fn new(ctx: &'a JobContext) -> Self {
        Self::with_priority(ctx, Priority::Webhook)
    }

    /// Reconciliation passes [`Priority::Reconcile`]: it stops at its share of
    /// the hourly budget and leaves the rest to webhooks.
    pub fn with_priority(ctx: &'a JobContext, priority: Priority) -> Self {
        Self { ctx, priority, calls: CallCount::default() }
    }

    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// Requests this client has made so far, token refreshes included.
    pub fn calls(&self) -> u64 {
        self.calls.get()
    }

    /// GETs one object, e.g. `/api/patients/1001`; `Ok(None)` when DrChrono
    /// says it is gone (404), which the caller records as skipped.
    pub async fn get_object(&self, path: &str) -> Result<Option<Value>, ApiError> {
        let url = self.url(path)?;
        self.get_json(&url, strip_query(path)).await
    }

    /// Walks a list from its first page, following `next` to the end and
    /// handing each page to `on_page` as it arrives, so the caller can upsert
    /// per page. `page_size` defaults to, and is capped at, the endpoint's
    /// maximum ([`super::MAX_PAGE_SIZES`]). A page that fails with a 5xx, a
    /// non-JSON body or a timeout is re-requested alone, a few times with a
    /// short pause, before the walk fails as retryable. `next` links are only
    /// followed on the configured API origin.
    ///
    /// `on_page`'s future cannot borrow the closure's own state mutably
    /// (that is a lending closure, which Rust cannot express with a `Send`
    /// future); a caller that accumulates across pages uses [`Self::pages`].
    pub async fn walk<F, Fut>(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: Option<usize>,
        mut on_page: F,
    ) -> Result<WalkStats, JobError>
    where
        F: FnMut(Vec<Value>) -> Fut,
        Fut: Future<Output = Result<(), JobError>>,
    {
        let mut pages = self.pages(path, query, page_size)?;
        while let Some(page) = pages.next_page().await? {
            on_page(page).await?;
        }
        Ok(pages.finish())
    }

    /// The same walk as [`Self::walk`], driven by the caller:
    ///
    /// ```text
    /// let mut pages = client.pages("/api/patients", &[("since", since)], None)?;
    /// while let Some(page) = pages.next_page().await? {
    ///     counts.add(upsert_batch(&pool, &page).await?);
    /// }
    /// let stats = pages.finish(); // pages, calls, records
    /// ```
    pub fn pages(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: Option<usize>,
    ) -> Result<Pages<'_, 'a>, ApiError> {
        let path = strip_query(path);
        let mut url = self.url(path)?;
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query.iter().filter(|(k, _)| *k != "page_size") {
                pairs.append_pair(k, v);
            }
            let size = match (page_size, max_page_size(path)) {
                (Some(want), Some(max)) => Some(want.clamp(1, max)),
                (Some(want), None) => Some(want.max(1)),
                (None, max) => max,
            };
            if let Some(size) = size {
                pairs.append_pair("page_size", &size.to_string());
            }
        }
        Ok(Pages {
            client: self,
            path: path.to_string(),
            origin: url.origin(),
            next: Some(url),
            calls_before: self.calls(),
            started: Instant::now(),
            stats: WalkStats::default(),
        })
    }

    /// One page, re-requested on a transient failure.
    async fn get_page(&self, url: &Url, path: &str, stats: &mut WalkStats) -> Result<Value, ApiError> {
        let mut pauses = self.ctx.settings.drchrono_page_retry_delays.iter();
        let mut retried = false;
        loop {
            match self.get_json(url, path).await {
                Ok(Some(page)) => return Ok(page),
                Ok(None) => return Err(ApiError::Rejected { status: 404, path: path.to_string() }),
                Err(e) if e.is_transient() => match pauses.next() {
                    Some(pause) => {
                        if !retried {
                            stats.page_retries += 1;
                            retried = true;
                        }
                        tracing::warn!(path, page = stats.pages, error = %e, "DrChrono page failed; re-requesting it");
                        tokio::time::sleep(*pause).await;
                    }
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }

    pub(super) fn url(&self, path: &str) -> Result<Url, ApiError> {
        let base = self.ctx.settings.drchrono_api_base.trim_end_matches('/');
        if !path.starts_with('/') {
            return Err(ApiError::Config(format!("DrChrono paths start with '/': {}", strip_query(path))));
        }
        Url::parse(&format!("{base}{path}")).map_err(|_| {
            ApiError::Config(
                "DRCHRONO_API_BASE is not a valid URL (expected an origin like https://drchrono.com)".into(),
            )
        })
    }

    /// A GET's answer: 200 is the object, 404 is `None`.
    async fn get_json(&self, url: &Url, path: &str) -> Result<Option<Value>, ApiError> {
        let resp = self.send(reqwest::Method::GET, url, path, None).await?;
        match resp.status().as_u16() {
            200 => read_json(resp, path).await.map(Some),
            404 => Ok(None),
            // A 1xx/2xx/3xx other than 200 on a GET is unexpected: treat
            // it like a bad page, not as data.
            status if status < 400 => Err(ApiError::NotJson { status, path: path.to_string() }),
            status => Err(ApiError::Rejected { status, path: path.to_string() }),
        }
    }

    /// The request path every call goes through, reads and writes alike:
    /// the token, one call from the budget, the request, a single refresh
    /// on 401. 403, 429 and 5xx become errors here; every other answer is
    /// the caller's to read. `path` is for errors and logs: it never carries
    /// a query string.
    pub(super) async fn send(
        &self,
        method: reqwest::Method,
        url: &Url,
        path: &str,
        body: Option<&Value>,
    ) -> Result<reqwest::Response, ApiError> {
        let settings = &self.ctx.settings;
        let auth = Auth::from_settings(&self.ctx.pool, &self.ctx.http, settings)?;
        let mut token = match &auth {
            Auth::Static(token) => token.to_string(),
            Auth::Stored(store) => store.current(&self.calls).await?,
        };
        let mut refreshed = false;
        loop {
            self.take_budget().await?;
            self.calls.add();
            let started = Instant::now();
            let span = telemetry::client_span(method_name(&method), url.host_str().unwrap_or_default(), url.path());
            let mut request = self
                .ctx
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(&token)
                .headers(telemetry::inject_traceparent(&span));
            if let Some(body) = body {
                request = request.json(body);
            }
            let resp = request
                .timeout(settings.drchrono_timeout)
                .send()
                .instrument(span.clone())
                .await
                .map_err(|e| ApiError::Transport { path: path.to_string(), kind: transport_kind(&e) })?;
            let status = resp.status().as_u16();
            telemetry::record_status(&span, status);
            let elapsed_ms = started.elapsed().as_millis() as u64;
            tracing::debug!(path, method = method.as_str(), status, elapsed_ms, "DrChrono call");
            match status {
                401 => match &auth {
                    Auth::Stored(store) if !refreshed => {
                        refreshed = true;
                        token = store.refresh(&token, &self.calls).await?;
                    }
                    _ => return Err(ApiError::Unauthorized { path: path.to_string() }),
                },
                403 => return Err(ApiError::Forbidden { path: path.to_string() }),
                429 => {
                    let until = rate_limited_until(resp).await;
                    if let Err(e) = budget::block_until(&self.ctx.pool, until).await {
                        tracing::warn!(error = %crate::runner::describe_db_error(&e), "could not record DrChrono's 429 in the shared budget");
                    }
                    tracing::warn!(path, %until, "DrChrono answered 429; every DrChrono call waits until then");
                    return Err(ApiError::RateLimited { path: path.to_string(), until });
                }
                500..=599 => return Err(ApiError::Server { status, path: path.to_string() }),
                _ => return Ok(resp),
            }
        }
    }

    async fn take_budget(&self) -> Result<(), ApiError> {
        let s = &self.ctx.settings;
        let allowed = budget::allowance(s.drchrono_calls_per_hour, s.drchrono_reconcile_percent, self.priority);
        match budget::take(&self.ctx.pool, allowed).await? {
            Ok(_) => Ok(()),
            Err(until) => {
                tracing::info!(priority = self.priority.as_str(), %until, "DrChrono hourly budget spent; not calling");
                Err(ApiError::BudgetSpent { priority: self.priority.as_str(), until })
            }
        }
    }
}

/// The span name's method; DrChrono is only ever called with these.
fn method_name(method: &reqwest::Method) -> &'static str {
    match *method {
        reqwest::Method::POST => "POST",
        reqwest::Method::PATCH => "PATCH",
        reqwest::Method::PUT => "PUT",
        reqwest::Method::DELETE => "DELETE",
        _ => "GET",
    }
}

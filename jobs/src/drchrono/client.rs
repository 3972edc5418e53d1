//! Requests to DrChrono: the token, the shared budget, then the call, with
//! DrChrono's status codes mapped onto job error classes.
//!
//! Every request goes through [`DrChronoClient::get_json`]:
//! 1. the token (the re-authorization flag is checked first, so a locked-out
//!    practice costs no network at all);
//! 2. one call from the shared hourly budget, or a wait until it resets,
//!    and its slot in the fleet's pace (a fraction of a second at most);
//! 3. the request; a 401 refreshes once (single-flight) and retries once.

use serde_json::Value;
use sqlx::PgPool;
use std::time::Instant;
use tracing::Instrument as _;
use url::Url;

use super::{
    ClientSettings, DrChronoError,
    budget::{self, Priority},
    calls::CallCount,
    responses::{rate_limited_until, read_json, strip_query, transport_kind},
    tokens::Auth,
};
use crate::telemetry;

/// One unit of work's client: the shared pool (tokens and budget live in
/// Postgres), the process's HTTP client, and the client's settings. It
/// counts the calls it made, which `sync_runs` reports.
pub struct DrChronoClient<'a> {
    pub(super) pool: &'a PgPool,
    pub(super) http: &'a reqwest::Client,
    pub(super) settings: &'a ClientSettings,
    priority: Priority,
    calls: CallCount,
}

impl<'a> DrChronoClient<'a> {
    /// A client for webhook-driven work, which may use the whole hourly budget.
    pub fn new(pool: &'a PgPool, http: &'a reqwest::Client, settings: &'a ClientSettings) -> Self {
        Self::with_priority(pool, http, settings, Priority::Webhook)
    }

    /// Reconciliation passes [`Priority::Reconcile`]: it stops at its share of
    /// the hourly budget and leaves the rest to webhooks.
    pub fn with_priority(
        pool: &'a PgPool,
        http: &'a reqwest::Client,
        settings: &'a ClientSettings,
        priority: Priority,
    ) -> Self {
        Self { pool, http, settings, priority, calls: CallCount::default() }
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
    pub async fn get_object(&self, path: &str) -> Result<Option<Value>, DrChronoError> {
        let url = self.url(path)?;
        self.get_json(&url, strip_query(path)).await
    }

    pub(super) fn url(&self, path: &str) -> Result<Url, DrChronoError> {
        let base = self.settings.api_base.trim_end_matches('/');
        if !path.starts_with('/') {
            return Err(DrChronoError::Config(format!("DrChrono paths start with '/': {}", strip_query(path))));
        }
        Url::parse(&format!("{base}{path}")).map_err(|_| {
            DrChronoError::Config(
                "DRCHRONO_API_BASE is not a valid URL (expected an origin like https://drchrono.com)".into(),
            )
        })
    }

    /// A GET's answer: 200 is the object, 404 is `None`.
    pub(super) async fn get_json(&self, url: &Url, path: &str) -> Result<Option<Value>, DrChronoError> {
        let resp = self.send(reqwest::Method::GET, url, path, None).await?;
        match resp.status().as_u16() {
            200 => read_json(resp, path).await.map(Some),
            404 => Ok(None),
            // A 1xx/2xx other than 200 on a GET is unexpected: treat
            // it like a bad page, not as data.
            status if status < 400 => Err(DrChronoError::NotJson { status, path: path.to_string() }),
            status => Err(DrChronoError::Rejected { status, path: path.to_string() }),
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
    ) -> Result<reqwest::Response, DrChronoError> {
        let settings = self.settings;
        let auth = Auth::from_settings(self.pool, self.http, settings)?;
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
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(&token)
                .headers(telemetry::inject_traceparent(&span));
            if let Some(body) = body {
                request = request.json(body);
            }
            let resp = request
                .timeout(settings.timeout)
                .send()
                .instrument(span.clone())
                .await
                .map_err(|e| DrChronoError::Transport { path: path.to_string(), kind: transport_kind(&e) })?;
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
                    _ => return Err(DrChronoError::Unauthorized { path: path.to_string() }),
                },
                300..=399 => return Err(super::http::redirected(status, path)),
                403 => return Err(DrChronoError::Forbidden { path: path.to_string() }),
                429 => {
                    let until = rate_limited_until(resp).await;
                    if let Err(e) = budget::block_until(self.pool, until).await {
                        tracing::warn!(error = %job_runner::describe_db_error(&e), "could not record DrChrono's 429 in the shared budget");
                    }
                    tracing::warn!(path, %until, "DrChrono answered 429; every DrChrono call waits until then");
                    return Err(DrChronoError::RateLimited { path: path.to_string(), until });
                }
                500..=599 => return Err(DrChronoError::Server { status, path: path.to_string() }),
                _ => return Ok(resp),
            }
        }
    }

    async fn take_budget(&self) -> Result<(), DrChronoError> {
        let s = self.settings;
        let allowed = budget::allowance(s.calls_per_hour, s.reconcile_percent, self.priority);
        match budget::take(self.pool, allowed, budget::spacing(s.calls_per_second)).await? {
            Ok(wait) => {
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                Ok(())
            }
            Err(until) => {
                tracing::info!(priority = self.priority.as_str(), %until, "DrChrono hourly budget spent; not calling");
                Err(DrChronoError::BudgetSpent { priority: self.priority.as_str(), until })
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

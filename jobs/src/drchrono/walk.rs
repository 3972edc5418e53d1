//! List walks: DrChrono's paginated lists, page by page, following `next`
//! only on the configured origin, with a failed page re-requested alone.

use serde_json::Value;
use std::{future::Future, time::Instant};
use url::Url;

use super::{
    DrChronoClient, DrChronoError,
    pages::max_page_size,
    responses::{list_parts, strip_query},
};
use job_runner::JobError;

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
    pub async fn next_page(&mut self) -> Result<Option<Vec<Value>>, DrChronoError> {
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
        let (results, next) = list_parts(page).ok_or_else(|| DrChronoError::NotAList { path: path.to_string() })?;
        if let Some(next) = next {
            let next = Url::parse(&next).map_err(|_| DrChronoError::NotAList { path: path.to_string() })?;
            if next.origin() != self.origin || !next.path().starts_with("/api/") {
                return Err(DrChronoError::OffOrigin { path: path.to_string() });
            }
            if next == url {
                return Err(DrChronoError::NotAList { path: path.to_string() });
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

impl<'a> DrChronoClient<'a> {
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
    ///     counts.add(apply_records(&pool, kind, &page, actor, &locale).await?);
    /// }
    /// let stats = pages.finish(); // pages, calls, records
    /// ```
    pub fn pages(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: Option<usize>,
    ) -> Result<Pages<'_, 'a>, DrChronoError> {
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
    pub(super) async fn get_page(&self, url: &Url, path: &str, stats: &mut WalkStats) -> Result<Value, DrChronoError> {
        let mut pauses = self.settings.page_retry_delays.iter();
        let mut retried = false;
        loop {
            match self.get_json(url, path).await {
                Ok(Some(page)) => return Ok(page),
                Ok(None) => return Err(DrChronoError::Rejected { status: 404, path: path.to_string() }),
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
}

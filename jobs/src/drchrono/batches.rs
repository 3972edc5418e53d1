//! DrChrono's bulk lists (`/api/patients_list`, `/api/clinical_notes_list`):
//! a POST with the list's filters starts a batch and answers its `uuid`; a
//! GET with `?uuid=` answers "In progress" until the batch is ready, then
//! its pages of up to 1,000 records. Each request is one call through the
//! same token, budget and error mapping as every other.

use serde_json::Value;

use super::{DrChronoClient, DrChronoError, responses::read_json, walk::WalkStats};

/// The largest page a bulk list serves, which a batch asks for.
pub const BATCH_PAGE_SIZE: usize = 1000;

/// One poll of a batch.
#[derive(Debug, PartialEq)]
pub enum BatchPoll {
    /// Not ready yet: poll again later.
    InProgress,
    /// Page `page` of `pages` (from 1).
    Page { results: Vec<Value>, pages: u64 },
    /// DrChrono no longer knows the uuid: batches live an hour.
    Gone,
}

impl DrChronoClient<'_> {
    /// Starts a batch of the bulk list at `path` with `query`'s filters, at
    /// [`BATCH_PAGE_SIZE`] a page, and returns its uuid.
    pub async fn start_batch(&self, path: &str, query: &[(&str, String)]) -> Result<String, DrChronoError> {
        let mut url = self.url(path)?;
        url.query_pairs_mut()
            .extend_pairs(query.iter().filter(|(k, _)| *k != "page_size"))
            .append_pair("page_size", &BATCH_PAGE_SIZE.to_string());
        let resp = self.send(reqwest::Method::POST, &url, path, None).await?;
        let status = resp.status().as_u16();
        if !(200..=202).contains(&status) {
            return Err(DrChronoError::Rejected { status, path: path.to_string() });
        }
        let body = read_json(resp, path).await?;
        match body.get("uuid").and_then(Value::as_str) {
            Some(uuid) if !uuid.is_empty() => Ok(uuid.to_string()),
            _ => Err(DrChronoError::NotAList { path: path.to_string() }),
        }
    }

    /// Page `page` (from 1) of the batch `uuid`; a failed page is
    /// re-requested alone, as in a list walk, and counted in `stats`.
    pub async fn batch_page(
        &self,
        path: &str,
        uuid: &str,
        page: u64,
        stats: &mut WalkStats,
    ) -> Result<BatchPoll, DrChronoError> {
        let mut url = self.url(path)?;
        url.query_pairs_mut().append_pair("uuid", uuid).append_pair("page", &page.to_string());
        let body = match self.get_page(&url, path, stats).await {
            Ok(body) => body,
            Err(DrChronoError::Rejected { status: 404, .. }) => return Ok(BatchPoll::Gone),
            Err(e) => return Err(e),
        };
        read_poll(body).ok_or_else(|| DrChronoError::NotAList { path: path.to_string() })
    }
}

/// `{status, pagination: {pages}, results}`; `None` when it is not that.
fn read_poll(body: Value) -> Option<BatchPoll> {
    let Value::Object(mut body) = body else { return None };
    let complete = body.get("status").and_then(Value::as_str)?.eq_ignore_ascii_case("complete");
    if !complete {
        return Some(BatchPoll::InProgress);
    }
    let pages = body.get("pagination").and_then(|p| p.get("pages")).and_then(Value::as_u64).unwrap_or(1);
    match body.remove("results").or_else(|| body.remove("data")) {
        Some(Value::Array(results)) => Some(BatchPoll::Page { results, pages }),
        None | Some(Value::Null) => Some(BatchPoll::Page { results: Vec::new(), pages }),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn polls_read_in_progress_complete_and_garbage() {
        assert_eq!(read_poll(json!({"status": "In progress", "uuid": "u"})), Some(BatchPoll::InProgress));
        let page =
            json!({"status": "Complete", "pagination": {"count": 3, "pages": 2, "page": 1}, "results": [{"id": 1}]});
        assert_eq!(read_poll(page), Some(BatchPoll::Page { results: vec![json!({"id": 1})], pages: 2 }));
        assert_eq!(read_poll(json!({"status": "Complete"})), Some(BatchPoll::Page { results: vec![], pages: 1 }));
        assert_eq!(read_poll(json!({"status": "Complete", "results": "x"})), None);
        assert_eq!(read_poll(json!({"results": []})), None, "no status is not a batch");
        assert_eq!(read_poll(json!([])), None);
    }
}

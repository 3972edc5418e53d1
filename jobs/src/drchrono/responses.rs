//! Reading DrChrono's answers: JSON bodies, list pages, 429 waits, and
//! transport failures, reduced to what the client needs.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde_json::Value;

use super::DrChronoError;

/// The wait assumed for a 429 that states none.
const DEFAULT_RATE_LIMIT_WAIT_SECS: f64 = 60.0;

/// A 200 is data only when it says JSON; an edge's HTML page is never parsed.
pub(super) async fn read_json(resp: reqwest::Response, path: &str) -> Result<Value, DrChronoError> {
    let is_json = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
    if !is_json {
        return Err(DrChronoError::NotJson { status: 200, path: path.to_string() });
    }
    let body = resp
        .bytes()
        .await
        .map_err(|e| DrChronoError::Transport { path: path.to_string(), kind: transport_kind(&e) })?;
    serde_json::from_slice(&body).map_err(|_| DrChronoError::NotJson { status: 200, path: path.to_string() })
}

/// `{previous, results, next}`: the results and the next link. DrChrono's
/// OpenAPI writes the list key as `data`; either is read.
pub(super) fn list_parts(page: Value) -> Option<(Vec<Value>, Option<String>)> {
    let Value::Object(mut page) = page else { return None };
    let next = match page.remove("next") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return None,
    };
    match page.remove("results").or_else(|| page.remove("data"))? {
        Value::Array(results) => Some((results, next)),
        _ => None,
    }
}

/// When a 429 ends: `Retry-After` (seconds or an HTTP date), else the
/// seconds in `detail` ("Expected available in 2710.0 seconds."), else a minute.
pub(super) async fn rate_limited_until(resp: reqwest::Response) -> DateTime<Utc> {
    let now = Utc::now();
    let header = resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_string);
    if let Some(until) = header.as_deref().and_then(|h| parse_retry_after(h, now)) {
        return until;
    }
    let body: Option<Value> = resp.json().await.ok();
    let seconds = body
        .as_ref()
        .and_then(|b| b.get("detail"))
        .and_then(Value::as_str)
        .and_then(seconds_in_detail)
        .unwrap_or(DEFAULT_RATE_LIMIT_WAIT_SECS);
    now + seconds_duration(seconds)
}

pub(super) fn seconds_duration(seconds: f64) -> ChronoDuration {
    ChronoDuration::milliseconds((seconds.clamp(0.0, 86_400.0) * 1000.0).ceil() as i64)
}

pub(crate) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return seconds.is_finite().then(|| now + seconds_duration(seconds));
    }
    DateTime::parse_from_rfc2822(value).ok().map(|t| t.to_utc().max(now))
}

/// The number of seconds in DRF's throttle message.
pub(crate) fn seconds_in_detail(detail: &str) -> Option<f64> {
    let lower = detail.to_ascii_lowercase();
    let tail = match lower.find("available in") {
        Some(i) => &lower[i + "available in".len()..],
        None => lower.as_str(),
    };
    let start = tail.find(|c: char| c.is_ascii_digit())?;
    let number: String = tail[start..].chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    number.trim_end_matches('.').parse::<f64>().ok().filter(|s| s.is_finite())
}

/// A reqwest error's kind, without its message (which quotes the URL).
pub(crate) fn transport_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection refused or unreachable"
    } else if e.is_body() || e.is_decode() {
        "body interrupted"
    } else {
        "connection"
    }
}

pub(super) fn strip_query(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_waits_come_from_the_header_or_the_detail() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T10:14:50Z").unwrap().to_utc();
        assert_eq!(parse_retry_after("2710", now), Some(now + ChronoDuration::seconds(2710)));
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now),
            Some(DateTime::parse_from_rfc3339("2026-01-01T11:00:00Z").unwrap().to_utc())
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(seconds_in_detail("Request was throttled. Expected available in 2710.0 seconds."), Some(2710.0));
        assert_eq!(seconds_in_detail("Request was throttled. Expected available in 3 seconds."), Some(3.0));
        assert_eq!(seconds_in_detail("Request was throttled."), None);
    }

    #[test]
    fn lists_are_previous_results_next() {
        let page =
            serde_json::json!({"previous": null, "results": [{"id": 1}], "next": "http://x/api/patients?cursor=a"});
        let (results, next) = list_parts(page).unwrap();
        assert_eq!(results.len(), 1);
        assert_eq!(next.as_deref(), Some("http://x/api/patients?cursor=a"));
        assert_eq!(list_parts(serde_json::json!({"results": [], "next": null})).unwrap().1, None);
        let spec_shaped = serde_json::json!({"previous": null, "data": [{"id": 1}, {"id": 2}], "next": null});
        assert_eq!(list_parts(spec_shaped).unwrap().0.len(), 2, "the spec's `data` key");
        assert!(list_parts(serde_json::json!({"detail": "x"})).is_none());
        assert!(list_parts(serde_json::json!([1, 2])).is_none());
    }

    #[test]
    fn logged_paths_carry_no_query() {
        assert_eq!(strip_query("/api/appointments?date_range=a/b&page_size=20"), "/api/appointments");
        assert_eq!(strip_query("/api/patients/1001"), "/api/patients/1001");
    }
}

//! What the service answered each delivery attempt, sorted into the only
//! classes a sender may see under faults: 2xx (the event is durable), 503
//! (retry later), a dropped connection (the process or its socket went
//! away), and anything else, which is a failure of the run.

use std::sync::{
    Mutex,
    atomic::{AtomicU64, Ordering},
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Success,
    Unavailable,
    Dropped,
    /// A status or error that must not happen: kept for the report.
    Other(String),
}

impl Answer {
    pub fn of_status(status: reqwest::StatusCode) -> Self {
        match status.as_u16() {
            200..=299 => Self::Success,
            503 => Self::Unavailable,
            code => Self::Other(format!("HTTP {code}")),
        }
    }

    /// A request that got no status: refused, reset or closed before the
    /// answer is a dropped connection; a timeout is not (the service hung).
    pub fn of_error(e: &anyhow::Error) -> Self {
        let Some(e) = e.chain().find_map(|c| c.downcast_ref::<reqwest::Error>()) else {
            return Self::Other(format!("{e:#}"));
        };
        if e.is_timeout() {
            Self::Other("timed out".into())
        } else if e.is_connect() || e.is_request() || e.is_body() {
            Self::Dropped
        } else {
            Self::Other(format!("{e}"))
        }
    }
}

/// Running counts, read by the progress line while the burst goes on.
#[derive(Default)]
pub struct Tally {
    pub success: AtomicU64,
    pub unavailable: AtomicU64,
    pub dropped: AtomicU64,
    pub other: AtomicU64,
    /// The first few unexpected answers, for the report.
    pub other_examples: Mutex<Vec<String>>,
}

impl Tally {
    pub fn count(&self, answer: &Answer) {
        let counter = match answer {
            Answer::Success => &self.success,
            Answer::Unavailable => &self.unavailable,
            Answer::Dropped => &self.dropped,
            Answer::Other(what) => {
                let mut examples = self.other_examples.lock().unwrap_or_else(|p| p.into_inner());
                if examples.len() < 5 {
                    examples.push(what.clone());
                }
                &self.other
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub fn answers(&self) -> u64 {
        [&self.success, &self.unavailable, &self.dropped, &self.other].into_iter().map(Self::get).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_2xx_and_503_are_expected_statuses() {
        assert_eq!(Answer::of_status(reqwest::StatusCode::OK), Answer::Success);
        assert_eq!(Answer::of_status(reqwest::StatusCode::SERVICE_UNAVAILABLE), Answer::Unavailable);
        assert_eq!(Answer::of_status(reqwest::StatusCode::INTERNAL_SERVER_ERROR), Answer::Other("HTTP 500".into()));
        assert_eq!(Answer::of_status(reqwest::StatusCode::UNAUTHORIZED), Answer::Other("HTTP 401".into()));
    }

    #[tokio::test]
    async fn a_refused_connection_is_dropped() {
        let port = crate::db::any_free_port().unwrap();
        let sent = reqwest::Client::new().post(format!("http://127.0.0.1:{port}/")).send().await;
        let e = anyhow::Error::from(sent.unwrap_err()).context("delivery failed");
        assert_eq!(Answer::of_error(&e), Answer::Dropped);
    }
}

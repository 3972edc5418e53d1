//! Object reads with DrChrono's status codes mapped onto job error classes.

use chrono::{Duration, Utc};
use serde_json::Value;

use crate::{JobContext, runner::JobError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("DrChrono has no access token configured; set DRCHRONO_ACCESS_TOKEN")]
    NoToken,
    #[error("DrChrono answered 401: the access token was refused")]
    Unauthorized,
    #[error("DrChrono answered 403 on {path}: a scope is missing for this endpoint")]
    Forbidden { path: String },
    #[error("DrChrono rate limit reached; available in {seconds} s")]
    RateLimited { seconds: u64 },
    #[error("DrChrono answered {status} on {path}")]
    Server { status: u16, path: String },
    #[error("DrChrono answered 200 with a non-JSON body on {path}")]
    NotJson { path: String },
    #[error("DrChrono request to {path} failed: {kind}")]
    Transport { path: String, kind: &'static str },
}

impl From<ApiError> for JobError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::RateLimited { seconds } => {
                JobError::WaitUntil(Utc::now() + Duration::seconds(seconds as i64), e.into())
            }
            ApiError::NoToken | ApiError::Forbidden { .. } => JobError::permanent(e),
            _ => JobError::retryable(e),
        }
    }
}

pub struct DrChronoClient<'a> {
    ctx: &'a JobContext,
}

impl<'a> DrChronoClient<'a> {
    pub fn new(ctx: &'a JobContext) -> Self {
        Self { ctx }
    }

    /// GETs one object; `Ok(None)` when DrChrono says it is gone (404).
    pub async fn get_object(&self, path: &str) -> Result<Option<Value>, ApiError> {
        let token = self.ctx.settings.drchrono_access_token.as_deref().ok_or(ApiError::NoToken)?;
        let url = format!("{}{path}", self.ctx.settings.drchrono_api_base.trim_end_matches('/'));
        let transport = |e: reqwest::Error| ApiError::Transport {
            path: path.to_string(),
            kind: if e.is_timeout() { "timeout" } else { "connection" },
        };
        let resp = self.ctx.http.get(url).bearer_auth(token).send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        match status {
            200 => {}
            404 => return Ok(None),
            401 => return Err(ApiError::Unauthorized),
            403 => return Err(ApiError::Forbidden { path: path.to_string() }),
            429 => return Err(ApiError::RateLimited { seconds: retry_after(&resp).unwrap_or(60) }),
            _ => return Err(ApiError::Server { status, path: path.to_string() }),
        }
        let is_json = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("json"));
        if !is_json {
            return Err(ApiError::NotJson { path: path.to_string() });
        }
        let body = resp.bytes().await.map_err(transport)?;
        serde_json::from_slice(&body).map(Some).map_err(|_| ApiError::NotJson { path: path.to_string() })
    }
}

fn retry_after(resp: &reqwest::Response) -> Option<u64> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

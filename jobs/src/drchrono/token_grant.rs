//! DrChrono's token endpoint: one POST, with its answer sorted into a new
//! pair, a refusal that needs a person, or a failure worth retrying. The
//! refresh grant is here; the authorization-code grant (`authorize`) posts
//! through the same [`post_token_form`].

use serde_json::Value;
use std::time::Duration;
use tracing::Instrument as _;

use super::{ClientSettings, DrChronoError, calls::CallCount};

pub(super) enum Grant {
    Issued {
        access: String,
        refresh: String,
        expires_in: Option<f64>,
    },
    /// DrChrono refused the refresh token itself (`invalid_grant`, ...).
    Refused(String),
}

/// POSTs the refresh grant to `{DRCHRONO_API_BASE}/o/token/`.
pub(super) async fn grant(
    http: &reqwest::Client,
    settings: &ClientSettings,
    refresh: &str,
    client_id: &str,
    client_secret: &str,
    calls: &CallCount,
) -> Result<Grant, DrChronoError> {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", client_id),
        ("client_secret", client_secret),
    ];
    match post_token_form(http, settings, &form, calls).await? {
        TokenAnswer::Issued(pair) => {
            Ok(Grant::Issued { access: pair.access, refresh: pair.refresh, expires_in: pair.expires_in })
        }
        TokenAnswer::Refused { code, .. } => Ok(Grant::Refused(code)),
    }
}

/// A token pair DrChrono issued, with what it said of it.
pub(super) struct IssuedPair {
    pub(super) access: String,
    pub(super) refresh: String,
    pub(super) expires_in: Option<f64>,
    /// The scopes granted, space-separated, when DrChrono says.
    pub(super) scope: Option<String>,
}

/// What the token endpoint answered, for either grant.
pub(super) enum TokenAnswer {
    Issued(IssuedPair),
    /// A refusal that retrying cannot fix (`invalid_grant`, `invalid_client`,
    /// ...). `redirect_mismatch` is set when DrChrono's description names
    /// the redirect URI; no other part of the description is kept.
    Refused {
        code: String,
        redirect_mismatch: bool,
    },
}

/// POSTs `form` to `{DRCHRONO_API_BASE}/o/token/` and sorts the answer.
/// Nothing of the body but the pair, the scope and the OAuth error code is
/// kept, since the body may echo credentials.
pub(super) async fn post_token_form(
    http: &reqwest::Client,
    settings: &ClientSettings,
    form: &[(&str, &str)],
    calls: &CallCount,
) -> Result<TokenAnswer, DrChronoError> {
    let url = format!("{}/o/token/", settings.api_base.trim_end_matches('/'));
    calls.add();
    let host = url::Url::parse(&url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
    let span = crate::telemetry::client_span("POST", &host, "/o/token/");
    let resp = http
        .post(url)
        .headers(crate::telemetry::inject_traceparent(&span))
        .timeout(settings.timeout)
        .form(form)
        .send()
        .instrument(span.clone())
        .await
        .map_err(|e| DrChronoError::RefreshFailed { reason: super::responses::transport_kind(&e).into() })?;
    let status = resp.status().as_u16();
    crate::telemetry::record_status(&span, status);
    if resp.status().is_redirection() {
        return Err(super::http::redirected(status, "/o/token/"));
    }
    let body: Option<Value> =
        tokio::time::timeout(Duration::from_secs(30), resp.json::<Value>()).await.ok().and_then(Result::ok);
    let field = |name: &str| body.as_ref().and_then(|b| b.get(name)).and_then(Value::as_str).map(str::to_string);
    tracing::debug!(status, "DrChrono token endpoint answered");
    if status == 200 {
        return match (field("access_token"), field("refresh_token")) {
            (Some(access), Some(refresh)) if !access.is_empty() && !refresh.is_empty() => {
                Ok(TokenAnswer::Issued(IssuedPair {
                    access,
                    refresh,
                    expires_in: body.as_ref().and_then(|b| b.get("expires_in")).and_then(Value::as_f64),
                    scope: field("scope"),
                }))
            }
            _ => {
                Err(DrChronoError::RefreshFailed { reason: "token endpoint answered 200 without a token pair".into() })
            }
        };
    }
    // The OAuth error code is a fixed vocabulary; nothing else of the body is kept.
    let code = field("error")
        .filter(|c| c.len() <= 40 && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .unwrap_or_default();
    if matches!(status, 400 | 401)
        && matches!(code.as_str(), "invalid_grant" | "invalid_client" | "unauthorized_client")
    {
        let redirect_mismatch = field("error_description").is_some_and(|d| d.to_ascii_lowercase().contains("redirect"));
        return Ok(TokenAnswer::Refused { code, redirect_mismatch });
    }
    Err(DrChronoError::RefreshFailed {
        reason: if code.is_empty() {
            format!("token endpoint answered {status}")
        } else {
            format!("token endpoint answered {status} {code}")
        },
    })
}

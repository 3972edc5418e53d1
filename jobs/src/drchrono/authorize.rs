//! The DrChrono ends of the OAuth authorization-code flow: the authorize
//! URL a person opens, the scopes the service asks for, and the exchange of
//! the code DrChrono sends back for a token pair. Storing the pair is
//! [`super::store_authorized_tokens`]; receiving the callback is the
//! service's (`server::connect`).

use url::Url;

use super::{
    ClientSettings, DrChronoError,
    calls::CallCount,
    token_grant::{TokenAnswer, post_token_form},
};

/// Every scope the service uses, with what it is needed for. The authorize
/// URL asks for all of them; `connect` names any that was not granted.
pub const NEEDED_SCOPES: &[(&str, &str)] = &[
    ("user:read", "doctors and offices"),
    ("patients:read", "patients"),
    ("patients:write", "the write API's patients"),
    ("patients:summary:read", "medications, problems and allergies"),
    ("calendar:read", "appointments (without it appointment lists come back empty, not 403)"),
    ("calendar:write", "the write API's appointments"),
    ("clinical:read", "clinical notes and their PDFs"),
    ("labs:read", "lab orders and results"),
    ("tasks:read", "tasks"),
    ("billing:read", "billing line items"),
];

/// The scopes to request, space-separated, as the authorize URL carries them.
pub fn needed_scope_param() -> String {
    NEEDED_SCOPES.iter().map(|(scope, _)| *scope).collect::<Vec<_>>().join(" ")
}

/// The needed scopes missing from `granted` (space-separated), with why
/// each is needed.
pub fn missing_scopes(granted: &str) -> Vec<(&'static str, &'static str)> {
    let granted: Vec<&str> = granted.split_whitespace().collect();
    NEEDED_SCOPES.iter().copied().filter(|(scope, _)| !granted.contains(scope)).collect()
}

/// `{DRCHRONO_API_BASE}/o/authorize/?response_type=code&client_id=...&redirect_uri=...&scope=...&state=...`
pub fn authorize_url(api_base: &str, client_id: &str, redirect_uri: &str, state: &str) -> Result<Url, DrChronoError> {
    let base = api_base.trim_end_matches('/');
    let mut url = Url::parse(&format!("{base}/o/authorize/")).map_err(|_| {
        DrChronoError::Config(
            "DRCHRONO_API_BASE is not a valid URL (expected an origin like https://drchrono.com)".into(),
        )
    })?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &needed_scope_param())
        .append_pair("state", state);
    Ok(url)
}

/// A pair fresh from an authorization. Its `Debug` shows no token.
pub struct AuthorizedPair {
    pub access: String,
    pub refresh: String,
    pub expires_in: Option<f64>,
    /// The scopes granted, space-separated, when DrChrono says.
    pub scope: Option<String>,
}

impl std::fmt::Debug for AuthorizedPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizedPair")
            .field("access", &"<redacted>")
            .field("refresh", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Exchanges an authorization code (`grant_type=authorization_code`) with
/// the `redirect_uri` the authorize URL carried. DrChrono honours a code
/// once; a second exchange, or another redirect URI, is `invalid_grant`.
pub async fn exchange_code(
    http: &reqwest::Client,
    settings: &ClientSettings,
    code: &str,
    redirect_uri: &str,
) -> Result<AuthorizedPair, DrChronoError> {
    let (Some(client_id), Some(client_secret)) = (settings.client_id.as_deref(), settings.client_secret.as_deref())
    else {
        return Err(DrChronoError::Config(
            "DRCHRONO_CLIENT_ID and DRCHRONO_CLIENT_SECRET are required to exchange an authorization code".into(),
        ));
    };
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("client_secret", client_secret),
    ];
    match post_token_form(http, settings, &form, &CallCount::default()).await? {
        TokenAnswer::Issued(pair) => Ok(AuthorizedPair {
            access: pair.access,
            refresh: pair.refresh,
            expires_in: pair.expires_in,
            scope: pair.scope,
        }),
        TokenAnswer::Refused { code, redirect_mismatch } => {
            Err(DrChronoError::CodeRefused { hint: code_refusal_hint(&code, redirect_mismatch), code })
        }
    }
}

/// What the operator does about a refused code, in our own words (DrChrono's
/// description is not passed on).
fn code_refusal_hint(code: &str, redirect_mismatch: bool) -> &'static str {
    match code {
        "invalid_grant" if redirect_mismatch => {
            "redirect_uri mismatch: the redirect URL differs from the authorize call's; register the same URL in DrChrono's API console and run connect again"
        }
        "invalid_grant" => "the code was already used or has expired; run connect again",
        _ => "DrChrono does not accept this client; check DRCHRONO_CLIENT_ID and DRCHRONO_CLIENT_SECRET",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_needed_scopes_that_are_missing() {
        let all = needed_scope_param();
        assert!(missing_scopes(&all).is_empty());
        let without = all.replace("calendar:read ", "");
        let missing: Vec<_> = missing_scopes(&without).into_iter().map(|(s, _)| s).collect();
        assert_eq!(missing, ["calendar:read"]);
    }

    /// Labs, tasks and billing each need their own read scope: a practice
    /// connected before they were mirrored is told which to grant.
    #[test]
    fn labs_tasks_and_billing_scopes_are_asked_for_and_named_when_missing() {
        let before = "user:read patients:read patients:write patients:summary:read calendar:read calendar:write \
                      clinical:read";
        let missing: Vec<_> = missing_scopes(before).into_iter().map(|(s, _)| s).collect();
        assert_eq!(missing, ["labs:read", "tasks:read", "billing:read"]);
        let asked = needed_scope_param();
        assert!(["labs:read", "tasks:read", "billing:read"].iter().all(|s| asked.split(' ').any(|a| a == *s)));
    }

    #[test]
    fn the_authorize_url_carries_every_parameter() {
        let url = authorize_url("https://drchrono.com/", "cid", "http://127.0.0.1:8765/oauth/callback", "st").unwrap();
        assert_eq!(url.path(), "/o/authorize/");
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "cid");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:8765/oauth/callback");
        assert_eq!(q["state"], "st");
        assert!(q["scope"].split(' ').any(|s| s == "calendar:read"));
    }
}

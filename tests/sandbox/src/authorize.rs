//! `GET /o/authorize/` and the `authorization_code` grant of `POST /o/token/`.
//!
//! A person at DrChrono would log in and press "Authorize"; the sandbox
//! approves at once, so a test can follow the authorize URL with an HTTP
//! client and land on the app's callback. The code rules are DrChrono's
//! (django-oauth-toolkit's): a code is exchanged once, only with the
//! `redirect_uri` it was issued for, and a second exchange is
//! `invalid_grant`. The scopes granted are those requested that the app may
//! have ([`crate::SandboxConfig::scopes`]), so a test can grant a set that
//! lacks `calendar:read`.

use std::{collections::HashMap, sync::Arc};

use axum::{
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use rand::RngExt as _;
use serde::Deserialize;

use crate::{oauth, reply, state::Shared};

/// Codes issued by the authorize endpoint, by code.
#[derive(Default)]
pub(crate) struct Codes {
    issued: HashMap<String, Issued>,
    /// Successful code exchanges, for tests.
    pub(crate) exchanges: u64,
}

struct Issued {
    redirect_uri: String,
    scope: String,
    used: bool,
}

#[derive(Deserialize)]
pub(crate) struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
}

/// Approves at once: 302 to `redirect_uri?code=...&state=...`.
pub(crate) async fn authorize(State(shared): State<Arc<Shared>>, Query(q): Query<AuthorizeQuery>) -> Response {
    if q.client_id.as_deref() != Some(shared.config.client_id.as_str()) {
        return reply::oauth_error(StatusCode::BAD_REQUEST, "invalid_client", "unknown client_id");
    }
    if q.response_type.as_deref() != Some("code") {
        return reply::oauth_error(StatusCode::BAD_REQUEST, "unsupported_response_type", "response_type must be code");
    }
    let Some(mut target) = q.redirect_uri.as_deref().and_then(|u| url::Url::parse(u).ok()) else {
        return reply::oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "redirect_uri is missing or invalid");
    };
    let mut state = shared.lock();
    let scope = granted(&state.permitted_scopes, q.scope.as_deref().unwrap_or(""));
    let code = format!("sandbox-code-{:016x}", rand::rng().random::<u64>());
    let issued = Issued { redirect_uri: target.to_string(), scope, used: false };
    state.codes.issued.insert(code.clone(), issued);
    drop(state);
    {
        let mut query = target.query_pairs_mut();
        query.append_pair("code", &code);
        if let Some(s) = &q.state {
            query.append_pair("state", s);
        }
    }
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::from_str(target.as_str()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// The requested scopes the app may have, in the order requested; all of
/// the permitted ones when none is requested.
fn granted(permitted: &str, requested: &str) -> String {
    let allowed: Vec<&str> = permitted.split_whitespace().collect();
    if requested.trim().is_empty() {
        return allowed.join(" ");
    }
    requested.split_whitespace().filter(|s| allowed.contains(s)).collect::<Vec<_>>().join(" ")
}

/// `grant_type=authorization_code`: the code for a fresh pair, once.
pub(crate) fn exchange(shared: &Shared, form: &HashMap<String, String>) -> Response {
    let field = |name: &str| form.get(name).map(String::as_str);
    if !oauth::client_ok(shared, form) {
        return reply::oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
    }
    let Some(code) = field("code").filter(|c| !c.is_empty()) else {
        return reply::oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "code is required");
    };
    let mut state = shared.lock();
    let Some(issued) = state.codes.issued.get_mut(code).filter(|i| !i.used) else {
        return reply::oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "invalid, expired or already used code");
    };
    if field("redirect_uri") != Some(issued.redirect_uri.as_str()) {
        return reply::oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Mismatching redirect URI.");
    }
    issued.used = true;
    let scope = issued.scope.clone();
    state.codes.exchanges += 1;
    state.tokens.rotate();
    state.tokens.scope = scope;
    let body = oauth::pair_body(&state.tokens);
    drop(state);
    tracing::debug!("sandbox exchanged an authorization code");
    reply::no_store(reply::json(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::granted;

    #[test]
    fn grants_only_what_is_both_requested_and_permitted() {
        assert_eq!(granted("user:read calendar:read", "calendar:read labs:read"), "calendar:read");
        assert_eq!(granted("user:read calendar:read", ""), "user:read calendar:read");
    }
}

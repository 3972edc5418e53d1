//! `POST /o/token/` and bearer checks, with DrChrono's rotation rule: every
//! refresh issues a new pair and kills the old pair at once, so a client that
//! refreshes twice concurrently locks itself out, exactly as in production.

use std::{collections::HashMap, sync::Arc};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use serde_json::json;

use crate::{reply, state::Shared};

/// Access tokens last 48 hours at DrChrono.
const EXPIRES_IN_SECONDS: u64 = 172_800;
const SCOPE: &str = "user:read patients:read patients:write calendar:read calendar:write \
clinical:read clinical:write labs:read billing:read";

/// The body is parsed by hand, not with `axum::Form`, so a wrong content type
/// or a malformed body gets an OAuth error body rather than axum's plain
/// text rejection.
pub(crate) async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let grant_type = form.get("grant_type").map(String::as_str);
    match grant_type {
        Some("refresh_token") => refresh(&shared, &form),
        Some("authorization_code") => reply::oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "the sandbox does not implement the authorization-code grant",
        ),
        Some(_) => reply::oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be refresh_token or authorization_code",
        ),
        None => reply::oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is required"),
    }
}

fn refresh(shared: &Shared, form: &HashMap<String, String>) -> Response {
    let field = |name: &str| form.get(name).map(String::as_str);
    let client_ok = field("client_id") == Some(shared.config.client_id.as_str())
        && field("client_secret") == Some(shared.config.client_secret.as_str());
    if !client_ok {
        return reply::oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
    }
    let Some(presented) = field("refresh_token").filter(|t| !t.is_empty()) else {
        return reply::oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "refresh_token is required");
    };

    let mut state = shared.lock();
    if state.faults.invalid_grant || presented != state.tokens.refresh {
        return reply::oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_grant",
            "the refresh token is invalid, expired or already used",
        );
    }
    state.tokens.rotate();
    state.counters.refreshes += 1;
    let body = json!({
        "access_token": state.tokens.access,
        "refresh_token": state.tokens.refresh,
        "expires_in": EXPIRES_IN_SECONDS,
        "token_type": "Bearer",
        "scope": SCOPE,
    });
    drop(state);
    tracing::debug!("sandbox rotated the token pair");
    reply::no_store(reply::json(StatusCode::OK, body))
}

/// The token a request presents, if it presents one in the bearer form.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

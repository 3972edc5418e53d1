//! `POST /o/token/` and bearer checks, with DrChrono's rotation rule: every
//! refresh issues a new pair and kills the old pair at once, so a client that
//! refreshes twice concurrently locks itself out, exactly as in production.
//! The authorization-code grant lives in `authorize`.

use std::{collections::HashMap, sync::Arc};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use serde_json::json;

use crate::{
    authorize, reply,
    state::{Shared, Tokens},
};

/// Access tokens last 48 hours at DrChrono.
const EXPIRES_IN_SECONDS: u64 = 172_800;
/// What the sandbox app may be granted unless `SandboxConfig::scopes` says
/// otherwise: every scope the service asks for, and a few it does not.
pub const DEFAULT_SCOPES: &str = "user:read patients:read patients:write patients:summary:read calendar:read \
calendar:write clinical:read clinical:write labs:read billing:read tasks:read";

/// The body is parsed by hand, not with `axum::Form`, so a wrong content type
/// or a malformed body gets an OAuth error body rather than axum's plain
/// text rejection.
pub(crate) async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let grant_type = form.get("grant_type").map(String::as_str);
    match grant_type {
        Some("refresh_token") => refresh(&shared, &form),
        Some("authorization_code") => authorize::exchange(&shared, &form),
        Some(_) => reply::oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be refresh_token or authorization_code",
        ),
        None => reply::oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is required"),
    }
}

/// The form names the sandbox's client and its secret.
pub(crate) fn client_ok(shared: &Shared, form: &HashMap<String, String>) -> bool {
    let field = |name: &str| form.get(name).map(String::as_str);
    field("client_id") == Some(shared.config.client_id.as_str())
        && field("client_secret") == Some(shared.config.client_secret.as_str())
}

/// The token endpoint's success body for the pair now live.
pub(crate) fn pair_body(tokens: &Tokens) -> serde_json::Value {
    json!({
        "access_token": tokens.access,
        "refresh_token": tokens.refresh,
        "expires_in": EXPIRES_IN_SECONDS,
        "token_type": "Bearer",
        "scope": tokens.scope,
    })
}

fn refresh(shared: &Shared, form: &HashMap<String, String>) -> Response {
    let field = |name: &str| form.get(name).map(String::as_str);
    if !client_ok(shared, form) {
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
    let body = pair_body(&state.tokens);
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

/// The scope a lab, task or billing path needs; DrChrono answers 403
/// without it (appointments alone answer empty, [`hides_appointments`]).
pub(crate) fn missing_scope(path: &str, scope: &str) -> Option<&'static str> {
    let resource = path.strip_prefix("/api/")?.split('/').next()?;
    let needed = match resource {
        "lab_orders" | "lab_results" | "patient_lab_results" => "labs:read",
        "tasks" => "tasks:read",
        "line_items" => "billing:read",
        _ => return None,
    };
    (!scope.split_whitespace().any(|s| s == needed)).then_some(needed)
}

/// Without `calendar:read`, DrChrono answers appointment lists with an empty
/// list rather than 403: a client cannot tell a missing scope from a quiet
/// calendar by the answer, only by the scopes it was granted.
pub(crate) fn hides_appointments(path: &str, scope: &str) -> bool {
    let list = matches!(path, "/api/appointments" | "/api/appointments/" | "/api/appointments_list");
    list && !scope.split_whitespace().any(|s| s == "calendar:read")
}

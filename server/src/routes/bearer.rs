//! Shared-secret checks for the endpoints that are not DrChrono's: the
//! operator (`/admin`) token and the Deep Cura secret.

use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

use crate::{AppState, error::ApiError};

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Constant-time comparison, so the time taken does not reveal a prefix.
pub fn matches(presented: Option<&str>, secret: &str) -> bool {
    presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(secret.as_bytes())))
}

/// Operator endpoints answer only to `ADMIN_TOKEN`, and are off without it.
pub fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = state
        .settings
        .admin_token
        .as_deref()
        .ok_or(ApiError::NotConfigured("ADMIN_TOKEN is not set on the service; operator endpoints are off"))?;
    if matches(bearer(headers), token) { Ok(()) } else { Err(ApiError::Unauthorized) }
}

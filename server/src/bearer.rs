//! Shared-secret checks for the endpoints that are not DrChrono's: the
//! partner feed, the Deep Cura secret, the operator (`/admin`, `/events`) token,
//! and either of the partner and admin tokens for the `/api` endpoints.

use axum::http::{HeaderMap, header::AUTHORIZATION};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{AppState, config::secrets::Inbound, error::ApiError};

/// The token of an `Authorization: Bearer <token>` header (scheme in any case).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Whether the request carries `expected`. Both sides are hashed first, so the
/// comparison takes the same time whatever the sent token's length or content.
pub fn matches(headers: &HeaderMap, expected: &str) -> bool {
    secret_matches(bearer_token(headers), expected)
}

/// Whether `given` (from whichever header) is `expected`, in constant time.
pub fn secret_matches(given: Option<&str>, expected: &str) -> bool {
    let Some(given) = given else {
        return false;
    };
    let (given, expected) = (Sha256::digest(given.trim().as_bytes()), Sha256::digest(expected.as_bytes()));
    given.as_slice().ct_eq(expected.as_slice()).into()
}

/// Operator endpoints answer only to `ADMIN_TOKEN` (or its `_PREVIOUS`
/// value during a rotation), and are off without it.
pub fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let tokens = state.settings.secrets(Inbound::Admin);
    if tokens.is_off() {
        return Err(ApiError::NotConfigured("ADMIN_TOKEN is not set on the service, so operator endpoints are off"));
    }
    tokens.matched(|token| matches(headers, token)).map(drop).ok_or(ApiError::Unauthorized)
}

/// Which token the caller of an `/api` endpoint holds: `admin` or
/// `partner` (the audit's `api:<role>`). 503 when neither is configured.
pub fn admin_or_partner(state: &AppState, headers: &HeaderMap) -> Result<&'static str, ApiError> {
    let (admin, partner) = (state.settings.secrets(Inbound::Admin), state.settings.secrets(Inbound::Partner));
    if admin.is_off() && partner.is_off() {
        return Err(ApiError::NotConfigured("set ADMIN_TOKEN or PARTNER_TOKEN to use the /api endpoints"));
    }
    if admin.matched(|t| matches(headers, t)).is_some() {
        Ok("admin")
    } else if partner.matched(|t| matches(headers, t)).is_some() {
        Ok("partner")
    } else {
        Err(ApiError::Unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn only_the_exact_bearer_token_matches() {
        assert!(matches(&with("Bearer s3cret"), "s3cret"));
        assert!(matches(&with("bearer  s3cret "), "s3cret"));
        assert!(!matches(&with("Bearer s3cre"), "s3cret"));
        assert!(!matches(&with("Basic s3cret"), "s3cret"));
        assert!(!matches(&with("s3cret"), "s3cret"));
        assert!(!matches(&HeaderMap::new(), "s3cret"));
    }
}

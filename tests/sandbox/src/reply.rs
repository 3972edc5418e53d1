//! Response shapes shared by the handlers, in DrChrono's (Django REST
//! framework's) spelling, so clients are tested against the real bodies.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

pub(crate) fn json(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// DRF's error form: `{"detail": "..."}`.
pub(crate) fn detail(status: StatusCode, message: &str) -> Response {
    json(status, json!({ "detail": message }))
}

pub(crate) fn not_found() -> Response {
    detail(StatusCode::NOT_FOUND, "Not found.")
}

/// django-oauth-toolkit treats a wrong or expired token as no credentials at
/// all, so DrChrono answers both with this message, plus DRF's challenge.
pub(crate) fn unauthenticated() -> Response {
    let mut response = detail(StatusCode::UNAUTHORIZED, "Authentication credentials were not provided.");
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"api\""));
    response
}

/// RFC 6749 error bodies for the token endpoint, never cached.
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    no_store(json(status, json!({ "error": error, "error_description": description })))
}

pub(crate) fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// What Django serves on an unhandled exception with `DEBUG = False`: HTML,
/// not JSON, which clients must survive.
pub(crate) fn server_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n",
    )
        .into_response()
}

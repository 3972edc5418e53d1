//! The console's one asset, its stylesheet, compiled into the binary: a
//! clinic's network may reach nothing outside, and there is no build step.

use axum::{http::header, response::IntoResponse};

const CSS: &str = include_str!("console.css");

/// `GET /console/assets/console.css`, cached for a day (its content only
/// changes with a release, and a stale copy is harmless).
pub async fn css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")], CSS)
}

//! The operator console at `/console`: server-rendered pages over the
//! queues, jobs, deliveries, review queues and sync runs, and forms for the
//! operator actions the CLI has (`job_runner::ops`, `jobs::inbox::replay`,
//! `jobs::deepcura::manual`), each audited under the console's actor.
//!
//! Pages show ids, counts and states, never PHI. Every page is one bounded
//! query (newest first, [`PAGE_SIZE`] rows, a `before` cursor where a list
//! grows without end); each handler's doc names the index that serves it.
//! The HTML ids and classes the browser tests rely on are the contract
//! written in the README's "The console".

mod assets;
mod auth;
mod csrf;
mod deliveries;
mod jobs;
mod layout;
mod overview;
mod review;
mod runs;

use axum::{
    Router,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};

use crate::AppState;

pub use auth::{Role, SESSION_HOURS};

/// Rows per list page.
pub const PAGE_SIZE: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(overview::page))
        .route("/console/login", get(auth::login_form).post(auth::login))
        .route("/console/logout", post(auth::logout))
        .route("/console/assets/console.css", get(assets::css))
        .route("/console/queues/{queue}/pause", post(overview::pause))
        .route("/console/queues/{queue}/resume", post(overview::resume))
        .route("/console/jobs", get(jobs::list))
        .route("/console/jobs/{id}", get(jobs::show))
        .route("/console/jobs/{id}/retry", post(jobs::retry))
        .route("/console/jobs/{id}/discard", post(jobs::discard))
        .route("/console/jobs/{id}/cancel", post(jobs::cancel))
        .route("/console/deliveries", get(deliveries::list))
        .route("/console/deliveries/{id}/replay", post(deliveries::replay))
        .route("/console/review", get(review::page))
        .route("/console/deepcura/{id}/link", post(review::link))
        .route("/console/deepcura/{id}/unlinkable", post(review::unlinkable))
        .route("/console/pdfs/{note}/recheck", post(review::recheck))
        .route("/console/runs", get(runs::page))
}

/// A form or query field with something in it, trimmed: an empty filter box means no filter.
fn nonblank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// What a console request can fail with. Each is an HTML page; internal
/// details are logged and never shown, only the request id.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Not logged in (or the session expired): a page is redirected to the login form.
    #[error("not logged in")]
    LoggedOut,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Off(&'static str),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            Self::LoggedOut => return Redirect::to("/console/login").into_response(),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, (*m).to_string()),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, m.clone()),
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            Self::Off(m) => (StatusCode::SERVICE_UNAVAILABLE, (*m).to_string()),
            Self::Database(e) => {
                let transient = crate::error::is_transient(e);
                tracing::error!(error = %job_runner::describe_db_error(e), "console: database error");
                let status =
                    if transient { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::INTERNAL_SERVER_ERROR };
                let what = if transient {
                    "the database is unavailable; reload the page in a few seconds"
                } else {
                    "the page could not be built; the service's log has the detail under the request id below"
                };
                (status, what.to_string())
            }
        };
        (status, layout::error_page(status, &message)).into_response()
    }
}

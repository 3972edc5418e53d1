//! Routes, plus the gate every DrChrono-facing request passes: count it,
//! apply faults, check the bearer token, spend the hourly budget.
//! `/_sandbox/*` is the test's own back door and is neither counted nor
//! authenticated; so are the note PDF links, which DrChrono serves unsigned
//! by the bearer token.

use std::sync::Arc;

use axum::{
    Router,
    extract::{Request, State},
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
};

use crate::{authorize, bulk, faults, files, lists, oauth, reply, state::Shared, writes};

pub(crate) fn build(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/o/authorize/", get(authorize::authorize))
        .route("/o/authorize", get(authorize::authorize))
        .route("/o/token/", post(oauth::token))
        // DrChrono's docs write the token URL with the slash; tolerate a
        // client that drops it rather than 404 on a typo nobody can see.
        .route("/o/token", post(oauth::token))
        // Every record kind shares one list and one detail handler; an
        // unknown resource is a 404 there, after the gate, as at DrChrono.
        .route("/api/patients_list", get(bulk::poll).post(bulk::start))
        .route("/api/clinical_notes_list", get(bulk::poll).post(bulk::start))
        .route("/api/appointments_list", get(bulk::appointments))
        .route("/api/{resource}", get(lists::list).post(writes::create))
        .route("/api/{resource}/", get(lists::list).post(writes::create))
        .route("/api/{resource}/{id}", get(lists::get).patch(writes::patch))
        .route("/api/{resource}/{id}/", get(lists::get).patch(writes::patch))
        .route("/_sandbox/stats", get(stats))
        .route("/_files/notes/{file}", get(files::note_pdf))
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

#[derive(PartialEq)]
enum Kind {
    Api,
    Token,
    Other,
}

fn kind(path: &str) -> Kind {
    if path == "/api" || path.starts_with("/api/") {
        Kind::Api
    } else if path == "/o/token" || path.starts_with("/o/token/") {
        Kind::Token
    } else {
        Kind::Other
    }
}

async fn gate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let kind = kind(request.uri().path());
    if kind == Kind::Other {
        return next.run(request).await;
    }
    let (edge_fault, delay) = {
        let mut state = shared.lock();
        state.counters.record(request.uri().path());
        if let Some(tp) = request.headers().get("traceparent").and_then(|v| v.to_str().ok()) {
            state.counters.traceparents.push((request.uri().path().to_owned(), tp.to_owned()));
        }
        let edge = if kind == Kind::Api { faults::at_edge(&mut state) } else { None };
        (edge, state.faults.slow)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(response) = edge_fault {
        return response;
    }
    if kind == Kind::Token {
        return next.run(request).await;
    }
    {
        let mut state = shared.lock();
        let authorized = oauth::bearer(request.headers()).is_some_and(|t| state.tokens.accepts_access(t));
        if !authorized {
            return reply::unauthenticated();
        }
        if let Some(response) = faults::after_auth(&state) {
            return response;
        }
        if request.method() == axum::http::Method::GET
            && oauth::hides_appointments(request.uri().path(), &state.tokens.scope)
        {
            // The bulk list writes its records under `data`, as the spec has it.
            let key = if request.uri().path().ends_with("_list") { "data" } else { "results" };
            let empty = serde_json::json!({ "previous": null, key: [], "next": null });
            return reply::json(axum::http::StatusCode::OK, empty);
        }
        if oauth::missing_scope(request.uri().path(), &state.tokens.scope).is_some() {
            let detail = serde_json::json!({ "detail": "You do not have permission to perform this action." });
            return reply::json(axum::http::StatusCode::FORBIDDEN, detail);
        }
        // DRF throttles after authentication, like the fault above.
        if let Some(limit) = shared.config.calls_per_second
            && !state.burst.take(limit, tokio::time::Instant::now())
        {
            return faults::throttled(faults::RateLimit { retry_after_header: true, seconds: 1 });
        }
        if let Some(limit) = shared.config.calls_per_hour {
            let now = chrono::Utc::now().timestamp();
            if let Err(seconds) = state.budget.take(limit, now) {
                return faults::throttled(faults::RateLimit { retry_after_header: false, seconds });
            }
        }
    }
    next.run(request).await
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let body = shared.lock().counters.to_json();
    reply::json(axum::http::StatusCode::OK, body)
}

/// Unknown `/api/*` resources answer as Django does once past the gate.
async fn fallback() -> Response {
    reply::not_found()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_drchrono_paths_pass_the_gate() {
        assert!(kind("/api/patients") == Kind::Api);
        assert!(kind("/api") == Kind::Api);
        assert!(kind("/apix") == Kind::Other);
        assert!(kind("/o/token/") == Kind::Token);
        assert!(kind("/_sandbox/stats") == Kind::Other);
    }
}

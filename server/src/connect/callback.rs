//! `GET /oauth/callback`: where DrChrono sends the person back after they
//! authorize the app. It only checks the state and stores the code (sealed)
//! for the waiting `connect`, which exchanges it: like every handler, it
//! never calls DrChrono. Served by the running service and by `connect
//! --listen`'s own listener alike. Neither the code nor the state is logged.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::pending::{self, CODE_AAD, Callback};
use crate::AppState;

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn callback(State(app): State<AppState>, Query(q): Query<CallbackQuery>) -> Response {
    let Some(keys) = app.settings.token_keys() else {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "TOKEN_ENCRYPTION_KEY is not set; the service cannot store DrChrono tokens.",
        );
    };
    let Some(state) = q.state.as_deref().filter(|s| !s.is_empty()) else {
        return page(StatusCode::BAD_REQUEST, "The callback has no state; start again with `drchrono-sync connect`.");
    };
    let answer = match (q.code.as_deref().filter(|c| !c.is_empty()), q.error.as_deref()) {
        (_, Some(error)) => Callback::Error(oauth_error_code(error)),
        (Some(code), None) => Callback::Code(keys.seal(CODE_AAD, code)),
        (None, None) => {
            return page(
                StatusCode::BAD_REQUEST,
                "The callback has no code; start again with `drchrono-sync connect`.",
            );
        }
    };
    match pending::answer(&app.pool, &pending::state_hash(state), &answer).await {
        Ok(true) => {
            tracing::info!(
                outcome = if matches!(answer, Callback::Code(_)) { "code" } else { "error" },
                "OAuth callback received"
            );
            page(
                StatusCode::OK,
                "DrChrono authorization received. Return to the terminal running `drchrono-sync connect`.",
            )
        }
        Ok(false) => {
            tracing::warn!("OAuth callback with an unknown, expired or already used state; ignored");
            page(
                StatusCode::BAD_REQUEST,
                "This authorization is unknown, expired or already used; run `drchrono-sync connect` again.",
            )
        }
        Err(e) => {
            tracing::error!(error = %job_runner::describe_db_error(&e), "could not record the OAuth callback");
            page(StatusCode::SERVICE_UNAVAILABLE, "The database is unavailable; try again shortly.")
        }
    }
}

/// The OAuth error vocabulary is lower case and underscores; anything else
/// the query carried is not kept.
fn oauth_error_code(error: &str) -> String {
    let fits = error.len() <= 40 && error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if fits { error.to_string() } else { "unrecognised_error".into() }
}

fn page(status: StatusCode, text: &'static str) -> Response {
    (status, [(axum::http::header::CACHE_CONTROL, "no-store")], format!("{text}\n")).into_response()
}

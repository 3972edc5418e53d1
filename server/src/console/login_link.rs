//! One-time login links, so that whoever starts the service (`cargo xtask
//! demo`) can open the console without copying a token into a form. The
//! link holds a random token; the database keeps only its SHA-256, and the
//! first use deletes it, so a link seen later in a terminal's scrollback or
//! a browser's history opens nothing.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};
use std::time::Duration;

use super::{ConsoleError, auth::Role, layout};
use crate::AppState;

/// Makes a link's token for `role`, valid for `ttl` or until first used.
/// The console opens it at `/console/login/once/{token}`.
pub async fn issue(pool: &sqlx::PgPool, role: Role, ttl: Duration) -> Result<String, sqlx::Error> {
    let token = hex::encode(rand::random::<[u8; 32]>());
    sqlx::query(
        "INSERT INTO console_login_links (token_sha256, role, expires_at) \
         VALUES ($1, $2, now() + make_interval(secs => $3::float8))",
    )
    .bind(Sha256::digest(token.as_bytes()).to_vec())
    .bind(role.name())
    .bind(ttl.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(token)
}

/// `GET /console/login/once/{token}`: a session for the link's role, once.
pub async fn open(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ConsoleError> {
    let role: Option<String> = sqlx::query_scalar(
        "DELETE FROM console_login_links WHERE token_sha256 = $1 AND expires_at > now() RETURNING role",
    )
    .bind(Sha256::digest(token.as_bytes()).to_vec())
    .fetch_optional(&state.pool)
    .await?;
    sqlx::query("DELETE FROM console_login_links WHERE expires_at < now()").execute(&state.pool).await?;
    let Some(role) = role.as_deref().and_then(Role::from_name) else {
        tracing::warn!("console login link refused: unknown, used or expired");
        let message = "this login link was used already or has expired; log in with the token";
        return Ok((StatusCode::UNAUTHORIZED, layout::login_page(&state, Some(message))).into_response());
    };
    super::auth::start_session(&state, role).await
}

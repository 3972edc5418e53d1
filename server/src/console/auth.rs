//! Logging in to the console and the sessions that follow.
//!
//! The login form takes `ADMIN_TOKEN` (or its `_PREVIOUS` value during a
//! rotation) for the admin role, or `CONSOLE_READONLY_TOKEN` for the
//! read-only one, compared in constant time. There is one admin token and no
//! per-person identity, so the actor of every console action is the role
//! (`console:admin`). A session is a row of `console_sessions` keyed by the
//! SHA-256 of a random id that only the browser's cookie holds; logout
//! deletes the row. A wrong token counts against the sending address's
//! budget of authentication failures (`WEBHOOK_REJECTED_PER_MINUTE`), past
//! which the form answers 429 without checking.

use axum::{
    Extension, Form,
    extract::{FromRequestParts, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{ConsoleError, layout};
use crate::{AppState, bearer::secret_matches, config::secrets::Inbound, routes::rejections::Gate};

/// How long a login lasts, in hours; a session is not extended by use.
pub const SESSION_HOURS: i64 = 8;

const COOKIE: &str = "console_session";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Readonly,
}

impl Role {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Readonly => "readonly",
        }
    }

    /// The actor recorded in `operator_actions` and `read_audit`.
    pub const fn actor(self) -> &'static str {
        match self {
            Self::Admin => "console:admin",
            Self::Readonly => "console:readonly",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::Admin, Self::Readonly].into_iter().find(|r| r.name() == name)
    }
}

/// The logged-in browser of a request, read from its cookie.
#[derive(Debug, Clone)]
pub struct Session {
    id_sha256: Vec<u8>,
    pub role: Role,
    pub csrf: String,
    /// The outcome of the last action, shown once.
    pub flash: Option<String>,
}

impl Session {
    /// Keeps `message` to be shown on the next page this session opens.
    pub async fn set_flash(&self, pool: &sqlx::PgPool, message: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE console_sessions SET flash = $2 WHERE id_sha256 = $1")
            .bind(&self.id_sha256)
            .bind(message)
            .execute(pool)
            .await?;
        Ok(())
    }
}

fn session_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ConsoleError;

    /// The session's row, taking its flash message (served by the primary key).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let logged_out = || {
            if parts.method == Method::GET { ConsoleError::LoggedOut } else { ConsoleError::Forbidden(NOT_LOGGED_IN) }
        };
        let Some(id) = session_id(&parts.headers) else { return Err(logged_out()) };
        let id_sha256 = Sha256::digest(id.as_bytes()).to_vec();
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "WITH old AS (SELECT id_sha256, flash FROM console_sessions \
                          WHERE id_sha256 = $1 AND expires_at > now() FOR UPDATE) \
             UPDATE console_sessions s SET last_seen_at = now(), flash = NULL FROM old \
             WHERE s.id_sha256 = old.id_sha256 RETURNING s.role, s.csrf, old.flash",
        )
        .bind(&id_sha256)
        .fetch_optional(&state.pool)
        .await?;
        let Some((role, csrf, flash)) = row else { return Err(logged_out()) };
        let role = Role::from_name(&role).ok_or(ConsoleError::Forbidden(NOT_LOGGED_IN))?;
        Ok(Session { id_sha256, role, csrf, flash })
    }
}

const NOT_LOGGED_IN: &str = "not logged in, or the session expired: log in again at /console/login";

pub async fn login_form(State(state): State<AppState>) -> Response {
    layout::login_page(&state, None).into_response()
}

#[derive(Deserialize)]
pub struct Login {
    token: String,
}

/// Which role `token` opens, in constant time per configured value.
fn role_of(state: &AppState, token: &str) -> Option<Role> {
    let given = Some(token);
    let admin = state.settings.secrets(Inbound::Admin).matched(|t| secret_matches(given, t)).map(|_| Role::Admin);
    let readonly =
        state.settings.secrets(Inbound::ConsoleReadonly).matched(|t| secret_matches(given, t)).map(|_| Role::Readonly);
    admin.or(readonly)
}

pub async fn login(
    State(state): State<AppState>,
    Extension(gate): Extension<Gate>,
    Form(form): Form<Login>,
) -> Result<Response, ConsoleError> {
    let settings = &state.settings;
    if settings.secrets(Inbound::Admin).is_off() && settings.secrets(Inbound::ConsoleReadonly).is_off() {
        return Err(ConsoleError::Off(
            "the console is off: set ADMIN_TOKEN (and CONSOLE_READONLY_TOKEN) on the service",
        ));
    }
    let Some(role) = role_of(&state, &form.token) else {
        if let crate::routes::rejections::Rejected::Throttle { .. } = gate.rejected() {
            tracing::warn!("console logins failing beyond WEBHOOK_REJECTED_PER_MINUTE from one address");
            let message = "too many failed logins from this address; wait a minute, then try again";
            return Ok((StatusCode::TOO_MANY_REQUESTS, layout::error_page(StatusCode::TOO_MANY_REQUESTS, message))
                .into_response());
        }
        tracing::warn!("console login refused: the token matches neither ADMIN_TOKEN nor CONSOLE_READONLY_TOKEN");
        return Ok(
            (StatusCode::UNAUTHORIZED, layout::login_page(&state, Some("that token is not valid"))).into_response()
        );
    };
    let id = hex::encode(rand::random::<[u8; 32]>());
    let csrf = hex::encode(rand::random::<[u8; 32]>());
    sqlx::query(
        "INSERT INTO console_sessions (id_sha256, role, csrf, expires_at) \
         VALUES ($1, $2, $3, now() + make_interval(hours => $4::int))",
    )
    .bind(Sha256::digest(id.as_bytes()).to_vec())
    .bind(role.name())
    .bind(&csrf)
    .bind(SESSION_HOURS as i32)
    .execute(&state.pool)
    .await?;
    sqlx::query("DELETE FROM console_sessions WHERE expires_at < now()").execute(&state.pool).await?;
    tracing::info!(role = role.name(), "console login");
    let cookie = cookie(&state, &id, SESSION_HOURS * 3600);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/console")).into_response())
}

/// The session cookie: `Secure` unless the service listens on loopback,
/// where a browser reaches it over plain http.
fn cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.settings.bind_addr().ip().is_loopback() { "" } else { "; Secure" };
    let text = format!("{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/console; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).expect("hex and fixed attributes are a valid header")
}

#[derive(Deserialize)]
pub struct Logout {
    csrf: Option<String>,
}

/// Ends the session (either role, with its CSRF token) and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<Logout>,
) -> Result<Response, ConsoleError> {
    super::csrf::verify(&session, form.csrf.as_deref())?;
    sqlx::query("DELETE FROM console_sessions WHERE id_sha256 = $1")
        .bind(&session.id_sha256)
        .execute(&state.pool)
        .await?;
    Ok(([(header::SET_COOKIE, cookie(&state, "", 0))], Redirect::to("/console/login")).into_response())
}

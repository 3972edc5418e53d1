//! The DrChrono token as `/metrics` reads it at scrape time.

use sqlx::PgPool;

/// The DrChrono token row as an operator cares about it.
pub(crate) struct TokenState {
    /// One of [`TOKEN_STATES`].
    pub state: &'static str,
    /// Seconds until the access token expires (negative once it has), when known.
    pub expires_in_secs: Option<f64>,
}

/// `absent`: no stored row (tokens, if any, come from the environment);
/// `valid`; `expired`: the next call refreshes it; `reauthorization_required`:
/// DrChrono refused the refresh token and a person must act.
pub(crate) const TOKEN_STATES: [&str; 4] = ["absent", "valid", "expired", "reauthorization_required"];

pub(crate) async fn token_state(pool: &PgPool) -> Result<TokenState, sqlx::Error> {
    let row: Option<(bool, Option<f64>)> = sqlx::query_as(
        "SELECT needs_reauth, extract(epoch FROM access_expires_at - now())::float8
           FROM oauth_tokens WHERE key = 'default'",
    )
    .fetch_optional(pool)
    .await?;
    let state = match row {
        None => "absent",
        Some((true, _)) => "reauthorization_required",
        Some((false, Some(secs))) if secs <= 0.0 => "expired",
        Some(_) => "valid",
    };
    Ok(TokenState { state, expires_in_secs: row.and_then(|(_, secs)| secs) })
}

//! What operators and the HTTP layer see of the token row: whether a person
//! must re-authorize, storing a freshly authorized pair, reading it back.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{
    DrChronoError,
    budget::APP,
    crypto::{ACCESS, REFRESH, TokenKey, open_field, seal_pair},
};

/// Why DrChrono calls are stopped, for `/ready` and operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReauthRequired {
    /// The OAuth error DrChrono gave (`invalid_grant`, `invalid_client`, ...).
    pub reason: String,
    pub since: Option<DateTime<Utc>>,
}

/// `Some` while the token row is flagged: a person must re-authorize the app
/// and every DrChrono call fails at once without touching the network.
pub async fn reauthorization_required(pool: &PgPool) -> Result<Option<ReauthRequired>, sqlx::Error> {
    let row: Option<(Option<String>, Option<DateTime<Utc>>)> =
        sqlx::query_as("SELECT reauth_reason, reauth_since FROM oauth_tokens WHERE key = $1 AND needs_reauth")
            .bind(APP)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(reason, since)| ReauthRequired { reason: reason.unwrap_or_else(|| "refresh refused".into()), since }))
}

/// Stores a freshly authorized pair (for example from an OAuth
/// authorization-code callback) and lifts any lockout.
pub async fn store_authorized_tokens(
    pool: &PgPool,
    key: &TokenKey,
    access: &str,
    refresh: Option<&str>,
    expires_in_secs: Option<f64>,
) -> Result<(), sqlx::Error> {
    let sealed = seal_pair(key, access, refresh);
    sqlx::query(
        "INSERT INTO oauth_tokens (key, access_token_enc, refresh_token_enc, access_expires_at)
         VALUES ($1, $2, $3, CASE WHEN $4::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => $4) END)
         ON CONFLICT (key) DO UPDATE
            SET access_token_enc = EXCLUDED.access_token_enc, refresh_token_enc = EXCLUDED.refresh_token_enc,
                access_expires_at = EXCLUDED.access_expires_at, needs_reauth = false, reauth_reason = NULL,
                reauth_since = NULL, generation = oauth_tokens.generation + 1, updated_at = now()",
    )
    .bind(APP)
    .bind(sealed.0)
    .bind(sealed.1)
    .bind(expires_in_secs)
    .execute(pool)
    .await?;
    Ok(())
}

/// Reads the stored pair back in plaintext (operators' tooling and tests).
pub async fn read_stored_tokens(
    pool: &PgPool,
    key: &TokenKey,
) -> Result<Option<(String, Option<String>)>, DrChronoError> {
    let row: Option<(Vec<u8>, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT access_token_enc, refresh_token_enc FROM oauth_tokens WHERE key = $1")
            .bind(APP)
            .fetch_optional(pool)
            .await?;
    let Some((access, refresh)) = row else { return Ok(None) };
    let access = open_field(key, ACCESS, &access)?;
    let refresh = refresh.map(|r| open_field(key, REFRESH, &r)).transpose()?;
    Ok(Some((access, refresh)))
}

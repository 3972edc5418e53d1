//! What operators and the HTTP layer see of the token row: whether a person
//! must re-authorize, storing a freshly authorized pair, reading it back,
//! and its state for the preflight.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{
    AuthorizedPair, DrChronoError, Keyring, REAUTH_MESSAGE_PREFIX,
    budget::APP,
    crypto::{ACCESS, REFRESH, open_field, seal_pair},
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

/// Stores a freshly authorized pair (from the OAuth authorization-code
/// flow), lifts any lockout, and makes the jobs that were waiting for a
/// re-authorization due now; returns how many were resumed.
///
/// The upsert takes the token row's lock, the same lock a refresh holds
/// (`SELECT ... FOR UPDATE` in `tokens`) from reading the old pair to
/// committing the rotated one, so it is single-flight with refreshes: it
/// waits for a refresh in flight and lands after it, and a refresh that was
/// waiting finds the pair changed and uses it without calling DrChrono.
pub async fn store_authorized_tokens(pool: &PgPool, keys: &Keyring, pair: &AuthorizedPair) -> Result<u64, sqlx::Error> {
    let sealed = seal_pair(keys, &pair.access, Some(&pair.refresh));
    sqlx::query(
        "INSERT INTO oauth_tokens (key, access_token_enc, refresh_token_enc, access_expires_at, granted_scope)
         VALUES ($1, $2, $3, CASE WHEN $4::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => $4) END, $5)
         ON CONFLICT (key) DO UPDATE
            SET access_token_enc = EXCLUDED.access_token_enc, refresh_token_enc = EXCLUDED.refresh_token_enc,
                access_expires_at = EXCLUDED.access_expires_at, granted_scope = EXCLUDED.granted_scope,
                needs_reauth = false, reauth_reason = NULL,
                reauth_since = NULL, generation = oauth_tokens.generation + 1, updated_at = now()",
    )
    .bind(APP)
    .bind(sealed.0)
    .bind(sealed.1)
    .bind(pair.expires_in)
    .bind(pair.scope.as_deref())
    .execute(pool)
    .await?;
    let resumed = job_runner::queries::run_deferred_now(pool, REAUTH_MESSAGE_PREFIX).await?;
    tracing::info!(key = APP, resumed, "DrChrono authorized: tokens stored encrypted; waiting jobs resumed");
    Ok(resumed)
}

/// The token row as the preflight sees it, without decrypting more than it
/// must and without refreshing (a refresh rotates the pair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTokenState {
    /// The access token decrypts with the configured key.
    pub decryptable: bool,
    pub has_refresh_token: bool,
    /// The access token's lifetime is over (or about to be).
    pub expired: bool,
    pub needs_reauth: bool,
    pub granted_scope: Option<String>,
}

/// `None` when no pair is stored yet.
pub async fn stored_token_state(pool: &PgPool, keys: &Keyring) -> Result<Option<StoredTokenState>, sqlx::Error> {
    type Row = (Vec<u8>, Option<Vec<u8>>, bool, bool, Option<String>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT access_token_enc, refresh_token_enc, coalesce(access_expires_at <= now() + interval '60 seconds', false),
                needs_reauth, granted_scope
           FROM oauth_tokens WHERE key = $1",
    )
    .bind(APP)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(access, refresh, expired, needs_reauth, granted_scope)| StoredTokenState {
        decryptable: open_field(keys, ACCESS, &access).is_ok()
            && refresh.as_deref().is_none_or(|r| open_field(keys, REFRESH, r).is_ok()),
        has_refresh_token: refresh.is_some(),
        expired,
        needs_reauth,
        granted_scope,
    }))
}

/// Reads the stored pair back in plaintext (operators' tooling and tests).
pub async fn read_stored_tokens(
    pool: &PgPool,
    keys: &Keyring,
) -> Result<Option<(String, Option<String>)>, DrChronoError> {
    let row: Option<(Vec<u8>, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT access_token_enc, refresh_token_enc FROM oauth_tokens WHERE key = $1")
            .bind(APP)
            .fetch_optional(pool)
            .await?;
    let Some((access, refresh)) = row else { return Ok(None) };
    let access = open_field(keys, ACCESS, &access)?;
    let refresh = refresh.map(|r| open_field(keys, REFRESH, &r)).transpose()?;
    Ok(Some((access, refresh)))
}

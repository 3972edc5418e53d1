//! `oauth_pending`: the connects waiting for DrChrono's callback. The state
//! is kept only as its SHA-256 and the code only sealed, so neither can be
//! read back out of the database.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// The associated data the authorization code is sealed under (the key
/// rotation re-seals it too, so it is defined with the other sealed columns).
pub(crate) const CODE_AAD: &str = jobs::drchrono::OAUTH_CODE_AAD;

/// What the callback brought.
pub(crate) enum Callback {
    /// The authorization code, sealed with `TOKEN_ENCRYPTION_KEY`.
    Code(Vec<u8>),
    /// DrChrono's OAuth error code (`access_denied`, ...).
    Error(String),
}

pub(crate) fn state_hash(state: &str) -> Vec<u8> {
    Sha256::digest(state.as_bytes()).to_vec()
}

/// Records a new authorization awaiting its callback until `expires_at`,
/// and forgets those long expired.
pub(crate) async fn open(
    pool: &PgPool,
    hash: &[u8],
    redirect_uri: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM oauth_pending WHERE expires_at < now() - interval '1 day'").execute(pool).await?;
    sqlx::query("INSERT INTO oauth_pending (state_hash, redirect_uri, expires_at) VALUES ($1, $2, $3)")
        .bind(hash)
        .bind(redirect_uri)
        .bind(expires_at)
        .execute(pool)
        .await?;
    Ok(())
}

/// Stores the callback's answer on its authorization; `false` when the
/// state is unknown, expired or already answered (a replayed callback).
pub(crate) async fn answer(pool: &PgPool, hash: &[u8], callback: &Callback) -> Result<bool, sqlx::Error> {
    let (code, error) = match callback {
        Callback::Code(sealed) => (Some(sealed.as_slice()), None),
        Callback::Error(code) => (None, Some(code.as_str())),
    };
    let updated = sqlx::query(
        "UPDATE oauth_pending SET code_enc = $2, error = $3, received_at = now()
          WHERE state_hash = $1 AND expires_at > now() AND received_at IS NULL",
    )
    .bind(hash)
    .bind(code)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Takes the callback's answer once it has arrived (the row goes with it).
pub(crate) async fn take(pool: &PgPool, hash: &[u8]) -> Result<Option<Callback>, sqlx::Error> {
    let row: Option<(Option<Vec<u8>>, Option<String>)> = sqlx::query_as(
        "DELETE FROM oauth_pending WHERE state_hash = $1 AND received_at IS NOT NULL RETURNING code_enc, error",
    )
    .bind(hash)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(code, error)| match code {
        Some(sealed) => Callback::Code(sealed),
        None => Callback::Error(error.unwrap_or_else(|| "no_code".into())),
    }))
}

/// Drops an authorization that will not be completed (expired, abandoned).
pub(crate) async fn forget(pool: &PgPool, hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM oauth_pending WHERE state_hash = $1").bind(hash).execute(pool).await?;
    Ok(())
}

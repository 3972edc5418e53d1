//! OAuth tokens in Postgres (`oauth_tokens`), encrypted at rest, refreshed
//! single-flight across every process.
//!
//! DrChrono rotates the refresh token on every use and kills the old one at
//! once, so two processes refreshing together lock the practice out. A
//! refresh therefore holds the token row's lock (`SELECT ... FOR UPDATE`),
//! re-reads the row inside it (another process may have rotated it while we
//! waited: then its token is used and nothing is refreshed), and commits the
//! rotated pair before anyone uses it.

use chrono::Utc;
use sqlx::{PgPool, Row as _};

use super::{
    ClientSettings, DrChronoError, Keyring,
    budget::APP,
    calls::CallCount,
    crypto::{ACCESS, REFRESH, open_field, seal_pair},
    token_grant::{Grant, grant},
};

/// A token this close to its expiry is refreshed before use.
const EXPIRY_MARGIN_SECS: i64 = 60;

/// How the client authenticates, decided by configuration.
pub(crate) enum Auth<'a> {
    /// `DRCHRONO_ACCESS_TOKEN` used as is: no key and no client credentials
    /// are configured, so nothing is stored and nothing is refreshed.
    Static(&'a str),
    /// Tokens in `oauth_tokens`, refreshed single-flight.
    Stored(Store<'a>),
}

impl<'a> Auth<'a> {
    pub(crate) fn from_settings(
        pool: &'a PgPool,
        http: &'a reqwest::Client,
        settings: &'a ClientSettings,
    ) -> Result<Self, DrChronoError> {
        if let Some(keys) = &settings.token_keys {
            return Ok(Auth::Stored(Store { pool, http, settings, keys }));
        }
        if settings.refresh_token.is_some() || settings.client_id.is_some() || settings.client_secret.is_some() {
            return Err(DrChronoError::Config(
                "TOKEN_ENCRYPTION_KEY is not set; it is required to store and refresh DrChrono OAuth tokens (base64 of 32 bytes: `openssl rand -base64 32`)".into(),
            ));
        }
        match settings.access_token.as_deref() {
            Some(token) => Ok(Auth::Static(token)),
            None => Err(DrChronoError::NoToken),
        }
    }
}

/// `DRCHRONO_ACCESS_TOKEN` and `DRCHRONO_REFRESH_TOKEN`, when set.
pub(crate) fn seed_pair(settings: &ClientSettings) -> Option<(&str, Option<&str>)> {
    Some((settings.access_token.as_deref()?, settings.refresh_token.as_deref()))
}

/// What `seed_fingerprint` is the fingerprint of.
pub(crate) fn seed_parts<'a>(access: &'a str, refresh: Option<&'a str>) -> [&'a str; 2] {
    [access, refresh.unwrap_or("")]
}

pub(crate) struct Store<'a> {
    pool: &'a PgPool,
    http: &'a reqwest::Client,
    settings: &'a ClientSettings,
    keys: &'a Keyring,
}

struct Row {
    access: Vec<u8>,
    expiring: bool,
    needs_reauth: bool,
    reauth_reason: Option<String>,
    seed_fingerprint: Option<Vec<u8>>,
}

impl Store<'_> {
    fn open(&self, field: &str, bytes: &[u8]) -> Result<String, DrChronoError> {
        open_field(self.keys, field, bytes)
    }

    async fn row(&self) -> Result<Option<Row>, DrChronoError> {
        let row = sqlx::query(
            "SELECT access_token_enc, coalesce(access_expires_at <= now() + make_interval(secs => $2), false) AS expiring,
                    needs_reauth, reauth_reason, seed_fingerprint
               FROM oauth_tokens WHERE key = $1",
        )
        .bind(APP)
        .bind(EXPIRY_MARGIN_SECS as f64)
        .fetch_optional(self.pool)
        .await?;
        Ok(row.map(|r| Row {
            access: r.get(0),
            expiring: r.get(1),
            needs_reauth: r.get(2),
            reauth_reason: r.get(3),
            seed_fingerprint: r.get(4),
        }))
    }

    /// The environment's seed pair and its fingerprint, if one is configured.
    fn seed(&self) -> Option<(&str, Option<&str>, Vec<u8>)> {
        let (access, refresh) = seed_pair(self.settings)?;
        Some((access, refresh, self.keys.fingerprint(&seed_parts(access, refresh))))
    }

    /// The access token to call with. Checks the re-authorization flag first,
    /// seeds the row on first start, and refreshes a token about to expire.
    pub(crate) async fn current(&self, calls: &CallCount) -> Result<String, DrChronoError> {
        let row = match self.row().await? {
            Some(row) => row,
            None => {
                self.seed_if_absent().await?;
                self.row().await?.ok_or(DrChronoError::NoToken)?
            }
        };
        if row.needs_reauth {
            return self.reseed_after_lockout(&row).await;
        }
        let access = self.open(ACCESS, &row.access)?;
        if row.expiring {
            return self.refresh(&access, calls).await;
        }
        Ok(access)
    }

    /// First start: store the environment's tokens, unless a row exists.
    async fn seed_if_absent(&self) -> Result<(), DrChronoError> {
        let Some((access, refresh, fingerprint)) = self.seed() else {
            return Err(DrChronoError::Config(
                "no DrChrono tokens are stored yet; run `drchrono-sync connect` (or set DRCHRONO_ACCESS_TOKEN and DRCHRONO_REFRESH_TOKEN for the first start)".into(),
            ));
        };
        let sealed = seal_pair(self.keys, access, refresh);
        let inserted = sqlx::query(
            "INSERT INTO oauth_tokens (key, access_token_enc, refresh_token_enc, seed_fingerprint)
             VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
        )
        .bind(APP)
        .bind(sealed.0)
        .bind(sealed.1)
        .bind(fingerprint)
        .execute(self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            tracing::info!(key = APP, "DrChrono tokens seeded from the environment and stored encrypted");
        }
        Ok(())
    }

    /// A flagged row stays flagged, unless the environment now carries a
    /// *different* pair than the one first seeded: a person re-authorized and
    /// put the new tokens there.
    async fn reseed_after_lockout(&self, row: &Row) -> Result<String, DrChronoError> {
        let locked_out = || DrChronoError::NeedsReauthorization {
            reason: row.reauth_reason.clone().unwrap_or_else(|| "refresh refused".into()),
        };
        let Some((access, refresh, fingerprint)) = self.seed() else {
            return Err(locked_out());
        };
        // Made with the previous key, or before subkeys, it is still the same pair.
        let seeded = row.seed_fingerprint.as_deref();
        if seeded.is_some_and(|f| self.keys.fingerprint_matches(&seed_parts(access, refresh), f)) {
            return Err(locked_out());
        }
        let sealed = seal_pair(self.keys, access, refresh);
        let replaced = sqlx::query(
            "UPDATE oauth_tokens
                SET access_token_enc = $2, refresh_token_enc = $3, seed_fingerprint = $4,
                    access_expires_at = NULL, needs_reauth = false, reauth_reason = NULL, reauth_since = NULL,
                    generation = generation + 1, updated_at = now()
              WHERE key = $1 AND needs_reauth",
        )
        .bind(APP)
        .bind(sealed.0)
        .bind(sealed.1)
        .bind(fingerprint)
        .execute(self.pool)
        .await?
        .rows_affected();
        if replaced == 1 {
            tracing::warn!(
                key = APP,
                "DrChrono re-authorized: new tokens from the environment replace the refused ones"
            );
        }
        Ok(access.to_string())
    }

    /// Single-flight refresh after `stale` was refused (or is expiring).
    pub(crate) async fn refresh(&self, stale: &str, calls: &CallCount) -> Result<String, DrChronoError> {
        let mut tx = self.pool.begin().await?;
        // Whoever holds the lock is inside one token request at most.
        let wait_ms = (self.settings.timeout.as_millis() as u64 * 2 + 5_000).min(120_000);
        sqlx::query("SELECT set_config('lock_timeout', $1, true)")
            .bind(format!("{wait_ms}ms"))
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(
            "SELECT access_token_enc, refresh_token_enc, needs_reauth, reauth_reason
               FROM oauth_tokens WHERE key = $1 FOR UPDATE",
        )
        .bind(APP)
        .fetch_optional(&mut *tx)
        .await;
        let row = match row {
            Ok(Some(row)) => row,
            Ok(None) => return Err(DrChronoError::NoToken),
            Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("55P03") => {
                return Err(DrChronoError::RefreshInProgress { until: Utc::now() + chrono::Duration::seconds(10) });
            }
            Err(e) => return Err(e.into()),
        };
        if row.get::<bool, _>(2) {
            let reason: Option<String> = row.get(3);
            return Err(DrChronoError::NeedsReauthorization {
                reason: reason.unwrap_or_else(|| "refresh refused".into()),
            });
        }
        let current = self.open(ACCESS, row.get::<&[u8], _>(0))?;
        if current != stale {
            // Another process rotated the pair while we waited for the lock.
            tx.commit().await?;
            tracing::debug!(key = APP, "DrChrono token already rotated by another process");
            return Ok(current);
        }
        let refresh_enc: Option<Vec<u8>> = row.get(1);
        let Some(refresh_enc) = refresh_enc else {
            self.lock_out(tx, "no_refresh_token").await?;
            return Err(DrChronoError::NeedsReauthorization { reason: "no_refresh_token".into() });
        };
        let refresh = self.open(REFRESH, &refresh_enc)?;
        let (Some(client_id), Some(client_secret)) =
            (self.settings.client_id.as_deref(), self.settings.client_secret.as_deref())
        else {
            return Err(DrChronoError::Config(
                "DRCHRONO_CLIENT_ID and DRCHRONO_CLIENT_SECRET are required to refresh the DrChrono token".into(),
            ));
        };

        match grant(self.http, self.settings, &refresh, client_id, client_secret, calls).await? {
            Grant::Refused(code) => {
                self.lock_out(tx, &code).await?;
                Err(DrChronoError::NeedsReauthorization { reason: code })
            }
            Grant::Issued { access, refresh, expires_in } => {
                let sealed = seal_pair(self.keys, &access, Some(&refresh));
                let update = sqlx::query(
                    "UPDATE oauth_tokens
                        SET access_token_enc = $2, refresh_token_enc = $3,
                            access_expires_at = CASE WHEN $4::double precision IS NULL THEN NULL
                                                     ELSE now() + make_interval(secs => $4) END,
                            generation = generation + 1, refreshed_at = now(), updated_at = now()
                      WHERE key = $1
                  RETURNING generation",
                )
                .bind(APP)
                .bind(sealed.0)
                .bind(sealed.1)
                .bind(expires_in);
                // Committed before use: a crash now loses nothing.
                let stored = match update.fetch_one(&mut *tx).await {
                    Ok(row) => tx.commit().await.map(|_| row.get::<i64, _>(0)),
                    Err(e) => Err(e),
                };
                let generation = match stored {
                    Ok(generation) => generation,
                    Err(e) => {
                        tracing::error!(
                            alert = "drchrono_token_not_stored",
                            error = %job_runner::describe_db_error(&e),
                            "DrChrono rotated the tokens but storing them failed; retrying the write once"
                        );
                        self.store_rotated(&access, &refresh, expires_in).await?
                    }
                };
                tracing::info!(key = APP, generation, "DrChrono tokens refreshed and stored");
                Ok(access)
            }
        }
    }

    /// Last resort when the refresh's own transaction failed to commit: the
    /// old refresh token is already dead at DrChrono, so the new pair must land.
    async fn store_rotated(&self, access: &str, refresh: &str, expires_in: Option<f64>) -> Result<i64, DrChronoError> {
        let sealed = seal_pair(self.keys, access, Some(refresh));
        let generation = sqlx::query_scalar(
            "UPDATE oauth_tokens
                SET access_token_enc = $2, refresh_token_enc = $3,
                    access_expires_at = CASE WHEN $4::double precision IS NULL THEN NULL
                                             ELSE now() + make_interval(secs => $4) END,
                    generation = generation + 1, refreshed_at = now(), updated_at = now()
              WHERE key = $1 RETURNING generation",
        )
        .bind(APP)
        .bind(sealed.0)
        .bind(sealed.1)
        .bind(expires_in)
        .fetch_one(self.pool)
        .await?;
        Ok(generation)
    }

    /// Flags the row; the one process that flips it logs the alert.
    async fn lock_out(&self, mut tx: sqlx::Transaction<'_, sqlx::Postgres>, reason: &str) -> Result<(), DrChronoError> {
        let flipped = sqlx::query(
            "UPDATE oauth_tokens SET needs_reauth = true, reauth_reason = $2, reauth_since = now(), updated_at = now()
              WHERE key = $1 AND NOT needs_reauth",
        )
        .bind(APP)
        .bind(reason)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        if flipped == 1 {
            tracing::error!(
                alert = "drchrono_reauthorization_required",
                key = APP,
                reason,
                "ALERT: DrChrono refused the refresh token ({reason}); a person must re-authorize the app (`drchrono-sync connect`, no restart needed). All DrChrono calls are stopped and API jobs wait until then"
            );
        }
        Ok(())
    }
}

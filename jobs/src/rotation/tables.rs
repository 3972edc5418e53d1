//! The sealed columns, table by table: which rows are not under the
//! current key yet, and how one batch of them is re-sealed.
//!
//! "Not under the current key" is `stale(column)` in SQL: a non-empty value
//! whose first bytes are not the current key's header (layout 2 and its key
//! id). Layout-1 values, from before key ids, are always stale. Pruned
//! values (`''`) and absent ones (`NULL`) are not.

use sqlx::{PgConnection, Row as _};

use super::{RotateOptions, SeedPair, Unopenable};
use crate::{
    deepcura::{raw_aad, raw_fingerprint},
    drchrono::{ACCESS, Keyring, OAUTH_CODE_AAD, REFRESH, token_aad, tokens::seed_parts},
};

/// What every batch needs.
pub(super) struct Run<'a> {
    pub keys: &'a Keyring,
    pub seed: SeedPair<'a>,
    pub options: &'a RotateOptions,
}

/// Where a table's walk has got to: the last row key of the batch before.
pub(super) enum Cursor {
    Text(String),
    Id(i64),
    Bytes(Vec<u8>),
}

/// What one batch did; `last` is `None` when no row was left.
#[derive(Default)]
pub(super) struct Outcome {
    pub last: Option<Cursor>,
    pub resealed: u64,
    pub fingerprints: u64,
    pub unopenable: Vec<Unopenable>,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Table {
    OauthTokens,
    DeepcuraNotes,
    OauthPending,
}

// $1 the cursor, $2 the current key's header, $3 the batch size.
const TOKENS: &str = "SELECT key, access_token_enc, refresh_token_enc, seed_fingerprint FROM oauth_tokens \
     WHERE key > $1 AND ((length(access_token_enc) > 0 AND substring(access_token_enc from 1 for 5) <> $2) \
        OR (length(refresh_token_enc) > 0 AND substring(refresh_token_enc from 1 for 5) <> $2) \
        OR ($4 AND seed_fingerprint IS NOT NULL)) \
     ORDER BY key LIMIT $3 FOR UPDATE";
const TOKENS_UPDATE: &str = "UPDATE oauth_tokens SET access_token_enc = coalesce($2, access_token_enc), \
     refresh_token_enc = coalesce($3, refresh_token_enc), seed_fingerprint = coalesce($4, seed_fingerprint) \
     WHERE key = $1";
const NOTES: &str = "SELECT id, session_id, raw_sealed FROM deepcura_notes \
     WHERE id > $1 AND length(raw_sealed) > 0 AND substring(raw_sealed from 1 for 5) <> $2 \
     ORDER BY id LIMIT $3 FOR UPDATE";
const NOTES_UPDATE: &str =
    "UPDATE deepcura_notes SET raw_sealed = $2, raw_fingerprint = $3, synced_by = $4 WHERE id = $1";
const PENDING: &str = "SELECT state_hash, code_enc FROM oauth_pending \
     WHERE state_hash > $1 AND length(code_enc) > 0 AND substring(code_enc from 1 for 5) <> $2 \
     ORDER BY state_hash LIMIT $3 FOR UPDATE";
const PENDING_UPDATE: &str = "UPDATE oauth_pending SET code_enc = $2 WHERE state_hash = $1";

impl Table {
    pub(super) const ALL: [Table; 3] = [Table::OauthTokens, Table::DeepcuraNotes, Table::OauthPending];

    pub(super) fn name(self) -> &'static str {
        match self {
            Table::OauthTokens => "oauth_tokens",
            Table::DeepcuraNotes => "deepcura_notes",
            Table::OauthPending => "oauth_pending",
        }
    }

    /// A cursor before every row.
    pub(super) fn start(self) -> Cursor {
        match self {
            Table::OauthTokens => Cursor::Text(String::new()),
            Table::DeepcuraNotes => Cursor::Id(i64::MIN),
            Table::OauthPending => Cursor::Bytes(Vec::new()),
        }
    }

    pub(super) async fn batch(self, db: &mut PgConnection, run: &Run<'_>, after: &Cursor) -> sqlx::Result<Outcome> {
        match (self, after) {
            (Table::OauthTokens, Cursor::Text(after)) => tokens(db, run, after).await,
            (Table::DeepcuraNotes, Cursor::Id(after)) => notes(db, run, *after).await,
            (Table::OauthPending, Cursor::Bytes(after)) => pending(db, run, after).await,
            _ => unreachable!("each table walks with the cursor its start gives"),
        }
    }
}

/// Re-seals `stored` unless it is under the current key already; `Err`
/// names the column that opens with neither key.
fn reseal(keys: &Keyring, aad: &str, stored: &[u8]) -> Result<Option<(Vec<u8>, String)>, crate::drchrono::OpenError> {
    if keys.is_current(stored) {
        return Ok(None);
    }
    let plain = keys.open(aad, stored)?;
    Ok(Some((keys.seal(aad, &plain), plain)))
}

/// The token pair, and the seed fingerprint when the seed pair is at hand
/// and the fingerprint is of it but not made with the current key.
async fn tokens(db: &mut PgConnection, run: &Run<'_>, after: &str) -> sqlx::Result<Outcome> {
    let rows = sqlx::query(TOKENS)
        .bind(after)
        .bind(run.keys.current().header().as_slice())
        .bind(run.options.batch_size)
        .bind(run.seed.is_some())
        .fetch_all(&mut *db)
        .await?;
    let mut out = Outcome::default();
    for row in rows {
        let key: String = row.get(0);
        let failed = |column, error| Unopenable { table: "oauth_tokens", column, row: key.clone(), error };
        let access = match reseal(run.keys, &token_aad(ACCESS), row.get(1)) {
            Ok(access) => access.map(|(sealed, _)| sealed),
            Err(e) => {
                out.unopenable.push(failed("access_token_enc", e));
                out.last = Some(Cursor::Text(key));
                continue;
            }
        };
        let refresh_enc: Option<Vec<u8>> = row.get(2);
        let refresh = match refresh_enc.map(|r| reseal(run.keys, &token_aad(REFRESH), &r)).transpose() {
            Ok(refresh) => refresh.flatten().map(|(sealed, _)| sealed),
            Err(e) => {
                out.unopenable.push(failed("refresh_token_enc", e));
                out.last = Some(Cursor::Text(key));
                continue;
            }
        };
        let fingerprint = seed_fingerprint(run, row.get(3));
        if access.is_some() || refresh.is_some() || fingerprint.is_some() {
            sqlx::query(TOKENS_UPDATE)
                .bind(&key)
                .bind(&access)
                .bind(&refresh)
                .bind(&fingerprint)
                .execute(&mut *db)
                .await?;
        }
        out.resealed += u64::from(access.is_some() || refresh.is_some());
        out.fingerprints += u64::from(fingerprint.is_some());
        out.last = Some(Cursor::Text(key));
    }
    Ok(out)
}

/// The seed pair's fingerprint with the current key, when `stored` is of
/// the same pair made otherwise (the previous key, or before subkeys).
/// Without the seed pair nothing can be recomputed, and nothing needs to
/// be: the service compares it only with the seed pair it is given.
fn seed_fingerprint(run: &Run<'_>, stored: Option<Vec<u8>>) -> Option<Vec<u8>> {
    let (access, refresh) = run.seed?;
    let parts = seed_parts(access, refresh);
    let stored = stored?;
    let current = run.keys.fingerprint(&parts);
    (current != stored && run.keys.fingerprint_matches(&parts, &stored)).then_some(current)
}

/// Deep Cura notes' sealed JSON, and their fingerprints with it.
async fn notes(db: &mut PgConnection, run: &Run<'_>, after: i64) -> sqlx::Result<Outcome> {
    let rows: Vec<(i64, String, Vec<u8>)> = sqlx::query_as(NOTES)
        .bind(after)
        .bind(run.keys.current().header().as_slice())
        .bind(run.options.batch_size)
        .fetch_all(&mut *db)
        .await?;
    let mut out = Outcome::default();
    for (id, session, sealed) in rows {
        out.last = Some(Cursor::Id(id));
        match reseal(run.keys, &raw_aad(&session), &sealed) {
            Ok(Some((sealed, raw))) => {
                let fingerprint = raw_fingerprint(run.keys, &raw);
                sqlx::query(NOTES_UPDATE)
                    .bind(id)
                    .bind(sealed)
                    .bind(fingerprint)
                    .bind(&run.options.actor)
                    .execute(&mut *db)
                    .await?;
                out.resealed += 1;
                out.fingerprints += 1;
            }
            Ok(None) => {}
            Err(error) => out.unopenable.push(Unopenable {
                table: "deepcura_notes",
                column: "raw_sealed",
                row: id.to_string(),
                error,
            }),
        }
    }
    Ok(out)
}

/// Authorization codes awaiting `connect` (short-lived, but sealed too).
async fn pending(db: &mut PgConnection, run: &Run<'_>, after: &[u8]) -> sqlx::Result<Outcome> {
    let rows: Vec<(Vec<u8>, Vec<u8>)> = sqlx::query_as(PENDING)
        .bind(after)
        .bind(run.keys.current().header().as_slice())
        .bind(run.options.batch_size)
        .fetch_all(&mut *db)
        .await?;
    let mut out = Outcome::default();
    for (state_hash, code) in rows {
        match reseal(run.keys, OAUTH_CODE_AAD, &code) {
            Ok(Some((sealed, _))) => {
                sqlx::query(PENDING_UPDATE).bind(&state_hash).bind(sealed).execute(&mut *db).await?;
                out.resealed += 1;
            }
            Ok(None) => {}
            Err(error) => out.unopenable.push(Unopenable {
                table: "oauth_pending",
                column: "code_enc",
                row: hex::encode(&state_hash[..state_hash.len().min(8)]),
                error,
            }),
        }
        out.last = Some(Cursor::Bytes(state_hash));
    }
    Ok(out)
}

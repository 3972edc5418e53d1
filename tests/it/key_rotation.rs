//! Key rotation: what the old key sealed opens while it is the previous
//! key, `rotate_keys` moves everything to the current key in resumable
//! batches, and values from before key ids still open.

use aes_gcm::{
    Aes256Gcm, KeyInit,
    aead::{Aead, Payload},
};
use integration_tests::db::fresh_db;
use jobs::{
    drchrono::{Keyring, TokenKey, read_stored_tokens},
    rotation::{RotateOptions, rotate_keys},
};
use sqlx::PgPool;

const A: [u8; 32] = [0xA1; 32];
const B: [u8; 32] = [0xB2; 32];

fn ring(current: [u8; 32], previous: Option<[u8; 32]>) -> Keyring {
    Keyring::new(TokenKey::from_bytes(current), previous.map(TokenKey::from_bytes))
}

/// A value as sealed before key ids: version 1, nonce, AES-GCM with the raw key.
fn sealed_v1(raw: [u8; 32], aad: &str, plain: &str) -> Vec<u8> {
    let nonce: [u8; 12] = rand::random();
    let ct = Aes256Gcm::new(&raw.into())
        .encrypt(&nonce.into(), Payload { msg: plain.as_bytes(), aad: aad.as_bytes() })
        .unwrap();
    [&[1u8][..], &nonce, &ct].concat()
}

async fn store_tokens(pool: &PgPool, access: Vec<u8>, refresh: Vec<u8>) {
    sqlx::query("INSERT INTO oauth_tokens (key, access_token_enc, refresh_token_enc) VALUES ('default', $1, $2)")
        .bind(access)
        .bind(refresh)
        .execute(pool)
        .await
        .unwrap();
}

async fn store_notes(pool: &PgPool, keys: &Keyring, n: usize) {
    for i in 0..n {
        let session = format!("s-{i}");
        let sealed = keys.seal(&format!("deepcura_notes.raw:{session}"), &format!("{{\"n\":{i}}}"));
        sqlx::query(
            "INSERT INTO deepcura_notes (session_id, delivery_id, raw_sealed, raw_fingerprint, synced_by)
             VALUES ($1, $2, $3, '\\x00', 'test')",
        )
        .bind(&session)
        .bind(i as i64 + 1)
        .bind(sealed)
        .execute(pool)
        .await
        .unwrap();
    }
}

async fn sealed_values(pool: &PgPool) -> Vec<Vec<u8>> {
    sqlx::query_scalar(
        "SELECT access_token_enc FROM oauth_tokens UNION ALL SELECT refresh_token_enc FROM oauth_tokens
         UNION ALL SELECT raw_sealed FROM deepcura_notes",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

fn options(max_batches: Option<u64>) -> RotateOptions {
    RotateOptions { batch_size: 2, max_batches, ..Default::default() }
}

#[tokio::test]
async fn rotation_moves_every_value_to_the_new_key_resumably() {
    let db = fresh_db().await;
    let old = ring(A, None);
    let access = old.seal("oauth_tokens:default:access", "acc-A");
    store_tokens(&db.pool, access, old.seal("oauth_tokens:default:refresh", "ref-A")).await;
    store_notes(&db.pool, &old, 5).await;

    let rotating = ring(B, Some(A));
    assert_eq!(
        read_stored_tokens(&db.pool, &rotating).await.unwrap(),
        Some(("acc-A".into(), Some("ref-A".into()))),
        "A's values open with A as the previous key"
    );
    assert!(read_stored_tokens(&db.pool, &ring(B, None)).await.is_err(), "and not with B alone");

    let dry = rotate_keys(&db.pool, &rotating, None, &RotateOptions { dry_run: true, ..options(None) }, |_| {})
        .await
        .unwrap();
    assert_eq!(dry.resealed(), 6, "a dry run counts");
    assert!(sealed_values(&db.pool).await.iter().all(|v| !rotating.is_current(v)), "and writes nothing");

    let first = rotate_keys(&db.pool, &rotating, None, &options(Some(2)), |_| {}).await.unwrap();
    assert!(first.stopped_early);
    assert_eq!(first.resealed(), 3, "two batches: the token row, then two notes");
    let rest = rotate_keys(&db.pool, &rotating, None, &options(None), |_| {}).await.unwrap();
    assert_eq!(rest.resealed(), 3, "the resumed run does only what remains");
    let again = rotate_keys(&db.pool, &rotating, None, &options(None), |_| {}).await.unwrap();
    assert_eq!(again.resealed(), 0, "a finished rotation changes nothing");

    let b_alone = ring(B, None);
    for v in sealed_values(&db.pool).await {
        assert_eq!(v[..5], TokenKey::from_bytes(B).header(), "every value carries B's key id");
    }
    assert_eq!(read_stored_tokens(&db.pool, &b_alone).await.unwrap().unwrap().0, "acc-A");
    let text = jobs::deepcura::open_raw(&mut db.pool.acquire().await.unwrap(), 1, &b_alone).await.unwrap();
    assert_eq!(text.as_deref(), Some("{\"n\":0}"), "notes open with B alone");
    let fingerprint: Vec<u8> = sqlx::query_scalar("SELECT raw_fingerprint FROM deepcura_notes WHERE id = 1")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(fingerprint, b_alone.fingerprint(&["deepcura_notes.raw", "{\"n\":0}"]), "fingerprints recomputed");
}

#[tokio::test]
async fn values_from_before_key_ids_still_open_and_are_rotated() {
    let db = fresh_db().await;
    let access = sealed_v1(A, "oauth_tokens:default:access", "acc-v1");
    let refresh = sealed_v1(A, "oauth_tokens:default:refresh", "ref-v1");
    store_tokens(&db.pool, access, refresh).await;
    let same_key = ring(A, None);
    assert_eq!(read_stored_tokens(&db.pool, &same_key).await.unwrap().unwrap().0, "acc-v1", "with the current key");
    let rotating = ring(B, Some(A));
    assert_eq!(read_stored_tokens(&db.pool, &rotating).await.unwrap().unwrap().0, "acc-v1", "with the previous key");
    let report = rotate_keys(&db.pool, &rotating, None, &options(None), |_| {}).await.unwrap();
    assert_eq!(report.resealed(), 1);
    assert_eq!(read_stored_tokens(&db.pool, &ring(B, None)).await.unwrap().unwrap().1.as_deref(), Some("ref-v1"));
}

#[tokio::test]
async fn a_value_neither_key_opens_is_reported_and_left() {
    let db = fresh_db().await;
    store_notes(&db.pool, &ring([0xC3; 32], None), 1).await;
    store_notes_after(&db.pool).await;
    let report = rotate_keys(&db.pool, &ring(B, Some(A)), None, &options(None), |_| {}).await.unwrap();
    assert_eq!(report.unopenable_rows(), 1);
    assert_eq!(report.resealed(), 1, "the other rows are still re-sealed");
    let listed = report.unopenable[0].to_string();
    assert!(
        listed.contains("deepcura_notes.raw_sealed of row 1") && listed.contains("TOKEN_ENCRYPTION_KEY_PREVIOUS"),
        "{listed}"
    );
}

async fn store_notes_after(pool: &PgPool) {
    let keys = ring(A, None);
    let sealed = keys.seal("deepcura_notes.raw:s-late", "{}");
    sqlx::query(
        "INSERT INTO deepcura_notes (session_id, delivery_id, raw_sealed, raw_fingerprint, synced_by)
         VALUES ('s-late', 99, $1, '\\x00', 'test')",
    )
    .bind(sealed)
    .execute(pool)
    .await
    .unwrap();
}

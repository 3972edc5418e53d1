use aes_gcm::{
    Aes256Gcm, KeyInit,
    aead::{Aead, Payload},
};
use base64::Engine as _;
use hmac::Mac as _;

use super::*;
use crate::drchrono::keyring::OpenError;

fn key(b: u8) -> TokenKey {
    TokenKey::from_bytes([b; 32])
}

fn ring(current: u8, previous: Option<u8>) -> Keyring {
    Keyring::new(key(current), previous.map(key))
}

/// A value as the code before key ids sealed it: version 1, nonce,
/// AES-256-GCM under the raw key.
fn sealed_v1(raw: [u8; 32], aad: &str, plain: &str) -> Vec<u8> {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let ct = Aes256Gcm::new(&raw.into())
        .encrypt(&Nonce::from(nonce), Payload { msg: plain.as_bytes(), aad: aad.as_bytes() })
        .unwrap();
    [&[V1][..], &nonce, &ct].concat()
}

/// A fingerprint as the code before subkeys made it: HMAC with the raw key.
fn raw_hmac(raw: [u8; 32], parts: &[&str]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&raw).unwrap();
    for p in parts {
        mac.update(&(p.len() as u64).to_be_bytes());
        mac.update(p.as_bytes());
    }
    mac.finalize().into_bytes().to_vec()
}

#[test]
fn round_trips_with_a_fresh_nonce_each_time() {
    let k = ring(7, None);
    let a = k.seal("t:access", "secret-token");
    let b = k.seal("t:access", "secret-token");
    assert_ne!(a, b, "a random nonce per write");
    assert!(!a.windows(6).any(|w| w == b"secret"), "no plaintext in the stored bytes");
    assert_eq!(k.open("t:access", &a).as_deref(), Ok("secret-token"));
    assert_eq!(k.open("t:access", &b).as_deref(), Ok("secret-token"));
}

#[test]
fn wrong_key_column_or_bytes_do_not_open() {
    let sealed = ring(1, None).seal("t:access", "x");
    assert!(ring(2, None).open("t:access", &sealed).is_err());
    assert_eq!(ring(1, None).open("t:refresh", &sealed), Err(OpenError::Damaged(key(1).key_id())));
    let mut damaged = sealed.clone();
    *damaged.last_mut().unwrap() ^= 1;
    assert!(ring(1, None).open("t:access", &damaged).is_err());
    assert_eq!(ring(1, None).open("t:access", &[]), Err(OpenError::Malformed));
    assert_eq!(ring(1, None).open("t:access", &sealed[..HEADER_LEN]), Err(OpenError::Malformed));
}

#[test]
fn a_sealed_value_carries_its_key_id() {
    let sealed = ring(1, None).seal("t:access", "x");
    assert_eq!(sealed[0], V2);
    assert_eq!(sealed[1..HEADER_LEN], key(1).key_id().0);
    assert_eq!(sealed[..HEADER_LEN], key(1).header());
    let id = hkdf::Hkdf::<Sha256>::new(Some(b"drchrono-sync"), &[1; 32]);
    let mut expected = [0u8; KEY_ID_LEN];
    id.expand(b"key-id", &mut expected).unwrap();
    assert_eq!(key(1).key_id().0, expected, "the id is the first bytes of HKDF(key, \"key-id\")");
    assert_ne!(key(1).key_id(), key(2).key_id());
    assert!(ring(1, None).is_current(&sealed));
    assert!(!ring(2, Some(1)).is_current(&sealed));
    assert!(!ring(1, None).is_current(&sealed_v1([1; 32], "t:access", "x")));
}

#[test]
fn the_previous_key_opens_what_it_sealed_and_the_current_key_seals() {
    let under_a = ring(1, None).seal("t:access", "token-a");
    let rotating = ring(2, Some(1));
    assert_eq!(rotating.open("t:access", &under_a).as_deref(), Ok("token-a"));
    let under_b = rotating.seal("t:access", "token-b");
    assert_eq!(under_b[..HEADER_LEN], key(2).header(), "sealing uses the current key");
    assert_eq!(ring(2, None).open("t:access", &under_b).as_deref(), Ok("token-b"));

    let err = ring(2, None).open("t:access", &under_a).unwrap_err();
    assert_eq!(err, OpenError::UnknownKey { sealed_with: key(1).key_id(), current: key(2).key_id(), previous: None });
    let text = err.to_string();
    assert!(text.contains("TOKEN_ENCRYPTION_KEY_PREVIOUS") && text.contains("cargo xtask rotate-key"), "{text}");
    assert!(text.contains(&key(1).key_id().to_string()), "names the key id that sealed it: {text}");
}

#[test]
fn version_1_values_open_with_the_current_or_the_previous_raw_key() {
    let old = sealed_v1([1; 32], "t:access", "legacy-token");
    assert_eq!(ring(1, None).open("t:access", &old).as_deref(), Ok("legacy-token"));
    assert_eq!(ring(2, Some(1)).open("t:access", &old).as_deref(), Ok("legacy-token"));
    assert_eq!(ring(1, None).open("t:refresh", &old), Err(OpenError::NoLegacyKeyOpens));
    let err = ring(2, None).open("t:access", &old).unwrap_err();
    assert_eq!(err, OpenError::NoLegacyKeyOpens);
    assert!(err.to_string().contains("TOKEN_ENCRYPTION_KEY_PREVIOUS"), "{err}");
}

#[test]
fn sealing_fingerprints_and_the_audit_use_separate_subkeys_not_the_raw_key() {
    let raw = [5u8; 32];
    let k = TokenKey::from_bytes(raw);
    let keys = Keyring::from(k.clone());
    let parts = ["a", "b"];
    assert_ne!(keys.fingerprint(&parts), raw_hmac(raw, &parts), "a fingerprint is not HMAC with the raw key");
    let sealed = keys.seal("t:access", "x");
    assert_eq!(decrypt(&raw, "t:access", &sealed[HEADER_LEN..]), None, "sealing is not AES with the raw key");
    assert_eq!(decrypt(&k.seal, "t:access", &sealed[HEADER_LEN..]).as_deref(), Some("x"));
    let subkeys = [k.seal, k.mac, k.derive("change_log"), raw];
    for (i, a) in subkeys.iter().enumerate() {
        for b in &subkeys[i + 1..] {
            assert_ne!(a, b, "every use has its own key");
        }
    }
    assert_eq!(hmac(&k.mac, &parts), keys.fingerprint(&parts));
}

#[test]
fn the_change_log_key_is_the_one_derived_before() {
    let mut expected = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(Some(b"drchrono-sync"), &[5; 32]).expand(b"change_log", &mut expected).unwrap();
    assert_eq!(key(5).derive("change_log"), expected, "stored change_log hashes stay comparable");
}

#[test]
fn stored_fingerprints_are_recognised_however_they_were_made() {
    let parts = ["seed-access", "seed-refresh"];
    let rotating = ring(2, Some(1));
    assert!(rotating.fingerprint_matches(&parts, &ring(2, None).fingerprint(&parts)));
    assert!(rotating.fingerprint_matches(&parts, &ring(1, None).fingerprint(&parts)), "the previous key's");
    assert!(rotating.fingerprint_matches(&parts, &raw_hmac([1; 32], &parts)), "made with a raw key, before subkeys");
    assert!(rotating.fingerprint_matches(&parts, &raw_hmac([2; 32], &parts)));
    assert!(!rotating.fingerprint_matches(&parts, &ring(3, None).fingerprint(&parts)), "another key's");
    assert!(!rotating.fingerprint_matches(&["other", "pair"], &rotating.fingerprint(&parts)));
    assert!(!rotating.fingerprint_matches(&parts, &[]));
}

#[test]
fn keys_parse_from_base64_of_32_bytes_only() {
    let b64 = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    assert_eq!(TokenKey::from_base64(&b64).unwrap(), key(9));
    let short = base64::engine::general_purpose::STANDARD.encode([9u8; 16]);
    let err = TokenKey::from_base64(&short).unwrap_err();
    assert!(err.contains("TOKEN_ENCRYPTION_KEY") && err.contains("16 bytes"), "{err}");
    let err = TokenKey::from_base64("not base64 !!").unwrap_err();
    assert!(err.contains("TOKEN_ENCRYPTION_KEY") && !err.contains("!!"), "{err}");
    let err = TokenKey::from_base64_var("TOKEN_ENCRYPTION_KEY_PREVIOUS", &short).unwrap_err();
    assert!(err.starts_with("TOKEN_ENCRYPTION_KEY_PREVIOUS "), "{err}");
    assert_eq!(format!("{:?}", key(9)), "TokenKey(<redacted>)");
    assert!(!format!("{:?}", ring(9, Some(8))).contains("09"), "no key material in Debug");
}

#[test]
fn a_previous_key_equal_to_the_current_one_is_no_previous_key() {
    assert_eq!(ring(1, Some(1)).previous(), None);
    assert_eq!(ring(1, Some(2)).previous(), Some(&key(2)));
}

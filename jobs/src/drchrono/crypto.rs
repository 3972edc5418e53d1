//! One `TOKEN_ENCRYPTION_KEY` and what it does: AES-256-GCM sealing with a
//! random 96-bit nonce per write, keyed fingerprints, and keys derived for
//! other purposes. Which key opens a stored value is the [`Keyring`]'s choice
//! (`keyring`); the `oauth_tokens` fields are sealed through it ([`seal_pair`],
//! [`open_field`]).
//!
//! The raw key keys nothing directly any more: sealing, fingerprints and the
//! change_log hashes each use their own HKDF-derived subkey, so no output
//! of one use is computed with the key of another. Values written before
//! that (layout 1, fingerprints keyed with the raw key) are still read.
//!
//! [`Keyring`]: super::Keyring

use aes_gcm::{
    Aes256Gcm, KeyInit,
    aead::{Aead, Payload},
};

type Nonce = aes_gcm::aead::Nonce<Aes256Gcm>;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{DrChronoError, Keyring, budget::APP};

/// Layout 1, before key ids: version || nonce || ciphertext-and-tag, sealed
/// with the raw key. Only opened, never written.
pub(super) const V1: u8 = 1;
/// Layout 2: version || key id || nonce || ciphertext-and-tag, sealed with
/// the key's sealing subkey.
pub(super) const V2: u8 = 2;
pub(super) const KEY_ID_LEN: usize = 4;
pub(super) const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// What a layout-2 value starts with: its version and key id.
pub const HEADER_LEN: usize = 1 + KEY_ID_LEN;

/// The HKDF purposes of the subkeys. `change_log` is the audit's
/// (`domain::audit`), derived through [`TokenKey::derive`].
const SEAL_PURPOSE: &str = "seal:aes-256-gcm";
const FINGERPRINT_PURPOSE: &str = "fingerprint:hmac-sha256";
const KEY_ID_PURPOSE: &str = "key-id";

/// A short public name of a key: the first bytes of a subkey derived for
/// that alone, so it tells keys apart without revealing anything of them.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub(super) [u8; KEY_ID_LEN]);

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// The 32-byte key and its subkeys. Its `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenKey {
    raw: [u8; 32],
    seal: [u8; 32],
    mac: [u8; 32],
    id: KeyId,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

impl TokenKey {
    /// Reads `TOKEN_ENCRYPTION_KEY`: see [`from_base64_var`](Self::from_base64_var).
    pub fn from_base64(text: &str) -> Result<Self, String> {
        Self::from_base64_var("TOKEN_ENCRYPTION_KEY", text)
    }

    /// Reads base64 (standard or URL-safe, padded or not) of exactly 32 bytes.
    /// The error names the variable `var` and never echoes the value.
    pub fn from_base64_var(var: &str, text: &str) -> Result<Self, String> {
        let text = text.trim();
        let engines = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        let bytes = engines.iter().find_map(|e| e.decode(text).ok()).ok_or_else(|| {
            format!("{var} is not valid base64 (expected base64 of 32 random bytes, e.g. `openssl rand -base64 32`)")
        })?;
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "{var} decodes to {} bytes; it must be base64 of exactly 32 bytes (`openssl rand -base64 32`)",
                b.len()
            )
        })?;
        Ok(Self::from_bytes(key))
    }

    pub fn from_bytes(raw: [u8; 32]) -> Self {
        let seal = hkdf(&raw, SEAL_PURPOSE);
        let mac = hkdf(&raw, FINGERPRINT_PURPOSE);
        let id = hkdf(&raw, KEY_ID_PURPOSE);
        Self { raw, seal, mac, id: KeyId(id[..KEY_ID_LEN].try_into().expect("32 bytes hold a key id")) }
    }

    /// A separate 32-byte key for `purpose` (HKDF-SHA256), so one secret
    /// serves several uses without one use's output keying another's.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        hkdf(&self.raw, purpose)
    }

    pub fn key_id(&self) -> KeyId {
        self.id
    }

    /// The first bytes of every value this key seals: finding the values
    /// not under this key is a comparison of prefixes.
    pub fn header(&self) -> [u8; HEADER_LEN] {
        let mut header = [V2; HEADER_LEN];
        header[1..].copy_from_slice(&self.id.0);
        header
    }

    /// Encrypts `plain` for column `aad`, in layout 2.
    pub(super) fn seal(&self, aad: &str, plain: &str) -> Vec<u8> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let sealed = Aes256Gcm::new(&self.seal.into())
            .encrypt(&Nonce::from(nonce_bytes), Payload { msg: plain.as_bytes(), aad: aad.as_bytes() })
            .expect("AES-GCM encrypts any message under its size limit");
        let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + sealed.len());
        out.extend_from_slice(&self.header());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts `nonce || ciphertext` of a layout-2 value; `None` for a
    /// wrong key, a wrong column or damaged bytes.
    pub(super) fn open_v2(&self, aad: &str, body: &[u8]) -> Option<String> {
        decrypt(&self.seal, aad, body)
    }

    /// Layout 1 was sealed with the raw key itself.
    pub(super) fn open_v1(&self, aad: &str, body: &[u8]) -> Option<String> {
        decrypt(&self.raw, aad, body)
    }

    /// A keyed fingerprint (HMAC-SHA256 with the fingerprint subkey) of
    /// some secrets, to recognise them later without storing them.
    pub(super) fn fingerprint(&self, parts: &[&str]) -> Vec<u8> {
        hmac(&self.mac, parts)
    }

    /// The fingerprint as it was made before subkeys, with the raw key:
    /// stored ones are still recognised.
    pub(super) fn legacy_fingerprint(&self, parts: &[&str]) -> Vec<u8> {
        hmac(&self.raw, parts)
    }
}

fn hkdf(raw: &[u8; 32], purpose: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(Some(b"drchrono-sync"), raw)
        .expand(purpose.as_bytes(), &mut out)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    out
}

fn decrypt(key: &[u8; 32], aad: &str, body: &[u8]) -> Option<String> {
    if body.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce_bytes, sealed) = body.split_at(NONCE_LEN);
    let nonce_bytes: [u8; NONCE_LEN] = nonce_bytes.try_into().ok()?;
    let plain = Aes256Gcm::new(key.into())
        .decrypt(&Nonce::from(nonce_bytes), Payload { msg: sealed, aad: aad.as_bytes() })
        .ok()?;
    String::from_utf8(plain).ok()
}

fn hmac(key: &[u8; 32], parts: &[&str]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    for p in parts {
        mac.update(&(p.len() as u64).to_be_bytes());
        mac.update(p.as_bytes());
    }
    mac.finalize().into_bytes().to_vec()
}

/// The `oauth_tokens` fields a sealed token is stored in.
pub(crate) const ACCESS: &str = "access";
pub(crate) const REFRESH: &str = "refresh";

/// The stored form of a token pair. Each field is sealed with its own
/// associated data, so a stored access token cannot stand in for a refresh
/// token (or for another app's).
pub(super) fn seal_pair(keys: &Keyring, access: &str, refresh: Option<&str>) -> (Vec<u8>, Option<Vec<u8>>) {
    (keys.seal(&token_aad(ACCESS), access), refresh.map(|r| keys.seal(&token_aad(REFRESH), r)))
}

/// The associated data of an `oauth_tokens` field (`access` or `refresh`).
pub(crate) fn token_aad(field: &str) -> String {
    format!("oauth_tokens:{APP}:{field}")
}

/// The associated data `connect`'s callback seals the authorization code
/// under (`oauth_pending.code_enc`).
pub const OAUTH_CODE_AAD: &str = "oauth_pending.code_enc";

/// Decrypts one stored field; the error says which key is missing.
pub(super) fn open_field(keys: &Keyring, field: &str, bytes: &[u8]) -> Result<String, DrChronoError> {
    keys.open(&token_aad(field), bytes).map_err(|e| {
        DrChronoError::Config(format!(
            "the stored DrChrono {field} token does not open: {e}. Or re-seed: \
             `DELETE FROM oauth_tokens WHERE key = '{APP}'` and a restart with DRCHRONO_ACCESS_TOKEN and DRCHRONO_REFRESH_TOKEN"
        ))
    })
}

#[cfg(test)]
mod tests;

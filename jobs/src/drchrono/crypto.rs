//! Tokens at rest: AES-256-GCM with a random 96-bit nonce per write, keyed by
//! `TOKEN_ENCRYPTION_KEY` (base64 of 32 bytes). The associated data names the
//! row and column, so a ciphertext moved to another column does not decrypt
//! ([`seal_pair`], [`open_field`] for the `oauth_tokens` row).

use aes_gcm::{
    Aes256Gcm, KeyInit,
    aead::{Aead, Payload},
};

type Nonce = aes_gcm::aead::Nonce<Aes256Gcm>;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{DrChronoError, budget::APP};

/// Stored layout: version || nonce || ciphertext-and-tag.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// The 32-byte key. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

impl TokenKey {
    /// Reads base64 (standard or URL-safe, padded or not) of exactly 32 bytes.
    /// The error names the variable and never echoes the value.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let engines = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        let bytes = engines
            .iter()
            .find_map(|e| e.decode(text).ok())
            .ok_or_else(|| "TOKEN_ENCRYPTION_KEY is not valid base64 (expected base64 of 32 random bytes, e.g. `openssl rand -base64 32`)".to_string())?;
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!("TOKEN_ENCRYPTION_KEY decodes to {} bytes; it must be base64 of exactly 32 bytes (`openssl rand -base64 32`)", b.len())
        })?;
        Ok(Self(key))
    }

    pub fn from_bytes(key: [u8; 32]) -> Self {
        Self(key)
    }

    /// A separate 32-byte key for `purpose` (HKDF-SHA256), so one secret
    /// serves several uses without one use's output keying another's.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(Some(b"drchrono-sync"), &self.0)
            .expand(purpose.as_bytes(), &mut out)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        out
    }

    /// The raw key, for other at-rest encryption that shares it.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Encrypts `plain` for column `aad`.
    pub fn seal(&self, aad: &str, plain: &str) -> Vec<u8> {
        let cipher = Aes256Gcm::new(&self.0.into());
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let nonce = Nonce::from(nonce_bytes);
        let sealed = cipher
            .encrypt(&nonce, Payload { msg: plain.as_bytes(), aad: aad.as_bytes() })
            .expect("AES-GCM encrypts any message under its size limit");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts what [`seal`](Self::seal) wrote for the same `aad`; `None`
    /// for a wrong key, a wrong column or damaged bytes.
    pub fn open(&self, aad: &str, stored: &[u8]) -> Option<String> {
        let (&version, rest) = stored.split_first()?;
        if version != VERSION || rest.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce_bytes, sealed) = rest.split_at(NONCE_LEN);
        let nonce_bytes: [u8; NONCE_LEN] = nonce_bytes.try_into().ok()?;
        let cipher = Aes256Gcm::new(&self.0.into());
        let plain = cipher.decrypt(&Nonce::from(nonce_bytes), Payload { msg: sealed, aad: aad.as_bytes() }).ok()?;
        String::from_utf8(plain).ok()
    }

    /// A keyed fingerprint (HMAC-SHA256) of some secrets, to recognise them
    /// later without storing them.
    pub fn fingerprint(&self, parts: &[&str]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.0).expect("HMAC takes any key");
        for p in parts {
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p.as_bytes());
        }
        mac.finalize().into_bytes().to_vec()
    }
}

/// The `oauth_tokens` fields a sealed token is stored in.
pub(super) const ACCESS: &str = "access";
pub(super) const REFRESH: &str = "refresh";

/// The stored form of a token pair. Each field is sealed with its own
/// associated data, so a stored access token cannot stand in for a refresh
/// token (or for another app's).
pub(super) fn seal_pair(key: &TokenKey, access: &str, refresh: Option<&str>) -> (Vec<u8>, Option<Vec<u8>>) {
    (key.seal(&aad(ACCESS), access), refresh.map(|r| key.seal(&aad(REFRESH), r)))
}

fn aad(field: &str) -> String {
    format!("oauth_tokens:{APP}:{field}")
}

/// Decrypts one stored field; a failure means the key changed.
pub(super) fn open_field(key: &TokenKey, field: &str, bytes: &[u8]) -> Result<String, DrChronoError> {
    key.open(&aad(field), bytes).ok_or_else(|| {
        DrChronoError::Config(format!(
            "the stored DrChrono tokens do not decrypt with TOKEN_ENCRYPTION_KEY (was the key changed?); \
             re-seed with `DELETE FROM oauth_tokens WHERE key = '{APP}'` and a restart with DRCHRONO_ACCESS_TOKEN and DRCHRONO_REFRESH_TOKEN"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> TokenKey {
        TokenKey::from_bytes([b; 32])
    }

    #[test]
    fn round_trips_with_a_fresh_nonce_each_time() {
        let k = key(7);
        let a = k.seal("t:access", "secret-token");
        let b = k.seal("t:access", "secret-token");
        assert_ne!(a, b, "a random nonce per write");
        assert!(!a.windows(6).any(|w| w == b"secret"), "no plaintext in the stored bytes");
        assert_eq!(k.open("t:access", &a).as_deref(), Some("secret-token"));
        assert_eq!(k.open("t:access", &b).as_deref(), Some("secret-token"));
    }

    #[test]
    fn wrong_key_column_or_bytes_do_not_open() {
        let sealed = key(1).seal("t:access", "x");
        assert_eq!(key(2).open("t:access", &sealed), None);
        assert_eq!(key(1).open("t:refresh", &sealed), None);
        let mut damaged = sealed.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert_eq!(key(1).open("t:access", &damaged), None);
        assert_eq!(key(1).open("t:access", &[]), None);
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
        assert_eq!(format!("{:?}", key(9)), "TokenKey(<redacted>)");
    }
}

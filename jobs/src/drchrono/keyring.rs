//! The keys a process holds: `TOKEN_ENCRYPTION_KEY` seals and opens,
//! `TOKEN_ENCRYPTION_KEY_PREVIOUS` (during a rotation) only opens. A stored
//! value names the key that sealed it (its key id), so opening picks the key
//! instead of trying each; values from before key ids are tried with both.
//! `cargo xtask rotate-key` moves every value to the current key
//! (the `rotation` module), after which the previous key can go.

use subtle::ConstantTimeEq as _;

use super::crypto::{HEADER_LEN, KEY_ID_LEN, KeyId, TokenKey, V1, V2};

#[derive(Clone, PartialEq, Eq)]
pub struct Keyring {
    current: TokenKey,
    previous: Option<TokenKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("current", &self.current).field("previous", &self.previous).finish()
    }
}

impl From<TokenKey> for Keyring {
    fn from(current: TokenKey) -> Self {
        Self { current, previous: None }
    }
}

/// Why a stored value did not open. Each message says what to do; none
/// quotes the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("the stored bytes are not a sealed value (empty, cut short or of an unknown layout)")]
    Malformed,
    #[error(
        "it was sealed under key id {sealed_with}, which is neither TOKEN_ENCRYPTION_KEY ({current}) nor \
         TOKEN_ENCRYPTION_KEY_PREVIOUS{}; set TOKEN_ENCRYPTION_KEY_PREVIOUS to the key that sealed it \
         (the old TOKEN_ENCRYPTION_KEY), restart, then run `cargo xtask rotate-key`",
        previous.map(|p| format!(" ({p})")).unwrap_or_else(|| " (unset)".into())
    )]
    UnknownKey { sealed_with: KeyId, current: KeyId, previous: Option<KeyId> },
    #[error(
        "it was sealed before key ids and opens with neither TOKEN_ENCRYPTION_KEY nor TOKEN_ENCRYPTION_KEY_PREVIOUS; \
         if the key was changed, set TOKEN_ENCRYPTION_KEY_PREVIOUS to the old key, restart, then run `cargo xtask rotate-key`"
    )]
    NoLegacyKeyOpens,
    #[error(
        "it names key id {0}, which is configured, but does not authenticate: the bytes were damaged or moved from another row"
    )]
    Damaged(KeyId),
}

impl Keyring {
    /// A `previous` equal to `current` is no previous key at all.
    pub fn new(current: TokenKey, previous: Option<TokenKey>) -> Self {
        let previous = previous.filter(|p| *p != current);
        Self { current, previous }
    }

    /// The key that seals.
    pub fn current(&self) -> &TokenKey {
        &self.current
    }

    pub fn previous(&self) -> Option<&TokenKey> {
        self.previous.as_ref()
    }

    fn keys(&self) -> impl Iterator<Item = &TokenKey> {
        std::iter::once(&self.current).chain(self.previous.as_ref())
    }

    /// Encrypts `plain` for column `aad` with the current key.
    pub fn seal(&self, aad: &str, plain: &str) -> Vec<u8> {
        self.current.seal(aad, plain)
    }

    /// Decrypts what [`seal`](Self::seal) wrote for the same `aad`, with
    /// the key the value names; a layout-1 value with either key.
    pub fn open(&self, aad: &str, stored: &[u8]) -> Result<String, OpenError> {
        match stored.split_first() {
            Some((&V1, body)) => self.keys().find_map(|k| k.open_v1(aad, body)).ok_or(OpenError::NoLegacyKeyOpens),
            Some((&V2, rest)) if rest.len() > KEY_ID_LEN => {
                let (id, body) = rest.split_at(KEY_ID_LEN);
                let id = KeyId(id.try_into().expect("split at the key id's length"));
                // Two keys may share an id (one pair in 2^32); each is tried.
                let mut named = self.keys().filter(|k| k.key_id() == id).peekable();
                if named.peek().is_none() {
                    return Err(OpenError::UnknownKey {
                        sealed_with: id,
                        current: self.current.key_id(),
                        previous: self.previous.as_ref().map(TokenKey::key_id),
                    });
                }
                named.find_map(|k| k.open_v2(aad, body)).ok_or(OpenError::Damaged(id))
            }
            _ => Err(OpenError::Malformed),
        }
    }

    /// Whether `stored` is sealed under the current key already (what
    /// `rotate-key` leaves alone).
    pub fn is_current(&self, stored: &[u8]) -> bool {
        stored.len() > HEADER_LEN && stored[..HEADER_LEN] == self.current.header()
    }

    /// A keyed fingerprint of `parts` with the current key.
    pub fn fingerprint(&self, parts: &[&str]) -> Vec<u8> {
        self.current.fingerprint(parts)
    }

    /// Whether `stored` is the fingerprint of `parts`: with either key, and
    /// also as made before subkeys (HMAC with the raw key), since a stored
    /// fingerprint cannot say how it was made.
    pub fn fingerprint_matches(&self, parts: &[&str], stored: &[u8]) -> bool {
        self.keys()
            .flat_map(|k| [k.fingerprint(parts), k.legacy_fingerprint(parts)])
            .any(|candidate| bool::from(candidate.as_slice().ct_eq(stored)))
    }

    /// The current key's subkey for `purpose` (see [`TokenKey::derive`]).
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        self.current.derive(purpose)
    }
}

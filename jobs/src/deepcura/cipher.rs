//! Gridhook payload encryption: AES-256-CBC with PKCS#7 padding. The wire
//! format is not public, so both schemes the internal notes describe are
//! kept, and configuration picks one (`DEEPCURA_SCHEME`).

use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use base64::Engine as _;
use sha2::{Digest, Sha256};

type Decryptor = cbc::Decryptor<aes::Aes256>;
type Encryptor = cbc::Encryptor<aes::Aes256>;

const BLOCK: usize = 16;

/// How the key and IV are derived from the shared secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// key = SHA-256(secret); payload = IV (16 bytes) ‖ ciphertext.
    #[default]
    Sha256Iv,
    /// key = scrypt(secret, "salt", N=16384, r=8, p=1, 32 bytes), as Node's
    /// `crypto.scryptSync(secret, "salt", 32)` derives it; all-zero IV;
    /// payload = ciphertext.
    LegacyScrypt,
}

impl Scheme {
    pub const NAMES: [&'static str; 2] = ["sha256-iv", "legacy-scrypt"];

    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256Iv => Self::NAMES[0],
            Self::LegacyScrypt => Self::NAMES[1],
        }
    }
}

impl std::str::FromStr for Scheme {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "sha256-iv" => Ok(Self::Sha256Iv),
            "legacy-scrypt" => Ok(Self::LegacyScrypt),
            other => {
                Err(format!("DEEPCURA_SCHEME `{other}` is not known; use `sha256-iv` (the default) or `legacy-scrypt`"))
            }
        }
    }
}

/// Why a payload did not decrypt. None of these is worth a retry: the
/// same bytes under the same key fail the same way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    #[error("payload is {0} bytes, shorter than one IV and one block; it was truncated or is not a Gridhook")]
    TooShort(usize),
    #[error("ciphertext is {0} bytes, not a whole number of 16-byte blocks; it was truncated")]
    NotBlockAligned(usize),
    #[error(
        "padding check failed: the shared secret or DEEPCURA_SCHEME differs from the sender's, or the payload was damaged"
    )]
    BadPadding,
}

/// Whether a decoded payload of `len` bytes can be a Gridhook of `scheme`
/// at all: an IV (for the IV scheme) and whole 16-byte blocks, at least one.
/// Checked at the door, so a payload that cannot decrypt gets a 400 rather
/// than a 200 and a job that dies.
pub fn check_shape(scheme: Scheme, len: usize) -> Result<(), DecryptError> {
    let iv = match scheme {
        Scheme::Sha256Iv => BLOCK,
        Scheme::LegacyScrypt => 0,
    };
    if len < iv + BLOCK {
        return Err(DecryptError::TooShort(len));
    }
    if !(len - iv).is_multiple_of(BLOCK) {
        return Err(DecryptError::NotBlockAligned(len - iv));
    }
    Ok(())
}

/// A key derived once from the shared secret (scrypt is deliberately slow).
#[derive(Clone)]
pub struct Cipher {
    key: [u8; 32],
    scheme: Scheme,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cipher").field("scheme", &self.scheme).finish_non_exhaustive()
    }
}

impl Cipher {
    pub fn new(secret: &str, scheme: Scheme) -> Self {
        let key = match scheme {
            Scheme::Sha256Iv => Sha256::digest(secret.as_bytes()).into(),
            Scheme::LegacyScrypt => {
                let params = scrypt::Params::new(14, 8, 1).expect("N=2^14, r=8, p=1 are valid scrypt parameters");
                let mut key = [0u8; 32];
                scrypt::scrypt(secret.as_bytes(), b"salt", &params, &mut key)
                    .expect("a 32-byte scrypt output is always allowed");
                key
            }
        };
        Self { key, scheme }
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The plaintext of a decoded (not base64) payload.
    pub fn decrypt(&self, payload: &[u8]) -> Result<Vec<u8>, DecryptError> {
        check_shape(self.scheme, payload.len())?;
        let (iv, ciphertext) = match self.scheme {
            Scheme::Sha256Iv => payload.split_at(BLOCK),
            Scheme::LegacyScrypt => (&[0u8; BLOCK][..], payload),
        };
        Decryptor::new_from_slices(&self.key, iv)
            .expect("the key is 32 bytes and the IV 16")
            .decrypt_padded_vec::<Pkcs7>(ciphertext)
            .map_err(|_| DecryptError::BadPadding)
    }

    /// The payload the sender would produce for `plain`; `iv` is used by the
    /// IV scheme only. The service never encrypts Gridhooks; this serves
    /// tests and the demo.
    pub fn encrypt(&self, plain: &[u8], iv: [u8; BLOCK]) -> Vec<u8> {
        let iv = match self.scheme {
            Scheme::Sha256Iv => iv,
            Scheme::LegacyScrypt => [0u8; BLOCK],
        };
        let ciphertext = Encryptor::new_from_slices(&self.key, &iv)
            .expect("the key is 32 bytes and the IV 16")
            .encrypt_padded_vec::<Pkcs7>(plain);
        match self.scheme {
            Scheme::Sha256Iv => [&iv[..], &ciphertext].concat(),
            Scheme::LegacyScrypt => ciphertext,
        }
    }
}

/// Standard base64, padded or not; whitespace (line-wrapped senders) is ignored.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&compact))
}

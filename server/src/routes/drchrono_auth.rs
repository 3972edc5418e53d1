//! DrChrono's webhook secrets: the verification handshake and delivery checks.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Longest `msg` the handshake answers; DrChrono sends a short token. Capping
/// length and characters keeps the endpoint from being a free HMAC oracle.
pub const MAX_MSG_LEN: usize = 256;

pub fn hmac_hex(secret: &str, data: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

pub fn valid_msg(msg: &str) -> bool {
    !msg.is_empty()
        && msg.len() <= MAX_MSG_LEN
        && msg.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:=".contains(&b))
}

/// DrChrono sends the secret itself in `X-drchrono-signature`; older notes
/// describe a hex HMAC-SHA256 of the raw body. Both prove the secret.
pub fn delivery_is_authentic(secret: &str, signature: Option<&str>, body: &[u8]) -> bool {
    let Some(sig) = signature.map(str::trim) else {
        return false;
    };
    let equals_secret: bool = sig.as_bytes().ct_eq(secret.as_bytes()).into();
    let body_mac = hmac_hex(secret, body);
    let equals_mac: bool = sig.to_ascii_lowercase().as_bytes().ct_eq(body_mac.as_bytes()).into();
    equals_secret | equals_mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        assert_eq!(
            hmac_hex("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn accepts_secret_or_body_mac_only() {
        let body = br#"{"object":{"id":1}}"#;
        assert!(delivery_is_authentic("s3cret", Some("s3cret"), body));
        assert!(delivery_is_authentic("s3cret", Some(&hmac_hex("s3cret", body)), body));
        assert!(!delivery_is_authentic("s3cret", Some("s3cre"), body));
        assert!(!delivery_is_authentic("s3cret", Some(&hmac_hex("other", body)), body));
        assert!(!delivery_is_authentic("s3cret", None, body));
    }

    #[test]
    fn msg_is_capped() {
        assert!(valid_msg("abc123"));
        assert!(!valid_msg(""));
        assert!(!valid_msg(&"a".repeat(MAX_MSG_LEN + 1)));
        assert!(!valid_msg("a b"));
    }
}

//! Deep Cura Gridhooks: a malformed plaintext inside valid encryption (the
//! job decrypts and parses it), a malformed ciphertext inside a valid
//! envelope, and a malformed envelope.

use base64::Engine as _;
use reqwest::Method;
use serde_json::json;

use crate::{
    case::{Case, Endpoint},
    mutate::{Mutated, mutate},
    rng::Rng,
    samples::{Samples, Target},
};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub fn deepcura(rng: &mut Rng, target: &Target, samples: &Samples) -> Case {
    let gridhook = rng.pick(&samples.gridhooks).clone();
    let encrypt = |plain: &[u8]| sandbox::encrypt_gridhook(&target.deepcura_secret, target.deepcura_scheme, plain);
    let body = match rng.below(10) {
        0..=4 => {
            let inner = mutate(rng, &gridhook, target.max_body / 2);
            let envelope = json!({ "encrypted_payload": encrypt(&inner.body) });
            let mut names = vec!["inside_valid_encryption"];
            names.extend(inner.mutations);
            Mutated { body: serde_json::to_vec(&envelope).unwrap_or_default(), mutations: names }
        }
        5..=7 => {
            let valid = B64.decode(encrypt(gridhook.to_string().as_bytes())).unwrap_or_default();
            let (payload, name) = ciphertext(rng, valid, target);
            Mutated {
                body: serde_json::to_vec(&json!({ "encrypted_payload": payload })).unwrap_or_default(),
                mutations: vec![name],
            }
        }
        _ => {
            let envelope = json!({ "encrypted_payload": encrypt(gridhook.to_string().as_bytes()) });
            let mut m = mutate(rng, &envelope, target.max_body);
            m.mutations.insert(0, "envelope");
            m
        }
    };
    let case = Case::new(Endpoint::DeepCura, Method::POST, "/webhooks/deepcura").json(body);
    let case = if rng.chance(80) {
        case.header("x-deepcura-secret", target.deepcura_secret.clone())
    } else {
        case.bearer(&target.deepcura_secret)
    };
    if rng.chance(20) { case.header("x-deepcura-delivery", format!("dc-{}", rng.below(100))) } else { case }
}

/// A payload string that decodes to a broken ciphertext, or does not decode.
fn ciphertext(rng: &mut Rng, valid: Vec<u8>, target: &Target) -> (String, &'static str) {
    let encrypt = |plain: &[u8]| sandbox::encrypt_gridhook(&target.deepcura_secret, target.deepcura_scheme, plain);
    match rng.below(10) {
        0 => {
            let mut bytes = valid;
            let at = rng.below(bytes.len());
            bytes[at] ^= 1 << rng.below(8);
            (B64.encode(bytes), "ciphertext_bit_flip")
        }
        1 => {
            let cut = if rng.chance(50) { 16 } else { 1 + rng.below(15) };
            (B64.encode(&valid[..valid.len().saturating_sub(cut)]), "ciphertext_truncated")
        }
        2 => ((B64.encode((0..16 * (1 + rng.below(8))).map(|_| rng.byte()).collect::<Vec<u8>>())), "random_blocks"),
        3 => {
            let plain: Vec<u8> = (0..rng.below(200)).map(|_| rng.byte()).collect();
            (encrypt(&plain), "encrypted_random_bytes")
        }
        4 => (encrypt(b""), "encrypted_empty_plaintext"),
        5 => (sandbox::encrypt_gridhook("another-secret", target.deepcura_scheme, b"{}"), "wrong_key"),
        6 => (base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(valid), "url_safe_base64"),
        7 => {
            let text = B64.encode(valid);
            let (a, b) = text.split_at(text.len() / 2);
            (format!("{a}\n {b}"), "base64_with_whitespace")
        }
        8 => (format!("data:application/octet-stream;base64,{}", B64.encode(valid)), "data_uri"),
        _ => (B64.encode([valid.as_slice(), valid.as_slice()].concat()), "ciphertext_doubled"),
    }
}

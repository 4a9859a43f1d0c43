//! Encrypted API keys: `{system_account_id, cell, token}` sealed with AES-256-GCM.
//!
//! Format (documented in the crate README): `hk1.` followed by unpadded URL-safe base64 of
//! `nonce (12 bytes) ‖ ciphertext ‖ GCM tag (16 bytes)`. The AES key is SHA-256 of the secret
//! (`HIPPODROME_ENCRYPTION_SECRET`), the plaintext is the compact JSON object
//! `{"system_account_id":…,"cell":…,"token":…}` and the associated data is the version tag `hk1`,
//! so a key cannot be replayed under another version. The nonce is synthetic: the first 12 bytes of
//! HMAC-SHA256(aes key, plaintext). Tokens come from the seed, so nonces are random-from-seed and
//! the same seed yields the same key strings on every machine; two different plaintexts never share
//! a nonce unless HMAC collides.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Version prefix of every encrypted key.
pub const PREFIX: &str = "hk1.";
const AAD: &[u8] = b"hk1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// The three fields an encrypted key carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecodedKey {
    pub system_account_id: String,
    pub cell: String,
    pub token: String,
}

/// Why a key did not decode.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("not an encrypted Hippodrome key: it must start with `{PREFIX}`")]
    Prefix,
    #[error("the key is not URL-safe base64 without padding")]
    Encoding,
    #[error("the key is too short to hold a nonce and a tag")]
    TooShort,
    #[error("the key was altered or was encrypted with another secret")]
    Authentication,
    #[error("the key decrypted but does not hold system_account_id, cell and token: {0}")]
    Payload(String),
}

fn cipher_key(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Encrypt `{system_account_id, cell, token}` under `secret`.
pub fn encode(system_account_id: &str, cell: &str, token: &str, secret: &str) -> String {
    let key = cipher_key(secret);
    let plaintext = serde_json::to_vec(&DecodedKey {
        system_account_id: system_account_id.to_owned(),
        cell: cell.to_owned(),
        token: token.to_owned(),
    })
    .unwrap_or_default();
    let nonce = synthetic_nonce(&key, &plaintext);
    let cipher = Aes256Gcm::new(&key.into());
    // Encryption with a 32-byte key and a 12-byte nonce cannot fail for inputs this small.
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plaintext,
                aad: AAD,
            },
        )
        .unwrap_or_default();
    let mut raw = Vec::with_capacity(NONCE_LEN + sealed.len());
    raw.extend_from_slice(&nonce);
    raw.extend_from_slice(&sealed);
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(raw))
}

/// Decrypt and authenticate a key made by [`encode`] with the same `secret`.
pub fn decode(key: &str, secret: &str) -> Result<DecodedKey, KeyError> {
    let body = key.trim().strip_prefix(PREFIX).ok_or(KeyError::Prefix)?;
    let raw = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| KeyError::Encoding)?;
    if raw.len() < NONCE_LEN + TAG_LEN {
        return Err(KeyError::TooShort);
    }
    let (nonce, sealed) = raw.split_at(NONCE_LEN);
    let cipher = Aes256Gcm::new(&cipher_key(secret).into());
    let plaintext = cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: AAD,
            },
        )
        .map_err(|_| KeyError::Authentication)?;
    serde_json::from_slice(&plaintext).map_err(|e| KeyError::Payload(e.to_string()))
}

fn synthetic_nonce(key: &[u8; 32], plaintext: &[u8]) -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    if let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) {
        mac.update(b"hk1-nonce");
        mac.update(plaintext);
        let tag = mac.finalize().into_bytes();
        nonce.copy_from_slice(&tag[..NONCE_LEN]);
    }
    nonce
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "1234567890ABCDEF";

    #[test]
    fn round_trip() {
        let k = encode("sys123", "local", "tok_abc", SECRET);
        assert!(k.starts_with(PREFIX));
        assert!(
            k[PREFIX.len()..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let d = decode(&k, SECRET).unwrap();
        assert_eq!(
            d,
            DecodedKey {
                system_account_id: "sys123".into(),
                cell: "local".into(),
                token: "tok_abc".into()
            }
        );
    }

    #[test]
    fn same_input_same_key_and_different_tokens_differ() {
        let a = encode("s", "local", "t1", SECRET);
        assert_eq!(a, encode("s", "local", "t1", SECRET));
        let b = encode("s", "local", "t2", SECRET);
        assert_ne!(a, b);
        // different plaintexts get different nonces
        assert_ne!(a[4..20], b[4..20]);
    }

    #[test]
    fn wrong_secret_is_rejected() {
        let k = encode("s", "local", "t", SECRET);
        assert_eq!(decode(&k, "another"), Err(KeyError::Authentication));
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        let k = encode("sys", "local", "token", SECRET);
        let mut raw = URL_SAFE_NO_PAD.decode(&k[PREFIX.len()..]).unwrap();
        for i in 0..raw.len() {
            for bit in 0..8 {
                raw[i] ^= 1 << bit;
                let tampered = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&raw));
                assert_eq!(
                    decode(&tampered, SECRET),
                    Err(KeyError::Authentication),
                    "byte {i} bit {bit}"
                );
                raw[i] ^= 1 << bit;
            }
        }
    }

    #[test]
    fn malformed_keys_get_clear_errors() {
        assert_eq!(decode("abc", SECRET), Err(KeyError::Prefix));
        assert_eq!(decode("hk1.***", SECRET), Err(KeyError::Encoding));
        assert_eq!(decode("hk1.AAAA", SECRET), Err(KeyError::TooShort));
        let k = encode("s", "c", "t", SECRET);
        assert!(decode(&k[..k.len() - 2], SECRET).is_err());
    }
}

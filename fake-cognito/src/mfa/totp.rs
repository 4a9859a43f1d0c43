//! RFC 6238 TOTP as authenticator apps and pyotp compute it (30 s step, 6 digits, HMAC-SHA1),
//! and the RFC 4648 base32 that `AssociateSoftwareToken`'s `SecretCode` is written in.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::error::{CognitoError, Result};

pub const STEP_SECONDS: i64 = 30;
/// Steps either side of now that are still accepted: clock drift between phone and server.
pub const WINDOW: i64 = 1;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A fresh 32-byte secret as unpadded base32 (52 characters, the length AWS hands out).
pub fn new_secret() -> Result<String> {
    let mut b = [0u8; 32];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| CognitoError::Internal("no randomness".into()))?;
    Ok(base32_encode(&b))
}

pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for &byte in data {
        buf = (buf << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buf >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decode base32 (case-insensitive, padding ignored); `None` for any other character.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())? as u32;
        buf = ((buf << 5) | v) & 0xFFFF;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buf >> bits) & 0xFF) as u8);
        }
    }
    Some(out)
}

/// The 6-digit code for one time step (RFC 4226 dynamic truncation).
pub fn code_at_step(key: &[u8], step: i64) -> String {
    // SHA-1 is what RFC 6238 authenticator apps use by default; it is an HMAC here, not a hash
    // of attacker-chosen data, so the legacy algorithm is still sound for this purpose.
    let k = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    let tag = hmac::sign(&k, &step.to_be_bytes());
    let mac = tag.as_ref();
    let off = usize::from(mac[mac.len() - 1] & 0x0f);
    let bin = (u32::from(mac[off] & 0x7f) << 24)
        | (u32::from(mac[off + 1]) << 16)
        | (u32::from(mac[off + 2]) << 8)
        | u32::from(mac[off + 3]);
    format!("{:06}", bin % 1_000_000)
}

/// The step `code` matches within ±[`WINDOW`] of `now_secs`, nearest first; `None` otherwise
/// (also for a secret that is not base32).
pub fn matching_step(secret_b32: &str, code: &str, now_secs: i64) -> Option<i64> {
    let key = base32_decode(secret_b32)?;
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now_step = now_secs.div_euclid(STEP_SECONDS);
    [0, -1, 1]
        .into_iter()
        .filter(|d: &i64| d.abs() <= WINDOW)
        .map(|d| now_step + d)
        .find(|s| *s >= 0 && code_at_step(&key, *s) == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA-1 key "12345678901234567890", last 6 digits of the 8.
        let key = b"12345678901234567890";
        assert_eq!(code_at_step(key, 59 / 30), "287082");
        assert_eq!(code_at_step(key, 1_111_111_109 / 30), "081804");
        assert_eq!(code_at_step(key, 1_234_567_890 / 30), "005924");
        assert_eq!(code_at_step(key, 20_000_000_000 / 30), "353130");
    }

    #[test]
    fn base32_round_trip_and_length() {
        let data: Vec<u8> = (0u8..32).collect();
        let enc = base32_encode(&data);
        assert_eq!(enc.len(), 52);
        assert_eq!(base32_decode(&enc).unwrap(), data);
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert!(base32_decode("not base32!").is_none());
    }

    #[test]
    fn window_is_one_step_either_side() {
        let secret = new_secret().unwrap();
        let key = base32_decode(&secret).unwrap();
        let now = 1_700_000_000;
        let step = now / 30;
        for d in [-1, 0, 1] {
            assert_eq!(
                matching_step(&secret, &code_at_step(&key, step + d), now),
                Some(step + d)
            );
        }
        assert_eq!(
            matching_step(&secret, &code_at_step(&key, step + 2), now),
            None
        );
        assert_eq!(matching_step(&secret, "12345", now), None);
    }
}

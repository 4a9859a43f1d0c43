//! RFC 6238 TOTP codes (HMAC-SHA1, 30 s step, 6 digits) for the MFA login figures, from the
//! base32 `SecretCode` AssociateSoftwareToken returns. HMAC-SHA1 comes from aws-lc-rs, which the
//! bench already links for the signing ceiling, so no new crate is needed.

use aws_lc_rs::hmac;

/// Seconds per TOTP step (Cognito's and RFC 6238's default).
pub const STEP_SECONDS: u64 = 30;

/// Decodes RFC 4648 base32 (case-insensitive, padding optional); leftover bits of a partial byte
/// are dropped, as Python's `b32decode` does for moto's padded 12-character secret.
pub fn base32_decode(text: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').chars() {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => anyhow::bail!("not base32: {c:?}"),
        };
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// The 6-digit code of `key` for TOTP step `step` (unix seconds / 30).
pub fn code_at_step(key: &[u8], step: u64) -> String {
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key),
        &step.to_be_bytes(),
    );
    let mac = tag.as_ref();
    // RFC 4226 dynamic truncation: the low nibble of the last byte picks 4 bytes.
    let off = usize::from(mac[mac.len() - 1] & 0x0f);
    let bin =
        u32::from_be_bytes([mac[off], mac[off + 1], mac[off + 2], mac[off + 3]]) & 0x7fff_ffff;
    format!("{:06}", bin % 1_000_000)
}

/// The code of `key` at unix time `secs`.
pub fn code_at(key: &[u8], secs: u64) -> String {
    code_at_step(key, secs / STEP_SECONDS)
}

/// The machine's unix time in seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (8 digits there; the low 6 are the 6-digit code).
    #[test]
    fn totp_rfc6238_vectors() {
        let key = b"12345678901234567890";
        for (t, code8) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(code_at(key, t), code8[2..], "t = {t}");
        }
    }

    #[test]
    fn totp_base32_round_trip() {
        // "12345678901234567890" in base32 (RFC 6238's key).
        let key = base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").expect("valid base32");
        assert_eq!(key, b"12345678901234567890");
        // moto's fixed secret: 12 characters, 60 bits → 7 bytes, lower case accepted.
        assert_eq!(base32_decode("asdfasdfasdf").expect("valid").len(), 7);
        assert!(base32_decode("not-base32!").is_err());
    }

    /// moto 5.2.5's fixed secret at a fixed time, as its `cognito_totp(...).generate(t)` gives it.
    #[test]
    fn totp_moto_fixed_secret() {
        let key = base32_decode("asdfasdfasdf").expect("valid base32");
        assert_eq!(hex(&key), "04865048650486");
        assert_eq!(code_at(&key, 1_796_285_705), "264560");
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}

//! TOTP codes for the MFA login figures: fake-cognito's own RFC 6238 code (tested there against the
//! RFC's vectors), so the bench and the fake share one implementation; moto checks every code it
//! gets with its own Python implementation in the same run, which keeps this honest.

use anyhow::Context;
use fake_cognito::mfa::totp as rfc6238;

/// Seconds per TOTP step (Cognito's and RFC 6238's default).
pub const STEP_SECONDS: u64 = rfc6238::STEP_SECONDS.unsigned_abs();

/// The key of a base32 `SecretCode` (case-insensitive, padding optional).
pub fn base32_decode(text: &str) -> anyhow::Result<Vec<u8>> {
    rfc6238::base32_decode(text).with_context(|| format!("not base32: {text:?}"))
}

/// The code of `key` at unix time `secs`.
pub fn code_at(key: &[u8], secs: u64) -> String {
    rfc6238::code_at_step(key, i64::try_from(secs / STEP_SECONDS).unwrap_or(i64::MAX))
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

    /// moto 5.2.5 gives every user the 12-character secret `asdfasdfasdf` (60 bits → 7 bytes); the
    /// code at a fixed time is what moto's own `cognito_totp(...).generate(t)` gives.
    #[test]
    fn totp_moto_fixed_secret() {
        let key = base32_decode("asdfasdfasdf").expect("valid base32");
        let hex: String = key.iter().map(|x| format!("{x:02x}")).collect();
        assert_eq!(hex, "04865048650486");
        assert_eq!(code_at(&key, 1_796_285_705), "264560");
        assert!(base32_decode("not-base32!").is_err());
    }
}

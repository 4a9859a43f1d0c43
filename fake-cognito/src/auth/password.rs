//! Password storage, policy and SECRET_HASH.
//!
//! Passwords are kept only as PBKDF2-HMAC-SHA256 with a per-user random salt, at a deliberately low
//! [`ITERATIONS`]: this is a local test issuer holding test passwords, USER_PASSWORD_AUTH speed is
//! a goal (a login already costs two RSA signatures, about 0.4 ms), and the SRP verifier that
//! Cognito's protocol obliges us to keep is itself crackable at one SHA-256 per guess — a slow hash
//! next to it would add cost without adding protection. What the hash does guarantee: no plaintext
//! password in the state file, the journal, `/_fake/state` or logs. The iteration count is stored
//! per hash, so it can change without invalidating existing users.

use std::num::NonZeroU32;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::{constant_time, hmac, pbkdf2};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::{CognitoError, Result};
use crate::model::{Client, PasswordHash, PasswordPolicy};

pub const ITERATIONS: u32 = 64;

pub fn hash(password: &str) -> Result<PasswordHash> {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| CognitoError::Internal("no randomness".into()))?;
    let mut out = [0u8; 32];
    let iters = NonZeroU32::new(ITERATIONS).unwrap_or(NonZeroU32::MIN);
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iters,
        &salt,
        password.as_bytes(),
        &mut out,
    );
    Ok(PasswordHash {
        salt: STANDARD.encode(salt),
        iterations: ITERATIONS,
        hash: STANDARD.encode(out),
    })
}

pub fn verify(stored: &PasswordHash, password: &str) -> bool {
    let (Ok(salt), Ok(expected)) = (STANDARD.decode(&stored.salt), STANDARD.decode(&stored.hash))
    else {
        return false;
    };
    let Some(iters) = NonZeroU32::new(stored.iterations) else {
        return false;
    };
    pbkdf2::verify(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iters,
        &salt,
        password.as_bytes(),
        &expected,
    )
    .is_ok()
}

/// Check a new password against the pool policy, with Cognito's messages.
pub fn check_policy(policy: &PasswordPolicy, password: &str) -> Result<()> {
    let fail = |what: &str| {
        Err(CognitoError::InvalidPassword(format!(
            "Password did not conform with policy: {what}"
        )))
    };
    if (password.chars().count() as i64) < policy.minimum_length.max(6) {
        return fail("Password not long enough");
    }
    if policy.require_lowercase && !password.chars().any(|c| c.is_ascii_lowercase()) {
        return fail("Password must have lowercase characters");
    }
    if policy.require_uppercase && !password.chars().any(|c| c.is_ascii_uppercase()) {
        return fail("Password must have uppercase characters");
    }
    if policy.require_numbers && !password.chars().any(|c| c.is_ascii_digit()) {
        return fail("Password must have numeric characters");
    }
    if policy.require_symbols
        && !password
            .chars()
            .any(|c| c.is_ascii_punctuation() || c == ' ')
    {
        return fail("Password must have symbol characters");
    }
    if password.len() > 256 {
        return fail("Password too long");
    }
    Ok(())
}

/// `base64(HMAC-SHA256(client_secret, username || client_id))`.
pub fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(username.as_bytes());
    ctx.update(client_id.as_bytes());
    STANDARD.encode(ctx.sign().as_ref())
}

/// Enforce SECRET_HASH for secret clients. `usernames` are the names a client may have hashed
/// (the one it sent, and the internal one for follow-up calls).
pub fn check_secret_hash(
    client: &Client,
    provided: Option<&str>,
    usernames: &[&str],
) -> Result<()> {
    let Some(secret) = client.secret.as_deref() else {
        return Ok(());
    };
    let Some(provided) = provided else {
        return Err(CognitoError::NotAuthorized(format!(
            "Client {} is configured for secret but secret was not received",
            client.id
        )));
    };
    let ok = usernames.iter().any(|u| {
        constant_time::verify_slices_are_equal(
            secret_hash(secret, u, &client.id).as_bytes(),
            provided.as_bytes(),
        )
        .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(CognitoError::NotAuthorized(format!(
            "Unable to verify secret hash for client {}",
            client.id
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hash_matches_reference_vector() {
        assert_eq!(
            secret_hash("clientsecret0123", "alice", "1example23clientid"),
            "tpGhM/TZYdiBfxX8dggTAOmeDTYSI8rKM32+p+qWa5M="
        );
    }

    #[test]
    fn hash_verifies_only_the_right_password() {
        let h = hash("Correct-Horse-9!").unwrap();
        assert!(verify(&h, "Correct-Horse-9!"));
        assert!(!verify(&h, "Correct-Horse-9?"));
    }

    #[test]
    fn policy_messages() {
        let p = PasswordPolicy::default();
        assert!(check_policy(&p, "Aa1!aaaa").is_ok());
        let e = check_policy(&p, "short").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Password did not conform with policy: Password not long enough"
        );
        assert!(check_policy(&p, "alllower1!").is_err());
    }
}

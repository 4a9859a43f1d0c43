//! SRP-6a exactly as Cognito, amazon-cognito-identity-js, Amplify and pycognito do it: the 3072-bit
//! RFC 3526 group with g = 2, SHA-256, "padHex" sign-byte padding, the "Caldera Derived Key" HKDF,
//! and an HMAC over pool name ‖ user ‖ secret block ‖ timestamp as the password proof.

use std::sync::LazyLock;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::{constant_time, digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use num_bigint::BigUint;

use crate::error::{CognitoError, Result};
use crate::model::SrpVerifier;

const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1",
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245",
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D",
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D",
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9",
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64",
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B",
    "F12FFA06D98A0864D87602733EC86A64521F2B18177B200C",
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31",
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);

/// Upper bound on `SRP_A` before any arithmetic (3072 bits = 768 hex digits, plus slack).
const MAX_A_HEX: usize = 770;

pub struct SrpGroup {
    pub n: BigUint,
    pub g: BigUint,
    pub k: BigUint,
}

pub static GROUP: LazyLock<SrpGroup> = LazyLock::new(|| {
    let n = BigUint::parse_bytes(N_HEX.as_bytes(), 16).unwrap_or_default();
    let g = BigUint::from(2u32);
    let k = BigUint::from_bytes_be(&sha256(&[&pad(&n), &pad(&g)]));
    SrpGroup { n, g, k }
});

fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    ctx.finish().as_ref().to_vec()
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    for p in parts {
        ctx.update(p);
    }
    ctx.sign().as_ref().to_vec()
}

/// Big-endian bytes with a leading 0x00 when the top bit is set (the clients' "padHex").
pub fn pad(x: &BigUint) -> Vec<u8> {
    let mut b = x.to_bytes_be();
    if b[0] & 0x80 != 0 {
        b.insert(0, 0);
    }
    b
}

fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut b = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| CognitoError::Internal("no randomness".into()))?;
    Ok(b)
}

/// `x = H(pad(salt) ‖ H(poolName ‖ user ‖ ":" ‖ password))`.
fn private_x(salt: &BigUint, pool_name: &str, user: &str, password: &str) -> BigUint {
    let inner = sha256(&[
        pool_name.as_bytes(),
        user.as_bytes(),
        b":",
        password.as_bytes(),
    ]);
    BigUint::from_bytes_be(&sha256(&[&pad(salt), &inner]))
}

/// A fresh salt and verifier for `user` (the internal username) in pool `pool_name`.
pub fn make_verifier(pool_name: &str, user: &str, password: &str) -> Result<SrpVerifier> {
    let mut salt = random_bytes(16)?;
    // First byte in 0x10..=0x7f: no leading zero nibble and no sign byte, so clients that pad the
    // hex string and clients that pad the parsed number hash the same bytes.
    salt[0] = 0x10 | (salt[0] & 0x6f);
    let salt_n = BigUint::from_bytes_be(&salt);
    let x = private_x(&salt_n, pool_name, user, password);
    let v = GROUP.g.modpow(&x, &GROUP.n);
    Ok(SrpVerifier {
        salt: hex::encode(&salt),
        verifier: v.to_str_radix(16),
    })
}

/// Server state between the PASSWORD_VERIFIER challenge and its answer.
#[derive(Clone)]
pub struct ServerSession {
    a: BigUint,
    b: BigUint,
    big_b: BigUint,
    v: BigUint,
    pub salt_hex: String,
    pub secret_block: Vec<u8>,
    pub user_id_for_srp: String,
    pub pool_name: String,
}

impl ServerSession {
    pub fn srp_b_hex(&self) -> String {
        self.big_b.to_str_radix(16)
    }
    pub fn secret_block_b64(&self) -> String {
        STANDARD.encode(&self.secret_block)
    }
}

/// Parse the client's `SRP_A` and compute `B = k·v + g^b`.
pub fn start(
    verifier: &SrpVerifier,
    srp_a_hex: &str,
    user_id_for_srp: &str,
    pool_name: &str,
) -> Result<ServerSession> {
    let bad_a = || CognitoError::InvalidParameter("Invalid SRP_A value.".into());
    if srp_a_hex.is_empty() || srp_a_hex.len() > MAX_A_HEX {
        return Err(bad_a());
    }
    let a = BigUint::parse_bytes(srp_a_hex.as_bytes(), 16).ok_or_else(bad_a)?;
    let grp = &*GROUP;
    if (&a % &grp.n) == BigUint::ZERO {
        return Err(bad_a());
    }
    let v = BigUint::parse_bytes(verifier.verifier.as_bytes(), 16)
        .ok_or_else(|| CognitoError::Internal("stored SRP verifier is unreadable".into()))?;
    loop {
        let b = BigUint::from_bytes_be(&random_bytes(32)?);
        let big_b = (&grp.k * &v + grp.g.modpow(&b, &grp.n)) % &grp.n;
        if big_b == BigUint::ZERO {
            continue;
        }
        let mut secret_block = random_bytes(64)?;
        secret_block[0] |= 1;
        return Ok(ServerSession {
            a,
            b,
            big_b,
            v,
            salt_hex: verifier.salt.clone(),
            secret_block,
            user_id_for_srp: user_id_for_srp.to_owned(),
            pool_name: pool_name.to_owned(),
        });
    }
}

/// A dummy challenge for an unknown user (PreventUserExistenceErrors): looks real, never verifies.
pub fn decoy(user: &str, pool_name: &str) -> Result<ServerSession> {
    let fake = make_verifier(pool_name, user, &hex::encode(random_bytes(16)?))?;
    let a = GROUP
        .g
        .modpow(&BigUint::from_bytes_be(&random_bytes(32)?), &GROUP.n);
    start(&fake, &a.to_str_radix(16), user, pool_name)
}

/// Cognito's TIMESTAMP format, `EEE MMM d HH:mm:ss UTC yyyy`, day not zero-padded.
pub fn timestamp_ok(ts: &str) -> bool {
    let parts: Vec<&str> = ts.split(' ').collect();
    let [wd, mon, day, hms, utc, year] = parts.as_slice() else {
        return false;
    };
    wd.len() == 3
        && mon.len() == 3
        && !day.starts_with('0')
        && day.parse::<u8>().is_ok_and(|d| (1..=31).contains(&d))
        && hms.len() == 8
        && *utc == "UTC"
        && year.parse::<u16>().is_ok()
}

/// The 16-byte key both sides derive: HKDF-SHA256(ikm = pad(S), salt = pad(u), "Caldera Derived Key").
fn session_key(s: &ServerSession) -> Option<Vec<u8>> {
    let grp = &*GROUP;
    let u = BigUint::from_bytes_be(&sha256(&[&pad(&s.a), &pad(&s.big_b)]));
    if u == BigUint::ZERO {
        return None;
    }
    let base = (&s.a * s.v.modpow(&u, &grp.n)) % &grp.n;
    let big_s = base.modpow(&s.b, &grp.n);
    let prk = hmac_sha256(&pad(&u), &[&pad(&big_s)]);
    let okm = hmac_sha256(&prk, &[b"Caldera Derived Key", &[1u8]]);
    Some(okm[..16].to_vec())
}

/// Check `PASSWORD_CLAIM_SIGNATURE` (constant-time comparison).
pub fn verify_claim(s: &ServerSession, timestamp: &str, signature_b64: &str) -> bool {
    let Some(key) = session_key(s) else {
        return false;
    };
    let Ok(provided) = STANDARD.decode(signature_b64) else {
        return false;
    };
    let expected = hmac_sha256(
        &key,
        &[
            s.pool_name.as_bytes(),
            s.user_id_for_srp.as_bytes(),
            &s.secret_block,
            timestamp.as_bytes(),
        ],
    );
    constant_time::verify_slices_are_equal(&expected, &provided).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_matches_the_published_constant() {
        assert_eq!(GROUP.n.bits(), 3072);
        assert_eq!(
            GROUP.k.to_str_radix(16),
            "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6"
        );
    }

    /// Client side written out independently (as pycognito does it) to prove the server math.
    #[test]
    fn client_proof_verifies_and_wrong_password_fails() {
        let pool = "Ab3dE9xYz";
        let ver = make_verifier(pool, "alice", "Correct-Horse-9!").unwrap();
        let grp = &*GROUP;
        let a = BigUint::from_bytes_be(&random_bytes(128).unwrap()) % &grp.n;
        let big_a = grp.g.modpow(&a, &grp.n);
        let s = start(&ver, &big_a.to_str_radix(16), "alice", pool).unwrap();
        let ts = "Sun Nov 22 04:53:46 UTC 2026";
        let sign = |password: &str| {
            let b = BigUint::parse_bytes(s.srp_b_hex().as_bytes(), 16).unwrap();
            let salt = BigUint::parse_bytes(ver.salt.as_bytes(), 16).unwrap();
            let u = BigUint::from_bytes_be(&sha256(&[&pad(&big_a), &pad(&b)]));
            let x = private_x(&salt, pool, "alice", password);
            let kgx = (&grp.k * grp.g.modpow(&x, &grp.n)) % &grp.n;
            let base = ((&b + &grp.n) - kgx) % &grp.n;
            let big_s = base.modpow(&(&a + &u * &x), &grp.n);
            let prk = hmac_sha256(&pad(&u), &[&pad(&big_s)]);
            let key = hmac_sha256(&prk, &[b"Caldera Derived Key", &[1u8]]);
            let sig = hmac_sha256(
                &key[..16],
                &[pool.as_bytes(), b"alice", &s.secret_block, ts.as_bytes()],
            );
            STANDARD.encode(sig)
        };
        assert!(verify_claim(&s, ts, &sign("Correct-Horse-9!")));
        assert!(!verify_claim(&s, ts, &sign("Correct-Horse-9?")));
        assert!(timestamp_ok(ts));
        assert!(timestamp_ok("Mon Dec 1 04:05:06 UTC 2026"));
        assert!(!timestamp_ok("Mon Dec 01 04:05:06 UTC 2026"));
    }
}

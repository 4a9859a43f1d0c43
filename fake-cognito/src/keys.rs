//! Signing keys: two RSA-2048 keys (ID tokens and access tokens, as AWS uses two) plus the AES key
//! that seals refresh tokens. Generated once and persisted with the state; with
//! `HIPPODROME_RANDOM_SEED` they are derived from the seed instead, so every machine using that seed
//! serves the same JWKS and `kid`s. A persisted key derived from the same seed is reused, so a
//! restart never pays for key derivation twice.
//!
//! Parsed aws-lc-rs key pairs and public keys are built once here and cached for the process:
//! signing never re-parses a PEM/DER per token.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{KeyPair, KeyPairComponents, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{self, KeyPair as _, ParsedPublicKey, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::rsagen;

/// Bump when the derivation changes, so persisted keys from an older derivation are not reused.
const DERIVATION: &str = "fake-cognito/keys/v1";

/// What the state file keeps (never served by any route).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Fingerprint of the seed the keys were derived from; `None` when randomly generated.
    pub seed_fingerprint: Option<String>,
    /// PKCS#8 DER, standard base64.
    pub id_key: String,
    pub access_key: String,
    /// 32 bytes, standard base64.
    pub refresh_key: String,
}

pub struct SigningKey {
    pub kid: String,
    pair: KeyPair,
    public: ParsedPublicKey,
    pub jwk: Value,
}

pub struct Keys {
    pub id: SigningKey,
    pub access: SigningKey,
    refresh: LessSafeKey,
    pub record: KeyRecord,
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

pub fn seed_fingerprint(seed: u64) -> String {
    hex::encode(&sha256(&[DERIVATION.as_bytes(), b"/fingerprint/", &seed.to_be_bytes()])[..16])
}

impl SigningKey {
    fn from_pair(pair: KeyPair) -> anyhow::Result<Self> {
        let public = pair.public_key();
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();
        let kid = STANDARD.encode(sha256(&[b"kid", &n]));
        let jwk = json!({
            "alg": "RS256",
            "e": URL_SAFE_NO_PAD.encode(&e),
            "kid": kid,
            "kty": "RSA",
            "n": URL_SAFE_NO_PAD.encode(&n),
            "use": "sig",
        });
        let public =
            UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public.as_ref())
                .parse()
                .map_err(|e| anyhow::anyhow!("cannot parse our own public key: {e}"))?;
        Ok(Self {
            kid,
            pair,
            public,
            jwk,
        })
    }

    /// RS256 (PKCS#1 v1.5, SHA-256) signature over `msg`.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, aws_lc_rs::error::Unspecified> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair.sign(
            &signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            msg,
            &mut sig,
        )?;
        Ok(sig)
    }

    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.public.verify_sig(msg, sig).is_ok()
    }
}

fn pair_from_pkcs8(b64: &str) -> anyhow::Result<KeyPair> {
    let der = STANDARD.decode(b64)?;
    KeyPair::from_pkcs8(&der).map_err(|e| anyhow::anyhow!("persisted key rejected: {e}"))
}

fn pkcs8_of(pair: &KeyPair) -> anyhow::Result<String> {
    let der = pair
        .as_der()
        .map_err(|_| anyhow::anyhow!("cannot encode key"))?;
    Ok(STANDARD.encode(der.as_ref()))
}

fn derived_pair(seed: u64, label: &str) -> anyhow::Result<KeyPair> {
    let c = rsagen::generate(sha256(&[
        DERIVATION.as_bytes(),
        label.as_bytes(),
        &seed.to_be_bytes(),
    ]));
    KeyPair::from_components(&KeyPairComponents {
        public_key: PublicKeyComponents { n: &c.n, e: &c.e },
        d: &c.d,
        p: &c.p,
        q: &c.q,
        dP: &c.dp,
        dQ: &c.dq,
        qInv: &c.qinv,
    })
    .map_err(|e| anyhow::anyhow!("derived key rejected: {e}"))
}

impl Keys {
    pub fn from_record(record: KeyRecord) -> anyhow::Result<Self> {
        let id = SigningKey::from_pair(pair_from_pkcs8(&record.id_key)?)?;
        let access = SigningKey::from_pair(pair_from_pkcs8(&record.access_key)?)?;
        let raw = STANDARD.decode(&record.refresh_key)?;
        let refresh = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &raw)
                .map_err(|_| anyhow::anyhow!("bad refresh-token key"))?,
        );
        Ok(Self {
            id,
            access,
            refresh,
            record,
        })
    }

    /// Keys derived from `seed` (about 0.1–0.5 s: the two keys are derived in parallel).
    pub fn derive(seed: u64) -> anyhow::Result<Self> {
        let (id, access) = std::thread::scope(|s| {
            let id = s.spawn(|| derived_pair(seed, "/id/"));
            let access = derived_pair(seed, "/access/");
            let id = id
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("key derivation panicked")));
            (id, access)
        });
        let refresh = sha256(&[DERIVATION.as_bytes(), b"/refresh/", &seed.to_be_bytes()]);
        Self::from_record(KeyRecord {
            seed_fingerprint: Some(seed_fingerprint(seed)),
            id_key: pkcs8_of(&id?)?,
            access_key: pkcs8_of(&access?)?,
            refresh_key: STANDARD.encode(refresh),
        })
    }

    pub fn generate() -> anyhow::Result<Self> {
        let gen_pair =
            || KeyPair::generate(KeySize::Rsa2048).map_err(|_| anyhow::anyhow!("keygen failed"));
        let mut refresh = [0u8; 32];
        SystemRandom::new()
            .fill(&mut refresh)
            .map_err(|_| anyhow::anyhow!("no randomness"))?;
        Self::from_record(KeyRecord {
            seed_fingerprint: None,
            id_key: pkcs8_of(&gen_pair()?)?,
            access_key: pkcs8_of(&gen_pair()?)?,
            refresh_key: STANDARD.encode(refresh),
        })
    }

    /// Startup policy: reuse `persisted` unless a seed asks for different keys.
    /// Returns the keys and whether they are new (and so must be persisted).
    pub fn load_or_create(
        persisted: Option<KeyRecord>,
        seed: Option<u64>,
    ) -> anyhow::Result<(Self, bool)> {
        match (persisted, seed) {
            (Some(rec), Some(seed))
                if rec.seed_fingerprint.as_deref() == Some(&seed_fingerprint(seed)) =>
            {
                Ok((Self::from_record(rec)?, false))
            }
            (_, Some(seed)) => Ok((Self::derive(seed)?, true)),
            (Some(rec), None) => Ok((Self::from_record(rec)?, false)),
            (None, None) => Ok((Self::generate()?, true)),
        }
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.id.jwk, self.access.jwk] })
    }

    pub fn by_kid(&self, kid: &str) -> Option<&SigningKey> {
        [&self.id, &self.access].into_iter().find(|k| k.kid == kid)
    }

    /// Seal a refresh-token payload; the output is a compact JWE (`dir`, `A256GCM`), opaque to
    /// clients like AWS's and never mistakable for a signed JWT.
    pub fn seal(&self, payload: &[u8]) -> Option<String> {
        const HEADER: &str = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0";
        let mut nonce = [0u8; 12];
        SystemRandom::new().fill(&mut nonce).ok()?;
        let mut buf = payload.to_vec();
        let tag = self
            .refresh
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(HEADER.as_bytes()),
                &mut buf,
            )
            .ok()?;
        Some(format!(
            "{HEADER}..{}.{}.{}",
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(&buf),
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        ))
    }

    pub fn open(&self, token: &str) -> Option<Vec<u8>> {
        let parts: Vec<&str> = token.split('.').collect();
        let [header, "", nonce, ct, tag] = parts.as_slice() else {
            return None;
        };
        let nonce: [u8; 12] = URL_SAFE_NO_PAD.decode(nonce).ok()?.try_into().ok()?;
        let mut buf = URL_SAFE_NO_PAD.decode(ct).ok()?;
        buf.extend_from_slice(&URL_SAFE_NO_PAD.decode(tag).ok()?);
        let plain = self
            .refresh
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(header.as_bytes()),
                &mut buf,
            )
            .ok()?;
        Some(plain.to_vec())
    }
}

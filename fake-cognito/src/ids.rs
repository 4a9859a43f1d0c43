//! Identifiers Cognito assigns (pool ids, client ids and secrets, user `sub`s, codes, session ids).
//!
//! With a seed (`--random-seed`, i.e. `HIPPODROME_RANDOM_SEED`) they are derived from the seed and from what the caller named
//! (region + pool name, pool + client name, pool + username) with HMAC-SHA256, so seeding a fresh
//! stack with the same seed yields the same ids on every machine — suites can hard-code them.
//! Without a seed they are random, as on AWS. Callers fall back to random on a collision
//! (e.g. two pools with the same name), so derived ids never clash.

use aws_lc_rs::hmac;
use rand::Rng;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// The id source of one running service: keyed by the seed (`--random-seed`), or random.
pub struct Ids {
    key: Option<hmac::Key>,
}

impl Ids {
    pub fn new(seed: Option<u64>) -> Self {
        Ids {
            key: seed.map(|seed| {
                hmac::Key::new(
                    hmac::HMAC_SHA256,
                    format!("hippodrome-cognito-ids:{seed}").as_bytes(),
                )
            }),
        }
    }

    pub fn pool_id(&self, region: &str, pool_name: &str) -> String {
        format!(
            "{region}_{}",
            derive(self.key.as_ref(), "pool", &[region, pool_name], 9, ALNUM)
        )
    }

    pub fn client_id(&self, pool_id: &str, client_name: &str) -> String {
        derive(
            self.key.as_ref(),
            "client",
            &[pool_id, client_name],
            26,
            LOWER_ALNUM,
        )
    }

    pub fn client_secret(&self, pool_id: &str, client_id: &str) -> String {
        derive(
            self.key.as_ref(),
            "secret",
            &[pool_id, client_id],
            51,
            LOWER_ALNUM,
        )
    }

    /// A UUID-v4-shaped `sub`.
    pub fn sub(&self, pool_id: &str, username: &str) -> String {
        let Some(key) = &self.key else {
            return uuid::Uuid::new_v4().to_string();
        };
        let hex = derive(
            Some(key),
            "sub",
            &[pool_id, username],
            32,
            b"0123456789abcdef",
        );
        let mut bytes = [0u8; 16];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap_or(0);
        }
        bytes[6] = 0x40 | (bytes[6] & 0x0f);
        bytes[8] = 0x80 | (bytes[8] & 0x3f);
        uuid::Uuid::from_bytes(bytes).to_string()
    }
}

/// `len` characters of `alphabet`, derived from (`kind`, `parts`) when seeded, random otherwise.
fn derive(
    key: Option<&hmac::Key>,
    kind: &str,
    parts: &[&str],
    len: usize,
    alphabet: &[u8],
) -> String {
    let Some(key) = key else {
        return random_string(len, alphabet);
    };
    let mut out = String::with_capacity(len);
    let mut block = 0u32;
    while out.len() < len {
        let mut ctx = hmac::Context::with_key(key);
        ctx.update(kind.as_bytes());
        for p in parts {
            ctx.update(&[0]);
            ctx.update(p.as_bytes());
        }
        ctx.update(&block.to_be_bytes());
        for b in ctx.sign().as_ref() {
            if out.len() == len {
                break;
            }
            // 256 is not a multiple of the alphabet size; the slight bias is irrelevant for ids.
            out.push(alphabet[*b as usize % alphabet.len()] as char);
        }
        block += 1;
    }
    out
}

// ---- random identifiers (no seed, or a derived id already taken) ----

pub fn random_string(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

pub fn new_pool_id(region: &str) -> String {
    format!("{region}_{}", random_string(9, ALNUM))
}

pub fn new_client_id() -> String {
    random_string(26, LOWER_ALNUM)
}

pub fn new_code() -> String {
    random_string(6, b"0123456789")
}

/// A version-7 style UUID whose first 48 bits are `ms`: session ids carry their start time, which
/// is how a global sign-out revokes every earlier session without remembering each one.
pub fn uuid_at_ms(ms: i64) -> String {
    let mut bytes: [u8; 16] = rand::rng().random();
    let ms = ms.max(0) as u64;
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    uuid::Uuid::from_bytes(bytes).to_string()
}

/// The start time carried by [`uuid_at_ms`], if the string is one.
pub fn uuid_ms(id: &str) -> Option<i64> {
    let u = uuid::Uuid::parse_str(id).ok()?;
    let b = u.as_bytes();
    if b[6] >> 4 != 7 {
        return None;
    }
    let mut ms = [0u8; 8];
    ms[2..].copy_from_slice(&b[..6]);
    Some(u64::from_be_bytes(ms) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_time_round_trips() {
        let id = uuid_at_ms(1_795_322_621_346);
        assert_eq!(uuid_ms(&id), Some(1_795_322_621_346));
        assert_eq!(uuid_ms(&uuid::Uuid::new_v4().to_string()), None);
    }

    #[test]
    fn seeded_ids_repeat_and_random_ids_have_cognito_shapes() {
        let a = Ids::new(Some(7));
        assert_eq!(
            a.pool_id("us-east-1", "p"),
            Ids::new(Some(7)).pool_id("us-east-1", "p")
        );
        assert_ne!(
            a.pool_id("us-east-1", "p"),
            Ids::new(Some(8)).pool_id("us-east-1", "p")
        );
        assert_eq!(a.client_id("pool", "app").len(), 26);
        assert_eq!(a.client_secret("pool", "id").len(), 51);
        let sub = a.sub("pool", "alice");
        assert_eq!(
            uuid::Uuid::parse_str(&sub)
                .ok()
                .map(|u| u.get_version_num()),
            Some(4)
        );
        let p = new_pool_id("us-east-1");
        assert_eq!(p.len(), "us-east-1_".len() + 9);
        assert_eq!(new_client_id().len(), 26);
        assert!(new_client_id().bytes().all(|b| LOWER_ALNUM.contains(&b)));
    }
}

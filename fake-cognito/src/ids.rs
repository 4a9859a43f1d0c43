//! Identifiers Cognito assigns (pool ids, client ids and secrets, user `sub`s).
//!
//! With `HIPPODROME_RANDOM_SEED` set they are derived from the seed and from what the caller named
//! (region + pool name, pool + client name, pool + username) with HMAC-SHA256, so seeding a fresh
//! stack with the same seed yields the same ids on every machine — suites can hard-code them.
//! Without a seed they are random, as on AWS. Callers fall back to random on a collision
//! (e.g. two pools with the same name), so derived ids never clash.

use std::sync::OnceLock;

use aws_lc_rs::hmac;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn seed_key() -> Option<&'static hmac::Key> {
    static KEY: OnceLock<Option<hmac::Key>> = OnceLock::new();
    KEY.get_or_init(|| {
        let seed: u64 = std::env::var("HIPPODROME_RANDOM_SEED")
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Some(hmac::Key::new(
            hmac::HMAC_SHA256,
            format!("hippodrome-cognito-ids:{seed}").as_bytes(),
        ))
    })
    .as_ref()
}

/// `len` characters of `alphabet`, derived from (`kind`, `parts`) when seeded, random otherwise.
fn derive(kind: &str, parts: &[&str], len: usize, alphabet: &[u8]) -> String {
    let Some(key) = seed_key() else {
        return crate::state::random_string(len, alphabet);
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

pub fn pool_id(region: &str, pool_name: &str) -> String {
    format!(
        "{region}_{}",
        derive("pool", &[region, pool_name], 9, ALNUM)
    )
}

pub fn client_id(pool_id: &str, client_name: &str) -> String {
    derive("client", &[pool_id, client_name], 26, LOWER_ALNUM)
}

pub fn client_secret(pool_id: &str, client_id: &str) -> String {
    derive("secret", &[pool_id, client_id], 51, LOWER_ALNUM)
}

/// A UUID-v4-shaped `sub`.
pub fn sub(pool_id: &str, username: &str) -> String {
    if seed_key().is_none() {
        return uuid::Uuid::new_v4().to_string();
    }
    let hex = derive("sub", &[pool_id, username], 32, b"0123456789abcdef");
    let mut bytes = [0u8; 16];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap_or(0);
    }
    bytes[6] = 0x40 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    uuid::Uuid::from_bytes(bytes).to_string()
}

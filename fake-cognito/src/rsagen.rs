//! Deterministic RSA-2048 key generation from a 32-byte seed (ChaCha20 stream → primes).
//!
//! Why our own: the seed must give the same key on every machine and with every future build, so
//! the algorithm is pinned here rather than borrowed from a library whose key generation may change
//! between releases; and it avoids the pure-Rust `rsa` crate (open advisory RUSTSEC-2023-0071).
//! The private key is only ever *used* by aws-lc-rs, which receives the components and validates
//! them. Not constant time — fine for a local test issuer, never for real secrets.
//!
//! Algorithm (v1, do not change without bumping the version in `keys.rs`): for each prime draw 128
//! bytes, set the two top bits and the low bit, then walk odd candidates upwards, skipping those
//! divisible by a small prime (incremental sieve) or with `gcd(p-1, e) != 1`, until 8 Miller-Rabin
//! rounds pass (base 2, then bases drawn from the same stream).

use num_bigint::BigUint;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

pub struct RsaComponents {
    pub n: Vec<u8>,
    pub e: Vec<u8>,
    pub d: Vec<u8>,
    pub p: Vec<u8>,
    pub q: Vec<u8>,
    pub dp: Vec<u8>,
    pub dq: Vec<u8>,
    pub qinv: Vec<u8>,
}

const E: u32 = 65_537;

fn small_primes() -> Vec<u32> {
    let limit = 20_000usize;
    let mut sieve = vec![true; limit];
    let mut out = Vec::new();
    for i in 2..limit {
        if sieve[i] {
            out.push(i as u32);
            let mut j = i * i;
            while j < limit {
                sieve[j] = false;
                j += i;
            }
        }
    }
    out
}

fn random_below(rng: &mut ChaCha20Rng, bound: &BigUint) -> BigUint {
    let bytes = bound.to_bytes_be().len();
    let mut buf = vec![0u8; bytes + 8];
    rng.fill_bytes(&mut buf);
    BigUint::from_bytes_be(&buf) % bound
}

fn miller_rabin(n: &BigUint, rounds: usize, rng: &mut ChaCha20Rng) -> bool {
    let one = BigUint::from(1u32);
    let two = BigUint::from(2u32);
    let n_minus_1 = n - &one;
    let s = n_minus_1.trailing_zeros().unwrap_or(0);
    let d = &n_minus_1 >> s;
    let range = n - BigUint::from(3u32);
    'outer: for i in 0..rounds {
        let a = if i == 0 {
            two.clone()
        } else {
            random_below(rng, &range) + &two
        };
        let mut x = a.modpow(&d, n);
        if x == one || x == n_minus_1 {
            continue;
        }
        for _ in 1..s {
            x = x.modpow(&two, n);
            if x == n_minus_1 {
                continue 'outer;
            }
            if x == one {
                return false;
            }
        }
        return false;
    }
    true
}

fn gen_prime(rng: &mut ChaCha20Rng, primes: &[u32]) -> BigUint {
    loop {
        let mut buf = [0u8; 128];
        rng.fill_bytes(&mut buf);
        buf[0] |= 0xc0;
        buf[127] |= 1;
        let base = BigUint::from_bytes_be(&buf);
        let rems: Vec<u32> = primes
            .iter()
            .map(|&p| u32::try_from(&base % p).unwrap_or(0))
            .collect();
        let mut delta: u32 = 0;
        while delta < 1 << 20 {
            let composite = primes
                .iter()
                .zip(&rems)
                .any(|(&p, &r)| (r as u64 + delta as u64).is_multiple_of(p as u64));
            if !composite {
                let cand = &base + delta;
                // gcd(p - 1, e) == 1  <=>  p mod e != 1 (e is prime)
                let ok_e = u32::try_from(&cand % E).unwrap_or(1) != 1;
                if ok_e && miller_rabin(&cand, 8, rng) {
                    return cand;
                }
            }
            delta += 2;
        }
    }
}

/// Derive an RSA-2048 key from `seed`. Same seed, same key, on every machine.
pub fn generate(seed: [u8; 32]) -> RsaComponents {
    let mut rng = ChaCha20Rng::from_seed(seed);
    let primes = small_primes();
    let one = BigUint::from(1u32);
    loop {
        let p = gen_prime(&mut rng, &primes);
        let q = gen_prime(&mut rng, &primes);
        if p == q {
            continue;
        }
        let (p, q) = if p > q { (p, q) } else { (q, p) };
        let n = &p * &q;
        if n.bits() != 2048 {
            continue;
        }
        let e = BigUint::from(E);
        let phi = (&p - &one) * (&q - &one);
        let Some(d) = e.modinv(&phi) else { continue };
        let Some(qinv) = q.modinv(&p) else { continue };
        let dp = &d % (&p - &one);
        let dq = &d % (&q - &one);
        return RsaComponents {
            n: n.to_bytes_be(),
            e: e.to_bytes_be(),
            d: d.to_bytes_be(),
            p: p.to_bytes_be(),
            q: q.to_bytes_be(),
            dp: dp.to_bytes_be(),
            dq: dq.to_bytes_be(),
            qinv: qinv.to_bytes_be(),
        };
    }
}

//! Where a rule's random numbers come from. The service's seed is `HIPPODROME_RANDOM_SEED` (read
//! through [`crate::cli::RandomSeed`], the one parser of it), or a random one that `GET
//! /_fake/faults` reports so a run can be replayed. Each rule's RNG (ChaCha8, whose output
//! `rand_chacha` keeps stable across releases) starts from that seed mixed with what the rule
//! matches, so the same seed + the same rules + the same calls fail the same calls, whichever
//! order the rules were added in, and two rules never share a sequence by accident.

use super::RuleSpec;
use crate::cli::RandomSeed;

/// Where the service's seed came from, as `GET /_fake/faults` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedSource {
    Env,
    Random,
}

/// The service's seed: `HIPPODROME_RANDOM_SEED` when set and valid, else a random one.
pub fn service_seed() -> (u64, SeedSource) {
    match RandomSeed::from_env() {
        Ok(RandomSeed(Some(n))) => (n, SeedSource::Env),
        Ok(RandomSeed(None)) => (random_seed(), SeedSource::Random),
        Err(e) => {
            tracing::warn!(error = %e, "fault rules use a random seed");
            (random_seed(), SeedSource::Random)
        }
    }
}

fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    splitmix64(nanos ^ u64::from(std::process::id()).rotate_left(32))
}

/// A rule's RNG seed: the seed mixed with the rule's matcher and frequency.
pub fn rule_seed(seed: u64, spec: &RuleSpec) -> u64 {
    let key = format!(
        "{}|{}|{}|{:?}",
        spec.service.as_deref().unwrap_or("*").to_lowercase(),
        spec.operation.as_deref().unwrap_or("*").to_lowercase(),
        spec.resource.as_deref().unwrap_or("*").to_lowercase(),
        spec.probability,
    );
    splitmix64(seed ^ fnv1a(key.as_bytes()))
}

/// FNV-1a, 64 bit: a fixed, documented hash (std's hashers may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64's finaliser: spreads nearby seeds (1, 2, 3…) over the whole range.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_seeds_are_pinned_and_depend_on_seed_and_matcher() {
        let spec = RuleSpec {
            service: Some("DynamoDB".into()),
            probability: Some(0.5),
            ..Default::default()
        };
        // Pinned: a change here changes every recorded replay.
        assert_eq!(rule_seed(42, &spec), rule_seed(42, &spec));
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
        let lower = RuleSpec {
            service: Some("dynamodb".into()),
            ..spec.clone()
        };
        assert_eq!(rule_seed(42, &spec), rule_seed(42, &lower));
        assert_ne!(rule_seed(42, &spec), rule_seed(43, &spec));
        let other = RuleSpec {
            operation: Some("PutItem".into()),
            ..spec.clone()
        };
        assert_ne!(rule_seed(42, &spec), rule_seed(42, &other));
    }
}

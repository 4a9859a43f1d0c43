//! A fault rule: what it matches (service, operation, resource), what it does (an error in the
//! service's own shape, latency, a dropped connection, a hang), how often (the next N calls,
//! every Nth call, a seeded probability, or every call) and when it ends (a time or a hit count).
//! [`RuleSpec`] is what a client posts; [`Rule`] is the spec plus its counters and RNG.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::rng;

/// Most a hang (`timeout`) holds a request before dropping it, unless the rule says otherwise.
pub const DEFAULT_HANG_MS: u64 = 60_000;
/// Longest latency, hang or lifetime a rule may ask for (one hour): a typo must not wedge a stack.
pub const MAX_DURATION_MS: u64 = 3_600_000;

/// The body of `POST /_fake/faults`. Every field but the action is optional; an absent matcher
/// field matches every call, an absent frequency means every matching call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// The service the call is for (`dynamodb`, `sqs`, `lambda`, `fake-cognito`, `fake-cell`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The operation (`PutItem`, `InitiateAuth`, `search`…); `*` matches any run of characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The resource (table, queue, topic, bucket, function, Marqo index…); `*` as above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Answer with this error code in the service's own error shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The HTTP status of that error (default: the service's status for the code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The error's message (default: one naming the rule, so nobody mistakes it for a real one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Delay the call (then answer normally, or apply the error/drop/timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Close the connection without an answer.
    #[serde(default, skip_serializing_if = "is_false")]
    pub drop: bool,
    /// Never answer: hold the request (for `timeout_ms`, default 60 s) and then drop it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub timeout: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Fire on the next N matching calls only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
    /// Fire on every Nth matching call (the Nth, 2Nth…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// Fire on each matching call with this probability, drawn from the seeded RNG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// The rule ends this long after it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_ms: Option<u64>,
    /// The rule ends after firing this many times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_hits: Option<u64>,
    /// Seed of this rule's RNG instead of the service's (`HIPPODROME_RANDOM_SEED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Keep the rule across a restart of the service.
    #[serde(default, skip_serializing_if = "is_false")]
    pub persist: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl RuleSpec {
    /// Check the spec as a whole; the message names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        let kinds = [self.error.is_some(), self.drop, self.timeout]
            .iter()
            .filter(|b| **b)
            .count();
        if kinds > 1 {
            return Err("choose one of error, drop and timeout".into());
        }
        if kinds == 0 && self.latency_ms.is_none() {
            return Err("a rule needs an action: error, latency_ms, drop or timeout".into());
        }
        if self.status.is_some() && self.error.is_none() {
            return Err("status needs error (the code to answer with)".into());
        }
        if let Some(code) = &self.error
            && (code.is_empty()
                || code.len() > 128
                || !code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-:#".contains(c)))
        {
            return Err(format!(
                "error must be a code such as ThrottlingException (letters, digits, . _ - : #), got {code:?}"
            ));
        }
        if let Some(s) = self.status
            && !(400..=599).contains(&s)
        {
            return Err(format!("status must be 400-599, got {s}"));
        }
        if self.timeout_ms.is_some() && !self.timeout {
            return Err("timeout_ms needs timeout".into());
        }
        let freq = [
            self.next.is_some(),
            self.every.is_some(),
            self.probability.is_some(),
        ];
        if freq.iter().filter(|b| **b).count() > 1 {
            return Err("choose one of next, every and probability".into());
        }
        if self.next == Some(0) || self.every == Some(0) || self.max_hits == Some(0) {
            return Err("next, every and max_hits must be at least 1".into());
        }
        if let Some(p) = self.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(format!("probability must be between 0 and 1, got {p}"));
        }
        for (name, v) in [
            ("latency_ms", self.latency_ms),
            ("timeout_ms", self.timeout_ms),
            ("expires_in_ms", self.expires_in_ms),
        ] {
            if v.is_some_and(|v| v > MAX_DURATION_MS) {
                return Err(format!(
                    "{name} must be at most {MAX_DURATION_MS} (one hour)"
                ));
            }
        }
        for (name, v) in [
            ("service", &self.service),
            ("operation", &self.operation),
            ("resource", &self.resource),
        ] {
            if v.as_ref().is_some_and(|v| v.is_empty() || v.len() > 256) {
                return Err(format!("{name} must be 1-256 characters"));
            }
        }
        Ok(())
    }

    /// Does this rule's matcher accept the call? Absent fields match anything; names compare
    /// case-insensitively with `*` as a wildcard.
    pub fn matches(&self, service_names: &[&str], call: &super::Call) -> bool {
        let service_ok = self.service.as_deref().is_none_or(|pattern| {
            service_names.iter().any(|n| glob(pattern, n)) || glob(pattern, &call.service)
        });
        service_ok
            && self
                .operation
                .as_deref()
                .is_none_or(|p| glob(p, &call.operation))
            && self
                .resource
                .as_deref()
                .is_none_or(|p| call.resource.as_deref().is_some_and(|r| glob(p, r)))
    }
}

/// Case-insensitive match of `text` against `pattern`, where `*` stands for any run of characters.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // Classic greedy wildcard match with one backtrack point: linear for one `*`, never exponential.
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Why a rule no longer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    /// Its `expires_in_ms` passed.
    Expired,
    /// It fired `next` or `max_hits` times.
    Exhausted,
}

/// A rule as the registry keeps it: the spec, its id, counters and the state of its RNG.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    #[serde(flatten)]
    pub spec: RuleSpec,
    /// Matching calls seen (fired or not).
    pub matched: u64,
    /// Calls the rule fired on.
    pub hits: u64,
    pub created_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
    /// The seed this rule's RNG started from (replay a run by setting it again).
    pub rng_seed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<Ended>,
    /// Draws taken from the RNG so far; a persisted rule resumes its sequence after a restart.
    #[serde(default)]
    draws: u64,
    #[serde(skip)]
    rng: Option<ChaCha8Rng>,
}

impl Rule {
    pub fn new(id: String, spec: RuleSpec, service_seed: u64, now_ms: u64) -> Self {
        let rng_seed = rng::rule_seed(spec.seed.unwrap_or(service_seed), &spec);
        let expires_at_ms = spec.expires_in_ms.map(|d| now_ms.saturating_add(d));
        Rule {
            id,
            spec,
            matched: 0,
            hits: 0,
            created_at_ms: now_ms,
            expires_at_ms,
            rng_seed,
            ended: None,
            draws: 0,
            rng: None,
        }
    }

    pub fn is_active(&self, now_ms: u64) -> bool {
        self.ended.is_none() && self.expires_at_ms.is_none_or(|t| now_ms < t)
    }

    /// Mark the rule ended when its time has passed; true if it is still active.
    pub fn refresh(&mut self, now_ms: u64) -> bool {
        if self.ended.is_none() && self.expires_at_ms.is_some_and(|t| now_ms >= t) {
            self.ended = Some(Ended::Expired);
        }
        self.ended.is_none()
    }

    /// Count one matching call and decide whether the rule fires on it.
    pub fn decide(&mut self) -> bool {
        self.matched += 1;
        let spec = &self.spec;
        let fire = if let Some(n) = spec.next {
            self.hits < n
        } else if let Some(n) = spec.every {
            self.matched.is_multiple_of(n)
        } else if let Some(p) = spec.probability {
            let seed = self.rng_seed;
            let draws = self.draws;
            let rng = self.rng.get_or_insert_with(|| {
                let mut r = ChaCha8Rng::seed_from_u64(seed);
                // A restored rule continues where its sequence stopped.
                for _ in 0..draws {
                    let _: f64 = r.random();
                }
                r
            });
            self.draws += 1;
            rng.random::<f64>() < p
        } else {
            true
        };
        if fire {
            self.hits += 1;
            let limit = match (self.spec.next, self.spec.max_hits) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if limit.is_some_and(|l| self.hits >= l) {
                self.ended = Some(Ended::Exhausted);
            }
        }
        fire
    }
}

#[cfg(test)]
#[path = "rule_tests.rs"]
mod tests;

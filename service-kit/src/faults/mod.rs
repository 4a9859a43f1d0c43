//! Deterministic fault injection, shared by every built-in service.
//!
//! A service keeps one [`Faults`] registry of rules ([`rule`]), wraps its router with
//! [`layer::apply`] and describes its own calls with a [`Classifier`]: which service, operation and
//! resource a request is, and how that service writes an error. The layer answers the rules API
//! (`/_fake/faults`, [`api`]), lets `/healthz` and that API through untouched, and for every other
//! request, only while a rule is active, classifies the call and applies the first rule that fires:
//! latency, an error in the service's own shape, a dropped connection or a hang. Each injection is
//! logged once at INFO with the rule id, and `/healthz` carries `faults: N` (active rules).
//! Rules marked `persist` are kept in a JSON file beside the service's state ([`persist`]).
//!
//! Which service owns a rule is decided here once ([`owner_of`]), for the services and for the
//! dashboard that fans `/api/faults` out to them.

pub mod api;
pub mod aws;
pub mod layer;
mod persist;
pub mod rng;
pub mod rule;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::request::Parts;
use axum::response::Response;
use parking_lot::Mutex;
use serde_json::{Value, json};

pub use rule::{Ended, Rule, RuleSpec};

/// Most rules one service keeps (active and ended); ended ones make room first.
pub const MAX_RULES: usize = 200;

/// The built-in services that take rules, each with the names a rule may use for it. Any other
/// service name is an AWS service, whose calls all pass through the AWS gateway.
const OWNERS: &[(&str, &[&str])] = &[
    ("fake-cell", &["fake-cell", "fake_cell", "cell", "marqo"]),
    (
        "fake-cognito",
        &["fake-cognito", "fake_cognito", "cognito", "cognito-idp"],
    ),
    (
        "webhook-router",
        &["webhook-router", "webhook_router", "router", "webhook"],
    ),
];

/// AWS services known by more than one name (the SigV4 signing name comes first).
const AWS_ALIASES: &[&[&str]] = &[
    &["states", "stepfunctions", "sfn"],
    &["events", "eventbridge"],
    &["monitoring", "cloudwatch"],
    &["email", "ses"],
    &["execute-api", "apigateway"],
];

/// The built-in service (its crate name) that holds rules for `service`.
pub fn owner_of(service: &str) -> &'static str {
    let s = service.to_ascii_lowercase();
    OWNERS
        .iter()
        .find(|(_, names)| names.contains(&s.as_str()))
        .map_or("aws-gateway", |(owner, _)| owner)
}

/// Every name a call's service answers to in a rule.
pub fn names_of(service: &str) -> Vec<&str> {
    let s = service.to_ascii_lowercase();
    OWNERS
        .iter()
        .map(|(_, names)| *names)
        .chain(AWS_ALIASES.iter().copied())
        .find(|names| names.contains(&s.as_str()))
        .map(|names| names.to_vec())
        .unwrap_or_default()
}

/// One call as the service classified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub service: String,
    pub operation: String,
    pub resource: Option<String>,
}

/// An error to answer with, in the service's own shape.
#[derive(Debug, Clone)]
pub struct InjectedError {
    pub code: String,
    /// The rule's status; `None` means the service's usual status for the code.
    pub status: Option<u16>,
    pub message: String,
}

/// What happens to a call after the rule's latency.
#[derive(Debug, Clone)]
pub enum FaultAction {
    /// Latency only: the call then goes on normally.
    Proceed,
    Error(InjectedError),
    Drop,
    /// Hold the request this long, then drop it.
    Hang(Duration),
}

/// A rule firing on a call.
#[derive(Debug, Clone)]
pub struct Fault {
    pub rule_id: String,
    pub latency: Option<Duration>,
    pub action: FaultAction,
}

/// How a service sees its own calls. Only consulted while a rule is active.
pub trait Classifier: Send + Sync + 'static {
    /// Whether [`Classifier::classify`] needs the request body (a form `Action=`, a JSON
    /// `TableName`). The layer then buffers bodies with a `Content-Length` up to 8 MiB.
    fn needs_body(&self, _parts: &Parts) -> bool {
        false
    }
    fn classify(&self, parts: &Parts, body: &[u8]) -> Call;
    /// The service's own error answer (status, headers, body) for an injected error.
    fn error_response(&self, parts: &Parts, call: &Call, error: &InjectedError) -> Response;
}

/// One service's rules. Cheap to clone.
#[derive(Clone)]
pub struct Faults {
    inner: Arc<Inner>,
}

struct Inner {
    service: &'static str,
    seed: u64,
    seed_source: rng::SeedSource,
    registry: Mutex<Registry>,
    /// Rules not yet known to have ended: a zero here skips classification entirely.
    live: AtomicUsize,
    store: Option<persist::Store>,
}

#[derive(Default)]
struct Registry {
    rules: Vec<Rule>,
    next_id: u64,
}

/// Unix time in milliseconds (rules' creation and expiry survive a restart in wall time).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Faults {
    /// Rules for `service` (its crate name), kept in memory only.
    pub fn new(service: &'static str) -> Self {
        Self::build(service, None, Vec::new())
    }

    /// Rules for `service`; those marked `persist` are kept in `file` and restored from it.
    pub fn with_file(service: &'static str, file: PathBuf) -> Self {
        let restored = persist::load(&file);
        if !restored.is_empty() {
            tracing::info!(rules = restored.len(), file = %file.display(), "fault rules restored");
        }
        Self::build(service, Some(persist::Store::new(file)), restored)
    }

    fn build(service: &'static str, store: Option<persist::Store>, rules: Vec<Rule>) -> Self {
        let (seed, seed_source) = rng::service_seed();
        let next_id = rules.iter().filter_map(|r| r.id[1..].parse().ok()).max();
        let live = rules.iter().filter(|r| r.ended.is_none()).count();
        Faults {
            inner: Arc::new(Inner {
                service,
                seed,
                seed_source,
                registry: Mutex::new(Registry {
                    rules,
                    next_id: next_id.unwrap_or(0),
                }),
                live: AtomicUsize::new(live),
                store,
            }),
        }
    }

    pub fn service(&self) -> &'static str {
        self.inner.service
    }

    /// Active rules now (those past their time are marked ended on the way).
    pub fn active_count(&self) -> usize {
        let now = now_ms();
        let mut reg = self.inner.registry.lock();
        let n = reg
            .rules
            .iter_mut()
            .map(|r| r.refresh(now))
            .filter(|a| *a)
            .count();
        self.inner.live.store(n, Ordering::Relaxed);
        n
    }

    /// Add a rule; the message says why one is refused.
    pub fn add(&self, spec: RuleSpec) -> Result<Rule, String> {
        spec.validate()?;
        if spec.persist && self.inner.store.is_none() {
            return Err(format!(
                "{} keeps no rules file, so a rule cannot persist (start it with --faults-file)",
                self.inner.service
            ));
        }
        if let Some(s) = &spec.service
            && !s.contains('*')
            && owner_of(s) != self.inner.service
        {
            return Err(format!(
                "rules for {s} belong to {}, not {} (the dashboard's /api/faults routes them)",
                owner_of(s),
                self.inner.service
            ));
        }
        let now = now_ms();
        let (rule, save) = {
            let mut reg = self.inner.registry.lock();
            if reg.rules.len() >= MAX_RULES {
                for r in reg.rules.iter_mut() {
                    r.refresh(now);
                }
                match reg.rules.iter().position(|r| r.ended.is_some()) {
                    Some(i) => {
                        reg.rules.remove(i);
                    }
                    None => return Err(format!("at most {MAX_RULES} rules; clear some first")),
                }
            }
            reg.next_id += 1;
            let rule = Rule::new(format!("f{}", reg.next_id), spec, self.inner.seed, now);
            reg.rules.push(rule.clone());
            self.inner.live.fetch_add(1, Ordering::Relaxed);
            let save = rule.spec.persist.then(|| persisted(&reg));
            (rule, save)
        };
        self.save(save);
        tracing::info!(rule = %rule.id, spec = %serde_json::to_string(&rule.spec).unwrap_or_default(), "fault rule added");
        Ok(rule)
    }

    /// Remove one rule; false if there is none with that id.
    pub fn remove(&self, id: &str) -> bool {
        let (found, save) = {
            let mut reg = self.inner.registry.lock();
            let before = reg.rules.len();
            let was_persisted = reg.rules.iter().any(|r| r.id == id && r.spec.persist);
            reg.rules.retain(|r| r.id != id);
            let found = reg.rules.len() != before;
            (found, was_persisted.then(|| persisted(&reg)))
        };
        if found {
            self.active_count();
            self.save(save);
            tracing::info!(rule = %id, "fault rule removed");
        }
        found
    }

    /// Remove every rule; returns how many there were.
    pub fn clear(&self) -> usize {
        let (n, save) = {
            let mut reg = self.inner.registry.lock();
            let any_persisted = reg.rules.iter().any(|r| r.spec.persist);
            let n = reg.rules.len();
            reg.rules.clear();
            (n, any_persisted.then(|| persisted(&reg)))
        };
        self.inner.live.store(0, Ordering::Relaxed);
        self.save(save);
        if n > 0 {
            tracing::info!(rules = n, "fault rules cleared");
        }
        n
    }

    /// One rule by id.
    pub fn get(&self, id: &str) -> Option<Rule> {
        let now = now_ms();
        let mut reg = self.inner.registry.lock();
        reg.rules.iter_mut().find(|r| r.id == id).map(|r| {
            r.refresh(now);
            r.clone()
        })
    }

    /// `GET /_fake/faults`: the seed and every rule with its counters.
    pub fn list(&self) -> Value {
        let now = now_ms();
        let rules: Vec<Rule> = {
            let mut reg = self.inner.registry.lock();
            reg.rules.iter_mut().for_each(|r| {
                r.refresh(now);
            });
            reg.rules.clone()
        };
        let active = rules.iter().filter(|r| r.ended.is_none()).count();
        json!({
            "service": self.inner.service,
            "seed": self.inner.seed,
            "seed_source": self.inner.seed_source,
            "active": active,
            "rules": rules,
        })
    }

    /// The first active rule that matches `call` and fires on it, counting the call on every
    /// matching rule before it (the order rules were added in decides).
    pub fn check(&self, call: &Call) -> Option<Fault> {
        if self.inner.live.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let names = names_of(&call.service);
        let now = now_ms();
        let (fault, save) = {
            let mut reg = self.inner.registry.lock();
            let mut fault = None;
            let mut save = None;
            let mut live = 0;
            for r in reg.rules.iter_mut() {
                if !r.refresh(now) {
                    continue;
                }
                if fault.is_none() && r.spec.matches(&names, call) && r.decide() {
                    fault = Some(to_fault(r, self.inner.service));
                    if r.spec.persist {
                        save = Some(());
                    }
                }
                if r.ended.is_none() {
                    live += 1;
                }
            }
            self.inner.live.store(live, Ordering::Relaxed);
            (fault, save.map(|()| persisted(&reg)))
        };
        self.save(save);
        fault
    }

    /// Whether any rule may still fire (a cheap pre-check before classifying a request).
    pub fn maybe_active(&self) -> bool {
        self.inner.live.load(Ordering::Relaxed) > 0
    }

    fn save(&self, snapshot: Option<Vec<Rule>>) {
        if let (Some(store), Some(rules)) = (&self.inner.store, snapshot) {
            store.save(rules);
        }
    }
}

/// The rules to write to the file: those marked `persist`.
fn persisted(reg: &Registry) -> Vec<Rule> {
    reg.rules
        .iter()
        .filter(|r| r.spec.persist)
        .cloned()
        .collect()
}

fn to_fault(rule: &Rule, service: &str) -> Fault {
    let spec = &rule.spec;
    let action = if let Some(code) = &spec.error {
        FaultAction::Error(InjectedError {
            code: code.clone(),
            status: spec.status,
            message: spec.message.clone().unwrap_or_else(|| {
                format!(
                    "{code} injected by Hippodrome fault rule {} on {service}",
                    rule.id
                )
            }),
        })
    } else if spec.drop {
        FaultAction::Drop
    } else if spec.timeout {
        FaultAction::Hang(Duration::from_millis(
            spec.timeout_ms.unwrap_or(rule::DEFAULT_HANG_MS),
        ))
    } else {
        FaultAction::Proceed
    };
    Fault {
        rule_id: rule.id.clone(),
        latency: spec.latency_ms.map(Duration::from_millis),
        action,
    }
}

#[cfg(test)]
mod tests;

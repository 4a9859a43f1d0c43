//! Each function's last N invocations (a bounded ring per function) and counters, behind
//! `GET /_gateway/lambdas` for the dashboard. Short locks only, never across I/O.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use lambda_invoke::InvokeOutcome;
use parking_lot::Mutex;
use serde::Serialize;

/// How an invocation arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
    /// From an SQS event source mapping.
    Sqs,
}

/// One invocation as the dashboard shows it.
#[derive(Debug, Clone, Serialize)]
pub struct InvocationRecord {
    pub request_id: String,
    pub invocation_type: InvocationType,
    /// Milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    pub duration_ms: f64,
    /// `success`, `handler_error`, `timeout`, `crashed`, `unreachable` or `dry_run`.
    pub status: &'static str,
    pub error: Option<String>,
    /// 1 for the first try; `Event` retries count up.
    pub attempt: u32,
}

impl InvocationRecord {
    pub fn new(
        request_id: &str,
        invocation_type: InvocationType,
        started: std::time::SystemTime,
        duration: Duration,
        outcome: &InvokeOutcome,
        attempt: u32,
    ) -> InvocationRecord {
        InvocationRecord {
            request_id: request_id.to_owned(),
            invocation_type,
            started_at_ms: started
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            duration_ms: (duration.as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
            status: outcome.status(),
            error: outcome.error_summary(),
            attempt,
        }
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Counters {
    pub invocations: u64,
    pub errors: u64,
}

#[derive(Default)]
struct PerFunction {
    ring: VecDeque<InvocationRecord>,
    counters: Counters,
}

pub struct Recent {
    keep: usize,
    functions: Mutex<HashMap<String, PerFunction>>,
}

impl Recent {
    pub fn new(keep: usize) -> Recent {
        Recent {
            keep: keep.max(1),
            functions: Mutex::new(HashMap::new()),
        }
    }

    /// Record one invocation of `function` (only declared functions are recorded, so the map
    /// is bounded by the table).
    pub fn record(&self, function: &str, rec: InvocationRecord) {
        let failed = rec.status != "success" && rec.status != "dry_run";
        let mut map = self.functions.lock();
        let f = map.entry(function.to_owned()).or_default();
        if f.ring.len() == self.keep {
            f.ring.pop_front();
        }
        f.ring.push_back(rec);
        f.counters.invocations += 1;
        if failed {
            f.counters.errors += 1;
        }
    }

    /// Newest first.
    pub fn snapshot(&self, function: &str) -> (Counters, Vec<InvocationRecord>) {
        let map = self.functions.lock();
        match map.get(function) {
            Some(f) => (f.counters.clone(), f.ring.iter().rev().cloned().collect()),
            None => (Counters::default(), Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn ring_is_bounded_and_newest_first() {
        let r = Recent::new(2);
        let ok = InvokeOutcome::Success {
            payload: Bytes::new(),
        };
        let bad = InvokeOutcome::Unreachable {
            message: "down".into(),
        };
        let now = std::time::SystemTime::now();
        for (i, o) in [&ok, &bad, &ok].into_iter().enumerate() {
            let rec = InvocationRecord::new(
                &i.to_string(),
                InvocationType::Event,
                now,
                Duration::ZERO,
                o,
                1,
            );
            r.record("f", rec);
        }
        let (c, v) = r.snapshot("f");
        assert_eq!((c.invocations, c.errors), (3, 1));
        assert_eq!(
            v.iter().map(|r| r.request_id.as_str()).collect::<Vec<_>>(),
            ["2", "1"]
        );
        assert_eq!(v[1].error.as_deref(), Some("down"));
    }
}

//! Per-stream cursors: the last delivered sequence number for each (stream ARN, shard). A record
//! is delivered only if its sequence number is past the cursor, so nothing is delivered twice in
//! one run. Keyed by stream ARN because moto restarts its sequence numbers from the same value
//! after a restart (with a new stream ARN): sequence numbers alone would call new records old.

use std::cmp::Ordering;
use std::collections::{HashMap, VecDeque};

/// How many stream ARNs one table remembers (each moto restart or table re-creation adds one).
const MAX_STREAMS: usize = 64;

#[derive(Debug, Default)]
pub struct Cursors {
    /// (stream ARN, shard id) → last delivered sequence number.
    last: HashMap<(String, String), String>,
    /// Stream ARNs in first-seen order, to bound memory.
    order: VecDeque<String>,
}

impl Cursors {
    /// The last delivered sequence number on this shard, if any.
    pub fn last(&self, stream_arn: &str, shard_id: &str) -> Option<&str> {
        self.last
            .get(&(stream_arn.to_owned(), shard_id.to_owned()))
            .map(String::as_str)
    }

    /// True when `seq` is past the cursor (never delivered in this run).
    pub fn is_new(&self, stream_arn: &str, shard_id: &str, seq: &str) -> bool {
        match self.last(stream_arn, shard_id) {
            Some(last) => compare_seq(seq, last) == Ordering::Greater,
            None => true,
        }
    }

    /// Move the cursor to `seq` (never backwards).
    pub fn mark(&mut self, stream_arn: &str, shard_id: &str, seq: &str) {
        if !self.order.iter().any(|a| a == stream_arn) {
            self.order.push_back(stream_arn.to_owned());
            while self.order.len() > MAX_STREAMS {
                if let Some(old) = self.order.pop_front() {
                    self.last.retain(|(arn, _), _| *arn != old);
                }
            }
        }
        let key = (stream_arn.to_owned(), shard_id.to_owned());
        match self.last.get_mut(&key) {
            Some(cur) if compare_seq(seq, cur) == Ordering::Greater => *cur = seq.to_owned(),
            Some(_) => {}
            None => {
                self.last.insert(key, seq.to_owned());
            }
        }
    }
}

/// Sequence numbers are decimal strings of up to 40 digits: compare by length, then text.
pub fn compare_seq(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_order_not_text_order() {
        assert_eq!(compare_seq("9", "10"), Ordering::Less);
        assert_eq!(
            compare_seq("1100000000017454423010", "1100000000017454423009"),
            Ordering::Greater
        );
        assert_eq!(compare_seq("007", "7"), Ordering::Equal);
    }

    #[test]
    fn dedupe_is_per_stream_arn() {
        let mut c = Cursors::default();
        let seq = "1100000000017454423009";
        assert!(c.is_new("arn1", "s", seq));
        c.mark("arn1", "s", seq);
        assert!(!c.is_new("arn1", "s", seq));
        assert!(c.is_new("arn1", "s", "1100000000017454423010"));
        // moto restarted: same sequence number, new stream ARN → a new record.
        assert!(c.is_new("arn2", "s", seq));
        c.mark("arn1", "s", "5");
        assert_eq!(c.last("arn1", "s"), Some(seq), "cursor never moves back");
    }

    #[test]
    fn bounded() {
        let mut c = Cursors::default();
        for i in 0..(MAX_STREAMS + 10) {
            c.mark(&format!("arn{i}"), "s", "1");
        }
        assert_eq!(c.last.len(), MAX_STREAMS);
        assert!(c.last("arn0", "s").is_none());
    }
}

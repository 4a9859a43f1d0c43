//! The bounded ring buffer behind `GET /events`: the last N events with route, outcome, status
//! and latency. One short lock per push; timestamps are formatted only when someone reads.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use parking_lot::Mutex;
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    Webhook,
    Pipe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Delivered,
    Ignored,
    Failed,
}

/// One routed event as `/events` shows it.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub id: String,
    pub detail_type: String,
    pub source: String,
    pub via: Via,
    pub route: Option<String>,
    pub outcome: Outcome,
    pub status: Option<u16>,
    pub latency_ms: f64,
    pub received_at: SystemTime,
    pub error: Option<String>,
    /// For pipe events: the table the record came from.
    pub table: Option<String>,
}

impl EventRecord {
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "detail_type": self.detail_type,
            "source": self.source,
            "via": self.via,
            "route": self.route,
            "outcome": self.outcome,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "received_at": crate::envelope::rfc3339_millis(self.received_at),
        });
        if let Some(map) = v.as_object_mut() {
            if let Some(e) = &self.error {
                map.insert("error".into(), json!(e));
            }
            if let Some(t) = &self.table {
                map.insert("table".into(), json!(t));
            }
        }
        v
    }
}

pub struct RecentEvents {
    capacity: usize,
    buf: Mutex<VecDeque<EventRecord>>,
    total: AtomicU64,
}

impl RecentEvents {
    pub fn new(capacity: usize) -> Self {
        RecentEvents {
            capacity,
            buf: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
            total: AtomicU64::new(0),
        }
    }

    pub fn push(&self, rec: EventRecord) {
        self.total.fetch_add(1, Ordering::Relaxed);
        if self.capacity == 0 {
            return;
        }
        let mut buf = self.buf.lock();
        if buf.len() >= self.capacity {
            buf.pop_front();
        }
        buf.push_back(rec);
    }

    /// Up to `limit` records, newest first.
    pub fn newest(&self, limit: usize) -> Vec<EventRecord> {
        let buf = self.buf.lock();
        buf.iter().rev().take(limit).cloned().collect()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Events recorded since start (including those the buffer has dropped).
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: usize) -> EventRecord {
        EventRecord {
            id: i.to_string(),
            detail_type: "A.B".into(),
            source: "s".into(),
            via: Via::Webhook,
            route: None,
            outcome: Outcome::Ignored,
            status: None,
            latency_ms: 0.0,
            received_at: SystemTime::now(),
            error: None,
            table: None,
        }
    }

    #[test]
    fn bounded_and_newest_first() {
        let r = RecentEvents::new(3);
        for i in 0..5 {
            r.push(rec(i));
        }
        let ids: Vec<_> = r.newest(10).into_iter().map(|e| e.id).collect();
        assert_eq!(ids, ["4", "3", "2"]);
        assert_eq!(r.newest(1)[0].id, "4");
        assert_eq!(r.total(), 5);
    }
}

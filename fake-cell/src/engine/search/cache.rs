//! A per-index query result cache, like Solr's `queryResultCache`: the answer's hits of a search
//! request, already serialised, keyed by the request body and valid for one version of the
//! index's contents (any write empties it). Repeated identical searches against unchanged data
//! (what a test suite or a polling UI sends) skip scoring and writing the hits; only the answer's
//! envelope (`processingTimeMs` changes) is written each time. Bounded by entries and by bytes
//! held, so memory stays small however many indexes exist.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;

/// Most cached requests per index.
const MAX_ENTRIES: usize = 256;
/// Most bytes of hits held per index; a page larger than a quarter of it is not cached.
const MAX_BYTES: usize = 2 * 1024 * 1024;

#[derive(Default)]
pub struct ResultCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    version: u64,
    /// foldhash, not SipHash: a key is a whole request body, hashed on every search.
    pages: foldhash::HashMap<String, Arc<[u8]>>,
    /// Insertion order, for evicting the oldest.
    order: VecDeque<String>,
    bytes: usize,
}

impl ResultCache {
    /// The serialised hits of `key` at `version` (a cheap clone: the lock is held for a lookup).
    pub fn get(&self, version: u64, key: &str) -> Option<Arc<[u8]>> {
        let inner = self.inner.lock();
        if inner.version != version {
            return None;
        }
        inner.pages.get(key).cloned()
    }

    pub fn put(&self, version: u64, key: String, hits: Arc<[u8]>) {
        if hits.len() > MAX_BYTES / 4 {
            return;
        }
        let mut inner = self.inner.lock();
        if inner.version != version {
            if version < inner.version {
                // A slower reader of an older version: its page is already stale.
                return;
            }
            inner.pages.clear();
            inner.order.clear();
            inner.bytes = 0;
            inner.version = version;
        }
        if inner.pages.contains_key(&key) {
            return;
        }
        while inner.pages.len() >= MAX_ENTRIES || inner.bytes + hits.len() > MAX_BYTES {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some(p) = inner.pages.remove(&old) {
                inner.bytes -= p.len();
            }
        }
        inner.bytes += hits.len();
        inner.order.push_back(key.clone());
        inner.pages.insert(key, hits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(n: usize) -> Arc<[u8]> {
        vec![b'x'; n].into()
    }

    #[test]
    fn a_write_invalidates_and_the_oldest_entries_go_first() {
        let c = ResultCache::default();
        c.put(1, "a".into(), hits(3));
        assert_eq!(c.get(1, "a").map(|p| p.len()), Some(3));
        assert!(
            c.get(2, "a").is_none(),
            "another version never sees the page"
        );
        c.put(2, "b".into(), hits(1));
        assert!(c.get(1, "a").is_none());
        c.put(1, "stale".into(), hits(1));
        assert!(
            c.get(2, "stale").is_none(),
            "an older version's page is dropped"
        );
        for i in 0..MAX_ENTRIES {
            c.put(2, format!("k{i}"), hits(1));
        }
        assert!(c.get(2, "b").is_none(), "the oldest entry was evicted");
        assert!(c.get(2, &format!("k{}", MAX_ENTRIES - 1)).is_some());
    }

    #[test]
    fn bytes_held_stay_within_the_bound() {
        let c = ResultCache::default();
        let big = MAX_BYTES / 4;
        for i in 0..5 {
            c.put(1, format!("k{i}"), hits(big));
        }
        assert!(c.get(1, "k0").is_none(), "the oldest page made room");
        assert!((1..5).all(|i| c.get(1, &format!("k{i}")).is_some()));
        c.put(1, "huge".into(), hits(big + 1));
        assert!(
            c.get(1, "huge").is_none(),
            "a page over a quarter is not held"
        );
        assert!(c.get(1, "k1").is_some(), "and evicts nothing");
    }
}

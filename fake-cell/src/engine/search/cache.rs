//! A per-index query result cache, like Solr's `queryResultCache`: the ranked page of a search
//! request, keyed by the request body, valid for one version of the index's contents (any write
//! empties it). Repeated identical searches against unchanged data (what a test suite or a
//! polling UI sends) skip scoring; hits are still read from the stored documents each time.
//! Bounded by entries and by candidates held, so memory stays small however many indexes exist.

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;

use super::topk::Cand;

/// Most cached requests per index.
const MAX_ENTRIES: usize = 256;
/// Most candidates held per index (about 32 bytes each).
const MAX_CANDS: usize = 64 * 1024;

#[derive(Default)]
pub struct ResultCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    version: u64,
    pages: HashMap<String, Vec<Cand>>,
    /// Insertion order, for evicting the oldest.
    order: VecDeque<String>,
    cands: usize,
}

impl ResultCache {
    pub fn get(&self, version: u64, key: &str) -> Option<Vec<Cand>> {
        let inner = self.inner.lock();
        if inner.version != version {
            return None;
        }
        inner.pages.get(key).cloned()
    }

    pub fn put(&self, version: u64, key: String, page: &[Cand]) {
        if page.len() > MAX_CANDS {
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
            inner.cands = 0;
            inner.version = version;
        }
        if inner.pages.contains_key(&key) {
            return;
        }
        while inner.pages.len() >= MAX_ENTRIES || inner.cands + page.len() > MAX_CANDS {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some(p) = inner.pages.remove(&old) {
                inner.cands -= p.len();
            }
        }
        inner.cands += page.len();
        inner.order.push_back(key.clone());
        inner.pages.insert(key, page.to_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: u32) -> Vec<Cand> {
        (0..n)
            .map(|slot| Cand {
                slot,
                score: 1.0,
                chunk: None,
                lexical: None,
                tensor: None,
            })
            .collect()
    }

    #[test]
    fn a_write_invalidates_and_the_oldest_entries_go_first() {
        let c = ResultCache::default();
        c.put(1, "a".into(), &page(3));
        assert_eq!(c.get(1, "a").map(|p| p.len()), Some(3));
        assert!(
            c.get(2, "a").is_none(),
            "another version never sees the page"
        );
        c.put(2, "b".into(), &page(1));
        assert!(c.get(1, "a").is_none());
        c.put(1, "stale".into(), &page(1));
        assert!(
            c.get(2, "stale").is_none(),
            "an older version's page is dropped"
        );
        for i in 0..MAX_ENTRIES {
            c.put(2, format!("k{i}"), &page(1));
        }
        assert!(c.get(2, "b").is_none(), "the oldest entry was evicted");
        assert!(c.get(2, &format!("k{}", MAX_ENTRIES - 1)).is_some());
    }
}

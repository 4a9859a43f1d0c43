//! BM25 impacts: the contribution `(slot, idf·tf·(k1+1)/(tf+k1·(1−b+b·dl/avg)))` of every posting
//! of one (field, term), computed on first use and kept until the index's next write (any write
//! changes N, df or the average length). A read-heavy index then scores a query with one addition
//! per posting. The lock is only held to look up or insert a list, never while computing one.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::engine::store::FieldLex;

const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Most postings the impact cache holds (8 bytes each, so 8 MB per index) before it starts over:
/// a memory bound (one query's lists may overshoot it once).
const MAX_CACHED_POSTINGS: usize = 1_000_000;

/// `(slot, BM25 contribution)` for every document of one field that has one term.
pub type Impacts = Arc<[(u32, f32)]>;

#[derive(Default)]
pub struct ImpactCache {
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    version: u64,
    /// foldhash: a query looks up every (field, term) pair here, and SipHash was most of it.
    lists: foldhash::HashMap<String, foldhash::HashMap<String, Impacts>>,
    postings: usize,
}

impl ImpactCache {
    /// The lists for `wanted` (field, term) pairs at `version`; `compute(i)` builds the i-th on a
    /// miss. The lock is taken once to look up and once to insert, never while computing.
    pub fn get_all(
        &self,
        version: u64,
        wanted: &[(&str, &str)],
        compute: impl Fn(usize) -> Vec<(u32, f32)>,
    ) -> Vec<Impacts> {
        let mut found: Vec<Option<Impacts>> = {
            let inner = self.inner.lock();
            wanted
                .iter()
                .map(|(f, t)| {
                    (inner.version == version)
                        .then(|| inner.lists.get(*f).and_then(|m| m.get(*t)).cloned())
                        .flatten()
                })
                .collect()
        };
        let missing: Vec<(usize, Impacts)> = found
            .iter()
            .enumerate()
            .filter(|(_, l)| l.is_none())
            .map(|(i, _)| (i, compute(i).into()))
            .collect();
        if !missing.is_empty() {
            let mut inner = self.inner.lock();
            let adding: usize = missing.iter().map(|(_, l)| l.len()).sum();
            if inner.version != version || inner.postings + adding > MAX_CACHED_POSTINGS {
                inner.lists.clear();
                inner.postings = 0;
                inner.version = version;
            }
            inner.postings += adding;
            for (i, list) in missing {
                let (f, t) = wanted[i];
                inner
                    .lists
                    .entry(f.to_string())
                    .or_default()
                    .insert(t.to_string(), list.clone());
                found[i] = Some(list);
            }
        }
        found.into_iter().flatten().collect()
    }
}

/// The impacts of one term's postings in one field.
pub fn impacts(fl: &FieldLex, post: &[(u32, u32)]) -> Vec<(u32, f32)> {
    let n = fl.count as f32;
    let avg = (fl.total as f32 / n).max(1.0);
    let df = post.len() as f32;
    let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
    let mut list: Vec<(u32, f32)> = post
        .iter()
        .map(|&(slot, tf)| {
            let tf = tf as f32;
            let dl = fl.doc_len(slot).unwrap_or(0) as f32;
            (
                slot,
                idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * dl / avg)),
            )
        })
        .collect();
    // In slot order: a query adds each list into the per-slot accumulators as one forward
    // sweep the prefetcher follows (posting lists are in write order, and a removal's
    // swap-remove scatters them further), not as random writes. A slot is in a list once, so
    // every slot's sum is unchanged.
    list.sort_unstable_by_key(|e| e.0);
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::settings;
    use crate::engine::store::{self, DocRecord, Store};

    #[test]
    fn impacts_come_in_slot_order_after_removals_scatter_the_postings() {
        let s = settings::derive(&serde_json::json!({"type": "unstructured"}));
        let mut st = Store::default();
        let put = |st: &mut Store, id: String| {
            let fields = serde_json::json!({"t": "red shoe"});
            let rec = DocRecord {
                id,
                fields: fields.as_object().cloned().unwrap_or_default(),
                tensor_fields: Vec::new(),
                mappings: None,
                chunk_prefix: None,
            };
            st.put(store::prepare(rec, &s));
        };
        for i in 0..200 {
            put(&mut st, format!("d{i}"));
        }
        for i in (0..200).step_by(3) {
            st.remove(&format!("d{i}"));
        }
        for i in 0..40 {
            put(&mut st, format!("n{i}"));
        }
        let fl = &st.lex["t"];
        let post = &fl.postings["red"];
        let list = impacts(fl, post);
        assert!(list.windows(2).all(|w| w[0].0 < w[1].0), "slot order");
        let mut slots: Vec<u32> = post.iter().map(|e| e.0).collect();
        slots.sort_unstable();
        assert_eq!(list.iter().map(|e| e.0).collect::<Vec<_>>(), slots);
        assert!(list.iter().all(|e| e.1 > 0.0));
    }
}

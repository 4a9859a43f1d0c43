//! BM25 impacts: the contribution `(slot, idf·tf·(k1+1)/(tf+k1·(1−b+b·dl/avg)))` of every posting
//! of one (field, term), computed on first use and kept until the index's next write (any write
//! changes N, df or the average length). A read-heavy index then scores a query with one addition
//! per posting. The lock is only held to look up or insert a list, never while computing one.
//!
//! A list knows its largest slot, so adding it into a query's per-slot sums checks the bounds
//! once per list instead of once per posting ([`ImpactList::add_to`], the one `unsafe` block of
//! the search: those checks were a third of a common-word query's instructions).

use std::sync::Arc;

use parking_lot::Mutex;

use crate::engine::store::FieldLex;

const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Most postings the impact cache holds (8 bytes each, so 8 MB per index) before it starts over:
/// a memory bound (one query's lists may overshoot it once).
const MAX_CACHED_POSTINGS: usize = 1_000_000;

/// One (field, term)'s impacts, shared between the cache and the queries using them.
pub type Impacts = Arc<ImpactList>;

/// `(slot, BM25 contribution)` for every document of one field that has one term, with the
/// largest slot among them.
pub struct ImpactList {
    postings: Box<[(u32, f32)]>,
    /// The largest slot in `postings` (0 when there are none). Only [`ImpactList::new`] sets
    /// either field, which is what [`ImpactList::add_to`]'s unchecked additions rely on.
    top: u32,
}

impl ImpactList {
    pub fn new(postings: Vec<(u32, f32)>) -> ImpactList {
        let top = postings.iter().map(|p| p.0).max().unwrap_or(0);
        ImpactList {
            postings: postings.into_boxed_slice(),
            top,
        }
    }

    /// `scores[slot] += x` for each posting, in order; a slot past `scores` adds nothing.
    #[allow(unsafe_code)]
    pub fn add_to(&self, scores: &mut [f32]) {
        if (self.top as usize) < scores.len() {
            for &(slot, x) in &self.postings {
                // SAFETY: `slot <= self.top < scores.len()`: `top` is the largest slot of
                // `postings`, and neither changes after `new` computed it.
                unsafe { *scores.get_unchecked_mut(slot as usize) += x };
            }
        } else {
            for &(slot, x) in &self.postings {
                if let Some(s) = scores.get_mut(slot as usize) {
                    *s += x;
                }
            }
        }
    }
}

impl std::ops::Deref for ImpactList {
    type Target = [(u32, f32)];

    fn deref(&self) -> &[(u32, f32)] {
        &self.postings
    }
}

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
            .map(|(i, _)| (i, Arc::new(ImpactList::new(compute(i)))))
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

    #[test]
    fn a_list_adds_each_posting_once_and_nothing_past_the_sums() {
        let list = ImpactList::new(vec![(0, 1.5), (3, 0.25), (9, 2.0)]);
        assert_eq!(list.len(), 3);
        let mut wide = vec![1.0f32; 10];
        list.add_to(&mut wide);
        assert_eq!(wide, [2.5, 1.0, 1.0, 1.25, 1.0, 1.0, 1.0, 1.0, 1.0, 3.0]);
        // Sums shorter than the list's largest slot: the postings inside are added, slot 9 is not.
        let mut short = vec![0.0f32; 4];
        list.add_to(&mut short);
        assert_eq!(short, [1.5, 0.0, 0.0, 0.25]);
        let mut none = vec![0.0f32; 2];
        ImpactList::new(Vec::new()).add_to(&mut none);
        assert_eq!(none, [0.0, 0.0]);
    }
}

//! Candidates and their collection: [`Cand`] (a scored document), a bounded best-`k` heap, so a query matching thousands of
//! documents keeps only the page it can return (O(n log k) and no per-match allocation), and
//! reusable per-thread scratch arrays for the dense score accumulators.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::engine::ann::space::{from_ordered, ordered};

/// A scored candidate document. The score is a double, as Vespa's relevance and Marqo's
/// HybridSearcher hold it: a leg's own score (BM25, closeness) is computed in f32 and widened
/// exactly, while what is computed from it (RRF, score modifiers, sort ranks) is computed as
/// Marqo computes it, so `_score` prints Marqo's digits.
#[derive(Debug, Clone)]
pub struct Cand {
    pub slot: u32,
    pub score: f64,
    /// The best tensor chunk (for `_highlights`), resolved only for the returned page.
    pub chunk: Option<u32>,
    pub lexical: Option<f32>,
    pub tensor: Option<f32>,
}

impl Cand {
    /// A tensor candidate: its best chunk and that chunk's closeness.
    pub fn tensor(slot: u32, chunk: u32, score: f32) -> Cand {
        Cand {
            slot,
            score: f64::from(score),
            chunk: Some(chunk),
            lexical: None,
            tensor: Some(score),
        }
    }
}

/// Best first: higher score, then lower slot (insertion order) on ties.
pub fn better(a: &Cand, b: &Cand) -> Ordering {
    b.score.total_cmp(&a.score).then(a.slot.cmp(&b.slot))
}

/// Keep the best `k` by score (ties by insertion slot), sorted.
pub fn top_k(mut v: Vec<Cand>, k: usize) -> Vec<Cand> {
    if v.len() > k && k > 0 {
        v.select_nth_unstable_by(k - 1, better);
        v.truncate(k);
    } else if k == 0 {
        v.clear();
    }
    v.sort_unstable_by(better);
    v
}

/// Heap entry ordered so that the *worst* kept candidate sits at the top of the max-heap.
struct Worst(Cand);

impl PartialEq for Worst {
    fn eq(&self, o: &Self) -> bool {
        better(&self.0, &o.0) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Worst {
    fn cmp(&self, o: &Self) -> Ordering {
        better(&self.0, &o.0)
    }
}

/// Collects candidates: every one (`limit: None`) or only the best `k`.
pub struct Collector {
    limit: Option<usize>,
    heap: BinaryHeap<Worst>,
    all: Vec<Cand>,
    seen: usize,
}

impl Collector {
    pub fn new(limit: Option<usize>) -> Self {
        Collector {
            limit,
            heap: BinaryHeap::with_capacity(limit.map_or(0, |k| k.min(1024) + 1)),
            all: Vec::new(),
            seen: 0,
        }
    }

    /// The lowest score that can still be kept: the worst kept one once `k` are held (a tie can
    /// still win on slot, so callers compare with `>=`).
    pub fn floor(&self) -> f64 {
        match self.limit {
            Some(k) if self.heap.len() >= k => self.heap.peek().map_or(f64::MIN, |w| w.0.score),
            _ => f64::MIN,
        }
    }

    /// How many candidates were offered (kept or not).
    pub fn seen(&self) -> usize {
        self.seen
    }

    pub fn push(&mut self, c: Cand) {
        self.seen += 1;
        let Some(k) = self.limit else {
            self.all.push(c);
            return;
        };
        if self.heap.len() < k {
            self.heap.push(Worst(c));
        } else if self
            .heap
            .peek()
            .is_some_and(|w| better(&c, &w.0) == Ordering::Less)
            && let Some(mut worst) = self.heap.peek_mut()
        {
            // Only a better candidate pays for the sift-down.
            *worst = Worst(c);
        }
    }

    /// The kept candidates, best first.
    pub fn into_sorted(self) -> Vec<Cand> {
        let mut v = match self.limit {
            None => self.all,
            Some(_) => self.heap.into_iter().map(|w| w.0).collect(),
        };
        v.sort_unstable_by(better);
        v
    }
}

/// The best `k` `(slot, score)` of a leg without modifiers, kept as [`Collector`] keeps them
/// (higher score, then lower slot) but each as one `u64` (the score's bits in total order above
/// the slot's complement): its sift-downs compare integers instead of `Cand`s, which were a
/// tenth of a lexical leg's instructions.
pub struct BestK {
    k: usize,
    heap: BinaryHeap<std::cmp::Reverse<u64>>,
}

impl BestK {
    pub fn new(k: usize) -> Self {
        BestK {
            k,
            heap: BinaryHeap::with_capacity(k.min(1024) + 1),
        }
    }

    fn key(score: f32, slot: u32) -> u64 {
        u64::from(ordered(score)) << 32 | u64::from(u32::MAX - slot)
    }

    fn unkey(key: u64) -> (u32, f32) {
        (u32::MAX - key as u32, from_ordered((key >> 32) as u32))
    }

    pub fn push(&mut self, score: f32, slot: u32) {
        let key = Self::key(score, slot);
        if self.heap.len() < self.k {
            self.heap.push(std::cmp::Reverse(key));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && key > worst.0
        {
            *worst = std::cmp::Reverse(key);
        }
    }

    /// As [`Collector::floor`].
    pub fn floor(&self) -> f64 {
        match self.heap.peek() {
            Some(w) if self.heap.len() >= self.k => f64::from(Self::unkey(w.0).1),
            _ => f64::MIN,
        }
    }

    /// The kept pairs, best first.
    pub fn into_sorted(self) -> Vec<(u32, f32)> {
        let mut keys: Vec<u64> = self.heap.into_iter().map(|r| r.0).collect();
        keys.sort_unstable_by(|a, b| b.cmp(a));
        keys.into_iter().map(Self::unkey).collect()
    }
}

/// Dense accumulators indexed by slot (or chunk id), zeroed lazily: only entries listed in
/// `touched` are ever non-zero, and they are cleared at the start of the next use, so a query
/// costs what it touches rather than the size of the index (and a panicked query leaves nothing
/// behind that the next one would read).
#[derive(Default)]
pub struct Scratch {
    pub scores: Vec<f32>,
    pub flags: Vec<u8>,
    pub best: Vec<(f32, u32)>,
    pub touched: Vec<u32>,
    dense_dirty: usize,
}

impl Scratch {
    /// Mark `scores`/`flags[..n]` as possibly dirty until [`Scratch::dense_done`]: a dense user
    /// clears what it set as it scans, and if it is interrupted the next use clears the prefix.
    pub fn dense_begin(&mut self, n: usize) {
        self.dense_dirty = n;
    }

    pub fn dense_done(&mut self) {
        self.dense_dirty = 0;
    }

    /// Clear what the previous use touched and make room for `cap` entries.
    fn reset(&mut self, cap: usize) {
        let dirty = self.dense_dirty.min(self.scores.len());
        self.scores[..dirty].fill(0.0);
        self.flags[..dirty].fill(0);
        self.dense_dirty = 0;
        for &i in &self.touched {
            let i = i as usize;
            if let Some(s) = self.scores.get_mut(i) {
                *s = 0.0;
            }
            if let Some(f) = self.flags.get_mut(i) {
                *f = 0;
            }
            if let Some(b) = self.best.get_mut(i) {
                *b = (f32::MIN, u32::MAX);
            }
        }
        self.touched.clear();
        if self.scores.len() < cap {
            self.scores.resize(cap, 0.0);
            self.flags.resize(cap, 0);
            self.best.resize(cap, (f32::MIN, u32::MAX));
        }
    }
}

thread_local! {
    static SCRATCH: [RefCell<Scratch>; 2] = Default::default();
}

/// Run `f` with a cleared scratch of at least `cap` entries. `which` picks one of two
/// independent buffers, so a chunk-indexed and a slot-indexed accumulator can be held at once.
pub fn with_scratch<R>(which: usize, cap: usize, f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|s| {
        let cell = &s[which.min(1)];
        match cell.try_borrow_mut() {
            Ok(mut sc) => {
                sc.reset(cap);
                f(&mut sc)
            }
            // Re-entered (never expected): fall back to a fresh buffer rather than panic.
            Err(_) => {
                let mut sc = Scratch::default();
                sc.reset(cap);
                f(&mut sc)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(slot: u32, score: f64) -> Cand {
        Cand {
            slot,
            score,
            chunk: None,
            lexical: None,
            tensor: None,
        }
    }

    #[test]
    fn keeps_the_best_k_with_ties_by_slot() {
        let mut c = Collector::new(Some(3));
        for (slot, score) in [(5, 1.0), (1, 3.0), (2, 2.0), (3, 2.0), (4, 0.5), (0, 2.0)] {
            c.push(cand(slot, score));
        }
        assert_eq!(c.seen(), 6);
        let got: Vec<(u32, f64)> = c.into_sorted().iter().map(|c| (c.slot, c.score)).collect();
        assert_eq!(got, vec![(1, 3.0), (0, 2.0), (2, 2.0)]);
    }

    #[test]
    fn best_k_keeps_what_the_collector_keeps() {
        let offers = [
            (5, 1.0f32),
            (1, 3.0),
            (2, 2.0),
            (3, 2.0),
            (4, 0.5),
            (0, 2.0),
            (9, 0.0),
            (7, 1e-30),
            (8, 3.5),
        ];
        for k in 0..=offers.len() + 1 {
            let (mut best, mut c) = (BestK::new(k), Collector::new(Some(k)));
            for (slot, score) in offers {
                best.push(score, slot);
                c.push(cand(slot, f64::from(score)));
                assert_eq!(best.floor(), c.floor(), "k={k}");
            }
            let want: Vec<(u32, f32)> = c
                .into_sorted()
                .iter()
                .map(|c| (c.slot, c.score as f32))
                .collect();
            assert_eq!(best.into_sorted(), want, "k={k}");
        }
    }

    #[test]
    fn unbounded_keeps_everything_sorted() {
        let mut c = Collector::new(None);
        for (slot, score) in [(2, 1.0), (1, 1.0), (0, 5.0)] {
            c.push(cand(slot, score));
        }
        let got: Vec<u32> = c.into_sorted().iter().map(|c| c.slot).collect();
        assert_eq!(got, vec![0, 1, 2]);
        assert!(Collector::new(Some(0)).into_sorted().is_empty());
    }

    #[test]
    fn scratch_is_clean_on_every_use() {
        with_scratch(0, 4, |s| {
            s.scores[2] = 7.0;
            s.flags[2] = 1;
            s.touched.push(2);
        });
        with_scratch(0, 8, |s| {
            assert!(s.scores.iter().all(|x| *x == 0.0));
            assert!(s.flags.iter().all(|x| *x == 0));
            assert!(s.touched.is_empty());
        });
    }
}

//! A walk's per-thread state: the heap key [`D`] (a node at a distance, one `u64`), the visit
//! marks, the heaps and pool of a layer's beam search, and the fresh neighbours of the node
//! being expanded with their distances; reused by every search on the thread, so a walk
//! allocates nothing but its result.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::space::{from_ordered, ordered};

/// A node at a distance, ordered by distance then node as one `u64` (the heaps' comparisons
/// are the walk's hottest branch): the distance's bits mapped to an unsigned order that is
/// `f32::total_cmp`'s, above the node id shifted up one bit. The bit below is the pool's
/// "expanded" mark: a node is in a walk's pool once, so the mark never decides an order, and
/// keeping it in the key lets a pool insertion move one array instead of two. Node ids are
/// graph positions, far below 2³¹ (a graph that size would need hundreds of GB).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct D(u64);

impl D {
    pub(super) fn new(dist: f32, node: u32) -> D {
        debug_assert!(node < 1 << 31, "node id {node} past 2^31");
        D(u64::from(ordered(dist)) << 32 | u64::from(node) << 1)
    }

    pub(super) fn dist(self) -> f32 {
        from_ordered((self.0 >> 32) as u32)
    }

    pub(super) fn node(self) -> u32 {
        (self.0 as u32) >> 1
    }

    /// Whether the pool has expanded this node.
    pub(super) fn expanded(self) -> bool {
        self.0 & 1 == 1
    }

    pub(super) fn mark_expanded(&mut self) {
        self.0 |= 1;
    }

    /// The key without the mark (as [`D::new`] made it).
    pub(super) fn unmarked(self) -> D {
        D(self.0 & !1)
    }
}

/// Per-thread search state: visit marks by node, the filtered walk's two heaps and the
/// unfiltered walk's pool.
#[derive(Default)]
pub(super) struct Scratch {
    /// A stamp per search instead of clearing; one byte per node, so a walk's random probes
    /// hit a quarter of the cache lines a `u32` stamp would, at the price of clearing the
    /// marks every 255 searches.
    pub(super) mark: Vec<u8>,
    pub(super) stamp: u8,
    pub(super) cand: BinaryHeap<Reverse<D>>,
    pub(super) best: BinaryHeap<D>,
    /// The expanded node's unvisited neighbours, their walk distances, and whether one of
    /// them has no navigation form to walk by.
    pub(super) fresh: Vec<u32>,
    pub(super) dists: Vec<f32>,
    pub(super) whole: bool,
    /// An unfiltered beam: the `ef` nearest nodes seen, nearest first, each marked once
    /// expanded ([`D::expanded`]).
    pub(super) pool: Vec<D>,
}

impl Scratch {
    pub(super) fn begin(&mut self, n: usize) {
        if self.mark.len() < n {
            self.mark.resize(n, 0);
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.mark.iter_mut().for_each(|m| *m = 0);
            self.stamp = 1;
        }
        self.cand.clear();
        self.best.clear();
        self.pool.clear();
    }

    /// True the first time `n` is seen in this search.
    pub(super) fn visit(&mut self, n: u32) -> bool {
        first_visit(&mut self.mark, self.stamp, n)
    }
}

/// [`Scratch::visit`] on the marks and stamp alone, for a loop that also holds other fields of
/// the scratch; false for a node past the marks.
#[inline]
pub(super) fn first_visit(mark: &mut [u8], stamp: u8, n: u32) -> bool {
    match mark.get_mut(n as usize) {
        Some(m) if *m != stamp => {
            *m = stamp;
            true
        }
        _ => false,
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

pub(super) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => f(&mut s),
        Err(_) => f(&mut Scratch::default()),
    })
}

#[cfg(test)]
mod tests {
    use super::D;

    #[test]
    fn heap_keys_order_by_distance_then_node_and_keep_the_distance() {
        let dists = [-2.5f32, -0.0, 0.0, 1e-30, 0.25, 1.0, 3.0e8];
        let mut keys = Vec::new();
        for (i, d) in dists.iter().enumerate() {
            for n in [7u32, 0, (1 << 31) - 1] {
                let k = D::new(*d, n);
                assert_eq!((k.dist().to_bits(), k.node()), (d.to_bits(), n));
                keys.push((k, i, n));
            }
        }
        // The keys sort as `f32::total_cmp` then the node id would.
        let mut by_key = keys.clone();
        by_key.sort_by_key(|k| k.0);
        keys.sort_by(|a, b| dists[a.1].total_cmp(&dists[b.1]).then(a.2.cmp(&b.2)));
        assert!(by_key.iter().zip(&keys).all(|(a, b)| a.0 == b.0));
    }
}

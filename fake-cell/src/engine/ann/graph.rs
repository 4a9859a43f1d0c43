//! A compact HNSW graph (Malkov & Yashunin) over sparse vectors, laid out for fast reads: every
//! vector sits in one contiguous arena of [`Feat`]s, layer-0 links in one flat array with a fixed
//! stride, and a search allocates nothing but its result (visited marks and heaps are reused per
//! thread). There are no per-node locks: the owner ([`super::worker`]) keeps the graph behind one
//! `RwLock`, searches share it, and an insert finds its neighbours under an upgradable read and
//! takes the write lock only to link them.
//!
//! A search walks by a short vector's navigation form ([`Nav`]: its 16 heaviest non-zeros in
//! one cache line) rather than the whole vector, and the caller scores the hits exactly;
//! inserts link by whole vectors, so the graph itself is as good as before.
//!
//! Degrees: a new node links to `m` neighbours on every layer (the HNSW paper's `M`, Vespa's
//! `max_links_on_inserts`); back-links grow a level-0 list to `m + m/4` (at least `m + 2`).
//! Vespa lets level-0 lists grow to `2m`; on hashed text embeddings that cost a walk 30% more
//! distances for recall@10 0.9996 instead of 0.993 (bench corpus, 10k and 100k titles,
//! efSearch 48: BENCHMARKS.md, "2026-12-06 (night)"), and linking `2m` at insert built the
//! graph twice as slowly.

use std::cell::RefCell;
use std::cmp::Reverse;

use super::HitValue;
use super::scratch::{D, Scratch, first_visit, with_scratch};
use super::space::{Feat, Nav, Pair, Query, Space, norm2};

/// Most levels a node gets (a 1-in-16^16 draw; keeps the level arrays small).
const MAX_LEVEL: usize = 15;

thread_local! {
    /// One stored vector scattered into dense form while an insert compares it with many others.
    static DENSE: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

pub struct Graph {
    m: usize,
    /// Most level-0 links a node keeps (`m + m/4`, at least `m + 2`; see the module doc).
    m0: usize,
    ef_construction: usize,
    space: Space,
    /// Node `i`'s vector is `feats[off[i]..off[i + 1]]`; `norm2[i]` its squared norm.
    feats: Vec<Feat>,
    off: Vec<u32>,
    norm2: Vec<f32>,
    /// Node `i`'s navigation form (its heaviest non-zeros, one cache line), which a search
    /// walks by unless it is [`Nav::WHOLE`] (a long text); empty for hamming.
    nav: Vec<Nav>,
    /// The caller's id for each node (its point).
    ext: Vec<u32>,
    /// Layer-0 links: node `i` owns `links0[i * m0..][..len0[i]]`.
    links0: Vec<u32>,
    len0: Vec<u16>,
    /// Links on layers 1.. (`upper[i][l - 1]`); empty for the ~94% of nodes on layer 0 only.
    upper: Vec<Vec<Vec<u32>>>,
    entry: Option<u32>,
    top: usize,
}

/// One layer's beam search: its width, its layer, and whether it walks by navigation forms
/// (searches) or whole vectors (inserts).
#[derive(Clone, Copy)]
struct Beam {
    ef: usize,
    layer: usize,
    nav: bool,
}

/// What an insert found under the read lock, applied under the write lock.
pub struct Plan {
    level: usize,
    /// Chosen neighbours per layer `0..=min(level, top)`.
    links: Vec<Vec<u32>>,
}

impl Graph {
    pub fn new(m: usize, ef_construction: usize, space: Space) -> Graph {
        let m = m.max(2);
        Graph {
            m,
            // At least two links beyond an insert's own, so a small `m` keeps room for
            // back-links (m 2 → 4, as `2m` gave it).
            m0: (m + m / 4).max(m + 2),
            ef_construction: ef_construction.max(1),
            space,
            feats: Vec::new(),
            off: vec![0],
            norm2: Vec::new(),
            nav: Vec::new(),
            ext: Vec::new(),
            links0: Vec::new(),
            len0: Vec::new(),
            upper: Vec::new(),
            entry: None,
            top: 0,
        }
    }

    fn len(&self) -> usize {
        self.ext.len()
    }

    fn vec_of(&self, n: u32) -> &[Feat] {
        let n = n as usize;
        &self.feats[self.off[n] as usize..self.off[n + 1] as usize]
    }

    /// Node `n`'s navigation form, if it has one to walk by.
    fn nav_of(&self, n: u32) -> Option<&Nav> {
        self.nav.get(n as usize).filter(|b| b.walks())
    }

    fn dist(&self, q: &Query, n: u32, nav: bool) -> f32 {
        if nav && let Some(b) = self.nav_of(n) {
            q.nav_distance(b)
        } else {
            q.distance(self.vec_of(n), self.norm2[n as usize])
        }
    }

    /// Distance between two stored nodes (used when pruning link lists).
    fn dist_nodes(&self, a: u32, b: u32) -> f32 {
        self.space.sparse_distance(
            self.vec_of(a),
            self.norm2[a as usize],
            self.vec_of(b),
            self.norm2[b as usize],
        )
    }

    /// `f` with a function giving the distance from node `a` to any node. Node `a` is
    /// scattered into a dense array once, so each distance is one gather instead of a merge
    /// of two sparse lists (the same products summed in the same dimension order: the same
    /// figure as [`Graph::dist_nodes`]). Hamming needs the merge.
    fn distances_from<R>(&self, a: u32, f: impl FnOnce(&dyn Fn(u32) -> f32) -> R) -> R {
        if self.space == Space::Hamming {
            return f(&|b| self.dist_nodes(a, b));
        }
        DENSE.with(|cell| {
            let Ok(mut dense) = cell.try_borrow_mut() else {
                return f(&|b| self.dist_nodes(a, b));
            };
            let va = self.vec_of(a);
            let top = va.last().map_or(0, |x| x.0 as usize + 1);
            if dense.len() < top {
                dense.resize(top, 0.0);
            }
            for (d, w) in va {
                dense[*d as usize] = *w;
            }
            let an2 = self.norm2[a as usize];
            let dist = |b: u32| {
                let mut dot = 0.0f32;
                for (d, w) in self.vec_of(b) {
                    if let Some(x) = dense.get(*d as usize) {
                        dot += x * w;
                    }
                }
                self.space.walk(Pair {
                    dot,
                    qn2: an2,
                    vn2: self.norm2[b as usize],
                    differ: 0.0,
                })
            };
            let r = f(&dist);
            for (d, _) in va {
                dense[*d as usize] = 0.0;
            }
            r
        })
    }

    #[inline]
    fn links(&self, n: u32, layer: usize) -> &[u32] {
        if layer == 0 {
            let i = n as usize;
            &self.links0[i * self.m0..i * self.m0 + self.len0[i] as usize]
        } else {
            self.upper[n as usize]
                .get(layer - 1)
                .map_or(&[][..], Vec::as_slice)
        }
    }

    /// Starts loading node `n`'s level-0 links when it joins a walk's pool, so that they are in
    /// the cache by the time it is expanded rather than waited for then.
    #[inline]
    fn prefetch_links(&self, n: u32, layer: usize) {
        let at = n as usize * self.m0;
        if layer == 0
            && let (Some(first), Some(last)) =
                (self.links0.get(at), self.links0.get(at + self.m0 - 1))
        {
            super::dots::prefetch(first);
            super::dots::prefetch(last);
        }
    }

    /// Greedy descent to the nearest node on `layer`, from `from`.
    fn greedy(&self, q: &Query, mut from: D, layer: usize, nav: bool) -> D {
        loop {
            let mut moved = false;
            for &n in self.links(from.node(), layer) {
                let d = self.dist(q, n, nav);
                if d < from.dist() {
                    from = D::new(d, n);
                    moved = true;
                }
            }
            if !moved {
                return from;
            }
        }
    }

    /// Node `c`'s unvisited neighbours on `layer` into `s.fresh` (and into `s.whole` whether one
    /// has no navigation form, so the walk measures it whole), with one load from each of
    /// their vectors: those loads are independent, so their cache misses overlap instead of each
    /// distance waiting for its own (the walk's main cost on an index larger than the cache).
    fn fresh_neighbours(&self, s: &mut Scratch, c: u32, layer: usize, nav: bool) {
        let Scratch {
            mark,
            stamp,
            fresh,
            whole,
            ..
        } = s;
        let links = self.links(c, layer);
        // Room for every link, written by index and cut to length at the end: a push's
        // capacity check and growth call made the loop spill its registers.
        fresh.clear();
        fresh.resize(links.len(), 0);
        let mut k = 0;
        *whole = false;
        let mut touch = 0u32;
        for &n in links {
            if !first_visit(mark, *stamp, n) {
                continue;
            }
            if let Some(f) = fresh.get_mut(k) {
                *f = n;
            }
            k += 1;
            touch ^= match self.nav_of(n) {
                Some(b) if nav => u32::from(b.dims[0]),
                _ => {
                    *whole = true;
                    let v = self.vec_of(n);
                    v.first().map_or(0, |f| f.0) ^ v.last().map_or(0, |f| f.0)
                }
            };
        }
        fresh.truncate(k);
        std::hint::black_box(touch);
    }

    /// The walk distance of each of `s.fresh` into `s.dists`: by navigation forms in one call
    /// when every fresh node has one (a search's usual case), else node by node.
    fn fresh_dists(&self, s: &mut Scratch, q: &Query, nav: bool) {
        let Scratch {
            fresh,
            dists,
            whole,
            ..
        } = s;
        if nav && !*whole {
            q.nav_distances(&self.nav, fresh, dists);
        } else {
            dists.clear();
            dists.extend(fresh.iter().map(|&n| self.dist(q, n, nav)));
        }
    }

    /// The beam search of one layer when every node is acceptable (inserts, and searches
    /// without a filter or tombstones): up to `ef` nearest nodes, nearest first. One sorted
    /// pool of the `ef` nearest nodes seen, expanding the nearest not yet expanded until none
    /// is left: the walk [`Graph::search_layer`] takes (a node that falls out of the pool is
    /// one its heaps would stop at), without two heaps (10% of a search's walk).
    fn search_pool(&self, s: &mut Scratch, q: &Query, start: D, beam: Beam) -> Vec<D> {
        let Beam { ef, layer, nav } = beam;
        s.begin(self.len());
        s.visit(start.node());
        s.pool.push(start);
        // Every node before `next` has been expanded.
        let mut next = 0;
        loop {
            while s.pool.get(next).is_some_and(|d| d.expanded()) {
                next += 1;
            }
            let Some(c) = s.pool.get_mut(next) else {
                break;
            };
            c.mark_expanded();
            let node = c.node();
            self.fresh_neighbours(s, node, layer, nav);
            self.fresh_dists(s, q, nav);
            for i in 0..s.fresh.len() {
                let d = D::new(s.dists[i], s.fresh[i]);
                // (`d`'s node is in no entry, so the marks never decide these comparisons.)
                if s.pool.len() >= ef && s.pool.last().is_some_and(|w| d >= *w) {
                    continue;
                }
                let at = s.pool.partition_point(|p| *p < d);
                self.prefetch_links(d.node(), layer);
                s.pool.insert(at, d);
                s.pool.truncate(ef);
                next = next.min(at);
            }
        }
        s.pool.iter().map(|d| d.unmarked()).collect()
    }

    /// The beam search of one layer: up to `ef` nearest nodes that `accept` takes (all nodes
    /// are walked through; only accepted ones are kept), nearest first.
    fn search_layer(
        &self,
        s: &mut Scratch,
        q: &Query,
        start: D,
        beam: Beam,
        accept: &dyn Fn(u32) -> bool,
    ) -> Vec<D> {
        let Beam { ef, layer, nav } = beam;
        s.begin(self.len());
        s.visit(start.node());
        s.cand.push(Reverse(start));
        if accept(start.node()) {
            s.best.push(start);
        }
        while let Some(Reverse(c)) = s.cand.pop() {
            if s.best.len() >= ef && s.best.peek().is_some_and(|w| c.dist() > w.dist()) {
                break;
            }
            self.fresh_neighbours(s, c.node(), layer, nav);
            self.fresh_dists(s, q, nav);
            for i in 0..s.fresh.len() {
                let (n, d) = (s.fresh[i], s.dists[i]);
                let full = s.best.len() >= ef;
                if full && s.best.peek().is_some_and(|w| d >= w.dist()) {
                    continue;
                }
                s.cand.push(Reverse(D::new(d, n)));
                if accept(n) {
                    s.best.push(D::new(d, n));
                    if s.best.len() > ef {
                        s.best.pop();
                    }
                }
            }
        }
        let mut out: Vec<D> = s.best.drain().collect();
        out.sort_unstable();
        out
    }

    /// Up to `ef` nearest nodes whose caller id `accept` takes (every node when `None`):
    /// `(caller id, value)`, nearest first.
    pub fn search(
        &self,
        q: &Query,
        ef: usize,
        accept: Option<&dyn Fn(u32) -> bool>,
        value: HitValue,
    ) -> Vec<(u32, f32)> {
        let ext = &self.ext;
        let figure = |d: D| match value {
            HitValue::WalkDistance => d.dist(),
            HitValue::Score => q.score(self.vec_of(d.node())),
        };
        let hits = self.walk(q, ef, accept);
        if let HitValue::Score = value {
            // The hits' vectors are scattered over the arena: start loading every line of
            // them before scoring any, rather than one hit's at a time.
            for d in &hits {
                for line in self.vec_of(d.node()).chunks(8) {
                    super::dots::prefetch(&line[0]);
                }
            }
        }
        hits.into_iter()
            .map(|d| (ext[d.node() as usize], figure(d)))
            .collect()
    }

    /// The walk of [`Graph::search`]: the nearest nodes, nearest first.
    fn walk(&self, q: &Query, ef: usize, accept: Option<&dyn Fn(u32) -> bool>) -> Vec<D> {
        let Some(entry) = self.entry else {
            return Vec::new();
        };
        let mut cur = D::new(self.dist(q, entry, true), entry);
        for layer in (1..=self.top).rev() {
            cur = self.greedy(q, cur, layer, true);
        }
        let ext = &self.ext;
        let beam = Beam {
            ef: ef.max(1),
            layer: 0,
            nav: true,
        };
        match accept {
            None => with_scratch(|s| self.search_pool(s, q, cur, beam)),
            Some(accept) => {
                let accept_node = |n: u32| accept(ext[n as usize]);
                with_scratch(|s| self.search_layer(s, q, cur, beam, &accept_node))
            }
        }
    }

    /// HNSW's neighbour heuristic: nearest first, skipping a candidate that is nearer to an
    /// already chosen neighbour than to the base (keeps links spread across directions); the
    /// skipped ones then fill the free slots, nearest first. Hashed sparse embeddings are
    /// nearly orthogonal to most points, so the heuristic alone leaves nodes with a handful of
    /// links and the walks lose their way.
    fn select(&self, cands: &[D], max: usize) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::with_capacity(max);
        let mut pruned: Vec<u32> = Vec::new();
        for c in cands {
            if out.len() >= max {
                break;
            }
            let spread = out.is_empty()
                || self.distances_from(c.node(), |dist| out.iter().all(|&s| dist(s) > c.dist()));
            if spread {
                out.push(c.node());
            } else {
                pruned.push(c.node());
            }
        }
        let room = max - out.len();
        out.extend(pruned.into_iter().take(room));
        out
    }

    /// Where a new vector goes at `level`: read-only, so it runs under a shared lock.
    pub fn plan(&self, q: &Query, level: usize) -> Plan {
        let Some(entry) = self.entry else {
            return Plan {
                level,
                links: Vec::new(),
            };
        };
        let mut cur = D::new(self.dist(q, entry, false), entry);
        for layer in (level + 1..=self.top).rev() {
            cur = self.greedy(q, cur, layer, false);
        }
        let mut links = vec![Vec::new(); level.min(self.top) + 1];
        for layer in (0..=level.min(self.top)).rev() {
            let beam = Beam {
                ef: self.ef_construction,
                layer,
                nav: false,
            };
            let found = with_scratch(|s| self.search_pool(s, q, cur, beam));
            if let Some(first) = found.first() {
                cur = *first;
            }
            links[layer] = self.select(&found, self.m);
        }
        Plan { level, links }
    }

    /// A node level for an insert: floor(-ln(U) / ln(m)) from the caller's xorshift state.
    pub fn draw_level(rng: &mut u64, m: usize) -> usize {
        *rng ^= *rng >> 12;
        *rng ^= *rng << 25;
        *rng ^= *rng >> 27;
        let r = rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let u = ((r >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        ((-u.ln() / (m.max(2) as f64).ln()) as usize).min(MAX_LEVEL)
    }

    pub fn m(&self) -> usize {
        self.m
    }

    pub fn space(&self) -> Space {
        self.space
    }

    /// Add the node (caller id `ext`, vector `v`) with the planned links, and the links back.
    pub fn apply(&mut self, ext: u32, v: &[Feat], plan: Plan) {
        let n = self.ext.len() as u32;
        self.ext.push(ext);
        self.feats.extend_from_slice(v);
        self.off.push(self.feats.len() as u32);
        self.norm2.push(norm2(v));
        if self.space != Space::Hamming {
            self.nav.push(Nav::of(v).unwrap_or(Nav::WHOLE));
        }
        self.links0.resize(self.links0.len() + self.m0, 0);
        self.len0.push(0);
        self.upper.push(vec![Vec::new(); plan.level]);
        for (layer, ls) in plan.links.iter().enumerate() {
            self.set_links(n, layer, ls.clone());
            for &nb in ls {
                self.link_back(nb, n, layer);
            }
        }
        if self.entry.is_none() || plan.level > self.top {
            self.entry = Some(n);
            self.top = plan.level;
        }
    }

    fn set_links(&mut self, n: u32, layer: usize, ls: Vec<u32>) {
        if layer == 0 {
            let i = n as usize;
            let k = ls.len().min(self.m0);
            self.links0[i * self.m0..i * self.m0 + k].copy_from_slice(&ls[..k]);
            self.len0[i] = k as u16;
        } else if let Some(slot) = self.upper[n as usize].get_mut(layer - 1) {
            *slot = ls;
        }
    }

    /// Link `nb → n`; a full list is re-chosen by the heuristic among its links and `n`
    /// (keeping the nearest alone loses the spread: recall@10 at efSearch 32 fell from 0.999
    /// to 0.84 on the bench corpus).
    fn link_back(&mut self, nb: u32, n: u32, layer: usize) {
        let max = if layer == 0 { self.m0 } else { self.m };
        let cur = self.links(nb, layer);
        if cur.len() < max {
            let mut ls = cur.to_vec();
            ls.push(n);
            self.set_links(nb, layer, ls);
            return;
        }
        let mut cands: Vec<D> = self.distances_from(nb, |dist| {
            cur.iter()
                .chain(std::iter::once(&n))
                .map(|&c| D::new(dist(c), c))
                .collect()
        });
        cands.sort_unstable();
        let ls = self.select(&cands, max);
        self.set_links(nb, layer, ls);
    }
}

#[cfg(test)]
mod tests {
    use super::{Graph, Space};

    #[test]
    fn level_0_keeps_a_quarter_more_links_than_an_insert_makes_and_two_at_least() {
        let m0 = |m| Graph::new(m, 64, Space::PrenormalizedAngular).m0;
        assert_eq!([m0(2), m0(4), m0(8), m0(16), m0(32)], [4, 6, 10, 20, 40]);
    }
}

//! An index's approximate nearest-neighbour structure over tensor chunks: an HNSW graph
//! ([`graph`], our own compact layout) kept consistent with the store. Every distinct chunk
//! vector gets a *point* (numbered in insertion order); chunks with identical vectors share
//! one point (a graph cannot navigate a cluster of identical points, and ties are returned
//! together). The graph is grown by a background thread ([`worker`]), and a search scores the
//! points the graph does not hold yet itself ([`Ann::pending`]), so a document is findable by
//! the very next search after its write. Deleted or replaced chunks leave tombstones: never
//! returned and dropped by a rebuild once they outnumber the live points.
//!
//! Memory is bounded: at most `Params::max_points` live points (beyond that searches answer
//! exactly), tombstones at most as many as live points (plus 1,024) before a rebuild, and the
//! insert queue holds at most one job per point of the current graph (jobs of a replaced graph
//! are dropped unprocessed). Nothing is persisted: after a restart the recovered documents are
//! re-queued and the graph is rebuilt in the background while searches that need it answer
//! exactly. [`space`] holds the distances, scores and the `annParameters`; `dots` the walk's two
//! dot products in AVX2 with a scalar twin.

mod dots;
pub mod graph;
mod scratch;
pub mod space;
pub mod worker;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;

use self::space::{Feat, Params, Query};
use self::worker::{Generation, Job};

/// Marks a point whose chunks are all gone, and a chunk without a point.
const NONE: u32 = u32::MAX;
/// Tombstones tolerated before a rebuild, however few live points there are.
const MIN_DEAD_FOR_REBUILD: usize = 1024;
/// Points not yet in the graph that a search still scores itself; more than this and the
/// search answers exactly (the graph is catching up after a bulk load or a restart).
pub const MAX_PENDING_SCAN: usize = 4096;

/// Identity of a vector's exact bits (two independent 64-bit hashes).
type VecKey = (u64, u64);

fn key_of(v: &[Feat]) -> VecKey {
    let mut a = DefaultHasher::new();
    let mut b: u64 = 0xcbf2_9ce4_8422_2325;
    for (d, w) in v {
        (d, w.to_bits()).hash(&mut a);
        for x in [*d, w.to_bits()] {
            b = (b ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    v.len().hash(&mut a);
    (a.finish(), b)
}

pub struct Ann {
    params: Params,
    gen_: Arc<Generation>,
    /// point → its first chunk id (`NONE` once every chunk of the point is removed).
    chunk_of: Vec<u32>,
    /// point → further chunks with the same vector; `twinned[point]` says whether to look
    /// (a search asks for every point it visits, and most have none).
    twins: HashMap<u32, Vec<u32>>,
    twinned: Vec<bool>,
    /// point → its vector's key; live points by key.
    key_of: Vec<VecKey>,
    by_key: HashMap<VecKey, u32>,
    /// chunk id → point (`NONE` if it has none).
    point_of: Vec<u32>,
    dead: usize,
    /// More live vectors than `params.max_points` were offered: searches answer exactly.
    over_cap: bool,
    /// The insert thread stopped or never started: searches answer exactly.
    broken: bool,
    worker: Option<Sender<Job>>,
}

/// What [`Ann::search`] found: chunk ids, each with the figure its [`HitValue`] asked for.
pub type Hits = Vec<(u32, f32)>;

/// The figure each of a walk's hits carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HitValue {
    /// The walk's own distance (by navigation forms: it only orders the walk).
    WalkDistance,
    /// The exact score ([`Query::score`], what a search ranks by), from the graph's contiguous
    /// copy of the vector: one load per hit where the chunk's record and then its vector cost
    /// two.
    Score,
}

impl Default for Ann {
    fn default() -> Self {
        Ann::new(Params::default())
    }
}

impl Ann {
    pub fn new(params: Params) -> Ann {
        Ann {
            gen_: Generation::new(&params),
            params,
            chunk_of: Vec::new(),
            twins: HashMap::new(),
            twinned: Vec::new(),
            key_of: Vec::new(),
            by_key: HashMap::new(),
            point_of: Vec::new(),
            dead: 0,
            over_cap: false,
            broken: false,
            worker: None,
        }
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Adopt the index's parameters; only before the first vector (settings are immutable).
    pub fn configure(&mut self, params: Params) {
        if params != self.params && self.chunk_of.is_empty() && !self.over_cap {
            self.params = params;
            self.gen_ = Generation::new(&params);
        }
    }

    fn live(&self) -> usize {
        self.chunk_of.len() - self.dead
    }

    fn set_point(&mut self, cid: u32, point: u32) {
        let i = cid as usize;
        if self.point_of.len() <= i {
            self.point_of.resize(i + 1, NONE);
        }
        self.point_of[i] = point;
    }

    /// Queue a new chunk's vector for the graph (or join the point holding the same vector).
    pub fn add(&mut self, cid: u32, vec: &[Feat]) {
        let key = key_of(vec);
        if let Some(&point) = self.by_key.get(&key) {
            self.twins.entry(point).or_default().push(cid);
            self.twinned[point as usize] = true;
            self.set_point(cid, point);
            return;
        }
        if self.live() >= self.params.max_points {
            if !self.over_cap {
                tracing::warn!(
                    max = self.params.max_points,
                    "ANN vector cap reached for an index; its tensor searches run exactly"
                );
            }
            self.over_cap = true;
            return;
        }
        let point = self.chunk_of.len();
        self.chunk_of.push(cid);
        self.twinned.push(false);
        self.key_of.push(key);
        self.by_key.insert(key, point as u32);
        self.set_point(cid, point as u32);
        self.send(point, vec.to_vec());
    }

    fn send(&mut self, point: usize, vec: Vec<Feat>) {
        if self.worker.is_none() && !self.broken {
            self.worker = worker::spawn();
            self.broken = self.worker.is_none();
        }
        let job = Job {
            gen_: self.gen_.clone(),
            point,
            vec,
        };
        if let Some(tx) = &self.worker
            && tx.send(job).is_err()
        {
            tracing::error!("the ANN insert thread stopped; tensor searches run exactly");
            self.worker = None;
            self.broken = true;
        }
    }

    /// Forget a removed chunk: its point lives on while a twin holds it, else is tombstoned.
    pub fn remove(&mut self, cid: u32) {
        let Some(p) = self.point_of.get_mut(cid as usize) else {
            return;
        };
        if *p == NONE {
            return;
        }
        let point = *p;
        *p = NONE;
        let twins = self.twins.get_mut(&point);
        if self.chunk_of.get(point as usize) != Some(&cid) {
            if let Some(t) = twins {
                t.retain(|c| *c != cid);
            }
            return;
        }
        if let Some(next) = twins.and_then(Vec::pop) {
            self.chunk_of[point as usize] = next;
            return;
        }
        self.twins.remove(&point);
        self.chunk_of[point as usize] = NONE;
        self.by_key.remove(&self.key_of[point as usize]);
        self.dead += 1;
        self.gen_.kill(point as usize);
    }

    /// Whether tombstones (or a cap that no longer binds) call for a new graph.
    pub fn needs_rebuild(&self) -> bool {
        let dead = self.dead >= MIN_DEAD_FOR_REBUILD && self.dead > self.live();
        let uncapped = self.over_cap && self.live() < self.params.max_points * 9 / 10;
        dead || uncapped
    }

    /// Start a new graph from the live chunks (`(chunk id, vector)` in any order): new points,
    /// queued for the insert thread; the old graph's queued work is skipped.
    pub fn rebuild<'a>(&mut self, live: impl Iterator<Item = (u32, &'a Vec<Feat>)>) {
        self.gen_.retired.store(true, Ordering::Release);
        self.gen_ = Generation::new(&self.params);
        self.chunk_of.clear();
        self.twins.clear();
        self.twinned.clear();
        self.key_of.clear();
        self.by_key.clear();
        self.point_of.clear();
        self.dead = 0;
        self.over_cap = false;
        for (cid, vec) in live {
            self.add(cid, vec);
        }
    }

    /// Every chunk of `point` (its first chunk, then its twins).
    fn chunks(&self, point: usize) -> impl Iterator<Item = u32> + '_ {
        let first = self.chunk_of.get(point).copied().filter(|c| *c != NONE);
        let twins = first
            .filter(|_| self.twinned[point])
            .and_then(|_| self.twins.get(&(point as u32)))
            .map_or(&[][..], Vec::as_slice);
        first.into_iter().chain(twins.iter().copied())
    }

    /// The chunk ids of points the graph may not hold yet (scored by the caller).
    pub fn pending(&self) -> impl Iterator<Item = u32> + '_ {
        let done = self
            .gen_
            .done
            .load(Ordering::Acquire)
            .min(self.chunk_of.len());
        (done..self.chunk_of.len()).flat_map(|p| self.chunks(p))
    }

    /// The nearest live chunks that `accept` takes (at least the `ef` nearest distinct vectors,
    /// each with all its chunks), walking the graph with `q`, each with the figure `value` asks
    /// for; `None` when the graph cannot answer (over its cap, no insert thread, or too far
    /// behind the writes) and the caller must search exactly.
    ///
    /// `accept: None` takes every live chunk (no filter, every tensor field): a visited point
    /// is then checked by one array read instead of a look at its chunks.
    pub fn search(
        &self,
        q: &Query,
        ef: usize,
        accept: Option<&dyn Fn(u32) -> bool>,
        value: HitValue,
    ) -> Option<Hits> {
        if self.over_cap || self.broken {
            return None;
        }
        let done = self.gen_.done.load(Ordering::Acquire);
        if self.chunk_of.len().saturating_sub(done) > MAX_PENDING_SCAN {
            return None;
        }
        let point_ok = |point: u32| match accept {
            None => self
                .chunk_of
                .get(point as usize)
                .is_some_and(|c| *c != NONE),
            Some(f) => self.chunks(point as usize).any(f),
        };
        // Without a filter or a tombstone every point is acceptable: the graph's unfiltered
        // walk is the cheaper one.
        let every = accept.is_none() && self.dead == 0;
        let accept = |c: u32| accept.is_none_or(|f| f(c));
        let accept_point = (!every).then_some(&point_ok as &dyn Fn(u32) -> bool);
        let found = self.gen_.graph.read().search(q, ef, accept_point, value);
        let mut out = Vec::with_capacity(found.len());
        for (point, d) in found {
            out.extend(
                self.chunks(point as usize)
                    .filter(|c| accept(*c))
                    .map(|c| (c, d)),
            );
        }
        Some(out)
    }

    /// Points in the graph or queued, and how many of them are tombstones.
    pub fn counts(&self) -> (usize, usize) {
        (self.chunk_of.len(), self.dead)
    }
}

#[cfg(test)]
mod tests;

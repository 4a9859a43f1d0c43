//! An index's approximate nearest-neighbour structure over tensor chunks: an HNSW graph
//! (`hnsw_rs`) kept consistent with the store. Every chunk the store holds gets a *point*
//! (numbered in insertion order); the graph is grown by a background thread ([`worker`]), and
//! a search scores the points the graph does not hold yet itself ([`Ann::pending`]), so a
//! document is findable by the very next search after its write. Deleted or replaced chunks
//! are tombstones: never returned (the search filter rejects them) and dropped by a rebuild
//! once they outnumber the live points. Nothing is persisted: after a restart the recovered
//! documents are re-queued and the graph is rebuilt in the background while searches that
//! need it answer exactly. [`space`] holds the distance and the `annParameters`.

pub mod space;
pub mod worker;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;

use self::space::{Feat, Params, feats};
use self::worker::{Generation, Job};
use crate::engine::embed::SparseVec;

/// Marks a point whose chunk is gone, and a chunk without a point.
const NONE: u32 = u32::MAX;
/// Tombstones tolerated before a rebuild, however few live points there are.
const MIN_DEAD_FOR_REBUILD: usize = 1024;
/// Points not yet in the graph that a search still scores itself; more than this and the
/// search answers exactly (the graph is catching up after a bulk load or a restart).
pub const MAX_PENDING_SCAN: usize = 4096;

pub struct Ann {
    params: Params,
    gen_: Arc<Generation>,
    /// point → chunk id (`NONE` once the chunk is removed).
    chunk_of: Vec<u32>,
    /// chunk id → point (`NONE` if it has none).
    point_of: Vec<u32>,
    dead: usize,
    /// More live vectors than `params.max_points` were offered: searches answer exactly.
    over_cap: bool,
    /// The insert thread stopped or never started: searches answer exactly.
    broken: bool,
    worker: Option<Sender<Job>>,
}

/// What [`Ann::search`] found: chunk ids with their graph distance.
pub type Hits = Vec<(u32, f32)>;

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

    /// Queue a new chunk's vector for the graph.
    pub fn add(&mut self, cid: u32, vec: &SparseVec) {
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
        let i = cid as usize;
        if self.point_of.len() <= i {
            self.point_of.resize(i + 1, NONE);
        }
        self.point_of[i] = point as u32;
        self.send(point, feats(vec));
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

    /// Tombstone a removed chunk's point.
    pub fn remove(&mut self, cid: u32) {
        if let Some(p) = self.point_of.get_mut(cid as usize)
            && *p != NONE
        {
            let point = *p as usize;
            *p = NONE;
            if let Some(c) = self.chunk_of.get_mut(point) {
                *c = NONE;
                self.dead += 1;
            }
        }
    }

    /// Whether tombstones (or a cap that no longer binds) call for a new graph.
    pub fn needs_rebuild(&self) -> bool {
        let dead = self.dead >= MIN_DEAD_FOR_REBUILD && self.dead > self.live();
        let uncapped = self.over_cap && self.live() < self.params.max_points * 9 / 10;
        dead || uncapped
    }

    /// Start a new graph from the live chunks (`(chunk id, vector)` in any order): new points,
    /// queued for the insert thread; the old graph's queued work is skipped.
    pub fn rebuild<'a>(&mut self, live: impl Iterator<Item = (u32, &'a SparseVec)>) {
        self.gen_.retired.store(true, Ordering::Release);
        self.gen_ = Generation::new(&self.params);
        self.chunk_of.clear();
        self.point_of.clear();
        self.dead = 0;
        self.over_cap = false;
        for (cid, vec) in live {
            self.add(cid, vec);
        }
    }

    /// The chunk ids of points the graph may not hold yet (scored by the caller).
    pub fn pending(&self) -> impl Iterator<Item = u32> + '_ {
        let done = self
            .gen_
            .done
            .load(Ordering::Acquire)
            .min(self.chunk_of.len());
        self.chunk_of[done..].iter().copied().filter(|c| *c != NONE)
    }

    /// Up to `ef` nearest live chunks that `accept` takes, walking the graph with the dense
    /// query `dq` (see `space::dense_query`); `None` when the graph cannot answer (over its
    /// cap, no insert thread, or too far behind the writes) and the caller must search exactly.
    pub fn search(&self, dq: &[Feat], ef: usize, accept: &dyn Fn(u32) -> bool) -> Option<Hits> {
        if self.over_cap || self.broken {
            return None;
        }
        let done = self.gen_.done.load(Ordering::Acquire);
        if self.chunk_of.len().saturating_sub(done) > MAX_PENDING_SCAN {
            return None;
        }
        let chunk_of = &self.chunk_of;
        let filter = |point: &usize| {
            chunk_of
                .get(*point)
                .is_some_and(|c| *c != NONE && accept(*c))
        };
        let found = self.gen_.graph.search_filter(dq, ef, ef, Some(&filter));
        Some(
            found
                .into_iter()
                .filter_map(|n| {
                    let c = *chunk_of.get(n.d_id)?;
                    (c != NONE).then_some((c, n.distance))
                })
                .collect(),
        )
    }

    /// Points in the graph or queued, and how many of them are tombstones.
    pub fn counts(&self) -> (usize, usize) {
        (self.chunk_of.len(), self.dead)
    }
}

#[cfg(test)]
mod tests;

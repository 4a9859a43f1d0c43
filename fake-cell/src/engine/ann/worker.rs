//! The thread that grows an index's HNSW graph: writes only queue `(point, vector)` under the
//! index lock and return; this thread inserts them in point order and advances the graph's
//! watermark, so a search knows which points it must still score itself (see `Ann::pending`).
//! A point tombstoned before its turn is skipped (a burst of in-place updates costs no graph
//! work), and so is every job of a graph that a rebuild replaced. Neighbours are found under
//! a shared (upgradable) read lock, so searches run meanwhile; only linking takes the write
//! lock. One thread per index, started on its first vector, at background priority; it ends
//! when the index is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

use parking_lot::{Mutex, RwLock, RwLockUpgradableReadGuard};

use super::graph::Graph;
use super::space::{Feat, Params, Query};

/// One graph and how far its insertions have got.
pub struct Generation {
    pub graph: RwLock<Graph>,
    /// Points `< done` are in the graph (or were skipped as dead).
    pub done: AtomicUsize,
    /// Set when a rebuild replaced this graph: its queued insertions are skipped.
    pub retired: AtomicBool,
    /// Points tombstoned before the thread reached them (a bit per point).
    dead: Mutex<Vec<u64>>,
}

impl Generation {
    pub fn new(p: &Params) -> Arc<Generation> {
        Arc::new(Generation {
            graph: RwLock::new(Graph::new(p.m, p.ef_construction, p.space)),
            done: AtomicUsize::new(0),
            retired: AtomicBool::new(false),
            dead: Mutex::new(Vec::new()),
        })
    }

    /// Tell the thread not to insert `point` if it has not yet.
    pub fn kill(&self, point: usize) {
        let mut d = self.dead.lock();
        if d.len() <= point / 64 {
            d.resize(point / 64 + 1, 0);
        }
        d[point / 64] |= 1 << (point % 64);
    }

    fn is_dead(&self, point: usize) -> bool {
        self.dead
            .lock()
            .get(point / 64)
            .is_some_and(|w| w & (1 << (point % 64)) != 0)
    }

    /// Insert one vector (the caller is the only inserter).
    fn insert(&self, point: usize, vec: &[Feat], query: &mut Query, rng: &mut u64) {
        let g = self.graph.upgradable_read();
        query.set(g.space(), vec);
        let level = Graph::draw_level(rng, g.m());
        let plan = g.plan(query, level);
        let mut g = RwLockUpgradableReadGuard::upgrade(g);
        g.apply(point as u32, vec, plan);
    }
}

pub struct Job {
    pub gen_: Arc<Generation>,
    pub point: usize,
    pub vec: Vec<Feat>,
}

/// Start the insert thread; `None` if the OS refuses a thread (searches then stay exact).
pub fn spawn() -> Option<Sender<Job>> {
    let (tx, rx) = channel::<Job>();
    match std::thread::Builder::new()
        .name("fake-cell-ann".into())
        .spawn(move || run(rx))
    {
        Ok(_) => Some(tx),
        Err(e) => {
            tracing::warn!(error = %e, "no ANN insert thread; tensor search stays exact");
            None
        }
    }
}

fn run(rx: Receiver<Job>) {
    // Below the request threads: during a write burst the writes get the cores, and the graph
    // catches up when they stop (searches meanwhile score the points it has not reached).
    service_kit::background::lower_this_thread();
    let mut query = Query::default();
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
    for job in rx {
        let g = &job.gen_;
        if g.retired.load(Ordering::Acquire) {
            continue;
        }
        if !g.is_dead(job.point) {
            g.insert(job.point, &job.vec, &mut query, &mut rng);
        }
        g.done.store(job.point + 1, Ordering::Release);
    }
}

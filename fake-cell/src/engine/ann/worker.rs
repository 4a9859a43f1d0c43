//! The thread that grows an index's HNSW graph: writes only queue `(point, vector)` under the
//! index lock and return; this thread inserts them in point order and advances the graph's
//! watermark, so a search knows which points it must still score itself (see `Ann::pending`).
//! One thread per index, started on its first vector; it ends when the index is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

use hnsw_rs::hnsw::Hnsw;

use super::space::{Feat, Params, SparseDist};

/// Levels of the graph (hnsw_rs caps it at 16).
const MAX_LAYER: usize = 16;
/// Allocation hint for a new graph; it grows past this.
const SIZE_HINT: usize = 10_000;

/// One graph and how far its insertions have got.
pub struct Generation {
    pub graph: Hnsw<'static, Feat, SparseDist>,
    /// Points `< done` are in the graph.
    pub done: AtomicUsize,
    /// Set when a rebuild replaced this graph: its queued insertions are skipped.
    pub retired: AtomicBool,
}

impl Generation {
    pub fn new(p: &Params) -> Arc<Generation> {
        Arc::new(Generation {
            graph: Hnsw::new(
                p.m,
                SIZE_HINT,
                MAX_LAYER,
                p.ef_construction,
                SparseDist(p.space),
            ),
            done: AtomicUsize::new(0),
            retired: AtomicBool::new(false),
        })
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
    for job in rx {
        if job.gen_.retired.load(Ordering::Acquire) {
            continue;
        }
        job.gen_.graph.insert_slice((&job.vec, job.point));
        job.gen_.done.store(job.point + 1, Ordering::Release);
    }
}

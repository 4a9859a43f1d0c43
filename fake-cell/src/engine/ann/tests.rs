//! The graph against exact answers: finds what was just queued, never returns tombstones,
//! rebuilds when they pile up, respects its cap.

use std::time::{Duration, Instant};

use super::space::{Params, dense_query};
use super::*;
use crate::engine::embed;

fn vec_of(i: u32) -> SparseVec {
    embed::embed_text(&format!("item {i} colour {} size {}", i % 7, i % 13), 64)
}

/// Wait (bounded) until the insert thread has caught up.
fn settle(a: &Ann) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while a.pending().next().is_some() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn nearest(a: &Ann, q: &SparseVec, ef: usize) -> Vec<u32> {
    let mut dq = Vec::new();
    dense_query(q, 64, &mut dq);
    let mut got: Vec<u32> = a
        .search(&dq, ef, &|_| true)
        .expect("graph answers")
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    got.extend(a.pending());
    got
}

fn small() -> Ann {
    Ann::new(Params {
        ef_construction: 64,
        ..Params::default()
    })
}

#[test]
fn finds_queued_and_inserted_points_and_never_tombstones() {
    let mut a = small();
    for i in 0..300 {
        a.add(i, &vec_of(i));
    }
    // Right after the writes (graph or pending scan, whichever holds it).
    assert!(nearest(&a, &vec_of(42), 16).contains(&42));
    settle(&a);
    assert!(nearest(&a, &vec_of(42), 16).contains(&42));
    a.remove(42);
    for ef in [16, 64, 400] {
        assert!(!nearest(&a, &vec_of(42), ef).contains(&42));
    }
    // A filter is applied during the walk.
    let mut dq = Vec::new();
    dense_query(&vec_of(7), 64, &mut dq);
    let odd = a.search(&dq, 20, &|c| c % 2 == 1).expect("answers");
    assert!(!odd.is_empty() && odd.iter().all(|(c, _)| c % 2 == 1));
}

#[test]
fn tombstones_trigger_a_rebuild_that_keeps_the_live_points() {
    let mut a = small();
    for i in 0..2100 {
        a.add(i, &vec_of(i));
    }
    for i in 0..1100 {
        a.remove(i);
    }
    assert!(a.needs_rebuild());
    let live: Vec<(u32, SparseVec)> = (1100..2100).map(|i| (i, vec_of(i))).collect();
    a.rebuild(live.iter().map(|(c, v)| (*c, v)));
    assert_eq!(a.counts(), (1000, 0));
    assert!(!a.needs_rebuild());
    settle(&a);
    assert!(nearest(&a, &vec_of(1500), 32).contains(&1500));
    assert!(!nearest(&a, &vec_of(5), 400).iter().any(|c| *c < 1100));
}

#[test]
fn beyond_the_cap_the_graph_declines_to_answer() {
    let mut a = Ann::new(Params {
        max_points: 10,
        ..Params::default()
    });
    for i in 0..11 {
        a.add(i, &vec_of(i));
    }
    let mut dq = Vec::new();
    dense_query(&vec_of(1), 64, &mut dq);
    assert!(a.search(&dq, 10, &|_| true).is_none());
}

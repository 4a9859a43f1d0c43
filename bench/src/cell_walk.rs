//! fake-cell's HNSW walk alone, in this process: the graph built from the bench corpus's
//! vectors, then the distinct load-point queries timed on one thread through the graph and
//! through a scan scoring every vector (the baseline: exact search by brute force). No
//! HTTP, no wrk on the same cores: the figure is the walk's own cost, so a change to the walk
//! shows here before it shows in the load points (the host's load still moves it; compare
//! it with the scan of the same run).

use std::time::{Duration, Instant};

use anyhow::bail;
use fake_cell::engine::ann::space::{Params, Query};
use fake_cell::engine::ann::{Ann, HitValue};
use fake_cell::engine::embed::{self, SparseVec};

use crate::Ctx;
use crate::report::Row;

/// The bench index's embedding dimension (`hf/e5-base-v2`).
const DIM: usize = 768;
const QUERIES: usize = 2_000;

/// What one run measured, per query.
struct Walk {
    vectors: usize,
    walk: Duration,
    scan: Duration,
    /// Share of the scan's 10 best that the walk found (ties count).
    recall: f64,
}

pub async fn run(ctx: &mut Ctx, docs: u64) -> anyhow::Result<()> {
    let w = tokio::task::spawn_blocking(move || measure(docs)).await??;
    println!(
        "HNSW walk alone, {docs} docs: {:.1} µs/query, scan {:.1} µs/query, recall@10 {:.3}",
        micros(w.walk),
        micros(w.scan),
        w.recall
    );
    ctx.report.push(
        Row::new(
            "cell",
            format!(
                "HNSW walk alone, in-process, {}k docs ({} vectors), efSearch {}",
                docs / 1000,
                w.vectors,
                crate::cell::EF_SEARCH
            ),
            micros(w.walk),
            "µs/query",
        )
        .vs("scan of every vector", micros(w.scan))
        .note(format!(
            "one thread, {QUERIES} distinct queries; recall@10 {:.3}",
            w.recall
        )),
    );
    Ok(())
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn measure(docs: u64) -> anyhow::Result<Walk> {
    // As the bench index (`cell::create_index`): m 16, prenormalized-angular, efConstruction
    // 128 (Marqo's 512 measured the same walk time here, and builds 3× slower).
    let params = Params {
        ef_construction: 128,
        ..Params::default()
    };
    let mut ann = Ann::new(params);
    let mut vectors: Vec<SparseVec> = Vec::new();
    for i in 0..docs {
        let d = crate::cell::doc(i);
        for field in ["title", "description"] {
            let v = embed::embed_text(d[field].as_str().unwrap_or_default(), DIM);
            ann.add(vectors.len() as u32, &v);
            vectors.push(v);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    while ann.pending().next().is_some() {
        if Instant::now() > deadline {
            bail!("the graph did not catch up with {docs} docs in 600 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let queries: Vec<SparseVec> = (0..QUERIES)
        .map(|i| embed::embed_text(&format!("{} zq{i}x{i}", crate::cell::QUERY), DIM))
        .collect();
    // The exact 10th best, or the last when the corpus is smaller.
    let k = vectors.len().min(10);
    if k == 0 {
        bail!("no vectors to search");
    }
    let space = params.space;
    let mut q = Query::default();
    let mut found: Vec<Vec<u32>> = Vec::with_capacity(QUERIES);
    let start = Instant::now();
    for v in &queries {
        q.set(space, v);
        let hits = ann.search(&q, crate::cell::EF_SEARCH, None, HitValue::WalkDistance);
        found.push(hits.unwrap_or_default().iter().map(|h| h.0).collect());
    }
    let walk = start.elapsed() / QUERIES as u32;
    let start = Instant::now();
    let mut tenth: Vec<f32> = Vec::with_capacity(QUERIES);
    for v in &queries {
        q.set(space, v);
        let mut scores: Vec<f32> = vectors.iter().map(|x| q.score(x)).collect();
        scores.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
        tenth.push(scores[k - 1]);
    }
    let scan = start.elapsed() / QUERIES as u32;
    let (mut right, mut total) = (0usize, 0usize);
    for ((v, hits), tenth) in queries.iter().zip(&found).zip(&tenth) {
        q.set(space, v);
        let mut best: Vec<f64> = hits
            .iter()
            .map(|c| f64::from(q.score(&vectors[*c as usize])))
            .collect();
        best.sort_unstable_by(|a, b| b.total_cmp(a));
        best.truncate(k);
        right += crate::cell_ann::found_of_best(&best, f64::from(*tenth));
        total += k;
    }
    Ok(Walk {
        vectors: vectors.len(),
        walk,
        scan,
        recall: right as f64 / total.max(1) as f64,
    })
}

//! TENSOR retrieval: the query vector (text, weighted map, custom vector, context) and a kNN
//! over the index's chunks ([`knn`]): approximate through the index's HNSW graph
//! (`engine::ann`, Marqo's default) or exact through the inverted index over embedding
//! dimensions (`approximate: false`, and the fallback whenever the graph cannot promise the
//! answer). A document's score is its best chunk's closeness in the index's `spaceType`
//! (`ann::space`: Vespa's closeness, as Marqo scores), the same figure on either path.

use std::cell::RefCell;
use std::collections::HashSet;

use super::index_data::IndexData;
use super::request::Method;
use super::topk::{Cand, Collector, Scratch, with_scratch};
use crate::config::MarqoLimits;
use crate::engine::ann::HitValue;
use crate::engine::ann::space::{Query, Space};
use crate::engine::embed::SparseVec;
use crate::engine::settings::Settings;
use crate::error::{CellError, CellResult};

/// The searched tensor fields (`None` = every tensor field): a structured index's checked as
/// Marqo's `_get_tensor_fields_to_search` does; an index without any is Vespa's missing rank
/// profile in Marqo's words for `method`.
pub fn tensor_fields(
    s: &Settings,
    requested: Option<&Vec<String>>,
    method: Method,
) -> CellResult<Option<HashSet<String>>> {
    if s.structured {
        if let Some(bad) = requested.and_then(|r| r.iter().find(|f| !s.tensor_fields.contains(f))) {
            return Err(CellError::InvalidFieldName(format!(
                "Index {} has no tensor field {bad}. Available tensor fields are: {}",
                s.name,
                s.tensor_fields.join(", ")
            )));
        }
        if s.tensor_fields.is_empty() {
            return Err(super::no_fields(s, method));
        }
    }
    Ok(requested.map(|r| r.iter().cloned().collect()))
}

/// A chunk's score for the query in the index's space (as both kNN paths score it).
pub fn score(data: &IndexData, qv: &SparseVec, v: &SparseVec) -> f32 {
    data.ann.params().space.score_sparse(qv, v)
}

/// Whether `chunk` is in the searched fields.
fn in_fields(fields: Option<&HashSet<String>>, field: &str) -> bool {
    fields.is_none_or(|f| f.contains(field))
}

/// Exact kNN over tensor chunks: the best chunk per document. For the angular spaces through
/// the dimension inverted index, then (if fewer than `need` documents share a dimension with
/// the query) documents with no overlap at cosine 0, as a vector store returns the nearest
/// documents however weak the match; for the spaces where a vector's norm or its zeros matter
/// (euclidean, dotproduct, hamming), by scoring every chunk. Candidates go to `out` (which
/// keeps all of them or only the best few).
pub fn tensor_candidates(
    data: &IndexData,
    qv: &SparseVec,
    q: &Query,
    fields: Option<&HashSet<String>>,
    pass: &dyn Fn(u32) -> bool,
    need: usize,
    out: &mut Collector,
) {
    if !matches!(q.space(), Space::PrenormalizedAngular | Space::Angular) {
        return scan_all(data, q, fields, pass, out);
    }
    // Dense accumulators by chunk id (scratch 0) and by slot (scratch 1), reused per thread, keep
    // these loops to array reads.
    let n_chunks = data.chunks.len();
    let total: usize = qv
        .iter()
        .filter_map(|(d, _)| data.vpost.get(d))
        .map(Vec::len)
        .sum();
    with_scratch(0, n_chunks, |by_chunk| {
        with_scratch(1, data.slot_capacity(), |by_slot| {
            // Best chunk per document.
            let offer = |cid: u32, dot: f32, by_slot: &mut Scratch| {
                let Some(chunk) = data.chunks.get(cid as usize).and_then(Option::as_ref) else {
                    return;
                };
                if !in_fields(fields, &chunk.field) {
                    return;
                }
                let score = q.score_dot(dot, &chunk.vec);
                let e = &mut by_slot.best[chunk.slot as usize];
                if e.1 == u32::MAX {
                    by_slot.touched.push(chunk.slot);
                    *e = (score, cid);
                } else if score > e.0 {
                    *e = (score, cid);
                }
            };
            // Few postings: remember the touched chunks. Many (most chunks share a dimension with
            // the query): skip that bookkeeping and scan every chunk once, clearing as it goes.
            let sparse = total * 4 < n_chunks;
            if !sparse {
                by_chunk.dense_begin(n_chunks);
            }
            for (d, w) in qv {
                for &(cid, cw) in data.vpost.get(d).map_or(&[][..], Vec::as_slice) {
                    let i = cid as usize;
                    by_chunk.scores[i] += w * cw;
                    if by_chunk.flags[i] == 0 {
                        by_chunk.flags[i] = 1;
                        if sparse {
                            by_chunk.touched.push(cid);
                        }
                    }
                }
            }
            if sparse {
                for &cid in &by_chunk.touched {
                    offer(cid, by_chunk.scores[cid as usize], by_slot);
                }
            } else {
                for cid in 0..n_chunks {
                    if by_chunk.flags[cid] != 0 {
                        offer(cid as u32, by_chunk.scores[cid], by_slot);
                        by_chunk.flags[cid] = 0;
                        by_chunk.scores[cid] = 0.0;
                    }
                }
                by_chunk.dense_done();
            }
            for &slot in &by_slot.touched {
                let (score, cid) = by_slot.best[slot as usize];
                if pass(slot) {
                    out.push(Cand::tensor(slot, cid, score));
                }
            }
            if out.seen() >= need {
                return;
            }
            for (slot, doc) in data.iter() {
                if out.seen() >= need {
                    break;
                }
                // Documents with an overlapping chunk were offered above (or failed `pass`).
                if by_slot.best[slot as usize].1 != u32::MAX || !pass(slot) {
                    continue;
                }
                let first = data.chunk_ids_of(doc).find_map(|cid| {
                    let c = data.chunks[cid as usize].as_ref()?;
                    in_fields(fields, &c.field).then_some((cid, c))
                });
                if let Some((cid, c)) = first {
                    out.push(Cand::tensor(slot, cid, q.score_dot(0.0, &c.vec)));
                }
            }
        })
    })
}

/// Every live chunk scored, best chunk per document.
fn scan_all(
    data: &IndexData,
    q: &Query,
    fields: Option<&HashSet<String>>,
    pass: &dyn Fn(u32) -> bool,
    out: &mut Collector,
) {
    with_scratch(1, data.slot_capacity(), |by_slot| {
        for (cid, c) in data.chunks.iter().enumerate() {
            let Some(c) = c else { continue };
            if !in_fields(fields, &c.field) {
                continue;
            }
            let score = q.score(&c.vec);
            let e = &mut by_slot.best[c.slot as usize];
            if e.1 == u32::MAX {
                by_slot.touched.push(c.slot);
                *e = (score, cid as u32);
            } else if score > e.0 {
                *e = (score, cid as u32);
            }
        }
        for &slot in &by_slot.touched {
            let (score, cid) = by_slot.best[slot as usize];
            if pass(slot) {
                out.push(Cand::tensor(slot, cid, score));
            }
        }
    })
}

/// `approximateThreshold` when the request gives none (Vespa's default): a filter that fewer
/// than this share of documents pass is searched exactly.
pub const DEFAULT_APPROXIMATE_THRESHOLD: f64 = 0.05;
/// Documents sampled to estimate a filter's pass rate.
const FILTER_SAMPLE: usize = 128;
/// A walk that would visit this share of the graph or more (`ef × this ≥ points`) is no
/// cheaper than the exact scan and finds no more: the search runs exactly instead.
const EF_SHARE_FOR_EXACT: usize = 8;

/// How a kNN runs: the request's `approximate` (absent = true, as in Marqo), `efSearch` and
/// `approximateThreshold`.
#[derive(Debug, Clone, Copy, Default)]
pub struct KnnOptions {
    pub approximate: Option<bool>,
    pub ef_search: Option<usize>,
    pub approximate_threshold: Option<f64>,
    /// Whether `pass` filters anything (a filter or excluded documents).
    pub filtered: bool,
}

thread_local! {
    /// The dense query of the current search, reused per thread.
    static QUERY: RefCell<Query> = RefCell::new(Query::default());
}

/// The `need` nearest documents (best chunk each) among those `pass` accepts, into `out`:
/// through the HNSW graph unless `approximate` is false, the filter is selective, `efSearch`
/// covers a large share of the index, or the graph cannot answer (over its cap, catching up)
/// or found fewer than `need` documents — then exactly, so a filtered search never returns
/// fewer hits than exist.
pub fn knn(
    data: &IndexData,
    qv: &SparseVec,
    fields: Option<&HashSet<String>>,
    pass: &dyn Fn(u32) -> bool,
    need: usize,
    opts: KnnOptions,
    out: &mut Collector,
) {
    let threshold = opts
        .approximate_threshold
        .unwrap_or(DEFAULT_APPROXIMATE_THRESHOLD);
    // A request's own `efSearch`, else the cell's `MARQO_DEFAULT_EF_SEARCH` (`parse_request`
    // fills it in), raised to `limit + offset`.
    let ef = opts
        .ef_search
        .unwrap_or(MarqoLimits::DEFAULT_EF_SEARCH)
        .max(need);
    let approximate = opts.approximate != Some(false)
        && ef.saturating_mul(EF_SHARE_FOR_EXACT) < data.ann.counts().0
        && !(opts.filtered && pass_rate(data, pass) < threshold);
    let mut run = |q: &mut Query| {
        q.set(data.ann.params().space, qv);
        let walk = Walk {
            need,
            ef,
            every: fields.is_none() && !opts.filtered,
        };
        if approximate && approximate_candidates(data, q, fields, pass, walk, out) {
            return;
        }
        tensor_candidates(data, qv, q, fields, pass, need, out)
    };
    QUERY.with(|buf| match buf.try_borrow_mut() {
        Ok(mut q) => run(&mut q),
        Err(_) => run(&mut Query::default()),
    })
}

/// The share of a spread sample of documents that `pass` accepts.
fn pass_rate(data: &IndexData, pass: &dyn Fn(u32) -> bool) -> f64 {
    let cap = data.slot_capacity();
    let step = (cap / FILTER_SAMPLE).max(1);
    let (mut seen, mut ok) = (0usize, 0usize);
    for slot in (0..cap).step_by(step) {
        if data.slot(slot as u32).is_some() {
            seen += 1;
            ok += usize::from(pass(slot as u32));
        }
    }
    if seen == 0 {
        1.0
    } else {
        ok as f64 / seen as f64
    }
}

/// What one graph walk is asked for: `need` documents, a beam of `ef`, and whether every live
/// chunk is acceptable (no filter, every tensor field: the walk then skips the per-chunk check).
#[derive(Clone, Copy)]
struct Walk {
    need: usize,
    ef: usize,
    every: bool,
}

/// ANN candidates: the graph's `ef` nearest accepted chunks plus the chunks it does not hold
/// yet, rescored exactly, best chunk per document. False (nothing pushed) if the graph cannot
/// answer or found fewer than `need` documents.
fn approximate_candidates(
    data: &IndexData,
    q: &Query,
    fields: Option<&HashSet<String>>,
    pass: &dyn Fn(u32) -> bool,
    walk: Walk,
    out: &mut Collector,
) -> bool {
    let Walk { need, ef, every } = walk;
    let accept = |cid: u32| {
        data.chunks
            .get(cid as usize)
            .and_then(Option::as_ref)
            .is_some_and(|c| in_fields(fields, &c.field) && pass(c.slot))
    };
    let filter = (!every).then_some(&accept as &dyn Fn(u32) -> bool);
    let Some(hits) = data.ann.search(q, ef, filter, HitValue::Score) else {
        return false;
    };
    // Each hit scored exactly (the graph's hits come scored), then the best chunk per
    // document: a sort of a few dozen (slot, score, chunk) beats hashing them.
    let mut scored: Vec<(u32, f32, u32)> = Vec::with_capacity(hits.len());
    let chunk_of = |cid: u32| data.chunks.get(cid as usize).and_then(Option::as_ref);
    for (cid, score) in hits {
        if let Some(c) = chunk_of(cid) {
            scored.push((c.slot, score, cid));
        }
    }
    for cid in data.ann.pending() {
        if accept(cid)
            && let Some(c) = chunk_of(cid)
        {
            scored.push((c.slot, q.score(&c.vec), cid));
        }
    }
    // By slot, the best score first (the first chunk offered among equals, as before).
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
    scored.dedup_by_key(|e| e.0);
    if scored.len() < need {
        return false;
    }
    for (slot, score, cid) in scored {
        out.push(Cand::tensor(slot, cid, score));
    }
    true
}

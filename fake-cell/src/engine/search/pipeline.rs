//! What a search does besides retrieval, in the order Marqo's HybridSearcher does it: the
//! parameters of [`Post`] parsed from a body the model accepted; for HYBRID the relevance-cutoff
//! probe, the candidate count it and `sortBy` ask for, fusion, collapsing, the global score
//! modifiers and recency over the first `rerankDepth` hits, sorting; then facets and `totalHits`
//! over every matched document. `efSearch`/`approximate`/`approximateThreshold` are kept in
//! [`Ann`] and handed to the HNSW walk (`tensor::knn`).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::collapse::{self, Collapse};
use super::cutoff::{self, Cutoff};
use super::facets::{self, Facets};
use super::filter::Filter;
use super::hybrid::Side;
use super::interpolate::Interp;
use super::recency::Recency;
use super::sort::{self, SortBy};
use super::topk::{Cand, better, top_k};
use super::{Run, hybrid, interpolate, lexical, tensor};
use crate::engine::embed;
use crate::engine::model::{as_bool, as_float, as_int, given};
use crate::engine::settings::Settings;
use crate::error::{CellError, CellResult};

/// The approximate-search knobs, validated; `Run::knn` passes them to `tensor::knn`.
#[derive(Debug, Clone, Default)]
pub struct Ann {
    pub ef_search: Option<usize>,
    pub approximate: Option<bool>,
    pub threshold: Option<f64>,
}

/// The parameters applied after (or around) retrieval.
#[derive(Default)]
pub struct Post {
    pub facets: Option<Facets>,
    pub sort: Option<SortBy>,
    pub cutoff: Option<Cutoff>,
    pub recency: Option<Recency>,
    pub collapse: Option<Collapse>,
    /// `trackTotalHits` as given: Marqo answers `totalHits` whenever it is not null (0 for
    /// `false` without facets, the count when a facet query runs anyway).
    pub track_total_hits: Option<bool>,
    pub rerank_depth: Option<usize>,
    pub text_query_prefix: Option<String>,
    /// `interpolationMethod`: how a weighted `q` and `context` vectors are combined.
    pub interpolation: Option<Interp>,
    pub ann: Ann,
}

impl Post {
    pub fn parse(o: &Map<String, Value>) -> CellResult<Post> {
        let get = |k: &str| given(o, k);
        if get("boost").is_some() {
            return Err(CellError::InvalidArgument(
                "Boosting is not currently supported with Vespa".into(),
            ));
        }
        Ok(Post {
            facets: Facets::parse(get("facets")),
            sort: SortBy::parse(get("sortBy")),
            cutoff: Cutoff::parse(get("relevanceCutoff")),
            recency: Recency::parse(get("recencyParameters")),
            collapse: Collapse::parse(get("collapseFields")),
            track_total_hits: get("trackTotalHits").and_then(as_bool),
            rerank_depth: get("rerankDepth")
                .and_then(as_int)
                .map(|n| n.max(0) as usize),
            text_query_prefix: get("textQueryPrefix")
                .and_then(Value::as_str)
                .map(str::to_string),
            interpolation: Interp::parse(get("interpolationMethod")),
            ann: Ann {
                ef_search: get("efSearch").and_then(as_int).map(|n| n.max(0) as usize),
                approximate: get("approximate").and_then(as_bool),
                threshold: get("approximateThreshold").and_then(as_float),
            },
        })
    }

    /// Whether the ranked page alone is the whole answer and is the same on every call.
    pub fn cacheable(&self) -> bool {
        self.facets.is_none()
            && self.track_total_hits.is_none()
            && self.recency.as_ref().is_none_or(Recency::has_center)
    }
}

/// The answer's extra keys.
#[derive(Debug, Default)]
pub struct Extras {
    pub facets: Option<Value>,
    pub total_hits: Option<usize>,
}

/// `q` as the model embeds it: the request's `textQueryPrefix`, else the index's, before the
/// text (each text of a weighted map too; a custom vector is not text).
pub fn tensor_query(q: &Value, post: &Post, s: &Settings) -> Value {
    let prefix = post
        .text_query_prefix
        .as_deref()
        .or_else(|| s.json["textQueryPrefix"].as_str())
        .filter(|p| !p.is_empty());
    match (prefix, q) {
        (Some(p), Value::String(t)) => Value::String(format!("{p}{t}")),
        (Some(p), Value::Object(m)) if !m.contains_key("customVector") => Value::Object(
            m.iter()
                .map(|(k, v)| (format!("{p}{k}"), v.clone()))
                .collect(),
        ),
        _ => q.clone(),
    }
}

impl Run<'_> {
    /// HYBRID search with everything of [`Post`].
    pub(super) fn hybrid(&self, s: &Settings) -> CellResult<(Vec<Cand>, Extras)> {
        let (req, data, post) = (self.req, self.data, &self.req.post);
        if post.facets.is_some() && s.structured {
            return Err(CellError::InvalidArgument(
                "Facets are only supported for unstructured indexes".into(),
            ));
        }
        if let Some(c) = &post.collapse {
            c.check(s)?;
        }
        let p = &req.hybrid;
        // As Marqo's hybrid query builds them: the tensor fields first.
        let tfields = tensor::tensor_fields(
            s,
            p.searchable_tensor.as_ref().or(req.searchable.as_ref()),
            req.method,
        )?;
        let lfields = lexical::lexical_fields(
            data,
            s,
            p.searchable_lexical.as_ref().or(req.searchable.as_ref()),
            req.method,
        )?;
        // Marqo vectorises only when a leg needs the vector (`hybrid_search.search`).
        let tq = req.legs.as_ref().map_or(&req.q, |l| &l.tensor);
        let timers = req.method.timers();
        let qv = timers.infer(|| {
            if p.retrieval == Side::Lexical && p.ranking == Side::Lexical {
                Ok(Vec::new())
            } else {
                let q = tensor_query(tq, post, s);
                interpolate::query_vector(&q, &req.context, post.interpolation, s)
            }
        })?;
        timers.retrieving();
        let relevant = post.cutoff.as_ref().map(|c| {
            let probe = self.lexical(&lfields, None, Some(c.probe_depth));
            let scores: Vec<f64> = probe.iter().map(|c| c.score).collect();
            cutoff::detect(&scores, c.method)
        });
        let min_sort = post.sort.as_ref().and_then(|sb| sb.min_candidates);
        let n = match (relevant, &post.sort) {
            (Some(r), Some(_)) => r.max(min_sort.unwrap_or(0)),
            (Some(r), None) => r.min(self.need),
            (None, Some(_)) => min_sort.unwrap_or(0).max(self.need),
            (None, None) => self.need,
        };
        // `affectFacets`: every facet and total-hits query keeps only its best `n` hits
        // (`injectMaxHitsIntoFacetsGrouping` with the cutoff's new hit count).
        let facet_cap = post.cutoff.as_ref().filter(|c| c.affect_facets).map(|_| n);
        let mut retrieve = n;
        if post.collapse.is_some() {
            retrieve = retrieve.max(data.len());
        }
        let rec = post.recency.as_ref();
        let now = rec.map_or(0.0, Recency::now);
        let fused = self.fuse(retrieve, &lfields, tfields.as_ref(), &qv, now);
        let mut v = match &post.collapse {
            Some(c) => collapse::apply(fused, data, c),
            None => fused,
        };
        if post.collapse.is_some() {
            v.truncate(n);
        }
        let v = match &post.sort {
            // `postProcessBySort` replaces `postProcessResults` (no global modifiers or recency):
            // every fused candidate is sorted, unless `overrideSortCandidatesWithRelevantCandidates`
            // first trims them to `max(minSortCandidates, relevant)`.
            Some(sb) => {
                let trim = post.cutoff.as_ref().is_some_and(|c| c.override_sort);
                if let Some(r) = relevant.filter(|r| trim && *r < v.len()) {
                    v.truncate(r.max(min_sort.unwrap_or(0)));
                }
                sort::apply(v, data, sb)
            }
            // The page is cut at `limit + offset` after the global phase, so with a relevance
            // cutoff the union of two legs of `relevant` hits each can fill it.
            None => {
                let mut v = self.rerank(v, now);
                v.truncate(self.need);
                v
            }
        };
        let extras = self.extras(&lfields, tfields.as_ref(), &qv, facet_cap)?;
        Ok((v, extras))
    }

    /// Retrieval and fusion (or one leg ranked by the other) of `retrieve` candidates per leg.
    /// Recency in a leg's rank profile (`applyInRankingPhase` not `only-global`, the leg in
    /// `applyToSubqueries`) multiplies (or adds to) that leg's scores before they are ranked,
    /// so it moves the RRF ranks; a leg ranked by the other side gets it on its final score.
    fn fuse(
        &self,
        retrieve: usize,
        lfields: &[String],
        tfields: Option<&HashSet<String>>,
        qv: &embed::SparseVec,
        now: f64,
    ) -> Vec<Cand> {
        let (p, data) = (&self.req.hybrid, self.data);
        let rec = self.req.post.recency.as_ref();
        let cross = matches!(
            (p.retrieval, p.ranking),
            (Side::Lexical, Side::Tensor) | (Side::Tensor, Side::Lexical)
        );
        let leg = |tensor_leg: bool| rec.filter(|r| !cross && r.in_leg(tensor_leg));
        let lex = |keep: Option<usize>| match leg(false) {
            Some(r) => {
                let all = self.lexical(lfields, p.modifiers_lexical.as_ref(), None);
                self.leg_recency(all, r, now, keep)
            }
            None => self.lexical(lfields, p.modifiers_lexical.as_ref(), keep),
        };
        // The tensor leg is Marqo's nearestNeighbor term: `targetHits` is at most `efSearch`.
        let ten = |keep: Option<usize>| {
            let keep = keep.map(|k| k.min(self.req.ef_cap.unwrap_or(usize::MAX)));
            let v = self.tensor(tfields, p.modifiers_tensor.as_ref(), qv, keep);
            match leg(true) {
                Some(r) => self.leg_recency(v, r, now, keep),
                None => v,
            }
        };
        let fused = hybrid::run(p, retrieve, lex, ten, |slot| {
            // Rank a lexically retrieved candidate by tensor closeness, under the tensor
            // rank profile's modifiers.
            let doc = data.slot(slot)?;
            let (best, cid) = data
                .chunk_ids_of(doc)
                .filter_map(|cid| data.chunks[cid as usize].as_ref().map(|c| (cid, c)))
                .filter(|(_, c)| tfields.is_none_or(|f| f.contains(&c.field)))
                .map(|(cid, c)| (tensor::score(data, qv, &c.vec), cid))
                .max_by(|a, b| a.0.total_cmp(&b.0))?;
            let score = self.modified(best, slot, p.modifiers_tensor.as_ref());
            Some((score as f32, cid))
        });
        match rec.filter(|r| cross && r.in_leg(p.retrieval == Side::Tensor)) {
            Some(r) => self.leg_recency(fused, r, now, None),
            None => fused,
        }
    }

    /// Recency applied to a leg's candidates, re-ranked (the best `keep`, or all).
    fn leg_recency(
        &self,
        mut v: Vec<Cand>,
        r: &Recency,
        now: f64,
        keep: Option<usize>,
    ) -> Vec<Cand> {
        for c in &mut v {
            if let Some(doc) = self.data.slot(c.slot) {
                c.score = r.apply(c.score, &doc.rec.fields, now);
            }
        }
        match keep {
            Some(k) => top_k(v, k),
            None => {
                v.sort_unstable_by(better);
                v
            }
        }
    }

    /// Global score modifiers and recency over the first `rerankDepth` hits (all by default),
    /// then every hit re-sorted: a rescored hit can fall below hits past the depth, which keep
    /// their fused scores (py-marqo's `…rrf_score_modifiers_with_rerank_depth` tests).
    /// Recency only unless `applyInRankingPhase` is `exclude-global`.
    pub(super) fn rerank(&self, mut v: Vec<Cand>, now: f64) -> Vec<Cand> {
        let mods = self.req.modifiers.as_ref();
        let rec = self.req.post.recency.as_ref().filter(|r| r.in_global());
        if mods.is_none() && rec.is_none() {
            return v;
        }
        let depth = self.req.post.rerank_depth.unwrap_or(v.len()).min(v.len());
        for c in &mut v[..depth] {
            if let Some(doc) = self.data.slot(c.slot) {
                if let Some(m) = mods {
                    c.score = m.apply(c.score, &doc.rec.fields);
                }
                if let Some(r) = rec {
                    c.score = r.apply(c.score, &doc.rec.fields, now);
                }
            }
        }
        v.sort_unstable_by(better);
        v
    }

    /// Facets and `totalHits` over every document the retrieval matches.
    fn extras(
        &self,
        lfields: &[String],
        tfields: Option<&HashSet<String>>,
        qv: &embed::SparseVec,
        cap: Option<usize>,
    ) -> CellResult<Extras> {
        let post = &self.req.post;
        // `_to_vespa_hybrid_query` runs the facet queries only for facets or a true
        // `trackTotalHits`; `gather_facets_from_response` then answers `totalHits: 0` for a
        // given `trackTotalHits` the queries did not count.
        if post.facets.is_none() && post.track_total_hits != Some(true) {
            return Ok(Extras {
                total_hits: post.track_total_hits.map(|_| 0),
                facets: None,
            });
        }
        let retrieval = self.req.hybrid.retrieval;
        let matched = |filter: Option<&Filter>| -> Vec<u32> {
            let run = self.with_filter(filter);
            // The facet query is a lexical subquery (`getFacetsFutureList`) over the retrieval's
            // match set: a hit ranks by BM25 with the lexical score modifiers, a tensor-only
            // match by those modifiers on 0; `maxDepth` (Vespa's `all(max(n) …)`) keeps the
            // best n, equal scores in local document id (slot) order.
            let mods = self.req.hybrid.modifiers_lexical.as_ref();
            let mut hits: Vec<Cand> = Vec::new();
            if retrieval != hybrid::Side::Tensor {
                hits = run.lexical(lfields, mods, None);
            }
            if retrieval != hybrid::Side::Lexical {
                let seen: HashSet<u32> = hits.iter().map(|c| c.slot).collect();
                let depth = self.req.hybrid.rerank_depth_tensor.unwrap_or(self.need);
                let ten = run.tensor(tfields, None, qv, Some(depth));
                hits.extend(
                    ten.into_iter()
                        .filter(|c| !seen.contains(&c.slot))
                        .map(|c| Cand {
                            score: run.modified(0.0, c.slot, mods),
                            ..c
                        }),
                );
            }
            hits.sort_by(better);
            hits.truncate(cap.unwrap_or(hits.len()));
            hits.into_iter().map(|c| c.slot).collect()
        };
        let base = matched(self.filter);
        let mut extras = Extras {
            // With collapsing, Marqo's total-hits grouping counts collapse groups.
            total_hits: post.track_total_hits.map(|_| match &post.collapse {
                Some(c) => collapse::groups(self.data, &base, c),
                None => base.len(),
            }),
            facets: None,
        };
        if let Some(f) = &post.facets {
            let mut m = Map::new();
            for ff in &f.fields {
                let mut slots = match &ff.exclude {
                    Some(ex) => matched(facets::without_terms(self.filter, ex, &ff.name)?.as_ref()),
                    None => base.clone(),
                };
                if let Some(d) = f.max_depth {
                    slots.truncate(d);
                }
                let group = post.collapse.as_ref().map(|c| c.name.as_str());
                m.insert(
                    ff.name.clone(),
                    facets::field(self.data, &slots, ff, f, group),
                );
            }
            extras.facets = Some(Value::Object(m));
        }
        Ok(extras)
    }
}

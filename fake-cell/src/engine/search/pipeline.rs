//! What a search does besides retrieval, in the order Marqo's HybridSearcher does it: the
//! parameters of [`Post`] parsed from a body the model accepted; for HYBRID the relevance-cutoff
//! probe, the candidate count it and `sortBy` ask for, fusion, collapsing, the global score
//! modifiers and recency over the first `rerankDepth` hits, sorting; then facets and `totalHits`
//! over every matched document. `efSearch`/`approximate`/`approximateThreshold` are kept in
//! [`Ann`] and handed to the HNSW walk (`tensor::knn`).

use serde_json::{Map, Value};

use super::collapse::{self, Collapse};
use super::cutoff::{self, Cutoff};
use super::facets::{self, Facets};
use super::filter::Filter;
use super::recency::Recency;
use super::sort::{self, SortBy};
use super::topk::{Cand, better};
use super::{Run, hybrid, lexical, tensor};
use crate::engine::embed;
use crate::engine::model::{as_bool, as_float, as_int};
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
    pub track_total_hits: bool,
    pub rerank_depth: Option<usize>,
    pub text_query_prefix: Option<String>,
    pub ann: Ann,
}

impl Post {
    pub fn parse(o: &Map<String, Value>) -> CellResult<Post> {
        let get = |k: &str| o.get(k).filter(|v| !v.is_null());
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
            track_total_hits: get("trackTotalHits").and_then(as_bool) == Some(true),
            rerank_depth: get("rerankDepth")
                .and_then(as_int)
                .map(|n| n.max(0) as usize),
            text_query_prefix: get("textQueryPrefix")
                .and_then(Value::as_str)
                .map(str::to_string),
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
            && !self.track_total_hits
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
        let lfields = lexical::lexical_fields(
            data,
            s,
            p.searchable_lexical.as_ref().or(req.searchable.as_ref()),
        )?;
        let tfields =
            tensor::tensor_fields(s, p.searchable_tensor.as_ref().or(req.searchable.as_ref()))?;
        let qv = tensor::query_vector(&tensor_query(&req.q, post, s), &req.context, s)?;
        let relevant = post.cutoff.as_ref().map(|c| {
            let probe = self.lexical(&lfields, None, Some(c.probe_depth));
            let scores: Vec<f64> = probe.iter().map(|c| f64::from(c.score)).collect();
            cutoff::detect(&scores, c.method)
        });
        let min_sort = post.sort.as_ref().and_then(|sb| sb.min_candidates);
        let n = match (relevant, &post.sort) {
            (Some(r), Some(_)) => r.max(min_sort.unwrap_or(0)),
            (Some(r), None) => r.min(self.need),
            (None, Some(_)) => min_sort.unwrap_or(0).max(self.need),
            (None, None) => self.need,
        };
        let affect = post.cutoff.as_ref().is_some_and(|c| c.affect_facets);
        let mut retrieve = if affect {
            n.max(relevant.unwrap_or(0))
        } else {
            n
        };
        if post.collapse.is_some() {
            retrieve = retrieve.max(data.len());
        }
        let lex = |keep| self.lexical(&lfields, p.modifiers_lexical.as_ref(), keep);
        let ten = |keep| self.tensor(tfields.as_ref(), p.modifiers_tensor.as_ref(), &qv, keep);
        let fused = hybrid::run(p, retrieve, lex, ten, |slot| {
            // Rank a lexically retrieved candidate by tensor closeness.
            let doc = data.slot(slot)?;
            data.chunk_ids_of(doc)
                .filter_map(|cid| data.chunks[cid as usize].as_ref().map(|c| (cid, c)))
                .filter(|(_, c)| tfields.as_ref().is_none_or(|f| f.contains(&c.field)))
                .map(|(cid, c)| (tensor::closeness(embed::dot(&qv, &c.vec)), cid))
                .max_by(|a, b| a.0.total_cmp(&b.0))
        });
        let mut v = match &post.collapse {
            Some(c) => collapse::apply(fused, data, c),
            None => fused,
        };
        let relevant_slots: Option<Vec<u32>> = relevant
            .filter(|_| affect)
            .map(|r| v.iter().take(r).map(|c| c.slot).collect());
        v.truncate(n);
        let mut v = self.rerank(v);
        if let Some(sb) = &post.sort {
            v = sort::apply(v, data, sb);
        }
        let extras = self.extras(&lfields, tfields.as_ref(), &qv, relevant_slots)?;
        Ok((v, extras))
    }

    /// Global score modifiers and recency over the first `rerankDepth` hits (all by default),
    /// re-sorted; hits past the depth keep their order after them.
    pub(super) fn rerank(&self, mut v: Vec<Cand>) -> Vec<Cand> {
        let (mods, rec) = (self.req.modifiers.as_ref(), self.req.post.recency.as_ref());
        if mods.is_none() && rec.is_none() {
            return v;
        }
        let depth = self.req.post.rerank_depth.unwrap_or(v.len()).min(v.len());
        let now = rec.map_or(0.0, Recency::now);
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
        v[..depth].sort_unstable_by(better);
        v
    }

    /// Facets and `totalHits` over every document the retrieval matches.
    fn extras(
        &self,
        lfields: &[String],
        tfields: Option<&std::collections::HashSet<String>>,
        qv: &embed::SparseVec,
        relevant: Option<Vec<u32>>,
    ) -> CellResult<Extras> {
        let post = &self.req.post;
        if post.facets.is_none() && !post.track_total_hits {
            return Ok(Extras::default());
        }
        let retrieval = self.req.hybrid.retrieval;
        let matched = |filter: Option<&Filter>| -> Vec<u32> {
            if let Some(r) = &relevant {
                return r.clone();
            }
            let run = self.with_filter(filter);
            let mut out: Vec<u32> = Vec::new();
            if retrieval != hybrid::Side::Tensor {
                out.extend(run.lexical(lfields, None, None).iter().map(|c| c.slot));
            }
            if retrieval != hybrid::Side::Lexical {
                let ten = run.tensor(tfields, None, qv, Some(self.need));
                out.extend(ten.iter().map(|c| c.slot));
            }
            let mut seen = std::collections::HashSet::new();
            out.retain(|s| seen.insert(*s));
            out
        };
        let base = matched(self.filter);
        let mut extras = Extras {
            // With collapsing, Marqo's total-hits grouping counts collapse groups.
            total_hits: post.track_total_hits.then(|| match &post.collapse {
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
                m.insert(ff.name.clone(), facets::field(self.data, &slots, ff, f));
            }
            extras.facets = Some(Value::Object(m));
        }
        Ok(extras)
    }
}

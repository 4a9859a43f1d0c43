//! Search over one index: a body checked against Marqo's model ([`model`]) and parsed into a
//! [`request::SearchReq`] runs against the index's precomputed
//! structures ([`index_data::IndexData`]) under its read lock: LEXICAL ([`lexical`]), TENSOR
//! ([`tensor`]) or HYBRID ([`hybrid`]) retrieval (with [`context`] vectors), filters ([`filter`]), score modifiers
//! ([`modifiers`]), the best `limit + offset` ([`topk`]), then the page; [`pipeline`] adds what
//! Marqo does around retrieval (relevance cutoff, collapsing, `rerankDepth`, recency, sorting,
//! facets, `totalHits`). [`cache`] keeps serialised
//! pages per index version; [`response`] writes hits straight from the stored documents;
//! [`recommend`] builds the query of a recommend request from stored documents.

pub mod cache;
pub mod collapse;
pub mod context;
pub mod cutoff;
pub mod facets;
pub mod filter;
pub mod hybrid;
pub mod impacts;
pub mod index_data;
pub mod interpolate;
pub mod lexical;
pub mod model;
pub mod modifiers;
pub mod params;
pub mod pipeline;
pub mod query;
pub mod recency;
pub mod recommend;
pub mod request;
pub mod response;
pub mod scoring_params;
pub mod sort;
pub mod tensor;
pub mod topk;

use std::collections::HashSet;

use self::filter::{Filter, FilterCtx};
use self::index_data::IndexData;
use self::modifiers::Modifiers;
use self::pipeline::Extras;
use self::request::{Method, SearchReq};
use self::topk::{BestK, Cand, Collector, better, top_k};
use crate::engine::embed::SparseVec;
use crate::engine::settings::Settings;
use crate::error::{CellError, CellResult};

/// Structured indexes only filter on fields with the `filter` feature.
pub fn check_filter(f: &Option<Filter>, s: &Settings) -> CellResult<()> {
    if let (Some(f), true) = (f, s.structured) {
        let mut names = Vec::new();
        f.fields(&mut names);
        for n in names {
            if n != "_id" && !s.field(&n).is_some_and(|fd| fd.filter) {
                // Marqo lists a set (no stable order); the declared order, then `_id`, here.
                let mut filterable: Vec<&str> = s
                    .fields
                    .iter()
                    .filter(|f| f.filter)
                    .map(|f| f.name.as_str())
                    .collect();
                filterable.push("_id");
                return Err(CellError::InvalidFieldName(format!(
                    "Index '{}' has no filterable field '{n}'. Available filterable fields are: '{}'",
                    s.name,
                    filterable.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// Run a validated request against one index's data; returns the candidates of the page
/// (serialise them with [`response::Hits`]). `qv_override` replaces the query vector
/// (recommend); `exclude` lists slots never returned.
pub fn execute(
    req: &SearchReq,
    data: &IndexData,
    s: &Settings,
    exclude: &HashSet<u32>,
    qv_override: Option<SparseVec>,
) -> CellResult<Vec<Cand>> {
    execute_full(req, data, s, exclude, qv_override).map(|(page, _)| page)
}

/// [`execute`] with the answer's extra keys (`facets`, `totalHits`).
pub fn execute_full(
    req: &SearchReq,
    data: &IndexData,
    s: &Settings,
    exclude: &HashSet<u32>,
    qv_override: Option<SparseVec>,
) -> CellResult<(Vec<Cand>, Extras)> {
    check_filter(&req.filter, s)?;
    let run = Run {
        req,
        data,
        exclude,
        ctx: FilterCtx {
            structured: s.structured,
            max_string_len: s.filter_string_max_length,
        },
        filter: req.filter.as_ref(),
        // Postings and chunks only ever name live documents, so without a filter or exclusions
        // a candidate passes without reading its document (a cache miss per candidate otherwise).
        unfiltered: req.filter.is_none() && exclude.is_empty(),
        need: req.limit + req.offset,
    };
    let (page, extras) = match req.method {
        Method::Lexical => {
            if req.ef_or_approx {
                return Err(CellError::InvalidArgument(
                    "efSearch and approximate are not valid for LEXICAL search".into(),
                ));
            }
            let fields = lexical::lexical_fields(data, s, req.searchable.as_ref(), req.method)?;
            req.method.timers().retrieving();
            let v = run.lexical(&fields, req.modifiers.as_ref(), Some(run.need));
            (v, Extras::default())
        }
        Method::Tensor => {
            let fields = tensor::tensor_fields(s, req.searchable.as_ref(), req.method)?;
            let timers = req.method.timers();
            let qv = match qv_override {
                Some(v) => v,
                None => timers.infer(|| {
                    let q = pipeline::tensor_query(&req.q, &req.post, s);
                    interpolate::query_vector(&q, &req.context, req.post.interpolation, s)
                })?,
            };
            timers.retrieving();
            let target_hits = run.need.min(req.ef_cap.unwrap_or(usize::MAX));
            let v = run.tensor(
                fields.as_ref(),
                req.modifiers.as_ref(),
                &qv,
                Some(target_hits),
            );
            (v, Extras::default())
        }
        Method::Hybrid => run.hybrid(s)?,
    };
    // Marqo ≥ 2.17 refuses a re-ranker once the search has run (its own errors come first).
    req.refuse_reranker()?;
    let page = page.into_iter().skip(req.offset).take(req.limit).collect();
    Ok((page, extras))
}

/// A structured index without the fields a search method needs: Vespa has no rank profile
/// for it, which Marqo's search answers in these words (400 `invalid_argument`).
fn no_fields(s: &Settings, method: Method) -> CellError {
    let name = &s.name;
    CellError::InvalidArgument(match method {
        Method::Lexical => format!(
            "Index {name} has no lexically searchable fields, thus lexical search cannot be performed. \
             Please create an index with a lexically searchable field, or try a different search method."
        ),
        Method::Tensor => format!(
            "Index {name} has no tensor fields, thus tensor search cannot be performed. \
             Please create an index with a tensor field, or try a different search method."
        ),
        Method::Hybrid => format!(
            "Index {name} either has no tensor fields or no lexically searchable fields, \
             thus hybrid search cannot be performed. \
             Please create an index with both tensor and lexical fields, or try a different search method."
        ),
    })
}

/// A tensor leg's candidates under its modifiers: the rank profile's score, so HYBRID's
/// `_tensor_score` is the modified one too.
fn rescore(m: &Modifiers, cands: &mut [Cand], data: &IndexData) {
    m.apply_all(cands, data);
    for c in cands {
        c.tensor = Some(c.score as f32);
    }
}

/// One request running against one index's data.
struct Run<'a> {
    req: &'a SearchReq,
    data: &'a IndexData,
    exclude: &'a HashSet<u32>,
    ctx: FilterCtx,
    /// The request's filter, or (for a facet with `excludeTerms`) that filter less some terms.
    filter: Option<&'a Filter>,
    unfiltered: bool,
    /// `limit + offset`: how many ranked candidates the page needs.
    need: usize,
}

impl Run<'_> {
    /// The same run with another filter.
    fn with_filter<'b>(&'b self, filter: Option<&'b Filter>) -> Run<'b> {
        Run {
            req: self.req,
            data: self.data,
            exclude: self.exclude,
            ctx: FilterCtx {
                structured: self.ctx.structured,
                max_string_len: self.ctx.max_string_len,
            },
            filter,
            unfiltered: filter.is_none() && self.exclude.is_empty(),
            need: self.need,
        }
    }

    /// The request's ANN knobs for [`tensor::knn`].
    fn knn(&self) -> tensor::KnnOptions {
        let a = &self.req.post.ann;
        tensor::KnnOptions {
            approximate: a.approximate,
            ef_search: a.ef_search,
            approximate_threshold: a.threshold,
            filtered: !self.unfiltered,
        }
    }

    /// Whether a candidate passes the filter and is not excluded.
    fn pass(&self, slot: u32) -> bool {
        if self.unfiltered {
            return true;
        }
        if self.exclude.contains(&slot) {
            return false;
        }
        match (self.filter, self.data.slot(slot)) {
            (None, Some(_)) => true,
            (Some(f), Some(doc)) => f.matches(&doc.rec.id, &doc.rec.fields, &self.ctx),
            (_, None) => false,
        }
    }

    fn modified(&self, score: f32, slot: u32, mods: Option<&Modifiers>) -> f64 {
        let score = f64::from(score);
        match mods {
            Some(m) => self
                .data
                .slot(slot)
                .map_or(score, |doc| m.apply(score, &doc.rec.fields)),
            None => score,
        }
    }

    /// The text a document indexed for a lexical field, for phrase checks.
    fn text_of(&self, slot: u32, f: &str) -> Option<String> {
        self.data.slot(slot).and_then(|d| d.lexical_text(f))
    }

    /// LEXICAL candidates; `keep`: Some(k) → the best k, sorted; None → every candidate.
    fn lexical(
        &self,
        fields: &[String],
        mods: Option<&Modifiers>,
        keep: Option<usize>,
    ) -> Vec<Cand> {
        let q = &self.req.q;
        let legs_text = self
            .req
            .legs
            .as_ref()
            .map(|l| l.lexical.clone().unwrap_or_default());
        let text = legs_text
            .or_else(|| q.as_str().map(str::to_string))
            .unwrap_or_else(|| {
                q.as_object()
                    .map(|m| m.keys().cloned().collect::<Vec<_>>().join(" "))
                    .unwrap_or_default()
            });
        let lq = lexical::parse_query(&text);
        let text_of = |slot: u32, f: &str| self.text_of(slot, f);
        if let (None, Some(k)) = (mods, keep) {
            // The final score is BM25's: the lighter best-k, whose floor prunes early.
            let mut best = BestK::new(k);
            let floor = std::cell::Cell::new(f64::MIN);
            lexical::score(self.data, &lq, fields, text_of, &floor, |slot, score| {
                if self.pass(slot) {
                    best.push(score, slot);
                    floor.set(best.floor());
                }
            });
            let hit = |(slot, score): (u32, f32)| Cand {
                slot,
                score: f64::from(score),
                chunk: None,
                lexical: Some(score),
                tensor: None,
            };
            return best.into_sorted().into_iter().map(hit).collect();
        }
        // With modifiers a low BM25 score can still place, and without `keep` every one is
        // kept: no floor.
        let mut out = Collector::new(keep);
        let floor = std::cell::Cell::new(f64::MIN);
        lexical::score(self.data, &lq, fields, text_of, &floor, |slot, score| {
            if self.pass(slot) {
                // The leg's rank profile applies the modifiers: HYBRID's `_lexical_score` is
                // the modified score.
                let modified = self.modified(score, slot, mods);
                out.push(Cand {
                    slot,
                    score: modified,
                    chunk: None,
                    lexical: Some(modified as f32),
                    tensor: None,
                });
            }
        });
        out.into_sorted()
    }

    /// TENSOR candidates; `keep` as for [`Run::lexical`].
    fn tensor(
        &self,
        fields: Option<&HashSet<String>>,
        mods: Option<&Modifiers>,
        qv: &SparseVec,
        keep: Option<usize>,
    ) -> Vec<Cand> {
        let pass = |slot: u32| self.pass(slot);
        match mods {
            // Modifiers reorder candidates, so collect them all before keeping the best.
            Some(m) => {
                let mut all = Collector::new(None);
                tensor::knn(
                    self.data,
                    qv,
                    fields,
                    &pass,
                    self.need,
                    self.knn(),
                    &mut all,
                );
                let mut v = all.into_sorted();
                // TENSOR's `rerankDepth`: only the best that many are rescored.
                let depth = match self.req.method {
                    Method::Tensor => self.req.post.rerank_depth,
                    _ => None,
                };
                if let Some(d) = depth.filter(|d| *d < v.len()) {
                    rescore(m, &mut v[..d], self.data);
                    v[..d].sort_unstable_by(better);
                    v.truncate(keep.unwrap_or(v.len()));
                    return v;
                }
                rescore(m, &mut v, self.data);
                match keep {
                    Some(k) => top_k(v, k),
                    None => v,
                }
            }
            None => {
                let mut out = Collector::new(keep);
                tensor::knn(
                    self.data,
                    qv,
                    fields,
                    &pass,
                    self.need,
                    self.knn(),
                    &mut out,
                );
                out.into_sorted()
            }
        }
    }
}

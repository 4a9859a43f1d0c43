//! Search over one index: a body checked against Marqo's model ([`model`]) and parsed into a
//! [`request::SearchReq`] runs against the index's precomputed
//! structures ([`index_data::IndexData`]) under its read lock: LEXICAL ([`lexical`]), TENSOR
//! ([`tensor`]) or HYBRID ([`hybrid`]) retrieval, filters ([`filter`]), score modifiers
//! ([`modifiers`]), the best `limit + offset` ([`topk`]), then the page. [`cache`] keeps ranked
//! pages per index version; [`response`] writes hits straight from the stored documents;
//! [`recommend`] builds the query of a recommend request from stored documents.

pub mod cache;
pub mod filter;
pub mod hybrid;
pub mod impacts;
pub mod index_data;
pub mod lexical;
pub mod model;
pub mod modifiers;
pub mod query;
pub mod recommend;
pub mod request;
pub mod response;
pub mod tensor;
pub mod topk;

use std::collections::HashSet;

use serde_json::Value;

use self::filter::{Filter, FilterCtx};
use self::index_data::IndexData;
use self::modifiers::Modifiers;
use self::request::{Method, SearchReq};
use self::tensor::closeness;
use self::topk::{Cand, Collector, top_k};
use crate::engine::embed::{self, SparseVec};
use crate::engine::settings::Settings;
use crate::error::{CellError, CellResult};

/// Structured indexes only filter on fields with the `filter` feature.
pub fn check_filter(f: &Option<Filter>, s: &Settings) -> CellResult<()> {
    if let (Some(f), true) = (f, s.structured) {
        let mut names = Vec::new();
        f.fields(&mut names);
        for n in names {
            if n != "_id" && !s.field(&n).is_some_and(|fd| fd.filter) {
                return Err(CellError::InvalidFieldName(format!(
                    "filter field {n} has no filterable field in this structured index"
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
    check_filter(&req.filter, s)?;
    let run = Run {
        req,
        data,
        exclude,
        ctx: FilterCtx {
            structured: s.structured,
            max_string_len: s.filter_string_max_length,
        },
        // Postings and chunks only ever name live documents, so without a filter or exclusions
        // a candidate passes without reading its document (a cache miss per candidate otherwise).
        unfiltered: req.filter.is_none() && exclude.is_empty(),
        need: req.limit + req.offset,
    };
    let page: Vec<Cand> = match req.method {
        Method::Lexical => {
            if req.ef_or_approx {
                return Err(CellError::InvalidArgument(
                    "efSearch and approximate are not valid for LEXICAL search".into(),
                ));
            }
            let fields = lexical::lexical_fields(data, s, req.searchable.as_ref())?;
            run.lexical(&fields, req.modifiers.as_ref(), Some(run.need))
        }
        Method::Tensor => {
            let fields = tensor::tensor_fields(s, req.searchable.as_ref())?;
            let qv = match qv_override {
                Some(v) => v,
                None => tensor::query_vector(&req.q, &req.context, s)?,
            };
            run.tensor(fields.as_ref(), req.modifiers.as_ref(), &qv, Some(run.need))
        }
        Method::Hybrid => run.hybrid(s)?,
    };
    Ok(page.into_iter().skip(req.offset).take(req.limit).collect())
}

/// One request running against one index's data.
struct Run<'a> {
    req: &'a SearchReq,
    data: &'a IndexData,
    exclude: &'a HashSet<u32>,
    ctx: FilterCtx,
    unfiltered: bool,
    /// `limit + offset`: how many ranked candidates the page needs.
    need: usize,
}

impl Run<'_> {
    /// Whether a candidate passes the filter and is not excluded.
    fn pass(&self, slot: u32) -> bool {
        if self.unfiltered {
            return true;
        }
        if self.exclude.contains(&slot) {
            return false;
        }
        match (&self.req.filter, self.data.slot(slot)) {
            (None, Some(_)) => true,
            (Some(f), Some(doc)) => f.matches(&doc.rec.id, &doc.rec.fields, &self.ctx),
            (_, None) => false,
        }
    }

    fn modified(&self, score: f32, slot: u32, mods: Option<&Modifiers>) -> f32 {
        match mods {
            Some(m) => self
                .data
                .slot(slot)
                .map_or(score, |doc| m.apply(score, &doc.rec.fields)),
            None => score,
        }
    }

    /// The stored text of a lexical field, for phrase checks.
    fn text_of(&self, slot: u32, f: &str) -> Option<String> {
        self.data
            .slot(slot)
            .and_then(|d| match d.rec.fields.get(f) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Array(a)) => Some(
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                _ => None,
            })
    }

    /// LEXICAL candidates; `keep`: Some(k) → the best k, sorted; None → every candidate.
    fn lexical(
        &self,
        fields: &[String],
        mods: Option<&Modifiers>,
        keep: Option<usize>,
    ) -> Vec<Cand> {
        let q = &self.req.q;
        let text = q.as_str().map(str::to_string).unwrap_or_else(|| {
            q.as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>().join(" "))
                .unwrap_or_default()
        });
        let lq = lexical::parse_query(&text);
        let mut out = Collector::new(keep);
        // Without modifiers the final score is the BM25 score, so the heap's floor prunes early.
        let floor = std::cell::Cell::new(f32::MIN);
        let text_of = |slot: u32, f: &str| self.text_of(slot, f);
        lexical::score(self.data, &lq, fields, text_of, &floor, |slot, score| {
            if self.pass(slot) {
                out.push(Cand {
                    slot,
                    score: self.modified(score, slot, mods),
                    chunk: None,
                    lexical: Some(score),
                    tensor: None,
                });
                if mods.is_none() {
                    floor.set(out.floor());
                }
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
                tensor::tensor_candidates(self.data, qv, fields, &pass, self.need, &mut all);
                let mut v = all.into_sorted();
                m.apply_all(&mut v, self.data);
                match keep {
                    Some(k) => top_k(v, k),
                    None => v,
                }
            }
            None => {
                let mut out = Collector::new(keep);
                tensor::tensor_candidates(self.data, qv, fields, &pass, self.need, &mut out);
                out.into_sorted()
            }
        }
    }

    /// HYBRID: both sides, fused or one ranked by the other (see [`hybrid::run`]).
    fn hybrid(&self, s: &Settings) -> CellResult<Vec<Cand>> {
        let (req, data) = (self.req, self.data);
        let p = &req.hybrid;
        let lfields = lexical::lexical_fields(
            data,
            s,
            p.searchable_lexical.as_ref().or(req.searchable.as_ref()),
        )?;
        let tfields =
            tensor::tensor_fields(s, p.searchable_tensor.as_ref().or(req.searchable.as_ref()))?;
        let qv = tensor::query_vector(&req.q, &req.context, s)?;
        let lex = |keep| self.lexical(&lfields, p.modifiers_lexical.as_ref(), keep);
        let ten = |keep| self.tensor(tfields.as_ref(), p.modifiers_tensor.as_ref(), &qv, keep);
        Ok(hybrid::run(p, self.need, lex, ten, |slot| {
            // Rank a lexically retrieved candidate by tensor closeness.
            data.slot(slot)
                .map(|doc| {
                    data.chunk_ids_of(doc)
                        .filter_map(|cid| data.chunks[cid as usize].as_ref().map(|c| (cid, c)))
                        .filter(|(_, c)| tfields.as_ref().is_none_or(|f| f.contains(&c.field)))
                        .map(|(cid, c)| (closeness(embed::dot(&qv, &c.vec)), cid))
                        .max_by(|a, b| a.0.total_cmp(&b.0))
                })
                .unwrap_or(None)
        }))
    }
}

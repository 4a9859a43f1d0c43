//! Search, recommend and embed: request validation in Marqo's order (§5.2: body model → 422,
//! limit/offset bounds → 400, index → 404, filter and fields → 400), then LEXICAL, TENSOR or
//! HYBRID retrieval over the index's precomputed structures, score modifiers, offset/limit and hits.

pub mod cache;
pub mod embed;
pub mod filter;
pub mod hybrid;
pub mod lexical;
pub mod response;
pub mod topk;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value, json};

use self::embed::SparseVec;
use self::filter::{Filter, FilterCtx};
use self::topk::{Collector, Scratch, with_scratch};
use crate::auth::{Scope, authorize};
use crate::body::JsonBody;
use crate::error::{CellError, CellResult};
use crate::index_server::store::IndexData;
use crate::settings::Settings;
use crate::state::Cell;

pub const MAX_LIMIT: u64 = 1000;
pub const MAX_OFFSET: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    Tensor,
    Lexical,
    Hybrid,
}

/// `scoreModifiers`: score × Π(weight·value) + Σ(weight·value) over the fields a document has.
#[derive(Debug, Clone, Default)]
pub struct Modifiers {
    multiply: Vec<(String, f64)>,
    add: Vec<(String, f64)>,
}

impl Modifiers {
    pub fn apply(&self, score: f32, doc: &Map<String, Value>) -> f32 {
        let mut s = f64::from(score);
        for (f, w) in &self.multiply {
            if let Some(v) = doc.get(f).and_then(Value::as_f64) {
                s *= w * v;
            }
        }
        for (f, w) in &self.add {
            if let Some(v) = doc.get(f).and_then(Value::as_f64) {
                s += w * v;
            }
        }
        s as f32
    }
}

pub fn parse_modifiers(v: Option<&Value>, key: &str) -> CellResult<Option<Modifiers>> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let o = v
        .as_object()
        .ok_or_else(|| CellError::unprocessable(&["body", key], "must be an object"))?;
    let mut m = Modifiers::default();
    for (k, list) in o {
        let target = match k.as_str() {
            "multiply_score_by" => &mut m.multiply,
            "add_to_score" => &mut m.add,
            _ => {
                return Err(CellError::unprocessable(
                    &["body", key, k],
                    "extra fields not permitted",
                ));
            }
        };
        let arr = list.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
            CellError::unprocessable(&["body", key, k], "must be a non-empty list")
        })?;
        for item in arr {
            let f = item.get("field_name").and_then(Value::as_str);
            let w = item.get("weight").map_or(Some(1.0), Value::as_f64);
            match (f, w) {
                (Some("_id"), _) => {
                    return Err(CellError::InvalidArgument(
                        "score modifiers cannot use _id".into(),
                    ));
                }
                (Some(f), Some(w)) => target.push((f.to_string(), w)),
                _ => {
                    return Err(CellError::unprocessable(
                        &["body", key, k],
                        "each modifier needs field_name and a numeric weight",
                    ));
                }
            }
        }
    }
    if m.multiply.is_empty() && m.add.is_empty() {
        return Err(CellError::unprocessable(
            &["body", key],
            "at least one modifier list is required",
        ));
    }
    Ok(Some(m))
}

/// A scored candidate document.
#[derive(Debug, Clone)]
pub struct Cand {
    pub slot: u32,
    pub score: f32,
    /// The best tensor chunk (for `_highlights`), resolved only for the returned page.
    pub chunk: Option<u32>,
    pub lexical: Option<f32>,
    pub tensor: Option<f32>,
}

impl Cand {
    /// A tensor candidate: its best chunk and that chunk's closeness.
    fn tensor(slot: u32, chunk: u32, score: f32) -> Cand {
        Cand {
            slot,
            score,
            chunk: Some(chunk),
            lexical: None,
            tensor: Some(score),
        }
    }
}

pub struct SearchReq {
    pub method: Method,
    pub q: Value,
    pub limit: usize,
    pub offset: usize,
    pub filter: Option<Filter>,
    pub searchable: Option<Vec<String>>,
    pub retrieve: Option<Vec<String>>,
    pub highlights: bool,
    pub modifiers: Option<Modifiers>,
    pub context: Vec<(Vec<f32>, f32)>,
    pub hybrid: hybrid::Params,
    ef_or_approx: bool,
}

fn str_list(v: Option<&Value>, key: &str) -> CellResult<Option<Vec<String>>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    CellError::unprocessable(&["body", key], "must be a list of strings")
                })
            })
            .collect::<CellResult<Vec<_>>>()
            .map(Some),
        Some(_) => Err(CellError::unprocessable(
            &["body", key],
            "must be a list of strings",
        )),
    }
}

fn int_field(o: &Map<String, Value>, key: &str, default: i64) -> CellResult<i64> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_i64().ok_or_else(|| {
            CellError::unprocessable(&["body", key], "value is not a valid integer")
        }),
    }
}

/// Check `limit`/`offset` against Marqo's bounds.
pub fn bounds(limit: i64, offset: i64) -> CellResult<(usize, usize)> {
    if limit <= 0 || limit as u64 > MAX_LIMIT {
        return Err(CellError::IllegalDocCount(format!(
            "The search result limit must be greater than 0 and less than or equal to {MAX_LIMIT}, got {limit}"
        )));
    }
    if offset < 0 || offset as u64 > MAX_OFFSET {
        return Err(CellError::IllegalDocCount(format!(
            "The search result offset must be between 0 and {MAX_OFFSET}, got {offset}"
        )));
    }
    if (limit + offset) as u64 > MAX_OFFSET {
        return Err(CellError::IllegalDocCount(format!(
            "limit + offset must be at most {MAX_OFFSET}, got {}",
            limit + offset
        )));
    }
    Ok((limit as usize, offset as usize))
}

/// Body-model checks (422) and bounds (400); index-dependent checks come later.
pub fn parse_request(body: &Value) -> CellResult<SearchReq> {
    let o = body
        .as_object()
        .ok_or_else(|| CellError::unprocessable(&["body"], "search body must be a JSON object"))?;
    let method = match o.get("searchMethod") {
        None | Some(Value::Null) => Method::Tensor,
        Some(Value::String(s)) => match s.to_ascii_uppercase().as_str() {
            "TENSOR" => Method::Tensor,
            "LEXICAL" => Method::Lexical,
            "HYBRID" => Method::Hybrid,
            _ => {
                return Err(CellError::unprocessable(
                    &["body", "searchMethod"],
                    format!("invalid searchMethod {s}"),
                ));
            }
        },
        Some(_) => {
            return Err(CellError::unprocessable(
                &["body", "searchMethod"],
                "must be a string",
            ));
        }
    };
    let q = o.get("q").cloned().unwrap_or(Value::Null);
    match (&q, method) {
        (Value::String(_), _) => {}
        (_, Method::Lexical) => {
            return Err(CellError::unprocessable(
                &["body", "q"],
                "lexical search requires q to be a string",
            ));
        }
        (Value::Object(_) | Value::Null, _) => {}
        _ => {
            return Err(CellError::unprocessable(
                &["body", "q"],
                "q must be a string or an object",
            ));
        }
    }
    let hybrid_given = o.get("hybridParameters").is_some_and(|v| !v.is_null());
    if hybrid_given && method != Method::Hybrid {
        return Err(CellError::unprocessable(
            &["body", "hybridParameters"],
            "hybridParameters can only be provided for HYBRID search",
        ));
    }
    let hybrid = hybrid::Params::parse(o.get("hybridParameters"))?;
    let highlights = match o.get("showHighlights") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(CellError::unprocessable(
                &["body", "showHighlights"],
                "must be a boolean",
            ));
        }
    };
    let filter_src = match o.get("filter") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(CellError::unprocessable(
                &["body", "filter"],
                "filter must be a string",
            ));
        }
    };
    let mut context = Vec::new();
    if let Some(c) = o.get("context").filter(|v| !v.is_null()) {
        let list = c.get("tensor").and_then(Value::as_array).ok_or_else(|| {
            CellError::unprocessable(&["body", "context"], "context needs a tensor list")
        })?;
        for item in list {
            let v: Option<Vec<f32>> = item.get("vector").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_f64)
                    .map(|x| x as f32)
                    .collect()
            });
            let w = item.get("weight").map_or(Some(1.0), Value::as_f64);
            match (v, w) {
                (Some(v), Some(w)) => context.push((v, w as f32)),
                _ => {
                    return Err(CellError::unprocessable(
                        &["body", "context"],
                        "each context item needs vector and weight",
                    ));
                }
            }
        }
    }
    if method != Method::Lexical && q.is_null() && context.is_empty() {
        return Err(CellError::InvalidArgument(
            "either q or context is required for tensor and hybrid search".into(),
        ));
    }
    let limit = int_field(o, "limit", 10)?;
    let offset = int_field(o, "offset", 0)?;
    let modifiers = parse_modifiers(o.get("scoreModifiers"), "scoreModifiers")?;
    let ef = o.get("efSearch").is_some_and(|v| !v.is_null());
    if let Some(e) = o.get("efSearch").and_then(Value::as_i64)
        && e <= 0
    {
        return Err(CellError::InvalidArgument(
            "efSearch must be positive".into(),
        ));
    }
    let approx = o.get("approximate").is_some_and(|v| !v.is_null());
    let searchable = str_list(o.get("searchableAttributes"), "searchableAttributes")?;
    let retrieve = str_list(o.get("attributesToRetrieve"), "attributesToRetrieve")?;
    let (limit, offset) = bounds(limit, offset)?;
    let filter = filter_src.map(|f| filter::parse(&f)).transpose()?;
    Ok(SearchReq {
        method,
        q,
        limit,
        offset,
        filter,
        searchable,
        retrieve,
        highlights,
        modifiers,
        context,
        hybrid,
        ef_or_approx: ef || approx,
    })
}

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

/// The searched lexical fields.
pub fn lexical_fields(
    data: &IndexData,
    s: &Settings,
    requested: Option<&Vec<String>>,
) -> CellResult<Vec<String>> {
    if s.structured {
        let all: Vec<String> = s
            .fields
            .iter()
            .filter(|f| f.lexical)
            .map(|f| f.name.clone())
            .collect();
        if all.is_empty() {
            return Err(CellError::InvalidArgument(
                "Index has no lexically searchable fields".into(),
            ));
        }
        match requested {
            Some(r) => {
                if let Some(bad) = r.iter().find(|f| !all.contains(f)) {
                    return Err(CellError::InvalidArgument(format!(
                        "{bad} is not a lexically searchable field"
                    )));
                }
                Ok(r.clone())
            }
            None => Ok(all),
        }
    } else {
        Ok(requested
            .cloned()
            .unwrap_or_else(|| data.lex.keys().cloned().collect()))
    }
}

/// The searched tensor fields (`None` = every tensor field).
pub fn tensor_fields(
    s: &Settings,
    requested: Option<&Vec<String>>,
) -> CellResult<Option<HashSet<String>>> {
    if s.structured {
        if s.tensor_fields.is_empty() {
            return Err(CellError::InvalidArgument(
                "Index has no tensor fields".into(),
            ));
        }
        if let Some(r) = requested
            && let Some(bad) = r.iter().find(|f| !s.tensor_fields.contains(f))
        {
            return Err(CellError::InvalidArgument(format!(
                "{bad} is not a tensor field"
            )));
        }
    }
    Ok(requested.map(|r| r.iter().cloned().collect()))
}

fn dense_part(v: &[f32], s: &Settings) -> CellResult<SparseVec> {
    if v.len() != s.dim {
        return Err(CellError::InvalidArgument(format!(
            "vector has {} dimensions, the index model has {}",
            v.len(),
            s.dim
        )));
    }
    Ok(embed::from_dense(v, true))
}

/// The query vector from `q` (string, weighted map or customVector) and `context`.
pub fn query_vector(q: &Value, context: &[(Vec<f32>, f32)], s: &Settings) -> CellResult<SparseVec> {
    let mut parts: Vec<(SparseVec, f32)> = Vec::new();
    match q {
        Value::String(t) => parts.push((embed::embed_text(t, s.dim), 1.0)),
        Value::Object(m) => {
            if let Some(cv) = m.get("customVector") {
                let v: Vec<f32> = cv
                    .get("vector")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_f64)
                            .map(|x| x as f32)
                            .collect()
                    })
                    .ok_or_else(|| {
                        CellError::InvalidArgument("customVector needs a vector".into())
                    })?;
                parts.push((dense_part(&v, s)?, 1.0));
            } else {
                if m.is_empty() {
                    return Err(CellError::InvalidArgument(
                        "query dict cannot be empty".into(),
                    ));
                }
                for (text, w) in m {
                    let w = w.as_f64().ok_or_else(|| {
                        CellError::InvalidArgument("query weights must be numbers".into())
                    })?;
                    parts.push((embed::embed_text(text, s.dim), w as f32));
                }
            }
        }
        _ => {}
    }
    for (v, w) in context {
        parts.push((dense_part(v, s)?, *w));
    }
    let refs: Vec<(&SparseVec, f32)> = parts.iter().map(|(v, w)| (v, *w)).collect();
    Ok(embed::combine(&refs))
}

fn closeness(cos: f32) -> f32 {
    1.0 / (1.0 + (1.0 - cos))
}

/// kNN over tensor chunks via the dimension inverted index: the best chunk per document, then
/// (if fewer than `need` documents share a dimension with the query) documents with no overlap
/// at cosine 0, as a vector store returns the nearest documents however weak the match.
/// Candidates go to `out` (which keeps all of them or only the best few).
pub fn tensor_candidates(
    data: &IndexData,
    qv: &SparseVec,
    fields: Option<&HashSet<String>>,
    pass: &dyn Fn(u32) -> bool,
    need: usize,
    out: &mut Collector,
) {
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
            let offer = |cid: u32, cos: f32, by_slot: &mut Scratch| {
                let Some(chunk) = data.chunks.get(cid as usize).and_then(Option::as_ref) else {
                    return;
                };
                if fields.is_some_and(|f| !f.contains(&chunk.field)) {
                    return;
                }
                let e = &mut by_slot.best[chunk.slot as usize];
                if e.1 == u32::MAX {
                    by_slot.touched.push(chunk.slot);
                    *e = (cos, cid);
                } else if cos > e.0 {
                    *e = (cos, cid);
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
                let (cos, cid) = by_slot.best[slot as usize];
                if pass(slot) {
                    out.push(Cand::tensor(slot, cid, closeness(cos)));
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
                if let Some(cid) = data.chunk_ids_of(doc).find(|cid| {
                    data.chunks[*cid as usize]
                        .as_ref()
                        .is_some_and(|c| fields.is_none_or(|f| f.contains(&c.field)))
                }) {
                    out.push(Cand::tensor(slot, cid, closeness(0.0)));
                }
            }
        })
    })
}

/// Keep the best `k` by score (ties by insertion slot), sorted.
pub fn top_k(mut v: Vec<Cand>, k: usize) -> Vec<Cand> {
    let cmp = topk::better;
    if v.len() > k && k > 0 {
        v.select_nth_unstable_by(k - 1, cmp);
        v.truncate(k);
    } else if k == 0 {
        v.clear();
    }
    v.sort_unstable_by(cmp);
    v
}

fn apply_modifiers(cands: &mut [Cand], m: Option<&Modifiers>, data: &IndexData) {
    if let Some(m) = m {
        for c in cands.iter_mut() {
            if let Some(doc) = data.slot(c.slot) {
                c.score = m.apply(c.score, &doc.rec.fields);
            }
        }
    }
}

/// Run a validated request against one index's data; returns the candidates of the page
/// (serialise them with [`response::Hits`]).
pub fn execute(
    req: &SearchReq,
    data: &IndexData,
    s: &Settings,
    exclude: &HashSet<u32>,
    qv_override: Option<SparseVec>,
) -> CellResult<Vec<Cand>> {
    check_filter(&req.filter, s)?;
    let ctx = FilterCtx {
        structured: s.structured,
        max_string_len: s.filter_string_max_length,
    };
    // Postings and chunks only ever name live documents, so without a filter or exclusions a
    // candidate passes without reading its document (a cache miss per candidate otherwise).
    let unfiltered = req.filter.is_none() && exclude.is_empty();
    let pass = |slot: u32| -> bool {
        if unfiltered {
            return true;
        }
        if exclude.contains(&slot) {
            return false;
        }
        match (&req.filter, data.slot(slot)) {
            (None, Some(_)) => true,
            (Some(f), Some(doc)) => f.matches(&doc.rec.id, &doc.rec.fields, &ctx),
            (_, None) => false,
        }
    };
    let need = req.limit + req.offset;
    let modified = |score: f32, slot: u32, mods: Option<&Modifiers>| match mods {
        Some(m) => data
            .slot(slot)
            .map_or(score, |doc| m.apply(score, &doc.rec.fields)),
        None => score,
    };
    // `keep`: Some(k) → the best k, sorted; None → every candidate.
    let lexical = |fields: &[String], mods: Option<&Modifiers>, keep: Option<usize>| {
        let text = req.q.as_str().map(str::to_string).unwrap_or_else(|| {
            req.q
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>().join(" "))
                .unwrap_or_default()
        });
        let lq = lexical::parse_query(&text);
        let text_of = |slot: u32, f: &str| {
            data.slot(slot).and_then(|d| match d.rec.fields.get(f) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Array(a)) => Some(
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                _ => None,
            })
        };
        let mut out = Collector::new(keep);
        // Without modifiers the final score is the BM25 score, so the heap's floor prunes early.
        let floor = std::cell::Cell::new(f32::MIN);
        lexical::score(data, &lq, fields, text_of, &floor, |slot, score| {
            if pass(slot) {
                out.push(Cand {
                    slot,
                    score: modified(score, slot, mods),
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
    };
    let tensor = |fields: Option<&HashSet<String>>,
                  mods: Option<&Modifiers>,
                  qv: &SparseVec,
                  keep: Option<usize>| {
        match mods {
            // Modifiers reorder candidates, so collect them all before keeping the best.
            Some(m) => {
                let mut all = Collector::new(None);
                tensor_candidates(data, qv, fields, &pass, need, &mut all);
                let mut v = all.into_sorted();
                apply_modifiers(&mut v, Some(m), data);
                match keep {
                    Some(k) => top_k(v, k),
                    None => v,
                }
            }
            None => {
                let mut out = Collector::new(keep);
                tensor_candidates(data, qv, fields, &pass, need, &mut out);
                out.into_sorted()
            }
        }
    };
    let page: Vec<Cand> = match req.method {
        Method::Lexical => {
            if req.ef_or_approx {
                return Err(CellError::InvalidArgument(
                    "efSearch and approximate are not valid for LEXICAL search".into(),
                ));
            }
            let fields = lexical_fields(data, s, req.searchable.as_ref())?;
            lexical(&fields, req.modifiers.as_ref(), Some(need))
        }
        Method::Tensor => {
            let fields = tensor_fields(s, req.searchable.as_ref())?;
            let qv = match qv_override {
                Some(v) => v,
                None => query_vector(&req.q, &req.context, s)?,
            };
            tensor(fields.as_ref(), req.modifiers.as_ref(), &qv, Some(need))
        }
        Method::Hybrid => {
            let p = &req.hybrid;
            let lfields = lexical_fields(
                data,
                s,
                p.searchable_lexical.as_ref().or(req.searchable.as_ref()),
            )?;
            let tfields =
                tensor_fields(s, p.searchable_tensor.as_ref().or(req.searchable.as_ref()))?;
            let qv = query_vector(&req.q, &req.context, s)?;
            let lex = |keep| lexical(&lfields, p.modifiers_lexical.as_ref(), keep);
            let ten = |keep| tensor(tfields.as_ref(), p.modifiers_tensor.as_ref(), &qv, keep);
            hybrid::run(p, need, lex, ten, |slot| {
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
            })
        }
    };
    Ok(page.into_iter().skip(req.offset).take(req.limit).collect())
}

pub async fn search(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> CellResult<Response> {
    let started = Instant::now();
    let caller = authorize(&cell, &headers, Scope::Read)?;
    let req = parse_request(&body)?;
    let idx = cell.index_for(&caller, &name)?;
    idx.searches.fetch_add(1, Ordering::Relaxed);
    // The whole body is the cache key: anything that changes the ranking is in it.
    let key = body.to_string();
    let body = {
        let data = idx.data.read();
        let page = match data.results.get(data.version, &key) {
            Some(page) => page,
            None => {
                let page = execute(&req, &data, &idx.settings, &HashSet::new(), None)?;
                data.results.put(data.version, key, &page);
                page
            }
        };
        response::to_bytes(&response::SearchAnswer {
            hits: response::Hits {
                data: &data,
                page: &page,
                req: &req,
            },
            query: Some(&req.q),
            limit: req.limit,
            offset: req.offset,
            processing_time_ms: started.elapsed().as_millis() as u64,
        })?
    };
    Ok(response::json_response(body))
}

pub async fn recommend(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> CellResult<Response> {
    let started = Instant::now();
    let caller = authorize(&cell, &headers, Scope::Read)?;
    let o = body
        .as_object()
        .ok_or_else(|| CellError::unprocessable(&["body"], "body must be a JSON object"))?;
    let docs: Vec<(String, f32)> = match o.get("documents") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(|s| (s.to_string(), 1.0)))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                CellError::unprocessable(&["body", "documents"], "ids must be strings")
            })?,
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| v.as_f64().map(|w| (k.clone(), w as f32)))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                CellError::unprocessable(&["body", "documents"], "weights must be numbers")
            })?,
        _ => {
            return Err(CellError::unprocessable(
                &["body", "documents"],
                "field required",
            ));
        }
    };
    if docs.is_empty() {
        return Err(CellError::InvalidArgument(
            "documents cannot be empty".into(),
        ));
    }
    let mut search_body = Map::new();
    for k in [
        "limit",
        "offset",
        "filter",
        "attributesToRetrieve",
        "showHighlights",
        "scoreModifiers",
    ] {
        if let Some(v) = o.get(k) {
            search_body.insert(k.into(), v.clone());
        }
    }
    if let Some(v) = o.get("tensorFields").or(o.get("searchableAttributes")) {
        search_body.insert("searchableAttributes".into(), v.clone());
    }
    search_body.insert("q".into(), json!("recommend"));
    let req = parse_request(&Value::Object(search_body))?;
    let idx = cell.index_for(&caller, &name)?;
    let allow_missing = o
        .get("allowMissingDocuments")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let exclude_inputs = o
        .get("excludeInputDocuments")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let body = {
        let data = idx.data.read();
        let mut parts: Vec<(SparseVec, f32)> = Vec::new();
        let mut exclude = HashSet::new();
        let mut missing = Vec::new();
        for (id, w) in &docs {
            match data.get(id) {
                Some(doc) => {
                    let chunks: Vec<&SparseVec> = data
                        .chunks_of(doc)
                        .filter(|c| req.searchable.as_ref().is_none_or(|f| f.contains(&c.field)))
                        .map(|c| &c.vec)
                        .collect();
                    if !chunks.is_empty() {
                        let refs: Vec<(&SparseVec, f32)> =
                            chunks.iter().map(|v| (*v, 1.0)).collect();
                        parts.push((embed::combine(&refs), *w));
                    }
                    if exclude_inputs && let Some(slot) = data.slot_of(id) {
                        exclude.insert(slot);
                    }
                }
                None => missing.push(id.clone()),
            }
        }
        if !missing.is_empty() && !allow_missing {
            return Err(CellError::InvalidArgument(format!(
                "The following document IDs were not found: {}",
                missing.join(", ")
            )));
        }
        let refs: Vec<(&SparseVec, f32)> = parts.iter().map(|(v, w)| (v, *w)).collect();
        let qv = embed::combine(&refs);
        let page = execute(&req, &data, &idx.settings, &exclude, Some(qv))?;
        response::to_bytes(&response::SearchAnswer {
            hits: response::Hits {
                data: &data,
                page: &page,
                req: &req,
            },
            query: None,
            limit: req.limit,
            offset: req.offset,
            processing_time_ms: started.elapsed().as_millis() as u64,
        })?
    };
    Ok(response::json_response(body))
}

pub async fn embed_route(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> CellResult<Json<Value>> {
    let started = Instant::now();
    let caller = authorize(&cell, &headers, Scope::Read)?;
    let content = body
        .get("content")
        .cloned()
        .ok_or_else(|| CellError::unprocessable(&["body", "content"], "field required"))?;
    let idx = cell.index_for(&caller, &name)?;
    let s = &idx.settings;
    let items: Vec<Value> = match &content {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    if items.is_empty() {
        return Err(CellError::InvalidArgument("content cannot be empty".into()));
    }
    let mut out = Vec::new();
    for item in &items {
        let v = match item {
            Value::String(t) => embed::embed_text(t, s.dim),
            Value::Object(m) if !m.is_empty() => query_vector(item, &[], s)?,
            _ => {
                return Err(CellError::InvalidArgument(
                    "content items must be strings or non-empty {text: weight} maps".into(),
                ));
            }
        };
        out.push(embed::dense(&v, s.dim));
    }
    Ok(Json(json!({
        "content": content, "embeddings": out,
        "processingTimeMs": started.elapsed().as_secs_f64() * 1000.0,
    })))
}

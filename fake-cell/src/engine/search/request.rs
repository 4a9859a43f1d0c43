//! A search request parsed from its JSON body in Marqo's order (§5.2): body model → 422,
//! limit/offset bounds → 400; index-dependent checks happen when it runs.

use serde_json::{Map, Value};

use super::filter::{self, Filter};
use super::hybrid;
use super::modifiers::{Modifiers, parse_modifiers};
use crate::config::MarqoLimits;
use crate::engine::model::{self, lookup};
use crate::error::{CellError, CellResult};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    Tensor,
    Lexical,
    Hybrid,
}

/// Marqo's telemetry timers for one search method's phases (`tensor_search.py`,
/// `hybrid_search.py`).
pub struct Timers {
    pub processing: &'static str,
    pub inference: Option<&'static str>,
    pub vespa: &'static str,
    pub postprocess: &'static str,
}

impl Method {
    pub fn timers(self) -> Timers {
        match self {
            Method::Lexical => Timers {
                processing: "search.lexical.processing_before_vespa",
                inference: None,
                vespa: "search.lexical.vespa",
                postprocess: "search.lexical.postprocess",
            },
            Method::Tensor => Timers {
                processing: "search.vector.processing_before_vespa",
                inference: Some("search.vector_inference_full_pipeline"),
                vespa: "search.vector.vespa",
                postprocess: "search.vector.postprocess",
            },
            Method::Hybrid => Timers {
                processing: "search.hybrid.processing_before_vespa",
                inference: Some("search.hybrid.vector_inference_full_pipeline"),
                vespa: "search.hybrid.vespa",
                postprocess: "search.hybrid.postprocess",
            },
        }
    }
}

impl Timers {
    /// Pre-processing ends and retrieval begins (whichever path gets here first counts).
    pub fn retrieving(&self) {
        crate::timings::stop(self.processing);
        crate::timings::start(self.vespa);
    }

    /// `f` (the query's embedding), timed as the method's vector inference.
    pub fn infer<R>(&self, f: impl FnOnce() -> R) -> R {
        match self.inference {
            Some(k) => crate::timings::time(k, f),
            None => f(),
        }
    }

    /// Retrieval ends and the answer is written.
    pub fn postprocessing(&self) {
        crate::timings::stop(self.vespa);
        crate::timings::start(self.postprocess);
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
    /// `context.documents`: their vectors join the query's (added by the handler, which holds
    /// the index's data).
    pub context_docs: Option<super::context::Documents>,
    pub hybrid: hybrid::Params,
    pub ef_or_approx: bool,
    /// The request's own `efSearch`: Marqo's tensor retrieval asks Vespa for
    /// `min(limit + offset, efSearch)` nearest neighbours (`targetHits`), so a smaller
    /// `efSearch` returns fewer hits.
    pub ef_cap: Option<usize>,
    /// HYBRID: what each leg searches for.
    pub legs: Option<Legs>,
    /// Everything applied around retrieval (see `pipeline`).
    pub post: super::pipeline::Post,
    /// A `reRanker` was named: Marqo ≥ 2.17 runs the search, then refuses it
    /// ([`SearchReq::refuse_reranker`]).
    pub reranker: bool,
}

impl SearchReq {
    /// Marqo's `search` once the results are in: `Reranker is no longer supported in Marqo
    /// version 2.17 and later` (so every error of the search itself comes first).
    pub fn refuse_reranker(&self) -> CellResult<()> {
        if self.reranker {
            return Err(CellError::InvalidArgument(
                "Reranker is no longer supported in Marqo version 2.17 and later".into(),
            ));
        }
        Ok(())
    }
}

/// HYBRID's query per leg, as `hybrid_search.search` splits it: `q` for both, a
/// `customVector`'s vector and `content`, or `hybridParameters.queryTensor` / `queryLexical`.
pub struct Legs {
    /// What the tensor leg embeds (`null`: only context vectors).
    pub tensor: Value,
    /// The lexical leg's text; `None` matches nothing (Vespa's `false`).
    pub lexical: Option<String>,
}

fn legs(q: &Value, hp: Option<&Value>, p: &hybrid::Params, has_context: bool) -> CellResult<Legs> {
    use hybrid::Side;
    let given = |k: &str| hp.and_then(|h| h.get(k)).filter(|v| !v.is_null());
    let bad = |m: &str| Err(CellError::InvalidArgument(m.to_string()));
    let both = |side: Side| p.retrieval == side && p.ranking == side;
    let (tensor, lexical) = match q {
        Value::Null => {
            let (t, l) = (given("queryTensor"), given("queryLexical"));
            if t.is_some() && both(Side::Lexical) {
                return bad(
                    "'hybridParameters.queryTensor' cannot be provided when 'retrievalMethod' and 'rankingMethod' are both 'lexical'.",
                );
            }
            if l.is_some() && both(Side::Tensor) {
                return bad(
                    "'hybridParameters.queryLexical' cannot be provided when 'retrievalMethod' and 'rankingMethod' are both 'tensor'.",
                );
            }
            (t.cloned(), l.and_then(Value::as_str).map(str::to_string))
        }
        Value::Object(m) if m.get("customVector").is_some_and(Value::is_object) => (
            Some(q.clone()),
            m["customVector"]
                .get("content")
                .and_then(Value::as_str)
                .map(str::to_string),
        ),
        Value::String(t) => (Some(q.clone()), Some(t.clone())),
        other => (Some(other.clone()), None),
    };
    // Current Marqo's `hybrid_search`: only a missing lexical query is refused here (the
    // tensor leg may come from context; without any, vectorising refuses it). Its words,
    // without the space its two joined literals lack.
    if lexical.is_none() && p.retrieval == Side::Disjunction {
        return bad(
            "Either 'hybridParameters.queryLexical' or just 'q'must be present when 'disjunction' retrieval method is used.",
        );
    }
    if tensor.is_none() && lexical.is_none() {
        if !both(Side::Tensor) {
            return bad(
                "Query cannot be 'None' for hybrid search unless: (1) retrievalMethod and rankingMethod \
                 are both 'tensor' and 'context' is given or (2) One or both of queryLexical and queryTensor \
                 are provided (depending on retrievalMethod and rankingMethod) instead.",
            );
        }
        if !has_context {
            return bad("Query cannot be 'None' for hybrid search unless 'context' is provided.");
        }
    }
    Ok(Legs {
        tensor: tensor.unwrap_or(Value::Null),
        lexical,
    })
}

fn str_list(v: Option<&Value>, key: &str) -> CellResult<Option<Vec<String>>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                model::str_field(x).map_err(|_| {
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
        Some(v) => model::as_int(v).ok_or_else(|| {
            CellError::unprocessable(&["body", key], "value is not a valid integer")
        }),
    }
}

/// The checks `tensor_search.search` makes before `validate_query`.
fn low_bounds(limit: i64, offset: i64) -> CellResult<()> {
    if limit <= 0 {
        return Err(CellError::IllegalDocCount(format!(
            "result_count must be an integer greater than 0! Received {limit}"
        )));
    }
    if offset < 0 {
        return Err(CellError::IllegalDocCount(
            "search result offset cannot be less than 0!".into(),
        ));
    }
    Ok(())
}

/// The checks `tensor_search.search` makes after `validate_query`, against Marqo's limits.
fn high_bounds(limit: i64, offset: i64, m: &MarqoLimits) -> CellResult<(usize, usize)> {
    if limit.saturating_add(offset) as u64 > m.retrievable_docs {
        return Err(CellError::IllegalDocCount(format!(
            "The search result limit + offset must be less than or equal to the \
             MARQO_MAX_RETRIEVABLE_DOCS limit of [{}].  Marqo received search result \
             limit of `{limit}` and offset of `{offset}`.",
            m.retrievable_docs
        )));
    }
    if limit as u64 > m.search_limit {
        return Err(CellError::IllegalDocCount(format!(
            "The search result limit must be less than or equal to the MARQO_MAX_SEARCH_LIMIT \
             limit of [{}]. Marqo received search result limit of `{limit}`.",
            m.search_limit
        )));
    }
    if offset as u64 > m.search_offset {
        return Err(CellError::IllegalDocCount(format!(
            "The search result offset must be less than or equal to the MARQO_MAX_SEARCH_OFFSET \
             limit of [{}]. Marqo received search result offset of `{offset}`.",
            m.search_offset
        )));
    }
    Ok((limit as usize, offset as usize))
}

/// Marqo's `validate_searchable_attributes` (TENSOR only): with
/// `MARQO_MAX_SEARCHABLE_TENSOR_ATTRIBUTES` set, a search must name at most that many.
fn searchable_tensor_attributes(given: Option<&[String]>, limits: &MarqoLimits) -> CellResult<()> {
    let Some(max) = limits.searchable_tensor_attributes else {
        return Ok(());
    };
    match given {
        None => Err(CellError::InvalidArgument(
            "No searchable_attributes provided, but environment variable \
             `MARQO_MAX_SEARCHABLE_TENSOR_ATTRIBUTES` is set."
                .into(),
        )),
        Some(list) if list.len() > max => Err(CellError::InvalidArgument(format!(
            "Maximum searchable attributes (set via `MARQO_MAX_SEARCHABLE_TENSOR_ATTRIBUTES`) for \
             tensor search is {max}, received {}.",
            list.len()
        ))),
        Some(_) => Ok(()),
    }
}

/// The search body as the engine runs it: body-model checks (422) and bounds (400) against
/// Marqo's `limits`; index-dependent checks come later.
pub fn parse_request(body: &Value, limits: &MarqoLimits) -> CellResult<SearchReq> {
    let o = body
        .as_object()
        .ok_or_else(|| CellError::unprocessable(&["body"], "search body must be a JSON object"))?;
    let method = parse_method(lookup(o, "searchMethod"))?;
    let q = match lookup(o, "q") {
        None => Value::Null,
        Some(q) => super::query::coerce(q).or_else(|items| {
            let mut errs = model::Errors::default();
            errs.nested(&["body"], items);
            errs.into_result().map(|()| Value::Null)
        })?,
    };
    let hybrid_given = model::given(o, "hybridParameters").is_some();
    if hybrid_given && method != Method::Hybrid {
        return Err(CellError::unprocessable(
            &["body", "hybridParameters"],
            "hybridParameters can only be provided for HYBRID search",
        ));
    }
    let hybrid = hybrid::Params::parse(lookup(o, "hybridParameters"))?;
    // The body model coerced these as pydantic 1 does ("false" is a boolean, 5 a filter).
    let highlights = match lookup(o, "showHighlights") {
        None | Some(Value::Null) => true,
        Some(v) => model::as_bool(v).ok_or_else(|| {
            CellError::unprocessable(&["body", "showHighlights"], "must be a boolean")
        })?,
    };
    let filter_src = match lookup(o, "filter") {
        None | Some(Value::Null) => None,
        Some(v) => Some(model::str_field(v).map_err(|_| {
            CellError::unprocessable(&["body", "filter"], "filter must be a string")
        })?),
    };
    let context = super::context::parse(lookup(o, "context"));
    let context_docs = super::context::documents(lookup(o, "context"));
    if method == Method::Tensor && q.is_null() && context.is_empty() && context_docs.is_none() {
        return Err(CellError::InvalidArgument(
            "either q or context is required for tensor and hybrid search".into(),
        ));
    }
    let limit = int_field(o, "limit", 10)?;
    let offset = int_field(o, "offset", 0)?;
    let modifiers = parse_modifiers(lookup(o, "scoreModifiers"), "scoreModifiers")?;
    let ef = model::given(o, "efSearch").is_some();
    if let Some(e) = lookup(o, "efSearch").and_then(Value::as_i64)
        && e <= 0
    {
        return Err(CellError::InvalidArgument(
            "efSearch must be positive".into(),
        ));
    }
    let approx = model::given(o, "approximate").is_some();
    let searchable = str_list(lookup(o, "searchableAttributes"), "searchableAttributes")?;
    let retrieve = str_list(lookup(o, "attributesToRetrieve"), "attributesToRetrieve")?;
    // Marqo's order: low bounds, then `validate_query`, then the upper bounds.
    low_bounds(limit, offset)?;
    super::query::validate_query(&q, method)?;
    let (limit, offset) = high_bounds(limit, offset, limits)?;
    let has_context = model::given(o, "context").is_some();
    if let (Method::Tensor, Value::String(text), true) = (method, &q, has_context) {
        return Err(string_query_with_context(text, true));
    }
    if method == Method::Tensor {
        searchable_tensor_attributes(searchable.as_deref(), limits)?;
    }
    // Current Marqo bounds a TENSOR or HYBRID search's context documents (zero weights count).
    if let Some(docs) = context_docs.as_ref().filter(|_| method != Method::Lexical)
        && docs.ids.len() > limits.search_context_docs
    {
        return Err(CellError::IllegalDocCount(format!(
            "Search context documents limit exceeded. Maximum allowed is {}, but got {}. \
             To increase, set the environment variable 'MARQO_MAX_SEARCH_CONTEXT_DOCS'",
            limits.search_context_docs,
            docs.ids.len()
        )));
    }
    let filter = filter_src.map(|f| filter::parse(&f)).transpose()?;
    let mut post = super::pipeline::Post::parse(o)?;
    let ef_cap = post.ann.ef_search;
    post.ann.ef_search.get_or_insert(limits.default_ef_search);
    let legs = match method {
        Method::Hybrid => Some(legs(
            &q,
            lookup(o, "hybridParameters"),
            &hybrid,
            !context.is_empty() || context_docs.is_some(),
        )?),
        _ => None,
    };
    if let (Some(Value::String(text)), true) = (legs.as_ref().map(|l| &l.tensor), has_context) {
        return Err(string_query_with_context(text, false));
    }
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
        context_docs,
        hybrid,
        ef_or_approx: ef || approx,
        ef_cap,
        legs,
        post,
        reranker: model::given(o, "reRanker").is_some(),
    })
}

/// A text query with `context`: TENSOR's `validate_context` (checked with the bounds), or
/// HYBRID's vectoriser (context combines only with a weighted query or a custom vector).
fn string_query_with_context(text: &str, tensor: bool) -> CellError {
    CellError::InvalidArgument(if tensor {
        format!(
            "Marqo received a query = `{text}` with type =`str` and a parameter `context`.\n\
             This is not supported as the context only works when the query is a dictionary.\
             If you aim to search with your custom vectors, reformat the query as a dictionary.\n\
             Please check `https://docs.marqo.ai/2.23/reference/api/search/search/#context` for more information."
        )
    } else {
        format!(
            "Cannot use 'context' for a search with a string 'q' (or queryTensor): '{text}'. \
             To use 'context', please provide a dictionary or a CustomVectorQuery object as the query instead."
        )
    })
}

/// `searchMethod`, TENSOR when absent.
fn parse_method(v: Option<&Value>) -> CellResult<Method> {
    Ok(match v {
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
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn marqos_limits_bound_a_search_and_give_its_default_ef_search() {
        let limits = MarqoLimits {
            search_limit: 5,
            search_offset: 3,
            retrievable_docs: 7,
            default_ef_search: 77,
            ..MarqoLimits::default()
        };
        let parse = |b: serde_json::Value| parse_request(&b, &limits);
        let ef = |b| {
            parse(b)
                .map(|r| r.post.ann.ef_search)
                .unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(ef(json!({"q": "x", "limit": 1})), Some(77));
        assert_eq!(ef(json!({"q": "x", "limit": 1, "efSearch": 5})), Some(5));
        let refused = |b| match parse(b) {
            Err(CellError::IllegalDocCount(m)) => m,
            other => panic!("{:?}", other.map(|r| r.limit)),
        };
        assert!(
            refused(json!({"q": "x", "limit": 6})).contains("MARQO_MAX_SEARCH_LIMIT limit of [5]")
        );
        assert!(
            refused(json!({"q": "x", "limit": 1, "offset": 4}))
                .contains("MARQO_MAX_SEARCH_OFFSET limit of [3]")
        );
        // Marqo checks limit + offset first.
        assert!(
            refused(json!({"q": "x", "limit": 5, "offset": 3}))
                .contains("MARQO_MAX_RETRIEVABLE_DOCS limit of [7]")
        );
        assert!(parse(json!({"q": "x", "limit": 5, "offset": 2})).is_ok());
    }

    #[test]
    fn context_documents_are_bounded_by_marqo_max_search_context_docs() {
        let limits = MarqoLimits {
            search_context_docs: 2,
            ..MarqoLimits::default()
        };
        let docs = |n: usize| {
            let ids: serde_json::Map<String, Value> =
                (0..n).map(|i| (format!("d{i}"), json!(0))).collect();
            json!({"q": {"x": 1}, "context": {"documents": {"ids": ids}}})
        };
        assert!(parse_request(&docs(2), &limits).is_ok());
        match parse_request(&docs(3), &limits) {
            Err(CellError::IllegalDocCount(m)) => assert_eq!(
                m,
                "Search context documents limit exceeded. Maximum allowed is 2, but got 3. \
                 To increase, set the environment variable 'MARQO_MAX_SEARCH_CONTEXT_DOCS'"
            ),
            other => panic!("{:?}", other.map(|r| r.limit)),
        }
        assert_eq!(MarqoLimits::default().search_context_docs, 10);
    }

    #[test]
    fn a_set_searchable_tensor_attributes_limit_binds_tensor_searches_only() {
        let limits = MarqoLimits {
            searchable_tensor_attributes: Some(1),
            ..MarqoLimits::default()
        };
        let message = |b: serde_json::Value| match parse_request(&b, &limits) {
            Ok(_) => "ok".to_string(),
            Err(e) => e.to_string(),
        };
        assert_eq!(
            message(json!({"q": "x"})),
            "No searchable_attributes provided, but environment variable \
             `MARQO_MAX_SEARCHABLE_TENSOR_ATTRIBUTES` is set."
        );
        assert_eq!(
            message(json!({"q": "x", "searchableAttributes": ["a", "b"]})),
            "Maximum searchable attributes (set via `MARQO_MAX_SEARCHABLE_TENSOR_ATTRIBUTES`) for \
             tensor search is 1, received 2."
        );
        assert_eq!(
            message(json!({"q": "x", "searchableAttributes": ["a"]})),
            "ok"
        );
        assert_eq!(message(json!({"q": "x", "searchMethod": "LEXICAL"})), "ok");
        assert_eq!(message(json!({"q": "x", "searchMethod": "HYBRID"})), "ok");
    }
}

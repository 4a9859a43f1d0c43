//! The search body as Marqo's `SearchQuery` and `HybridParameters` pydantic models check it
//! (`tensor_search/models/api_models.py`, `core/models/hybrid_parameters.py` of the 2.2x line):
//! unknown keys and wrong types are 422 items, then the root validators' messages — parameters
//! only HYBRID accepts, `language` not for TENSOR, the retrieval/ranking pairs. Runs before the
//! engine parses the body, so a request Marqo refuses never reaches a search.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::engine::model::{Errors, Field, Kind, as_bool, as_float, as_int, given};
use crate::error::CellResult;

const METHODS: &[&str] = &["LEXICAL", "TENSOR", "HYBRID"];
const RETRIEVAL: &[&str] = &["disjunction", "tensor", "lexical"];
const RANKING: &[&str] = &["rrf", "tensor", "lexical"];
const OPERANDS: &[&str] = &["or", "and", "weakAnd"];
pub const INTERPOLATION: &[&str] = &["lerp", "nlerp", "slerp"];

/// `SearchQuery`'s fields in declaration order (`image_download_headers`, `sortBy`,
/// `relevanceCutoff` and `collapseFields` are aliases: only that spelling is accepted).
const SEARCH_FIELDS: &[Field] = &[
    Field("q", Kind::Any, true),
    Field("searchableAttributes", Kind::StrList, true),
    Field("searchMethod", Kind::Enum(METHODS), true),
    Field("limit", Kind::Int, false),
    Field("offset", Kind::Int, false),
    Field("rerankDepth", Kind::Int, true),
    Field("efSearch", Kind::Int, true),
    Field("approximate", Kind::Bool, true),
    Field("approximateThreshold", Kind::Float, true),
    Field("showHighlights", Kind::Bool, false),
    Field("reRanker", Kind::Str, true),
    Field("filter", Kind::Str, true),
    Field("attributesToRetrieve", Kind::StrList, true),
    Field("boost", Kind::Map, true),
    Field("image_download_headers", Kind::Map, true),
    Field("mediaDownloadHeaders", Kind::Map, true),
    Field("context", Kind::Model(super::context::check), true),
    Field(
        "scoreModifiers",
        Kind::Model(crate::engine::search::modifiers::check),
        true,
    ),
    Field(
        "modelAuth",
        Kind::Model(crate::engine::model_auth::check),
        true,
    ),
    Field("textQueryPrefix", Kind::Str, true),
    Field("hybridParameters", Kind::Dict, true),
    Field("facets", Kind::Dict, true),
    Field("trackTotalHits", Kind::Bool, true),
    Field("language", Kind::Str, true),
    Field("sortBy", Kind::Dict, true),
    Field("relevanceCutoff", Kind::Dict, true),
    Field("interpolationMethod", Kind::EnumNoCase(INTERPOLATION), true),
    Field("collapseFields", Kind::List, true),
    Field("recencyParameters", Kind::Dict, true),
];

const HYBRID_FIELDS: &[Field] = &[
    Field("retrievalMethod", Kind::Enum(RETRIEVAL), true),
    Field("rankingMethod", Kind::Enum(RANKING), true),
    Field("alpha", Kind::Float, true),
    Field("rrfK", Kind::Any, true),
    Field("searchableAttributesLexical", Kind::StrList, true),
    Field("searchableAttributesTensor", Kind::StrList, true),
    Field("verbose", Kind::Bool, false),
    Field(
        "scoreModifiersLexical",
        Kind::Model(crate::engine::search::modifiers::check),
        true,
    ),
    Field(
        "scoreModifiersTensor",
        Kind::Model(crate::engine::search::modifiers::check),
        true,
    ),
    Field("rerankDepthTensor", Kind::Int, true),
    Field("rerankDepthLexical", Kind::Int, true),
    Field("queryLexical", Kind::Str, true),
    Field("queryTensor", Kind::Any, true),
    Field("weakAndParameters", Kind::Dict, true),
    Field("rerankCount", Kind::Int, true),
    Field("secondPhaseModifier", Kind::Bool, true),
    Field("lexicalOperand", Kind::Enum(OPERANDS), true),
];

/// Check a search body the way Marqo's `SearchQuery` model does; 422 on any failure.
pub fn check(o: &Map<String, Value>) -> CellResult<()> {
    let mut errs = Errors::default();
    // The `searchMethod` pre-validator upper-cases a string before the enum check (a copy of
    // the body only when that changes it: most clients send it upper-case).
    let body = match crate::engine::model::lookup(o, "searchMethod") {
        Some(Value::String(s)) if s.bytes().any(|b| b.is_ascii_lowercase()) => {
            let mut b = o.clone();
            b.insert("searchMethod".into(), Value::String(s.to_ascii_uppercase()));
            Cow::Owned(b)
        }
        _ => Cow::Borrowed(o),
    };
    let body: &Map<String, Value> = &body;
    // `q` (the first field) is a union the generic kinds do not cover.
    if let Some(q) = given(body, "q").filter(|q| !q.is_string())
        && let Err(items) = super::query::coerce(q)
    {
        errs.nested(&["body"], items);
    }
    errs.check(body, &["body"], SEARCH_FIELDS, &[]);
    super::params::check(body, &mut errs);
    let hybrid = given(body, "hybridParameters").and_then(Value::as_object);
    let mark = errs.len();
    let ranking_rrf = hybrid.is_none_or(|h| check_hybrid(h, &mut errs));
    let hybrid_failed = errs.len() > mark;
    let method = given(body, "searchMethod")
        .and_then(Value::as_str)
        .unwrap_or("TENSOR");
    if errs.aborted() {
        return errs.into_result();
    }
    if !errs.is_empty() {
        // Root validators with `skip_on_failure` see only the fields that validated; of
        // `SearchQuery`'s, only the HYBRID-only check of `hybridParameters` runs regardless.
        let failed = errs.failed_since(0, 1);
        let method_ok = !failed.iter().any(|k| k == "searchMethod");
        if method_ok && hybrid.is_some() && !hybrid_failed && method != "HYBRID" {
            errs.root(&["body"], hybrid_only("Hybrid parameters", method));
        }
        return errs.into_result();
    }
    root_validators(body, method, hybrid, ranking_rrf, &mut errs);
    errs.into_result()
}

/// `HybridParameters`: fields, unknown keys, then its validators; returns whether the
/// ranking method is `rrf` (what `rerankDepth` needs).
fn check_hybrid(h: &Map<String, Value>, errs: &mut Errors) -> bool {
    const AT: &[&str] = &["body", "hybridParameters"];
    let mark = errs.len();
    errs.check(h, AT, HYBRID_FIELDS, &[]);
    // A method that failed its enum is absent from the values `validate_properties` sees.
    let failed = errs.failed_since(mark, 2);
    let method_of = |key: &str, default: &'static str| -> String {
        if failed.iter().any(|k| k == key) {
            String::new()
        } else {
            given(h, key)
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_string()
        }
    };
    let retrieval = method_of("retrievalMethod", "disjunction");
    let ranking = method_of("rankingMethod", "rrf");
    let (retrieval, ranking) = (retrieval.as_str(), ranking.as_str());
    if let Some(a) = given(h, "alpha").and_then(as_float)
        && !(0.0..=1.0).contains(&a)
    {
        errs.value(AT, "alpha", "alpha can only be between 0 and 1");
    }
    if let Some(k) = given(h, "rrfK") {
        match k.as_i64() {
            None => errs.value(AT, "rrfK", "rrfK must be an integer"),
            Some(n) if n < 0 => {
                errs.value(AT, "rrfK", "rrfK can only be greater than or equal to 0")
            }
            Some(_) => {}
        }
    }
    for key in ["rerankDepthLexical", "rerankCount"] {
        if given(h, key).and_then(as_int).is_some_and(|n| n < 1) {
            errs.push(
                vec![AT[0].into(), AT[1].into(), key.into()],
                "ensure this value is greater than or equal to 1",
                "value_error.number.not_ge",
            );
        }
    }
    if errs.aborted() {
        return ranking == "rrf";
    }
    // `validate_properties` has no `skip_on_failure`: it runs on the fields that validated.
    let failed = errs.failed_since(mark, 2);
    hybrid_pairs(h, retrieval, ranking, &failed, errs);
    ranking == "rrf"
}

/// `HybridParameters.validate_properties` and its sibling root validators, in order.
fn hybrid_pairs(
    h: &Map<String, Value>,
    retrieval: &str,
    ranking: &str,
    failed: &[String],
    errs: &mut Errors,
) {
    const AT: &[&str] = &["body", "hybridParameters"];
    let mut first: Option<&str> = None;
    let has = |k: &str| given(h, k).is_some() && !failed.iter().any(|f| f == k);
    if has("alpha") && ranking != "rrf" {
        first = Some("'alpha' can only be defined for 'rrf' ranking method");
    } else if has("rrfK") && ranking != "rrf" {
        first = Some("'rrfK' can only be defined for 'rrf' ranking method");
    } else if has("searchableAttributesLexical")
        && !(matches!(retrieval, "lexical" | "disjunction") || ranking == "lexical")
    {
        first = Some(
            "'searchableAttributesLexical' can only be defined for 'lexical', 'disjunction' retrieval methods or 'lexical' ranking method",
        );
    } else if has("searchableAttributesTensor")
        && !(matches!(retrieval, "tensor" | "disjunction") || ranking == "tensor")
    {
        first = Some(
            "'searchableAttributesTensor' can only be defined for 'tensor', 'disjunction' retrieval methods or 'tensor' ranking method",
        );
    } else if has("scoreModifiersLexical")
        && !(matches!(ranking, "lexical" | "rrf") || retrieval == "lexical")
    {
        first = Some(
            "'scoreModifiersLexical' can only be defined for 'lexical', 'rrf' ranking methods or 'lexical' retrieval method.",
        );
    } else if has("scoreModifiersTensor") && !matches!(ranking, "tensor" | "rrf") {
        first =
            Some("'scoreModifiersTensor' can only be defined for 'tensor', 'rrf', ranking methods");
    } else if retrieval == "disjunction" && ranking != "rrf" {
        first = Some("For retrievalMethod: disjunction, rankingMethod must be: rrf");
    } else if matches!(retrieval, "tensor" | "lexical") && !matches!(ranking, "tensor" | "lexical")
    {
        first = Some(
            "For retrievalMethod: tensor or lexical, rankingMethod must be: tensor or lexical",
        );
    }
    if let Some(msg) = first {
        errs.root(AT, msg);
    }
    if has("rerankDepthLexical") && !matches!(retrieval, "lexical" | "disjunction") {
        errs.root(
            AT,
            "'rerankDepthLexical' can only be set when 'retrievalMethod' is 'lexical' or 'disjunction'",
        );
    }
    if has("weakAndParameters") && !has("rerankDepthLexical") {
        errs.root(
            AT,
            "'weakAndParameters' can only be set when 'rerankDepthLexical' is set",
        );
    }
    let second = given(h, "secondPhaseModifier").and_then(as_bool) == Some(true);
    if second && !((retrieval == "lexical" && ranking == "lexical") || retrieval == "disjunction") {
        errs.root(
            AT,
            "'secondPhaseModifier' can only be set to True when 'retrievalMethod' is 'disjunction' or both 'retrievalMethod' and 'rankingMethod' are 'lexical'",
        );
    }
}

/// The words most of `SearchQuery`'s HYBRID-only validators raise.
fn hybrid_only(what: &str, method: &str) -> String {
    format!("{what} can only be provided for 'HYBRID' search. Search method is {method}.")
}

/// `SearchQuery`'s root validators in declaration order, each adding its own item.
fn root_validators(
    o: &Map<String, Value>,
    method: &str,
    hybrid: Option<&Map<String, Value>>,
    ranking_rrf: bool,
    errs: &mut Errors,
) {
    const AT: &[&str] = &["body"];
    let has = |k: &str| given(o, k).is_some();
    query_and_context(o, method, hybrid, errs);
    // The message is written only when the validator raises (this runs on every search).
    let only_hybrid = |key: &str, msg: &dyn Fn() -> String, errs: &mut Errors| {
        if has(key) && method != "HYBRID" {
            errs.root(AT, msg());
        }
    };
    only_hybrid(
        "hybridParameters",
        &|| hybrid_only("Hybrid parameters", method),
        errs,
    );
    rerank_depth(o, method, hybrid, ranking_rrf, errs);
    only_hybrid("facets", &|| hybrid_only("Facets", method), errs);
    only_hybrid(
        "recencyParameters",
        &|| hybrid_only("Recency parameters", method),
        errs,
    );
    if given(o, "trackTotalHits").and_then(as_bool) == Some(true) && method != "HYBRID" {
        errs.root(AT, hybrid_only("trackTotalHits", method));
    }
    approximate_threshold(o, method, errs);
    if given(o, "language").is_some_and(|l| l.as_str() != Some("")) && method == "TENSOR" {
        errs.root(
            AT,
            "language parameter is not supported for TENSOR search method. Language specification only applies to lexical and hybrid search.",
        );
    }
    only_hybrid(
        "relevanceCutoff",
        &|| {
            format!(
                "relevanceCutoff can only be provided for 'HYBRID' search, but received search method '{method}'"
            )
        },
        errs,
    );
    only_hybrid(
        "sortBy",
        &|| {
            format!(
                "sortBy can only be provided for 'HYBRID' search, but received search method {method}"
            )
        },
        errs,
    );
    sort_by_conflicts(o, errs);
    // Current Marqo: personalisation by context documents needs a tensor leg.
    if given(o, "context").is_some_and(|c| given_in(c, "documents")) {
        let lexical_only = hybrid.is_some_and(|h| {
            let is = |k: &str| {
                given(h, k)
                    .and_then(Value::as_str)
                    .is_some_and(|m| m.eq_ignore_ascii_case("lexical"))
            };
            is("retrievalMethod") && is("rankingMethod")
        });
        if method == "LEXICAL" {
            errs.root(AT, "Context is not supported for lexical search");
        } else if method == "HYBRID" && lexical_only {
            errs.root(
                AT,
                "Context is not supported for lexical/lexical hybrid search",
            );
        }
    }
    only_hybrid(
        "collapseFields",
        &|| hybrid_only("collapseFields", method),
        errs,
    );
    if let Some(c) = given(o, "collapseFields").and_then(Value::as_array)
        && c.len() != 1
    {
        errs.root(AT, "Exactly one collapse field must be provided");
    }
}

/// Current Marqo's first two root validators, both `skip_on_failure`: the download headers
/// (when it raises, the query check after it is skipped; empty maps are falsy in Python), then
/// `validate_query_and_context`.
fn query_and_context(
    o: &Map<String, Value>,
    method: &str,
    hybrid: Option<&Map<String, Value>>,
    errs: &mut Errors,
) {
    const AT: &[&str] = &["body"];
    let hybrid_query = hybrid
        .is_some_and(|h| given(h, "queryTensor").is_some() || given(h, "queryLexical").is_some());
    let has = |k: &str| given(o, k).is_some();
    let set = |k: &str| crate::engine::model::non_empty_map(o, k);
    if set("image_download_headers") && set("mediaDownloadHeaders") {
        errs.root(
            AT,
            "Cannot set both imageDownloadHeaders(image_download_headers) and mediaDownloadHeaders. \
             'imageDownloadHeaders'(image_download_headers) is deprecated and will be removed in the future. \
             Use mediaDownloadHeaders instead.",
        );
    } else if !has("q") {
        match method {
            "LEXICAL" => errs.root(AT, "Query(q) is required for lexical search"),
            "TENSOR" if !has("context") => errs.root(
                AT,
                "One of Query(q) or context is required for TENSOR search but both are missing",
            ),
            "HYBRID" if !has("context") && !hybrid_query => errs.root(
                AT,
                "One of Query(q), context, hybridParameters.queryTensor, or hybridParameters.queryTensor is required for HYBRID search but all are missing",
            ),
            _ => {}
        }
    } else if method == "HYBRID" && hybrid_query {
        errs.root(
            AT,
            "Query(q) cannot be provided for HYBRID search when hybridParameters.queryTensor or hybridParameters.queryLexical is provided",
        );
    }
}

/// `validate_rerank_depth`: its first failure ends it.
fn rerank_depth(
    o: &Map<String, Value>,
    method: &str,
    hybrid: Option<&Map<String, Value>>,
    ranking_rrf: bool,
    errs: &mut Errors,
) {
    const AT: &[&str] = &["body"];
    let depth_error = given(o, "rerankDepth").and_then(as_int).and_then(|depth| {
        if method == "LEXICAL" {
            Some("'rerankDepth' is currently not supported for 'LEXICAL' search method.")
        } else if hybrid.is_some() && !ranking_rrf {
            Some("'rerankDepth' is currently only supported for 'HYBRID' search with the 'RRF' rankingMethod.")
        } else if depth < 0 {
            Some("rerankDepth cannot be negative.")
        } else {
            None
        }
    });
    let tensor_depth_negative = hybrid
        .and_then(|h| given(h, "rerankDepthTensor"))
        .and_then(as_int)
        .is_some_and(|d| d < 0);
    match depth_error {
        Some(msg) => errs.root(AT, msg),
        None if tensor_depth_negative => errs.root(AT, "rerankDepthTensor cannot be negative."),
        None => {}
    }
}

/// Whether `v` is an object with a non-null `key`.
fn given_in(v: &Value, key: &str) -> bool {
    v.as_object().and_then(|m| given(m, key)).is_some()
}

/// Current Marqo's `sortBy` conflicts: not with global `scoreModifiers` (the same rerank
/// phase), nor with `recencyParameters` unless recency stays out of the global phase.
fn sort_by_conflicts(o: &Map<String, Value>, errs: &mut Errors) {
    if given(o, "sortBy").is_none() {
        return;
    }
    if given(o, "scoreModifiers").is_some() {
        errs.root(
            &["body"],
            "'sortBy' cannot be used with 'scoreModifiers'(global score modifiers) in hybrid search \
             as they are working in the same rerank phase. \
             Please use sortBy only for sorting by fields, and scoreModifiers only for modifying scores",
        );
    }
    if let Some(r) = given(o, "recencyParameters")
        && r.get("applyInRankingPhase").and_then(Value::as_str) != Some("exclude-global")
    {
        errs.root(
            &["body"],
            "'sortBy' cannot be used with 'recencyParameters' with global-phase reranking \
             in hybrid search. sortBy bypasses relevance scoring, making recency boosting \
             ineffective. To use both, set applyInRankingPhase to 'exclude-global'.",
        );
    }
}

/// `validate_approximate_threshold`: TENSOR/HYBRID only, not with `approximate: false`, 0–1.
fn approximate_threshold(o: &Map<String, Value>, method: &str, errs: &mut Errors) {
    let Some(t) = given(o, "approximateThreshold").and_then(as_float) else {
        return;
    };
    let msg = if method == "LEXICAL" {
        "'approximateThreshold' is only valid for 'HYBRID' and 'TENSOR' search methods".to_string()
    } else if given(o, "approximate").and_then(as_bool) == Some(false) {
        "'approximateThreshold' cannot be set when 'approximate' is False".to_string()
    } else if !(0.0..=1.0).contains(&t) {
        format!("'approximateThreshold' must be between 0 and 1, got {t:?}.")
    } else {
        return;
    };
    errs.root(&["body"], msg);
}

//! "Strict like Marqo" (issue 19): bodies Marqo's pydantic models refuse are refused with the
//! same status, code and first `detail` item (`loc`, `msg`, `type`), limit/offset bounds answer
//! Marqo's 400s, and parameters only some search methods take are refused elsewhere. One case
//! table runs in-process (tower oneshot) and against the real binary over HTTP.

use axum::http::Method;
use serde_json::{Value, json};

use crate::in_process::{cell_with_index, send};
use crate::support::{CellProc, call};

/// One request and what Marqo answers: status, code, and for 422 the first detail item's
/// `loc`, `type` and `msg` (for 400 the message's start).
struct Case {
    method: &'static str,
    path: &'static str,
    body: Value,
    status: u16,
    code: &'static str,
    loc: Value,
    kind: &'static str,
    msg: &'static str,
}

fn case(
    path: &'static str,
    body: Value,
    loc: Value,
    kind: &'static str,
    msg: &'static str,
) -> Case {
    Case {
        method: "POST",
        path,
        body,
        status: 422,
        code: "unprocessable_entity",
        loc,
        kind,
        msg,
    }
}

fn root(path: &'static str, body: Value, msg: &'static str) -> Case {
    case(path, body, json!(["body", "__root__"]), "value_error", msg)
}

fn hybrid_root(params: Value, msg: &'static str) -> Case {
    case(
        "/indexes/st/search",
        json!({"q": "x", "searchMethod": "HYBRID", "hybridParameters": params}),
        json!(["body", "hybridParameters", "__root__"]),
        "value_error",
        msg,
    )
}

fn bound(body: Value, msg: &'static str) -> Case {
    Case {
        status: 400,
        code: "illegal_requested_doc_count",
        ..case("/indexes/st/search", body, Value::Null, "", msg)
    }
}

/// A 400 `invalid_argument` from Marqo's checks after the body model.
fn invalid(body: Value, msg: &'static str) -> Case {
    Case {
        status: 400,
        code: "invalid_argument",
        ..case(S, body, Value::Null, "", msg)
    }
}

const S: &str = "/indexes/st/search";
const D: &str = "/indexes/st/documents";
const R: &str = "/indexes/st/recommend";
const E: &str = "/indexes/st/embed";

fn cases() -> Vec<Case> {
    let mut all = unknown_and_wrong_types();
    all.extend(other_bodies());
    all.extend(hybrid_and_method_cases());
    all.extend(bound_cases());
    all.extend(query_and_bulk_cases());
    all
}

/// `q` maps per method (`validation.validate_query`) and py-marqo's `bulk_search` body: Marqo
/// 2.x has no bulk route, so `/indexes/bulk/search` is the search route for an index `bulk`
/// and its body model refuses `queries` before the index is looked up.
fn query_and_bulk_cases() -> Vec<Case> {
    vec![
        // pydantic's union of str, Dict[str, float] and CustomVectorQuery: every attempt fails
        case(
            S,
            json!({"q": [1]}),
            json!(["body", "q"]),
            "type_error.str",
            "str type expected",
        ),
        invalid(
            json!({"q": {"a": 1.0}, "searchMethod": "lexical"}),
            concat!(
                "Multi-query search is currently only supported for search_method=\"TENSOR\" ",
                "\nReceived search_method `LEXICAL`. ",
                "\nSee query reference here: https://docs.marqo.ai/2.23/reference/api/search/search/#query-q"
            ),
        ),
        invalid(
            json!({"q": {"a": 1.0}, "searchMethod": "HYBRID"}),
            concat!(
                "Multi-query search is currently only supported for search_method=\"TENSOR\" ",
                "\nReceived search_method `HYBRID`. ",
                "\nSee query reference here: https://docs.marqo.ai/2.23/reference/api/search/search/#query-q"
            ),
        ),
        invalid(
            json!({"q": {}}),
            concat!(
                "Multi-query search requires at least one query! Received empty dictionary. ",
                "\nSee query reference here: https://docs.marqo.ai/2.23/reference/api/search/search/#query-q"
            ),
        ),
        invalid(
            json!({"q": {"customVector": {"content": "a", "vector": [1.0]}}, "searchMethod": "LEXICAL"}),
            concat!(
                "Custom vector search is currently only supported for search_method=\"HYBRID\" ",
                "\nReceived search_method `LEXICAL`. ",
                "\nSee query reference here: https://docs.marqo.ai/2.23/reference/api/search/search/#query-q"
            ),
        ),
        // limit <= 0 comes before validate_query in tensor_search.search
        bound(
            json!({"q": {"a": 1.0}, "searchMethod": "LEXICAL", "limit": 0}),
            "result_count must be an integer greater than 0! Received 0",
        ),
        case(
            "/indexes/bulk/search",
            json!({"queries": [{"index": "st", "q": "x", "limit": 2}]}),
            json!(["body", "queries"]),
            "value_error.extra",
            "extra fields not permitted",
        ),
    ]
}

/// Unknown keys (search, hybridParameters, add_documents, index settings) and wrong types.
fn unknown_and_wrong_types() -> Vec<Case> {
    let extra = "value_error.extra";
    let extra_msg = "extra fields not permitted";
    vec![
        // Unknown keys: search, hybridParameters, add_documents, index settings.
        case(
            S,
            json!({"q": "x", "bogus": 1}),
            json!(["body", "bogus"]),
            extra,
            extra_msg,
        ),
        case(
            S,
            json!({"q": "x", "searchMethod": "HYBRID", "hybridParameters": {"bogus": 1}}),
            json!(["body", "hybridParameters", "bogus"]),
            extra,
            extra_msg,
        ),
        case(
            D,
            json!({"documents": [{"a": "b"}], "tensorFields": [], "bogus": 1}),
            json!(["body", "bogus"]),
            extra,
            extra_msg,
        ),
        case(
            "/indexes/new-one",
            json!({"model": "hf/e5-base-v2", "bogus": 1}),
            json!(["body", "bogus"]),
            extra,
            extra_msg,
        ),
        case(
            "/indexes/new-one",
            json!({"text_preprocessing": {}}),
            json!(["body", "text_preprocessing"]),
            extra,
            extra_msg,
        ),
        case(
            "/indexes/new-one",
            json!({"textPreprocessing": {"splitLength": 2, "splitOverlap": 0, "splitMethod": "sentence", "x": 1}}),
            json!(["body", "textPreprocessing", "x"]),
            extra,
            extra_msg,
        ),
        // Wrong types.
        case(
            S,
            json!({"q": "x", "limit": "ten"}),
            json!(["body", "limit"]),
            "type_error.integer",
            "value is not a valid integer",
        ),
        case(
            S,
            json!({"q": "x", "showHighlights": "maybe"}),
            json!(["body", "showHighlights"]),
            "type_error.bool",
            "value could not be parsed to a boolean",
        ),
        case(
            S,
            json!({"q": "x", "searchMethod": "fuzzy"}),
            json!(["body", "searchMethod"]),
            "type_error.enum",
            "value is not a valid enumeration member; permitted: 'LEXICAL', 'TENSOR', 'HYBRID'",
        ),
        case(
            S,
            json!({"q": "x", "searchableAttributes": "title"}),
            json!(["body", "searchableAttributes"]),
            "type_error.list",
            "value is not a valid list",
        ),
        case(
            S,
            json!({"q": "x", "limit": null}),
            json!(["body", "limit"]),
            "type_error.none.not_allowed",
            "none is not an allowed value",
        ),
        case(
            D,
            json!({"tensorFields": []}),
            json!(["body", "documents"]),
            "value_error.missing",
            "field required",
        ),
        case(
            D,
            json!({"documents": [{}], "useExistingTensors": "maybe"}),
            json!(["body", "useExistingTensors"]),
            "type_error.bool",
            "value could not be parsed to a boolean",
        ),
        case(
            D,
            json!([{"_id": "a"}]),
            json!(["body"]),
            "type_error.dict",
            "value is not a valid dict",
        ),
    ]
}

/// Unknown keys and types in the update, recommend and embed bodies.
fn other_bodies() -> Vec<Case> {
    let extra = "value_error.extra";
    let extra_msg = "extra fields not permitted";
    vec![
        Case {
            method: "PATCH",
            ..case(
                D,
                json!({"documents": [{"_id": "a"}], "bogus": 1}),
                json!(["body", "bogus"]),
                extra,
                extra_msg,
            )
        },
        Case {
            method: "PATCH",
            ..case(
                D,
                json!({"documents": [1]}),
                json!(["body", "documents", 0]),
                "type_error.dict",
                "value is not a valid dict",
            )
        },
        case(
            R,
            json!({"documents": ["a"], "bogus": 1}),
            json!(["body", "bogus"]),
            extra,
            extra_msg,
        ),
        case(
            R,
            json!({"limit": 1}),
            json!(["body", "documents"]),
            "value_error.missing",
            "field required",
        ),
        case(
            E,
            json!({"content": "x", "bogus": 1}),
            json!(["body", "bogus"]),
            extra,
            extra_msg,
        ),
        case(
            E,
            json!({"content": []}),
            json!(["body", "content"]),
            "value_error",
            "Embed content list should not be empty",
        ),
        case(
            E,
            json!({"content": "x", "content_type": "passage"}),
            json!(["body", "content_type"]),
            "type_error.enum",
            "value is not a valid enumeration member; permitted: 'query', 'document'",
        ),
    ]
}

/// hybridParameters' own validators, parameters only some methods take, limit/offset bounds.
fn hybrid_and_method_cases() -> Vec<Case> {
    vec![
        case(
            S,
            json!({"q": "x", "searchMethod": "HYBRID", "hybridParameters": {"alpha": 1.5}}),
            json!(["body", "hybridParameters", "alpha"]),
            "value_error",
            "alpha can only be between 0 and 1",
        ),
        case(
            S,
            json!({"q": "x", "searchMethod": "HYBRID", "hybridParameters": {"rrfK": -1}}),
            json!(["body", "hybridParameters", "rrfK"]),
            "value_error",
            "rrfK can only be greater than or equal to 0",
        ),
        case(
            S,
            json!({"q": "x", "searchMethod": "HYBRID", "hybridParameters": {"rankingMethod": "normalize_linear"}}),
            json!(["body", "hybridParameters", "rankingMethod"]),
            "type_error.enum",
            "value is not a valid enumeration member; permitted: 'rrf', 'tensor', 'lexical'",
        ),
        hybrid_root(
            json!({"retrievalMethod": "tensor", "rankingMethod": "rrf"}),
            "For retrievalMethod: tensor or lexical, rankingMethod must be: tensor or lexical",
        ),
        hybrid_root(
            json!({"retrievalMethod": "disjunction", "rankingMethod": "lexical"}),
            "For retrievalMethod: disjunction, rankingMethod must be: rrf",
        ),
        hybrid_root(
            json!({"retrievalMethod": "lexical", "rankingMethod": "tensor", "alpha": 0.3}),
            "'alpha' can only be defined for 'rrf' ranking method",
        ),
        hybrid_root(
            json!({"retrievalMethod": "tensor", "rankingMethod": "lexical", "rrfK": 10}),
            "'rrfK' can only be defined for 'rrf' ranking method",
        ),
        // Parameters only some search methods take.
        root(
            S,
            json!({"q": "x", "hybridParameters": {"alpha": 0.5}}),
            "Hybrid parameters can only be provided for 'HYBRID' search. Search method is TENSOR.",
        ),
        root(
            S,
            json!({"q": "x", "language": "en"}),
            "language parameter is not supported for TENSOR search method. Language specification only applies to lexical and hybrid search.",
        ),
        root(
            S,
            json!({"q": "x", "searchMethod": "LEXICAL", "facets": {"fields": {}}}),
            "Facets can only be provided for 'HYBRID' search. Search method is LEXICAL.",
        ),
        root(
            S,
            json!({"q": "x", "trackTotalHits": true}),
            "trackTotalHits can only be provided for 'HYBRID' search. Search method is TENSOR.",
        ),
        root(
            S,
            json!({"q": "x", "sortBy": {"fields": [{"fieldName": "n"}]}}),
            "sortBy can only be provided for 'HYBRID' search, but received search method TENSOR",
        ),
        root(
            S,
            json!({"q": "x", "relevanceCutoff": {"method": "gap_detection"}}),
            "relevanceCutoff can only be provided for 'HYBRID' search, but received search method 'TENSOR'",
        ),
        root(
            S,
            json!({"q": "x", "recencyParameters": {"recencyField": "ts"}}),
            "Recency parameters can only be provided for 'HYBRID' search. Search method is TENSOR.",
        ),
        root(
            S,
            json!({"q": "x", "collapseFields": [{"name": "cat"}]}),
            "collapseFields can only be provided for 'HYBRID' search. Search method is TENSOR.",
        ),
        root(
            S,
            json!({"q": "x", "searchMethod": "lexical", "rerankDepth": 5}),
            "'rerankDepth' is currently not supported for 'LEXICAL' search method.",
        ),
        root(
            S,
            json!({"searchMethod": "LEXICAL"}),
            "Query(q) is required for lexical search",
        ),
        root(
            S,
            json!({"limit": 3}),
            "One of Query(q) or context is required for TENSOR search but both are missing",
        ),
        root(
            S,
            json!({"q": "x", "approximateThreshold": 2}),
            "'approximateThreshold' must be between 0 and 1, got 2.0.",
        ),
        Case {
            code: "invalid_argument",
            ..bound(
                json!({"q": "x", "context": {"tensor": []}}),
                "The number of tensors must be between 1 and 64",
            )
        },
        Case {
            code: "invalid_argument",
            ..bound(
                json!({"q": "x", "scoreModifiers": {"add_to_score": [{"field_name": "_id"}]}}),
                "_id is not allowed as a field_name",
            )
        },
    ]
}

/// limit / offset bounds: Marqo's 400s.
fn bound_cases() -> Vec<Case> {
    vec![
        bound(
            json!({"q": "x", "limit": 0}),
            "result_count must be an integer greater than 0! Received 0",
        ),
        bound(
            json!({"q": "x", "offset": -1}),
            "search result offset cannot be less than 0!",
        ),
        bound(
            json!({"q": "x", "limit": 1001}),
            "The search result limit must be less than or equal to the MARQO_MAX_SEARCH_LIMIT limit of [1000]. Marqo received search result limit of `1001`.",
        ),
        bound(
            json!({"q": "x", "limit": 10, "offset": 9995}),
            "The search result limit + offset must be less than or equal to the MARQO_MAX_RETRIEVABLE_DOCS limit of [10000].  Marqo received search result limit of `10` and offset of `9995`.",
        ),
    ]
}

/// Requests Marqo accepts must keep working (py-marqo's own bodies, method-specific
/// parameters where they belong).
fn accepted() -> Vec<(&'static str, &'static str, Value)> {
    let post = |path, body| ("POST", path, body);
    vec![
        post(
            S,
            json!({"q": "x", "limit": 10, "offset": 0, "searchMethod": "TENSOR", "showHighlights": true}),
        ),
        post(
            S,
            json!({"q": "x", "searchMethod": "lexical", "language": "en", "limit": "3"}),
        ),
        post(
            S,
            json!({"q": "x", "searchMethod": "HYBRID", "facets": {"fields": {}}, "trackTotalHits": true,
            "hybridParameters": {"retrievalMethod": "lexical", "rankingMethod": "tensor"}}),
        ),
        post(
            S,
            json!({"q": "x", "searchMethod": "HYBRID", "rerankDepth": 5,
            "hybridParameters": {"alpha": 0.3, "rrfK": 10, "verbose": false}}),
        ),
        post(
            S,
            json!({"q": "x", "image_download_headers": {}, "approximate": true, "efSearch": 100}),
        ),
        // the union coerces: a number is its text, numeric strings are weights
        post(S, json!({"q": 5})),
        // `List[str]` holds a number as its text, in hybridParameters as at the top level
        post(
            S,
            json!({"q": "x", "searchMethod": "HYBRID", "searchableAttributes": null,
            "hybridParameters": {"searchableAttributesLexical": [5], "searchableAttributesTensor": [1.5, true]}}),
        ),
        post(S, json!({"q": {"apple": "2", "pie": true}})),
        post(
            D,
            json!({"documents": [{"_id": "a", "title": "t"}], "tensorFields": ["title"],
            "useExistingTensors": false, "mappings": null, "modelAuth": null}),
        ),
        ("PATCH", D, json!({"documents": [{"_id": "a", "n": 2}]})),
        post(
            R,
            json!({"documents": ["a"], "allowMissingDocuments": false, "limit": 3}),
        ),
        post(E, json!({"content": "x", "content_type": null})),
        post(
            E,
            json!({"content": [{"apple": 1.0}, "pie"], "content_type": "document"}),
        ),
    ]
}

/// The checks one answer must pass for `c`.
fn check(c: &Case, s: u16, r: &Value) {
    let what = format!("{} {} {}", c.method, c.path, c.body);
    assert_eq!(
        (s, r["code"].as_str()),
        (c.status, Some(c.code)),
        "{what}: {r}"
    );
    if c.status == 422 {
        // FastAPI's handler: detail, code, type, link, nothing else.
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 4, "{what}: {r}");
        assert_eq!(
            (r["type"].as_str(), r["link"].as_str()),
            (Some("invalid_request"), Some(""))
        );
        let d = &r["detail"][0];
        assert_eq!(d["loc"], c.loc, "{what}: {r}");
        assert_eq!(d["type"], c.kind, "{what}: {r}");
        assert_eq!(d["msg"], c.msg, "{what}: {r}");
    } else {
        assert_eq!(r["message"], c.msg, "{what}: {r}");
    }
}

#[tokio::test]
async fn strict_models_in_process() {
    let (_dir, cell, app) = cell_with_index("st").await;
    for c in cases() {
        let method = Method::from_bytes(c.method.as_bytes()).unwrap();
        let (s, r) = send(&app, method, c.path, Some(&c.body.to_string())).await;
        check(&c, s, &r);
    }
    for (method, path, body) in accepted() {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let (s, r) = send(&app, method, path, Some(&body.to_string())).await;
        assert_eq!(s, 200, "{path} {body}: {r}");
    }
    fake_cell::servers::stop_all(&cell);
}

#[tokio::test]
async fn strict_models_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open"]).await;
    let (s, r) = call(
        reqwest::Method::POST,
        &format!("{}/indexes/st", cell.url),
        None,
        Some(&json!({})),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    for c in cases() {
        let url = format!("{}{}", cell.url, c.path);
        let method = reqwest::Method::from_bytes(c.method.as_bytes()).unwrap();
        let (s, r) = call(method, &url, None, Some(&c.body)).await;
        check(&c, s, &r);
    }
    for (method, path, body) in accepted() {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let url = format!("{}{path}", cell.url);
        let (s, r) = call(method, &url, None, Some(&body)).await;
        assert_eq!(s, 200, "{path} {body}: {r}");
    }
}

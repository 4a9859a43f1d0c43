//! Marqo 2.23's remaining search parameters (issue 19), each checked in-process (tower oneshot)
//! and against the real binary over HTTP with the same assertions: the nested models' 422s,
//! facets and `totalHits`, `sortBy`, `relevanceCutoff`, `collapseFields`, `rerankDepth`,
//! recency, `textQueryPrefix`, the hybrid ranking methods, and Marqo's error bodies.

use axum::http::Method;
use serde_json::{Value, json};

use crate::in_process::{cell_with_index, send};
use crate::support::{CellProc, call};

/// Where the requests go: the router in-process or a real cell over HTTP.
pub(crate) enum Target {
    Router(axum::Router),
    Http(String),
}

impl Target {
    pub(crate) async fn req(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        match self {
            Target::Router(app) => {
                let m = Method::from_bytes(method.as_bytes()).unwrap();
                send(app, m, path, Some(&body.to_string())).await
            }
            Target::Http(url) => {
                let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
                call(m, &format!("{url}{path}"), None, Some(&body)).await
            }
        }
    }

    /// A `GET` without a body.
    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        match self {
            Target::Router(app) => send(app, Method::GET, path, None).await,
            Target::Http(url) => {
                call(reqwest::Method::GET, &format!("{url}{path}"), None, None).await
            }
        }
    }

    /// Create `index` with `settings`; it must be created.
    pub(crate) async fn create(&self, index: &str, settings: Value) {
        let (s, r) = self
            .req("POST", &format!("/indexes/{index}"), settings)
            .await;
        assert_eq!(s, 200, "{r}");
    }

    pub(crate) async fn search(&self, index: &str, body: Value) -> Value {
        let (s, r) = self
            .req("POST", &format!("/indexes/{index}/search"), body.clone())
            .await;
        assert_eq!(s, 200, "{body}: {r}");
        r
    }
}

pub(crate) fn ids(r: &Value) -> Vec<&str> {
    r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["_id"].as_str().unwrap())
        .collect()
}

/// Ten shirts with colours, brands, tags, prices (one without) and timestamps.
fn fashion() -> Vec<Value> {
    let colors = [
        "red", "green", "green", "red", "blue", "green", "gray", "red", "blue", "green",
    ];
    (0..10)
        .map(|i| {
            let mut d = json!({
                "_id": format!("s{i}"),
                "title": format!("shirt number {i}"),
                "color": colors[i],
                "brand": if i % 2 == 0 { "Even" } else { "Odd" },
                "tags": [format!("c:{}", colors[i]), "all".to_string()],
                "group": format!("g{}", i / 3),
                "ts": 1_700_000_000 - (i as i64) * 86_400,
            });
            if i != 9 {
                d["price"] = json!(10.0 * (i as f64) + 1.5);
            }
            d
        })
        .collect()
}

async fn setup(t: &Target) {
    let (s, r) = t
        .req(
            "POST",
            "/indexes/fx",
            json!({"collapseFields": [{"name": "group"}]}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let body = json!({"documents": fashion(), "tensorFields": ["title"]});
    let (s, r) = t.req("POST", "/indexes/fx/documents", body).await;
    assert_eq!((s, r["errors"].as_bool()), (200, Some(false)), "{r}");
}

/// A HYBRID body retrieving and ranking lexically (deterministic BM25 order).
fn lexical_hybrid(extra: Value) -> Value {
    let mut b = json!({"q": "shirt", "searchMethod": "HYBRID", "limit": 10,
        "hybridParameters": {"retrievalMethod": "lexical", "rankingMethod": "lexical"}});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

async fn facets_and_total_hits(t: &Target) {
    let r = t
        .search(
            "fx",
            lexical_hybrid(json!({"trackTotalHits": true, "facets": {"fields": {
                "color": {"type": "string"}, "tags": {"type": "array"},
                "price": {"type": "number"},
                "nothing": {"type": "array"}
            }}})),
        )
        .await;
    assert_eq!(r["totalHits"], 10, "{r}");
    let f = &r["facets"];
    assert_eq!(
        f["color"],
        json!({"green": {"count": 4}, "red": {"count": 3}, "blue": {"count": 2}, "gray": {"count": 1}})
    );
    assert_eq!(f["tags"]["all"], json!({"count": 10}));
    assert_eq!(f["tags"]["c:green"], json!({"count": 4}));
    assert_eq!(f["nothing"], json!({}));
    // Nine prices 1.5, 11.5, … 81.5.
    assert_eq!(f["price"]["count"], 9);
    assert_eq!(
        (f["price"]["min"].as_f64(), f["price"]["max"].as_f64()),
        (Some(1.5), Some(81.5))
    );
    assert!((f["price"]["sum"].as_f64().unwrap() - 373.5).abs() < 1e-9);
    assert!((f["price"]["avg"].as_f64().unwrap() - 41.5).abs() < 1e-9);
    let r = t
        .search(
            "fx",
            lexical_hybrid(json!({"facets": {"fields": {"price": {"type": "number",
                "ranges": [{"to": 50}, {"from": 50, "name": "high"}]}}}})),
        )
        .await;
    let f = &r["facets"]["price"];
    assert_eq!(f["-Inf:50.0"]["count"], 5, "{f}");
    assert_eq!(f["-Inf:50.0"]["max"], 41.5, "{f}");
    assert_eq!(f["high"]["count"], 4, "{f}");
    // maxResults and ascending order per field.
    let r = t
        .search(
            "fx",
            lexical_hybrid(json!({"facets": {"fields": {
                "color": {"type": "string", "order": "asc", "maxResults": 2}}}})),
        )
        .await;
    assert_eq!(
        r["facets"]["color"],
        json!({"gray": {"count": 1}, "blue": {"count": 2}})
    );
    assert!(r.get("totalHits").is_none(), "{r}");
    // A filter narrows both; excludeTerms lifts a term for one field.
    let r = t
        .search(
            "fx",
            lexical_hybrid(
                json!({"filter": "color:green AND brand:Odd", "trackTotalHits": true,
            "facets": {"fields": {"brand": {"type": "string", "excludeTerms": ["brand:Odd"]},
                                  "color": {"type": "string"}}}}),
            ),
        )
        .await;
    // Green: s1, s2, s5, s9; of those Odd: s1, s5, s9.
    assert_eq!(r["totalHits"], 3, "{r}");
    assert_eq!(r["facets"]["color"], json!({"green": {"count": 3}}));
    assert_eq!(
        r["facets"]["brand"],
        json!({"Odd": {"count": 3}, "Even": {"count": 1}})
    );
}

async fn sort_by(t: &Target) {
    let r = t
        .search(
            "fx",
            lexical_hybrid(json!({"sortBy": {"fields": [{"fieldName": "price", "order": "asc"}]}})),
        )
        .await;
    let got = ids(&r);
    assert_eq!(
        got,
        ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"],
        "{r}"
    );
    let scores: Vec<f64> = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["_score"].as_f64().unwrap())
        .collect();
    for (got, want) in scores.iter().zip([1.0, 0.5, 1.0 / 3.0, 0.25]) {
        assert!((got - want).abs() < 1e-6, "{scores:?}");
    }
    let r = t
        .search(
            "fx",
            lexical_hybrid(
                json!({"limit": 3, "offset": 1, "sortBy": {"minSortCandidates": 10,
                "fields": [{"fieldName": "price", "order": "desc", "missing": "first"}]}}),
            ),
        )
        .await;
    assert_eq!(ids(&r), ["s8", "s7", "s6"], "{r}");
    // Without `minSortCandidates` only the best `limit + offset` candidates are sorted.
    let r = t
        .search(
            "fx",
            lexical_hybrid(json!({"limit": 3, "offset": 1, "sortBy": {
                "fields": [{"fieldName": "price", "order": "desc"}]}})),
        )
        .await;
    assert_eq!(ids(&r), ["s2", "s1", "s0"], "{r}");
}

async fn relevance_cutoff(t: &Target) {
    let (s, r) = t
        .req(
            "POST",
            "/indexes/cut/documents",
            json!({"documents": [
                {"_id": "a", "t": "alpha beta gamma"}, {"_id": "b", "t": "alpha beta gamma"},
                {"_id": "c", "t": "alpha unrelated words here"}, {"_id": "d", "t": "alpha other words here"},
                {"_id": "e", "t": "alpha more words here"}], "tensorFields": ["t"]}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let body = |cutoff: Value| {
        json!({"q": "alpha beta gamma", "searchMethod": "HYBRID", "relevanceCutoff": cutoff,
            "hybridParameters": {"retrievalMethod": "lexical", "rankingMethod": "lexical"}})
    };
    let r = t
        .search("cut", body(json!({"method": "gap_detection"})))
        .await;
    assert_eq!(ids(&r), ["a", "b"], "{r}");
    let r = t
        .search(
            "cut",
            body(
                json!({"method": "relative_max_score", "parameters": {"relativeScoreFactor": 0.0}}),
            ),
        )
        .await;
    assert_eq!(ids(&r).len(), 5, "{r}");
    let r = t
        .search(
            "cut",
            body(json!({"method": "mean_std_dev", "parameters": {"stdDevFactor": 0.0}})),
        )
        .await;
    assert_eq!(ids(&r), ["a", "b"], "{r}");
    let mut b = body(json!({"method": "gap_detection", "affectFacets": true}));
    b["trackTotalHits"] = json!(true);
    let r = t.search("cut", b).await;
    assert_eq!(r["totalHits"], 2, "{r}");
}

async fn collapse_rerank_recency(t: &Target) {
    let r = t
        .search(
            "fx",
            lexical_hybrid(json!({"collapseFields": [{"name": "group"}], "trackTotalHits": true})),
        )
        .await;
    assert_eq!(r["totalHits"], 4, "{r}");
    let groups: Vec<String> = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["group"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(groups.len(), 4, "{r}");
    let mut dedup = groups.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 4, "{r}");
    let (s, r) = t
        .req(
            "POST",
            "/indexes/fx/search",
            lexical_hybrid(json!({"collapseFields": [{"name": "color"}]})),
        )
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (400, Some("invalid_argument")),
        "{r}"
    );
    // Global score modifiers rescore only the first `rerankDepth` hits (RRF ranking only).
    let rrf = |extra: Value| {
        let mut b = json!({"q": "shirt", "searchMethod": "HYBRID", "limit": 10,
            "hybridParameters": {"alpha": 0.0}});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let mods = json!({"add_to_score": [{"field_name": "price", "weight": 1.0}]});
    let plain = t.search("fx", rrf(json!({}))).await;
    let all = t.search("fx", rrf(json!({"scoreModifiers": mods}))).await;
    assert_eq!(&ids(&all)[..2], ["s8", "s7"], "{all}");
    let none = t
        .search("fx", rrf(json!({"scoreModifiers": mods, "rerankDepth": 0})))
        .await;
    assert_eq!(ids(&none), ids(&plain), "{none}");
    let two = t
        .search("fx", rrf(json!({"scoreModifiers": mods, "rerankDepth": 2})))
        .await;
    assert_eq!(&ids(&two)[2..], &ids(&plain)[2..], "{two}");
    assert_eq!(ids(&two)[0], ids(&plain)[1], "{two}");
    // Then every hit is re-sorted: a rescored hit can fall below the hits past the depth.
    let down = json!({"multiply_score_by": [{"field_name": "price", "weight": -1.0}]});
    let one = t
        .search("fx", rrf(json!({"scoreModifiers": down, "rerankDepth": 1})))
        .await;
    let (p, o) = (ids(&plain), ids(&one));
    assert_eq!((&o[..p.len() - 1], o.last()), (&p[1..], p.first()), "{one}");
    // Recency: the same text, a week older → factor 0.5 (decayTo 0.5 at scale 7d), applied by
    // the lexical leg's rank profile and again by the global phase (`applyInRankingPhase`
    // `all`): a quarter of the score.
    let r = t
        .search(
            "fx",
            lexical_hybrid(
                json!({"q": "number", "recencyParameters": {"recencyField": "ts",
                "center": 1_700_000_000, "scale": "7d", "decayTo": 0.5}}),
            ),
        )
        .await;
    let score = |id: &str| {
        r["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["_id"] == id)
            .unwrap()["_score"]
            .as_f64()
            .unwrap()
    };
    assert!((score("s7") / score("s0") - 0.25).abs() < 1e-4, "{r}");
    assert!((score("s9") / score("s0") - 0.25).abs() < 1e-4, "{r}");
    assert_eq!(ids(&r)[0], "s0", "{r}");
}

async fn query_prefix_and_ranking_methods(t: &Target) {
    let score = |r: &Value| r["hits"][0]["_score"].as_f64().unwrap();
    // The index's model (hf/e5-base-v2) has Marqo's registry default "query: ".
    let a = t
        .search(
            "fx",
            json!({"q": "query: number 3", "textQueryPrefix": "", "limit": 1}),
        )
        .await;
    let b = t
        .search(
            "fx",
            json!({"q": "number 3", "textQueryPrefix": "query: ", "limit": 1}),
        )
        .await;
    let d = t.search("fx", json!({"q": "number 3", "limit": 1})).await;
    let c = t
        .search(
            "fx",
            json!({"q": "number 3", "textQueryPrefix": "", "limit": 1}),
        )
        .await;
    assert_eq!(ids(&a), ids(&b));
    assert!((score(&a) - score(&b)).abs() < 1e-5, "{a} {b}");
    assert!((score(&b) - score(&d)).abs() < 1e-5, "{b} {d}");
    assert!((score(&a) - score(&c)).abs() > 1e-3, "{a} {c}");
    for (retrieval, ranking) in [
        ("disjunction", "rrf"),
        ("tensor", "lexical"),
        ("lexical", "tensor"),
        ("tensor", "tensor"),
    ] {
        let r = t
            .search("fx", json!({"q": "shirt number 3", "searchMethod": "HYBRID",
                "hybridParameters": {"retrievalMethod": retrieval, "rankingMethod": ranking, "rrfK": null}}))
            .await;
        assert!(!ids(&r).is_empty(), "{retrieval}/{ranking}: {r}");
    }
    let (s, r) = t
        .req(
            "POST",
            "/indexes/fx/search",
            json!({"q": "x", "searchMethod": "HYBRID",
            "hybridParameters": {"rankingMethod": "normalize_linear"}}),
        )
        .await;
    assert_eq!(
        (s, r["detail"][0]["type"].as_str()),
        (422, Some("type_error.enum")),
        "{r}"
    );
    let (s, r) = t
        .req(
            "POST",
            "/indexes/fx/search",
            json!({"q": "x", "boost": {"title": [1, 1]}}),
        )
        .await;
    assert_eq!(
        (s, r["message"].as_str()),
        (400, Some("Boosting is not currently supported with Vespa")),
        "{r}"
    );
}

/// Marqo's JSON errors: no `status` key; `link` null for invalid-request errors, `""` for a
/// pydantic error raised in the core and for 422s.
async fn error_bodies(t: &Target) {
    let (s, r) = t
        .req("POST", "/indexes/missing/search", json!({"q": "x"}))
        .await;
    assert_eq!(s, 404);
    assert_eq!(
        r,
        json!({"message": r["message"], "code": "index_not_found", "type": "invalid_request", "link": null})
    );
    let (s, r) = t
        .req(
            "POST",
            "/indexes/fx/documents",
            json!({"documents": [{"_id": "v", "v": {"vector": [1.0], "content": "c"}}],
            "tensorFields": ["v"], "mappings": {"v": {"type": "custom_vector"}}}),
        )
        .await;
    assert_eq!(
        (s, r["code"].as_str(), &r["link"]),
        (400, Some("invalid_argument"), &json!("")),
        "{r}"
    );
    assert!(r.get("status").is_none(), "{r}");
    // Object fields without a mapping are maps of numbers (`validate_dict`), else a per-document
    // 400 `invalid_argument` in Marqo's words.
    let docs = json!({"documents": [
        {"_id": "m1", "m": {"a": 1, "b": 2.5, "c": true}},
        {"_id": "m2", "m": {"a": {"b": 1}}},
        {"_id": "m3", "m": {"a": "x"}}], "tensorFields": []});
    let (s, r) = t.req("POST", "/indexes/fx/documents", docs).await;
    assert_eq!((s, r["errors"].as_bool()), (200, Some(true)), "{r}");
    let items = r["items"].as_array().unwrap();
    assert_eq!(items[0]["status"], 200, "{r}");
    assert_eq!(
        (items[1]["status"].as_u64(), items[1]["code"].as_str()),
        (Some(400), Some("invalid_argument")),
        "{r}"
    );
    assert_eq!(
        items[1]["error"],
        "Nested dictionaries are not allowed in map fields. Each value must be a single int, float, or double."
    );
    assert!(
        items[2]["error"]
            .as_str()
            .unwrap()
            .starts_with("Value 'x' for key 'a' in map field is not of type int or float."),
        "{r}"
    );
}

/// Nested-model 422s: `loc`, `msg`, `type` of the first item as Marqo's pydantic models give.
fn strict_cases() -> Vec<(Value, Value, &'static str, &'static str)> {
    let h = |extra: Value| lexical_hybrid(extra);
    vec![
        (
            h(json!({"facets": {"fields": {"c": {"type": "int"}}}})),
            json!(["body", "facets", "fields", "c", "type"]),
            "value_error.const",
            "unexpected value; permitted: 'string', 'array', 'number'",
        ),
        (
            h(json!({"facets": {"fields": {"c": {"type": "string", "max_results": 3}}}})),
            json!(["body", "facets", "fields", "c", "max_results"]),
            "value_error.extra",
            "extra fields not permitted",
        ),
        (
            h(
                json!({"facets": {"fields": {"p": {"type": "number", "ranges": [{"from": 0, "to": 60}, {"from": 50, "to": 100}]}}}}),
            ),
            json!(["body", "facets", "fields", "p", "ranges"]),
            "value_error",
            "Range configurations must not overlap",
        ),
        (
            h(
                json!({"facets": {"fields": {"c": {"type": "string", "ranges": [{"from": 0, "to": 50}]}}}}),
            ),
            json!(["body", "facets", "fields", "c", "ranges"]),
            "value_error",
            "Ranges can only be used for 'number' facets",
        ),
        (
            h(
                json!({"facets": {"fields": {"p": {"type": "number", "ranges": [{"from": 5, "to": 1}]}}}}),
            ),
            json!(["body", "facets", "fields", "p", "ranges", 0, "to"]),
            "value_error",
            "'to' value must be greater than 'from' value",
        ),
        (
            h(json!({"facets": {"fields": {}, "maxDepth": 0}})),
            json!(["body", "facets", "maxDepth"]),
            "value_error",
            "'maxDepth' must be greater than 0",
        ),
        (
            h(json!({"facets": {"maxResults": 5}})),
            json!(["body", "facets", "fields"]),
            "value_error.missing",
            "field required",
        ),
        (
            h(json!({"sortBy": {"fields": []}})),
            json!(["body", "sortBy", "fields"]),
            "value_error.list.min_items",
            "ensure this value has at least 1 items",
        ),
        (
            h(json!({"sortBy": {"fields": [{"fieldName": "a", "order": "up"}]}})),
            json!(["body", "sortBy", "fields", 0, "order"]),
            "type_error.enum",
            "value is not a valid enumeration member; permitted: 'asc', 'desc'",
        ),
        (
            h(json!({"sortBy": {"fields": [{"fieldName": "a"}], "sortDepth": 0}})),
            json!(["body", "sortBy", "sortDepth"]),
            "value_error.number.not_ge",
            "ensure this value is greater than or equal to 1",
        ),
        (
            h(json!({"relevanceCutoff": {"method": "relative_max_score"}})),
            json!(["body", "relevanceCutoff", "__root__"]),
            "value_error",
            "You must provide '['relativeScoreFactor']' as parameters for method 'relative_max_score'",
        ),
        (
            h(json!({"relevanceCutoff": {"method": "mean_std_dev"}})),
            json!(["body", "relevanceCutoff", "__root__"]),
            "value_error",
            "You must provide '['stdDevFactor']' as parameters for mean_std_dev",
        ),
        (
            h(
                json!({"relevanceCutoff": {"method": "gap_detection", "parameters": {"relativeScoreFactor": 0.5}}}),
            ),
            json!(["body", "relevanceCutoff", "__root__"]),
            "value_error",
            "gap_detection does not require any parameters, but received relative_score_factor=0.5",
        ),
        (
            h(json!({"relevanceCutoff": {"method": "top"}})),
            json!(["body", "relevanceCutoff", "method"]),
            "type_error.enum",
            "value is not a valid enumeration member; permitted: 'relative_max_score', 'gap_detection', 'mean_std_dev'",
        ),
        (
            h(json!({"relevanceCutoff": {"method": "gap_detection", "probeDepth": 0}})),
            json!(["body", "relevanceCutoff", "probeDepth"]),
            "value_error.number.not_ge",
            "ensure this value is greater than or equal to 1",
        ),
        (
            h(json!({"recencyParameters": {"scale": "7d"}})),
            json!(["body", "recencyParameters", "recencyField"]),
            "value_error.missing",
            "field required",
        ),
        (
            h(json!({"recencyParameters": {"recencyField": "ts", "decayTo": 0}})),
            json!(["body", "recencyParameters", "decayTo"]),
            "value_error.number.not_gt",
            "ensure this value is greater than 0",
        ),
        (
            h(json!({"recencyParameters": {"recencyField": "ts", "growFrom": 0.5}})),
            json!(["body", "recencyParameters", "__root__"]),
            "value_error",
            "Grow parameters must be either all provided or all omitted. Provided: [growFrom]. Missing: [growFunction, growOffset, growScale].",
        ),
        (
            h(json!({"recencyParameters": {"recencyField": "ts", "decayFunction": "cubic"}})),
            json!(["body", "recencyParameters", "decayFunction"]),
            "type_error.enum",
            "value is not a valid enumeration member; permitted: 'exponential', 'linear', 'gaussian', 'binary'",
        ),
        (
            h(json!({"collapseFields": [{"name": "group", "extra": 1}]})),
            json!(["body", "collapseFields", 0, "extra"]),
            "value_error.extra",
            "extra fields not permitted",
        ),
    ]
}

async fn strict(t: &Target) {
    for (body, loc, kind, msg) in strict_cases() {
        let (s, r) = t.req("POST", "/indexes/fx/search", body.clone()).await;
        assert_eq!(s, 422, "{body}: {r}");
        let d = &r["detail"][0];
        assert_eq!(
            (&d["loc"], d["type"].as_str(), d["msg"].as_str()),
            (&loc, Some(kind), Some(msg)),
            "{body}: {r}"
        );
    }
    let bad = [(
        lexical_hybrid(
            json!({"facets": {"fields": {"c": {"type": "string", "excludeTerms": ["c:x"]}}}}),
        ),
        "Exclude terms can only be used when a filter string is provided",
    )];
    for (body, msg) in bad {
        let (s, r) = t.req("POST", "/indexes/fx/search", body.clone()).await;
        assert_eq!((s, r["message"].as_str()), (400, Some(msg)), "{body}: {r}");
    }
}

async fn all(t: &Target) {
    setup(t).await;
    let (s, r) = t.req("POST", "/indexes/cut", json!({})).await;
    assert_eq!(s, 200, "{r}");
    facets_and_total_hits(t).await;
    sort_by(t).await;
    relevance_cutoff(t).await;
    collapse_rerank_recency(t).await;
    query_prefix_and_ranking_methods(t).await;
    error_bodies(t).await;
    strict(t).await;
}

#[tokio::test]
async fn search_parameters_in_process() {
    let (_dir, cell, app) = cell_with_index("unused").await;
    all(&Target::Router(app)).await;
    fake_cell::servers::stop_all(&cell);
}

#[tokio::test]
async fn search_parameters_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open"]).await;
    all(&Target::Http(cell.url.clone())).await;
}

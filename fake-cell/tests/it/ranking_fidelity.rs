//! Ranking details compared with values worked out from Marqo's source (issue 19), each run
//! in-process and over HTTP: `interpolationMethod` for `context` vectors and recommend
//! (`vector_interpolation.py`), recency's `applyInRankingPhase` / `applyToSubqueries`
//! (`semi_structured_vespa_index._get_recency_query_input`, `HybridSearcher.createSubQuery` and
//! `postProcessResults`), and `relevanceCutoff.overrideSortCandidatesWithRelevantCandidates`
//! (`HybridSearcher.search` before `postProcessBySort`), `trackTotalHits: false` and facets'
//! `maxDepth` (`_generate_facet_queries`, `_get_facets_term`), and HYBRID's `queryLexical` /
//! `queryTensor` legs (`hybrid_search.search`).

use serde_json::{Value, json};

use crate::in_process::cell_with_index;
use crate::search_params::{Target, ids};
use crate::support::CellProc;

const DIM: usize = 768; // hf/e5-base-v2, the default model

fn unit(i: usize) -> Vec<f64> {
    let mut v = vec![0.0; DIM];
    v[i] = 1.0;
    v
}

fn score(r: &Value, id: &str) -> f64 {
    r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["_id"] == id)
        .and_then(|h| h["_score"].as_f64())
        .unwrap_or_else(|| panic!("{id} not in {r}"))
}

fn near(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < 1e-5, "{what}: got {got}, want {want}");
}

async fn ok(t: &Target, path: &str, body: Value) -> Value {
    let (s, r) = t.req("POST", path, body.clone()).await;
    assert_eq!(s, 200, "{path} {body}: {r}");
    assert_ne!(r["errors"], true, "{r}");
    r
}

/// Two documents whose only tensor field is a custom vector: `a` = e0, `b` = e1. The query
/// is `context` [e0 weight 1, e1 weight 3]; a hit's score is Vespa's prenormalized-angular
/// closeness 1 / (1 + (1 − q·d)). Worked out from vector_interpolation.py:
/// * lerp: q = (1/4)e0 + (3/4)e1 → b 1/1.25 = 0.8, a 1/1.75 = 0.5714286;
/// * nlerp: q / |q| = (0.3162278, 0.9486833) → b 0.9511897, a 0.5939062 (the search default
///   for an index with `normalizeEmbeddings`);
/// * slerp (one pair, t = 3/4, θ = π/2): (sin π/8, sin 3π/8) = (0.3826834, 0.9238795) →
///   b 0.9292648, a 0.6183162.
async fn interpolation(t: &Target) {
    ok(t, "/indexes/iv", json!({})).await;
    let docs = json!({"documents": [
        {"_id": "a", "vec": {"content": "first", "vector": unit(0)}},
        {"_id": "b", "vec": {"content": "second", "vector": unit(1)}}],
        "tensorFields": ["vec"], "mappings": {"vec": {"type": "custom_vector"}}});
    ok(t, "/indexes/iv/documents", docs).await;
    let ctx =
        json!({"tensor": [{"vector": unit(0), "weight": 1}, {"vector": unit(1), "weight": 3}]});
    let cases = [
        (Some("lerp"), 0.8, 0.571_428_6),
        (Some("nlerp"), 0.951_189_7, 0.593_906_2),
        (None, 0.951_189_7, 0.593_906_2),
        (Some("slerp"), 0.929_264_8, 0.618_316_2),
        // Marqo's `InterpolationMethod` is a `CaseInsensitiveEnum`.
        (Some("SLERP"), 0.929_264_8, 0.618_316_2),
        (Some("Lerp"), 0.8, 0.571_428_6),
    ];
    for (method, b, a) in cases {
        let mut body = json!({"context": ctx.clone(), "approximate": false});
        if let Some(m) = method {
            body["interpolationMethod"] = json!(m);
        }
        let r = t.search("iv", body).await;
        near(score(&r, "b"), b, &format!("{method:?} b"));
        near(score(&r, "a"), a, &format!("{method:?} a"));
    }
    // Recommend interpolates the documents' vectors (default slerp with normalizeEmbeddings),
    // then searches with that one context vector, which the search's nlerp normalises: lerp
    // therefore ranks as nlerp.
    for (method, b) in [
        (None, 0.929_264_8),
        (Some("lerp"), 0.951_189_7),
        (Some("LERP"), 0.951_189_7),
    ] {
        let mut body = json!({"documents": {"a": 1, "b": 3}, "excludeInputDocuments": false});
        if let Some(m) = method {
            body["interpolationMethod"] = json!(m);
        }
        let r = ok(t, "/indexes/iv/recommend", body).await;
        near(score(&r, "b"), b, &format!("recommend {method:?}"));
    }
    let refused = [
        (
            "search",
            json!({"q": "first", "interpolationMethod": "cubic"}),
            "",
        ),
        (
            "search",
            json!({"q": {"first": 0, "second": 0}}),
            "All weights are zero. LERP cannot interpolate vectors with all zero weights.",
        ),
        (
            "search",
            json!({"q": {"first": 0, "second": 0}, "interpolationMethod": "slerp"}),
            "All weights are zero. SLERP cannot interpolate vectors with all zero weights.",
        ),
        (
            "recommend",
            json!({"documents": {"a": 0}}),
            "No documents with non-zero weight provided",
        ),
    ];
    for (route, body, msg) in refused {
        let (s, r) = t
            .req("POST", &format!("/indexes/iv/{route}"), body.clone())
            .await;
        if msg.is_empty() {
            // Not a member in any case: pydantic's enum error.
            assert_eq!(s, 422, "{body}: {r}");
            continue;
        }
        assert_eq!(
            (s, r["code"].as_str(), r["message"].as_str()),
            (400, Some("invalid_argument"), Some(msg)),
            "{body}: {r}"
        );
    }
}

const CENTER: i64 = 1_700_000_000;

/// HYBRID lexical/lexical: `r1` is one day older than `center` (exponential, scale 1d,
/// decayTo 0.5 → factor 0.5^1 = 0.5), `r2` is at `center` (factor 1). Marqo sends
/// `should_apply_score = 0` to the rank profiles for `only-global`, `apply_in_global = false`
/// for `exclude-global`, and the searcher turns a leg's rank-profile recency off when
/// `applyToSubqueries` leaves it out. So r1's score, relative to no recency, is 0.25 with
/// `all` (the lexical leg's rank profile, then the global phase), 0.5 with one of the two, and
/// 1 with neither.
async fn recency_phases(t: &Target) {
    ok(t, "/indexes/rc", json!({})).await;
    let docs = json!({"documents": [
        {"_id": "r1", "t": "alpha beta", "ts": CENTER - 86_400},
        {"_id": "r2", "t": "alpha", "ts": CENTER}], "tensorFields": []});
    ok(t, "/indexes/rc/documents", docs).await;
    let body = |recency: Option<Value>| {
        let mut b = json!({"q": "alpha beta", "searchMethod": "HYBRID",
            "hybridParameters": {"retrievalMethod": "lexical", "rankingMethod": "lexical"}});
        if let Some(r) = recency {
            b["recencyParameters"] = r;
        }
        b
    };
    let plain = t.search("rc", body(None)).await;
    let (p1, p2) = (score(&plain, "r1"), score(&plain, "r2"));
    let cases = [
        (json!({}), 0.25),
        (json!({"applyInRankingPhase": "all"}), 0.25),
        (json!({"applyInRankingPhase": "only-global"}), 0.5),
        (json!({"applyInRankingPhase": "exclude-global"}), 0.5),
        (
            json!({"applyInRankingPhase": "exclude-global", "applyToSubqueries": ["tensor"]}),
            1.0,
        ),
        (json!({"applyToSubqueries": ["tensor"]}), 0.5),
        (json!({"applyToSubqueries": ["lexical", "tensor"]}), 0.25),
    ];
    for (extra, ratio) in cases {
        let mut rec =
            json!({"recencyField": "ts", "scale": "1d", "decayTo": 0.5, "center": CENTER});
        for (k, v) in extra.as_object().unwrap() {
            rec[k] = v.clone();
        }
        let r = t.search("rc", body(Some(rec.clone()))).await;
        near(score(&r, "r1"), p1 * ratio, &format!("{rec}"));
        near(score(&r, "r2"), p2, &format!("{rec}"));
    }
}

/// Disjunction with `alpha` 0.4: the lexical probe (field `t`) finds `a` and `b` relevant
/// (gap detection: two full matches, then one-word matches); each leg retrieves
/// max(relevant, minSortCandidates) = 2 hits, lexical {a, b}, tensor (field `u`) {c, d}, and
/// RRF ranks a, b (0.6/61, 0.6/62) before c, d (0.4/61, 0.4/62). `postProcessBySort` sorts
/// every fused hit by price: c, d, b, a; with `overrideSortCandidatesWithRelevantCandidates`
/// the fused hits are first trimmed to max(minSortCandidates, relevant) = 2: b, a.
async fn cutoff_override(t: &Target) {
    ok(t, "/indexes/ov", json!({})).await;
    let docs = json!({"documents": [
        {"_id": "a", "t": "alpha beta gamma", "u": "zzz one", "price": 40},
        {"_id": "b", "t": "alpha beta gamma", "u": "zzz two", "price": 30},
        {"_id": "c", "t": "alpha words", "u": "alpha beta gamma", "price": 10},
        {"_id": "d", "t": "alpha other", "u": "alpha beta gamma delta", "price": 20},
        {"_id": "e", "t": "alpha more", "u": "unrelated", "price": 5}], "tensorFields": ["u"]});
    ok(t, "/indexes/ov/documents", docs).await;
    let body = |over: bool| {
        json!({"q": "alpha beta gamma", "searchMethod": "HYBRID",
            "hybridParameters": {"alpha": 0.4, "searchableAttributesLexical": ["t"],
                "searchableAttributesTensor": ["u"]},
            "relevanceCutoff": {"method": "gap_detection",
                "overrideSortCandidatesWithRelevantCandidates": over},
            "sortBy": {"fields": [{"fieldName": "price", "order": "asc"}]}})
    };
    let r = t.search("ov", body(false)).await;
    assert_eq!(ids(&r), ["c", "d", "b", "a"], "{r}");
    let r = t.search("ov", body(true)).await;
    assert_eq!(ids(&r), ["b", "a"], "{r}");
}

/// `trackTotalHits` given as false: Marqo runs no facet query and answers `totalHits: 0`, but
/// with facets the total-hits grouping runs (`track_total_hits is not None`) and counts. Facets'
/// `maxDepth` keeps the facet query's best hits: lexical matches on `u` by BM25 (c, then d),
/// then tensor-only matches at 0 in local id order (a, b, e): depth 3 → c, d, a, prices
/// 10 + 20 + 40.
async fn total_hits_and_depth(t: &Target) {
    let body = |extra: Value| {
        let mut b = json!({"q": "alpha beta gamma", "searchMethod": "HYBRID",
            "hybridParameters": {"searchableAttributesLexical": ["u"],
                "searchableAttributesTensor": ["u"]}});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let r = t.search("ov", body(json!({}))).await;
    assert!(r.get("totalHits").is_none(), "{r}");
    let r = t.search("ov", body(json!({"trackTotalHits": false}))).await;
    assert_eq!(r["totalHits"], 0, "{r}");
    let price = json!({"fields": {"price": {"type": "number"}}});
    let r = t
        .search(
            "ov",
            body(json!({"trackTotalHits": false, "facets": price.clone()})),
        )
        .await;
    assert_eq!(r["totalHits"], 5, "{r}");
    let mut deep = price.clone();
    deep["maxDepth"] = json!(3);
    let r = t.search("ov", body(json!({"facets": deep}))).await;
    let p = &r["facets"]["price"];
    assert_eq!(
        (&p["count"], p["sum"].as_f64()),
        (&json!(3), Some(70.0)),
        "{r}"
    );
}

/// `hybridParameters.queryLexical` / `queryTensor` instead of `q` (`hybrid_search.search`):
/// each leg searches its own query, and Marqo's 400s for a leg that cannot use one.
async fn hybrid_query_legs(t: &Target) {
    let body = |hp: Value| json!({"searchMethod": "HYBRID", "hybridParameters": hp});
    let fields = json!({"searchableAttributesLexical": ["t"], "searchableAttributesTensor": ["u"]});
    let mut both = fields.clone();
    both["queryLexical"] = json!("words");
    both["queryTensor"] = json!("unrelated");
    // RRF: c is the lexical leg's only hit (0.5/61, plus its tensor rank), e the tensor leg's
    // first (0.5/61); every other document is a later tensor hit only.
    let r = t.search("ov", body(both)).await;
    assert_eq!(ids(&r)[..2], ["c", "e"], "{r}");
    let r = t
        .search(
            "ov",
            body(
                json!({"retrievalMethod": "lexical", "rankingMethod": "lexical",
                "queryLexical": "alpha words", "searchableAttributesLexical": ["t"]}),
            ),
        )
        .await;
    assert_eq!(ids(&r)[0], "c", "{r}");
    let r = t
        .search(
            "ov",
            body(
                json!({"retrievalMethod": "tensor", "rankingMethod": "tensor",
                "queryTensor": "unrelated", "searchableAttributesTensor": ["u"]}),
            ),
        )
        .await;
    assert_eq!(ids(&r)[0], "e", "{r}");
    let refused = [
        (
            json!({"queryTensor": "x"}),
            "Either 'hybridParameters.queryLexical' or just 'q'must be present when 'disjunction' retrieval method is used.",
        ),
        // A lexical query alone leaves the tensor leg nothing to embed (no context).
        (
            json!({"queryLexical": "x"}),
            "Marqo could not collect any vectors from the search query but the retrieval or ranking method requires at least one valid vector. Please check the provided query, context (if any), or queryTensor(for Hybrid search) ",
        ),
        (
            json!({"retrievalMethod": "lexical", "rankingMethod": "lexical", "queryTensor": "x"}),
            "'hybridParameters.queryTensor' cannot be provided when 'retrievalMethod' and 'rankingMethod' are both 'lexical'.",
        ),
        (
            json!({"retrievalMethod": "tensor", "rankingMethod": "tensor", "queryLexical": "x"}),
            "'hybridParameters.queryLexical' cannot be provided when 'retrievalMethod' and 'rankingMethod' are both 'tensor'.",
        ),
    ];
    for (hp, msg) in refused {
        let (s, r) = t.req("POST", "/indexes/ov/search", body(hp.clone())).await;
        assert_eq!(
            (s, r["code"].as_str(), r["message"].as_str()),
            (400, Some("invalid_argument"), Some(msg)),
            "{hp}: {r}"
        );
    }
}

async fn all(t: &Target) {
    interpolation(t).await;
    recency_phases(t).await;
    cutoff_override(t).await;
    total_hits_and_depth(t).await;
    hybrid_query_legs(t).await;
}

#[tokio::test]
async fn ranking_fidelity_in_process() {
    let (_dir, cell, app) = cell_with_index("unused").await;
    all(&Target::Router(app)).await;
    fake_cell::servers::stop_all(&cell);
}

#[tokio::test]
async fn ranking_fidelity_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open"]).await;
    all(&Target::Http(cell.url.clone())).await;
}

//! The router in-process (`tower::ServiceExt::oneshot`): readiness, bodies without a
//! Content-Type, and malformed JSON.

use axum::body::Body;
use axum::http::{Method, Request};
use clap::Parser;
use std::sync::Arc;

use fake_cell::{Cell, Config, router};
use serde_json::{Value, json};
use tower::ServiceExt;

pub(crate) async fn send(
    app: &axum::Router,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .body(
            body.map(|b| Body::from(b.to_string()))
                .unwrap_or_else(Body::empty),
        )
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

/// An open cell restored from a fresh temp state file (not yet ready), and its router.
async fn start_cell() -> (tempfile::TempDir, Arc<Cell>, axum::Router) {
    start_cell_with(&["--open"]).await
}

/// A cell with `extra` flags restored from a fresh temp state file (not yet ready), and its router.
pub(crate) async fn start_cell_with(
    extra: &[&str],
) -> (tempfile::TempDir, Arc<Cell>, axum::Router) {
    let dir = tempfile::tempdir().unwrap();
    let range = crate::support::index_range();
    let state = dir.path().join("s.json");
    let mut args = vec!["fake-cell", "--index-ports", &range, "--state-file"];
    args.push(state.to_str().unwrap());
    args.extend_from_slice(extra);
    let config = Config::parse_from(args);
    let health = service_kit::HealthState::new("fake-cell", "test");
    let cell = tokio::task::spawn_blocking(move || fake_cell::restore(config, health))
        .await
        .unwrap()
        .unwrap();
    let app = router(cell.clone());
    (dir, cell, app)
}

#[tokio::test]
async fn in_process_router_contract() {
    let (_dir, cell, app) = start_cell().await;

    let (s, h) = send(&app, Method::GET, "/healthz", None).await;
    assert_eq!((s, h["status"].as_str()), (503, Some("starting")));
    cell.health.set_ready();
    let (s, _) = send(&app, Method::GET, "/healthz", None).await;
    assert_eq!(s, 200);

    let (s, _) = send(&app, Method::POST, "/indexes/ip", Some("{}")).await;
    assert_eq!(s, 200);
    let add = json!({"documents": [{"_id": "x", "title": "hello world", "n": 1}], "tensorFields": ["title"], "mappings": null, "modelAuth": null}).to_string();
    let (s, r) = send(
        &app,
        Method::POST,
        "/indexes/ip/documents?refresh=false&device=cuda1",
        Some(&add),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let (s, r) = send(
        &app,
        Method::PATCH,
        "/indexes/ip/documents",
        Some(r#"{"documents":[{"_id":"x","n":2}]}"#),
    )
    .await;
    assert_eq!((s, r["errors"].as_bool()), (200, Some(false)));
    let (s, r) = send(
        &app,
        Method::GET,
        "/indexes/ip/documents?expose_facets=True",
        Some(r#"["x"]"#),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(r["results"][0]["n"], 2);
    assert!(r["results"][0]["_tensor_facets"].is_array());
    let (s, r) = send(
        &app,
        Method::POST,
        "/indexes/ip/search?&device=cpu",
        Some("not json"),
    )
    .await;
    assert_eq!((s, r["code"].as_str()), (400, Some("invalid_argument")));
    let (s, r) = send(&app, Method::POST, "/indexes/ip/search", Some("[1,2]")).await;
    assert_eq!((s, r["code"].as_str()), (422, Some("unprocessable_entity")));
    assert!(r["detail"].is_array());
    let (s, _) = send(&app, Method::DELETE, "/indexes/ip", None).await;
    assert_eq!(s, 200);
    fake_cell::servers::stop_all(&cell);
}

/// The key is checked after the path and the JSON body: malformed JSON is 400 whoever sends it,
/// well-formed requests without a key are 401 (with or without a body).
#[tokio::test]
async fn a_malformed_body_is_reported_before_a_missing_key() {
    let (_dir, cell, app) = start_cell_with(&[]).await;
    cell.health.set_ready();
    let (s, r) = send(
        &app,
        Method::POST,
        "/indexes/x/documents",
        Some("{not json"),
    )
    .await;
    assert_eq!((s, r["code"].as_str()), (400, Some("invalid_argument")));
    let (s, r) = send(
        &app,
        Method::POST,
        "/indexes/x/search",
        Some(r#"{"q":"a"}"#),
    )
    .await;
    assert_eq!((s, r["code"].as_str()), (401, Some("unauthorized")));
    let (s, r) = send(&app, Method::GET, "/indexes/x/stats", None).await;
    assert_eq!((s, r["code"].as_str()), (401, Some("unauthorized")));
    let (s, r) = send(&app, Method::GET, "/api/v2/indexes", None).await;
    assert_eq!((s, r["code"].as_str()), (401, Some("unauthorized")));
    fake_cell::servers::stop_all(&cell);
}

/// A ready in-process cell started with `extra` flags, driven through its router; its index
/// servers stop when it drops.
pub(crate) struct InProcess {
    _dir: tempfile::TempDir,
    cell: Arc<Cell>,
    pub target: crate::search_params::Target,
}

pub(crate) async fn ready_cell(extra: &[&str]) -> InProcess {
    let (dir, cell, app) = start_cell_with(extra).await;
    cell.health.set_ready();
    InProcess {
        _dir: dir,
        cell,
        target: crate::search_params::Target::Router(app),
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        fake_cell::servers::stop_all(&self.cell);
    }
}

/// A started cell with an empty open index `name` (in-process, ports from the test range).
pub(crate) async fn cell_with_index(name: &str) -> (tempfile::TempDir, Arc<Cell>, axum::Router) {
    let (dir, cell, app) = start_cell().await;
    cell.health.set_ready();
    let (s, _) = send(&app, Method::POST, &format!("/indexes/{name}"), Some("{}")).await;
    assert_eq!(s, 200);
    (dir, cell, app)
}

fn ids(r: &Value) -> Vec<String> {
    r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["_id"].as_str().unwrap().to_string())
        .collect()
}

/// Search keeps only the best page (a bounded heap, dense or sparse accumulation, cached
/// per-term scores and a per-index result cache); whatever path a query takes, pages must agree
/// with one another and a write must never be answered from a stale cache.
#[tokio::test]
async fn ranking_paths_agree_and_writes_invalidate_the_caches() {
    let (_dir, cell, app) = cell_with_index("rank").await;
    let words = [
        "red", "blue", "shoe", "boot", "wool", "silk", "warm", "light",
    ];
    let docs: Vec<Value> = (0..300)
        .map(|i| {
            let w = |k: usize| words[(i * 7 + k * 3 + i / 5) % words.len()];
            json!({"_id": format!("d{i}"), "title": format!("{} {} {}", w(1), w(2), w(3)),
                   "body": if i % 50 == 0 { "rare zebra".to_string() } else { format!("{} {}", w(4), w(5)) }})
        })
        .collect();
    for batch in docs.chunks(100) {
        let add = json!({"documents": batch, "tensorFields": ["title"]}).to_string();
        let (s, r) = send(&app, Method::POST, "/indexes/rank/documents", Some(&add)).await;
        assert_eq!((s, r["errors"].as_bool()), (200, Some(false)), "{r}");
    }

    // TENSOR pages are compared on the exact path: an HNSW walk for 40 hits and one for 10 may
    // legitimately disagree on near ties (`engine/ann`; the approximate path has its own tests).
    let search = |q: &str, method: &str, limit: u32, offset: u32| {
        let mut b = json!({"q": q, "searchMethod": method, "limit": limit, "offset": offset});
        if method == "TENSOR" {
            b["approximate"] = json!(false);
        }
        b.to_string()
    };
    let find = |body: String| {
        let app = app.clone();
        async move {
            send(&app, Method::POST, "/indexes/rank/search", Some(&body))
                .await
                .1
        }
    };
    // (HYBRID fuses each side's best `limit + offset`, so its pages legitimately differ with depth.)
    for method in ["LEXICAL", "TENSOR"] {
        // A common query (dense accumulation) paged two ways gives the same order.
        let all = find(search("red wool shoe", method, 40, 0)).await;
        let first = find(search("red wool shoe", method, 10, 0)).await;
        let second = find(search("red wool shoe", method, 10, 10)).await;
        let all = ids(&all);
        assert_eq!(all.len(), 40, "{method}");
        assert_eq!(ids(&first), all[..10].to_vec(), "{method}");
        assert_eq!(ids(&second), all[10..20].to_vec(), "{method}");
    }
    // Scores come out best first, ties by insertion order.
    let r = find(search("red wool shoe", "LEXICAL", 100, 0)).await;
    let scores: Vec<f64> = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["_score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    // A rare term (sparse accumulation) finds exactly its documents.
    let r = find(search("zebra", "LEXICAL", 100, 0)).await;
    let mut rare = ids(&r);
    rare.sort();
    assert_eq!(rare, vec!["d0", "d100", "d150", "d200", "d250", "d50"]);

    // A cached answer is the first one, byte for byte but for `processingTimeMs`.
    let hybrid = json!({"q": "red shoe", "searchMethod": "HYBRID", "limit": 5,
                        "attributesToRetrieve": ["title"]});
    for body in [
        search("silk", "LEXICAL", 7, 2),
        search("red shoe", "TENSOR", 5, 1),
        hybrid.to_string(),
    ] {
        let mut answers = Vec::new();
        for _ in 0..2 {
            let mut r = find(body.clone()).await;
            let time = r.as_object_mut().unwrap().remove("processingTimeMs");
            assert!(time.is_some_and(|t| t.is_u64()), "{body}");
            answers.push(r.to_string());
        }
        assert!(answers[0].contains("\"hits\":[{"), "{}", answers[0]);
        assert_eq!(answers[0], answers[1], "{body}");
    }

    // The same request again (now cached), then a write: the new document shows at once.
    let body = search("zebra", "LEXICAL", 100, 0);
    let again = find(body.clone()).await;
    assert_eq!(ids(&again).len(), 6);
    let add = json!({"documents": [{"_id": "new", "title": "zebra zebra zebra"}], "tensorFields": ["title"]}).to_string();
    let (s, _) = send(&app, Method::POST, "/indexes/rank/documents", Some(&add)).await;
    assert_eq!(s, 200);
    let after = find(body.clone()).await;
    assert_eq!(
        ids(&after).first().map(String::as_str),
        Some("new"),
        "{after}"
    );
    assert_eq!(ids(&after).len(), 7);
    let (s, _) = send(
        &app,
        Method::POST,
        "/indexes/rank/documents/delete-batch",
        Some(r#"["new","d0"]"#),
    )
    .await;
    assert_eq!(s, 200);
    let after = find(body.clone()).await;
    assert_eq!(ids(&after).len(), 5, "{after}");
    assert!(!ids(&after).contains(&"new".to_string()));
    fake_cell::servers::stop_all(&cell);
}

/// Lexical matching makes its terms as Vespa does for Marqo's lexical fields: lower-cased,
/// accents dropped, stemmed; in documents and queries alike, and on every write path (an
/// update and a delete must take out the same stemmed terms they put in). Only string fields
/// are lexical in a semi-structured index, and `*` matches every document.
#[tokio::test]
async fn lexical_search_matches_stems_and_unaccented_words_as_marqo_does() {
    let (_dir, cell, app) = cell_with_index("words").await;
    let add = |docs: Value| {
        let app = app.clone();
        async move {
            let body = json!({"documents": docs, "tensorFields": ["title"]}).to_string();
            let (s, r) = send(&app, Method::POST, "/indexes/words/documents", Some(&body)).await;
            assert_eq!((s, r["errors"].as_bool()), (200, Some(false)), "{r}");
        }
    };
    add(json!([
        {"_id": "a", "title": "Running Shoes"},
        {"_id": "b", "title": "Café au lait"},
        {"_id": "c", "title": "red boxes", "tags": ["Shoe"]},
        {"_id": "d", "title": "the shoe rack"},
        {"_id": "n", "price": 3},
    ]))
    .await;
    let lexical = |q: &str| {
        let app = app.clone();
        let body = json!({"q": q, "searchMethod": "LEXICAL", "limit": 10}).to_string();
        async move {
            let (s, r) = send(&app, Method::POST, "/indexes/words/search", Some(&body)).await;
            assert_eq!(s, 200, "{r}");
            let mut found = ids(&r);
            found.sort();
            found
        }
    };
    // `c`'s tags are a list of strings: Marqo keeps those for filtering only.
    assert_eq!(lexical("shoe").await, ["a", "d"]);
    assert_eq!(lexical("SHOES").await, ["a", "d"]);
    assert_eq!(lexical("run").await, ["a"]);
    assert_eq!(lexical("cafe").await, ["b"]);
    assert_eq!(lexical("cafés").await, ["b"]);
    assert_eq!(lexical("box").await, ["c"]);
    assert_eq!(lexical(r#""running shoe""#).await, ["a"]);
    assert_eq!(lexical(r#""shoes running""#).await, Vec::<String>::new());

    // The hybrid's lexical leg scores the same matches.
    let body = json!({"q": "shoes", "searchMethod": "HYBRID", "limit": 10,
                      "hybridParameters": {"alpha": 0}})
    .to_string();
    let (_, r) = send(&app, Method::POST, "/indexes/words/search", Some(&body)).await;
    let scored: Vec<&str> = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["_lexical_score"].as_f64().is_some_and(|s| s > 0.0))
        .map(|h| h["_id"].as_str().unwrap())
        .collect();
    assert_eq!(scored.len(), 2, "{r}");

    // `*` is every document, text or not, each scored 0 (Marqo's `where true`, BM25 of no terms).
    let body = json!({"q": "*", "searchMethod": "LEXICAL"}).to_string();
    let (_, r) = send(&app, Method::POST, "/indexes/words/search", Some(&body)).await;
    assert_eq!(ids(&r), ["a", "b", "c", "d", "n"], "{r}");
    assert!(
        r["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["_score"] == 0.0),
        "{r}"
    );
    let body = json!({"q": "*", "searchMethod": "LEXICAL", "filter": "tags:Shoe"}).to_string();
    let (_, r) = send(&app, Method::POST, "/indexes/words/search", Some(&body)).await;
    assert_eq!(ids(&r), ["c"], "{r}");
    // Nor does a phrase check read the list: `c` has "red" but its "Shoe" is only a tag.
    let body = json!({"q": "\"shoe\" red", "searchMethod": "LEXICAL",
                      "searchableAttributes": ["title", "tags"]})
    .to_string();
    let (s, r) = send(&app, Method::POST, "/indexes/words/search", Some(&body)).await;
    assert_eq!((s, ids(&r)), (200, Vec::<String>::new()), "{r}");

    // A replacement and a delete take their stemmed terms out again.
    add(json!([{"_id": "d", "title": "the boot rack"}])).await;
    assert_eq!(lexical("shoe").await, ["a"]);
    assert_eq!(lexical("boots").await, ["d"]);
    let (s, _) = send(
        &app,
        Method::POST,
        "/indexes/words/documents/delete-batch",
        Some(r#"["a"]"#),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(lexical("shoes").await, Vec::<String>::new());
    assert_eq!(lexical("running").await, Vec::<String>::new());
    fake_cell::servers::stop_all(&cell);
}

/// A structured index's `array<text>` field with `lexical_search` is searched like text (only a
/// semi-structured index keeps its lists of strings for filtering alone), stemmed the same way.
#[tokio::test]
async fn a_structured_text_array_with_lexical_search_is_lexical() {
    let (_dir, cell, app) = start_cell().await;
    cell.health.set_ready();
    let settings = json!({"type": "structured", "model": "hf/e5-small-v2",
        "allFields": [
            {"name": "title", "type": "text"},
            {"name": "tags", "type": "array<text>", "features": ["lexical_search", "filter"]}
        ],
        "tensorFields": ["title"]})
    .to_string();
    let (s, r) = send(&app, Method::POST, "/indexes/tagged", Some(&settings)).await;
    assert_eq!(s, 200, "{r}");
    let add = json!({"documents": [
        {"_id": "1", "title": "a pair", "tags": ["Running Shoes", "sale"]},
        {"_id": "2", "title": "shoes", "tags": ["boots"]}
    ]})
    .to_string();
    let (s, r) = send(&app, Method::POST, "/indexes/tagged/documents", Some(&add)).await;
    assert_eq!((s, r["errors"].as_bool()), (200, Some(false)), "{r}");
    let body = json!({"q": "shoe", "searchMethod": "LEXICAL"}).to_string();
    let (s, r) = send(&app, Method::POST, "/indexes/tagged/search", Some(&body)).await;
    assert_eq!(s, 200, "{r}");
    // `title` has no lexical_search feature: only document 1's tags match.
    assert_eq!(ids(&r), ["1"], "{r}");
    fake_cell::servers::stop_all(&cell);
}

//! Marqo's typeahead routes in-process and over HTTP: index, get, suggest, delete and count
//! queries as marqo-api-tests' newest `test_typeahead` drives them; the bodies' 422s; the
//! batch-gated delete-all; and the queries surviving `kill -9` and a snapshot round trip.

use serde_json::{Value, json};

use crate::in_process::cell_with_index;
use crate::search_params::Target;
use crate::support::{CellProc, call};

fn suggestions(r: &Value) -> Vec<&str> {
    r["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["suggestion"].as_str().unwrap())
        .collect()
}

async fn workflow(t: &Target) {
    t.create("ta", json!({})).await;
    let queries = json!({"queries": [
        {"query": "machine learning algorithms", "popularity": 10.0, "metadata": {"hit_count": 3}},
        {"query": "machine learning basics", "popularity": 8.0},
        {"query": "machine learning tutorial", "popularity": 6.0},
        {"query": "artificial intelligence", "popularity": 9.0, "metadata": {"hit_count": 500}},
        {"query": "deep learning", "popularity": 7.0},
    ]});
    let (s, r) = t
        .req("POST", "/indexes/ta/suggestions/queries", queries)
        .await;
    assert_eq!(
        (s, r["indexed"].as_u64(), r["errors"].clone()),
        (200, Some(5), json!([])),
        "{r}"
    );
    let (_, r) = t.get("/indexes/ta/suggestions/stats").await;
    assert_eq!(r, json!({"indexedQueries": 5}));
    let (s, r) = t
        .req(
            "GET",
            "/indexes/ta/suggestions/queries",
            json!(["artificial intelligence", "deep learning", "never indexed"]),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let got = r["queries"].as_array().unwrap();
    assert_eq!(got.len(), 2, "{r}");
    assert_eq!(
        (&got[0]["query"], &got[0]["popularity"], &got[0]["metadata"]),
        (
            &json!("artificial intelligence"),
            &json!(9.0),
            &json!({"hit_count": 500})
        )
    );
    assert_eq!(
        (&got[1]["query"], &got[1]["metadata"]),
        (&json!("deep learning"), &json!({}))
    );
    // A prefix, and the most popular queries for an empty q.
    let (s, r) = t
        .req(
            "POST",
            "/indexes/ta/suggestions",
            json!({"q": "machine", "limit": 5}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert!(r["processingTimeMs"].is_number(), "{r}");
    let found = suggestions(&r);
    assert_eq!(found.len(), 3, "{r}");
    assert!(found.iter().all(|s| s.contains("machine")), "{r}");
    assert!(r["suggestions"][0]["_score"].is_number(), "{r}");
    let (_, r) = t
        .req(
            "POST",
            "/indexes/ta/suggestions",
            json!({"q": "", "limit": 3}),
        )
        .await;
    assert_eq!(
        suggestions(&r),
        [
            "machine learning algorithms",
            "artificial intelligence",
            "machine learning basics"
        ]
    );
    // A typo of a long word still finds it.
    let (_, r) = t
        .req(
            "POST",
            "/indexes/ta/suggestions",
            json!({"q": "artifical intel"}),
        )
        .await;
    assert_eq!(suggestions(&r)[0], "artificial intelligence", "{r}");
    // The same query again replaces it.
    let (_, r) = t
        .req(
            "POST",
            "/indexes/ta/suggestions/queries",
            json!({"queries": [{"query": "Deep Learning", "popularity": 99.0}]}),
        )
        .await;
    assert_eq!(r["indexed"], 1, "{r}");
    let (_, r) = t.get("/indexes/ta/suggestions/stats").await;
    assert_eq!(r["indexedQueries"], 5);
    // Delete some (an unknown one is ignored).
    let (s, r) = t
        .req(
            "DELETE",
            "/indexes/ta/suggestions/queries",
            json!(["deep learning", "non-existent query"]),
        )
        .await;
    assert_eq!((s, r), (200, json!("Queries deleted successfully")));
    let (_, r) = t.get("/indexes/ta/suggestions/stats").await;
    assert_eq!(r["indexedQueries"], 4);
}

async fn invalid_bodies(t: &Target) {
    for body in [
        json!({}),
        json!({"q": "test", "limit": -1}),
        json!({"q": "test", "fuzzyEditDistance": -1}),
    ] {
        let (s, r) = t.req("POST", "/indexes/ta/suggestions", body.clone()).await;
        assert_eq!(s, 422, "{body}: {r}");
    }
    for body in [
        json!({}),
        json!({"queries": "not a list"}),
        json!({"queries": [{"popularity": 1.0}]}),
        json!({"queries": [{"query": "", "popularity": 1.0}]}),
        json!({"queries": [{"query": "abc", "popularity": "very popular"}]}),
        json!({"queries": [{"query": "abc", "popularity": 1.0, "some_random_field": "hello"}]}),
    ] {
        let (s, r) = t
            .req("POST", "/indexes/ta/suggestions/queries", body.clone())
            .await;
        assert!(s == 400 || s == 422, "{body}: {s} {r}");
    }
    let (s, r) = t.req("POST", "/indexes/ta/suggestions", json!({})).await;
    assert_eq!(r["detail"][0]["loc"], json!(["body", "q"]), "{s} {r}");
    // An index that does not exist.
    let (s, _) = t
        .req("POST", "/indexes/nope/suggestions", json!({"q": "x"}))
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn typeahead_in_process() {
    let (_dir, cell, app) = cell_with_index("unused").await;
    let t = Target::Router(app);
    workflow(&t).await;
    invalid_bodies(&t).await;
    // Batch routes are off by default, as in Marqo.
    let (s, _) = t
        .req(
            "DELETE",
            "/indexes/ta/suggestions/queries/delete-all",
            json!(null),
        )
        .await;
    assert_eq!(s, 403);
    fake_cell::servers::stop_all(&cell);
}

#[tokio::test]
async fn typeahead_over_http_survives_kill_9_and_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut cell = CellProc::start(dir.path(), &["--open", "--enable-batch-apis", "true"]).await;
    let t = Target::Http(cell.url.clone());
    workflow(&t).await;
    invalid_bodies(&t).await;
    // An acknowledged write is durable.
    let cell2 = cell.restart(dir.path()).await;
    let t = Target::Http(cell2.url.clone());
    let (_, r) = t.get("/indexes/ta/suggestions/stats").await;
    assert_eq!(r["indexedQueries"], 4, "after kill -9");
    // A snapshot carries them; a restore brings back what was cleared.
    let url = cell2.url.clone();
    let (s, snap) = call(
        reqwest::Method::GET,
        &format!("{url}/_fake/snapshot"),
        None,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, r) = t
        .req(
            "DELETE",
            "/indexes/ta/suggestions/queries/delete-all",
            json!(null),
        )
        .await;
    assert_eq!((s, r), (200, json!("All queries deleted successfully")));
    let (_, r) = t.get("/indexes/ta/suggestions/stats").await;
    assert_eq!(r["indexedQueries"], 0);
    let (s, r) = call(
        reqwest::Method::PUT,
        &format!("{url}/_fake/snapshot"),
        None,
        Some(&snap),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let (_, r) = t.get("/indexes/ta/suggestions/stats").await;
    assert_eq!(r["indexedQueries"], 4, "after the restore");
}

//! Approximate (HNSW) tensor search over real HTTP against the real binary: the very next
//! search finds an acknowledged document, deleted and replaced documents never come back,
//! filters still give `limit` hits (or every hit that exists), small indexes match exact
//! search, `approximate: false` is exact, and the graph is rebuilt after a `kill -9`.

use serde_json::{Value, json};

use crate::support::*;

const WORDS: &[&str] = &[
    "amber", "basalt", "cobalt", "dune", "ember", "fjord", "glacier", "harbor", "islet", "jade",
    "kelp", "lagoon", "meadow", "nectar", "orchid", "prairie", "quartz", "reef", "savanna",
];

fn doc(i: usize) -> Value {
    let w = |k: usize| WORDS[(i * (k + 3) + k * 7 + i / 19) % WORDS.len()];
    let colour = ["red", "green", "blue", "black", "white"][i % 5];
    json!({
        "_id": format!("d{i}"),
        "title": format!("{} {} {} note {i}", w(0), w(1), w(2)),
        "colour": colour,
        "n": i,
    })
}

async fn open_cell(dir: &std::path::Path) -> CellProc {
    let cell = CellProc::start(dir, &["--open"]).await;
    create_index(
        &cell.url,
        "unused",
        "ann",
        json!({"model": "hf/e5-small-v2"}),
    )
    .await;
    cell
}

async fn add(url: &str, docs: &[Value]) {
    for chunk in docs.chunks(100) {
        let (s, v) = add_docs(url, "unused", "ann", chunk).await;
        assert_eq!((s, v["errors"].clone()), (200, json!(false)), "{v}");
    }
}

/// `(id, score)` of each hit of a search with `extra` keys merged into the body.
async fn search(url: &str, q: &str, extra: Value) -> Vec<(String, f64)> {
    let mut body = json!({"q": q, "limit": 10});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let (s, v) = post(&format!("{url}/indexes/ann/search"), None, body).await;
    assert_eq!(s, 200, "{v}");
    v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| {
            let id = h["_id"].as_str().expect("_id").to_string();
            (id, h["_score"].as_f64().expect("_score"))
        })
        .collect()
}

/// Same ids in the same order with the same scores (a query's embedding is normalised with a
/// sum whose order varies by a rounding step between requests, so scores match to 1e-5).
fn same(a: &[(String, f64)], b: &[(String, f64)]) {
    assert_eq!(ids(a), ids(b));
    for ((_, x), (_, y)) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
    }
}

fn ids(hits: &[(String, f64)]) -> Vec<&str> {
    hits.iter().map(|(i, _)| i.as_str()).collect()
}

#[tokio::test]
async fn approximate_search_is_consistent_with_writes_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let cell = open_cell(dir.path()).await;
    let url = cell.url.clone();
    add(&url, &(0..400).map(doc).collect::<Vec<_>>()).await;
    // Small index: with efSearch above its size the graph walk is exhaustive, so approximate
    // and exact answers (ids, order and scores) are the same.
    for q in [
        "amber basalt",
        "quartz reef note",
        "lagoon",
        "meadow orchid 17",
    ] {
        let exact = search(&url, q, json!({"approximate": false})).await;
        let approx = search(&url, q, json!({"efSearch": 1000})).await;
        assert_eq!(exact.len(), 10);
        same(&approx, &exact);
        // The default (approximate, default efSearch) agrees on the best hit.
        let default = search(&url, q, json!({})).await;
        same(&default[..1], &exact[..1]);
    }
    // The very next search finds an acknowledged document.
    let fresh = json!({"_id": "fresh", "title": "zebra xylophone", "colour": "red", "n": 1});
    add(&url, &[fresh]).await;
    for extra in [json!({}), json!({"approximate": false})] {
        assert_eq!(
            ids(&search(&url, "zebra xylophone", extra).await)[0],
            "fresh"
        );
    }
    // Replaced: the old text no longer finds it first; the new one does.
    let moved = json!({"_id": "fresh", "title": "walrus yodel", "colour": "red", "n": 1});
    add(&url, &[moved]).await;
    let old = search(&url, "zebra xylophone", json!({})).await;
    assert_ne!(ids(&old)[0], "fresh");
    assert_eq!(
        ids(&search(&url, "walrus yodel", json!({})).await)[0],
        "fresh"
    );
    // Deleted: never comes back, by either path, whatever efSearch.
    let d3_title = doc(3)["title"].as_str().unwrap_or_default().to_string();
    let (s, v) = post(
        &format!("{url}/indexes/ann/documents/delete-batch"),
        None,
        json!(["fresh", "d3"]),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    for extra in [
        json!({}),
        json!({"efSearch": 1000}),
        json!({"approximate": false}),
    ] {
        for q in ["walrus yodel", d3_title.as_str()] {
            let hits = search(&url, q, extra.clone()).await;
            assert!(
                !ids(&hits).iter().any(|i| *i == "fresh" || *i == "d3"),
                "{q} {extra}: {hits:?}"
            );
        }
    }
}

#[tokio::test]
async fn filtered_approximate_search_returns_every_hit_that_exists() {
    let dir = tempfile::tempdir().unwrap();
    let cell = open_cell(dir.path()).await;
    let url = cell.url.clone();
    add(&url, &(0..500).map(doc).collect::<Vec<_>>()).await;
    // A broad filter: 10 hits, all of that colour, the same as exact search.
    let broad = json!({"filter": "colour:green"});
    let hits = search(&url, "amber basalt", broad.clone()).await;
    assert_eq!(hits.len(), 10);
    for (id, _) in &hits {
        let i: usize = id[1..].parse().unwrap();
        assert_eq!(i % 5, 1, "{id}");
    }
    let mut exact = broad.clone();
    exact["approximate"] = json!(false);
    assert_eq!(
        ids(&hits)[0],
        ids(&search(&url, "amber basalt", exact).await)[0]
    );
    // Selective filters: exactly the documents that pass, however far from the query.
    let few = json!({"filter": "n:[100 TO 104]"});
    let mut got = ids(&search(&url, "amber basalt", few).await)
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>();
    got.sort();
    assert_eq!(got, vec!["d100", "d101", "d102", "d103", "d104"]);
    let one = search(&url, "amber basalt", json!({"filter": "_id:d321"})).await;
    assert_eq!(ids(&one), vec!["d321"]);
    // Twelve pass: a page of 10 is full.
    let twelve = json!({"filter": "n:[200 TO 211]", "efSearch": 10});
    assert_eq!(search(&url, "zebra", twelve).await.len(), 10);
}

#[tokio::test]
async fn acknowledged_documents_are_found_approximately_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut cell = open_cell(dir.path()).await;
    add(&cell.url, &(0..300).map(doc).collect::<Vec<_>>()).await;
    let unique = json!({"_id": "kept", "title": "narwhal origami", "colour": "red", "n": 9});
    add(&cell.url, &[unique]).await;
    let before = search(&cell.url, "amber basalt", json!({"efSearch": 1000})).await;
    let cell = cell.restart(dir.path()).await;
    // Right after the restart (the graph may still be rebuilding) and then exhaustively.
    assert_eq!(
        ids(&search(&cell.url, "narwhal origami", json!({})).await)[0],
        "kept"
    );
    let after = search(&cell.url, "amber basalt", json!({"efSearch": 1000})).await;
    same(&after, &before);
    let exact = search(&cell.url, "amber basalt", json!({"approximate": false})).await;
    same(&after, &exact);
}

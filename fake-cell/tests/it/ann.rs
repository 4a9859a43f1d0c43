//! Approximate (HNSW) tensor search over real HTTP against the real binary: the very next
//! search finds an acknowledged document, deleted and replaced documents never come back,
//! filters still give `limit` hits (or every hit that exists), small indexes match exact
//! search, `approximate: false` is exact, the graph is rebuilt after a `kill -9`, every
//! `spaceType` scores as Vespa's closeness on both paths, and identical documents (one graph
//! point) are all found.

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
        // No prefixes (hf/e5-small-v2's defaults are "query: " / "passage: "), so a query
        // equal to a document's text scores 1.
        json!({"model": "hf/e5-small-v2", "textQueryPrefix": "", "textChunkPrefix": ""}),
    )
    .await;
    cell
}

async fn add(url: &str, docs: &[Value]) {
    add_to(url, "ann", docs).await
}

async fn add_to(url: &str, index: &str, docs: &[Value]) {
    for chunk in docs.chunks(100) {
        let (s, v) = add_docs(url, "unused", index, chunk).await;
        assert_eq!((s, v["errors"].clone()), (200, json!(false)), "{v}");
    }
}

/// `(id, score)` of each hit of a search with `extra` keys merged into the body.
async fn search(url: &str, q: &str, extra: Value) -> Vec<(String, f64)> {
    search_in(url, "ann", q, extra).await
}

async fn search_in(url: &str, index: &str, q: &str, extra: Value) -> Vec<(String, f64)> {
    let mut body = json!({"q": q, "limit": 10});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let (s, v) = post(&format!("{url}/indexes/{index}/search"), None, body).await;
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

/// The hits' scores by id.
fn by_id(hits: &[(String, f64)]) -> std::collections::HashMap<&str, f64> {
    hits.iter().map(|(i, s)| (i.as_str(), *s)).collect()
}

#[tokio::test]
async fn every_space_type_scores_as_vespa_closeness_on_both_paths() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open"]).await;
    let spaces = [
        "prenormalized-angular",
        "angular",
        "euclidean",
        "dotproduct",
        "hamming",
    ];
    let docs: Vec<Value> = (0..400).map(doc).collect();
    for space in spaces {
        let settings = json!({"model": "hf/e5-small-v2", "annParameters": {"spaceType": space,
            "parameters": {"efConstruction": 64, "m": 16}}});
        create_index(&cell.url, "unused", space, settings).await;
        add_to(&cell.url, space, &docs).await;
    }
    let q = "amber basalt cobalt";
    let mut exact = Vec::new();
    for space in spaces {
        let e = search_in(&cell.url, space, q, json!({"approximate": false})).await;
        // The graph path (efSearch 10 walks a small part of 400 points) scores the hits it
        // shares with the exact path the same, and finds as good a best hit (ties may differ).
        let a = search_in(&cell.url, space, q, json!({"efSearch": 10})).await;
        assert_eq!((e.len(), a.len()), (10, 10), "{space}");
        assert!((a[0].1 - e[0].1).abs() < 1e-5, "{space}: {a:?} vs {e:?}");
        let exact_scores = by_id(&e);
        for (id, s) in &a {
            if let Some(x) = exact_scores.get(id.as_str()) {
                assert!((s - x).abs() < 1e-5, "{space} {id}: {s} vs {x}");
            }
        }
        exact.push(
            by_id(&e)
                .into_iter()
                .map(|(i, s)| (i.to_string(), s))
                .collect::<Vec<_>>(),
        );
    }
    // The same (unit) vectors in every space: recover the cosine from the
    // prenormalized-angular score, 1 / (1 + (1 − cos)), and check the others against it.
    let pre: std::collections::HashMap<String, f64> = exact[0].iter().cloned().collect();
    type Check = (usize, fn(f64) -> f64);
    let checks: [Check; 3] = [
        (1, |c| 1.0 / (1.0 + c.clamp(-1.0, 1.0).acos())),
        (2, |c| 1.0 / (1.0 + (2.0 - 2.0 * c).max(0.0).sqrt())),
        (3, |c| c),
    ];
    for (k, f) in checks {
        for (id, s) in &exact[k] {
            let Some(p) = pre.get(id) else { continue };
            let cos = 2.0 - 1.0 / p;
            assert!(
                (s - f(cos)).abs() < 1e-4,
                "{}: {id} {s} vs {}",
                spaces[k],
                f(cos)
            );
        }
    }
    // Hamming: 1 / (1 + differing dimensions), a whole number of them.
    for (id, s) in &exact[4] {
        let differ = 1.0 / s - 1.0;
        assert!(
            s > &0.0 && (differ - differ.round()).abs() < 1e-3,
            "{id}: {s}"
        );
    }
}

#[tokio::test]
async fn identical_documents_are_all_findable() {
    let dir = tempfile::tempdir().unwrap();
    let cell = open_cell(dir.path()).await;
    let url = cell.url.clone();
    let twin =
        |i: usize| json!({"_id": format!("t{i}"), "title": "plain white cotton shirt", "n": i});
    let mut docs: Vec<Value> = (0..500).map(twin).collect();
    let distinct: Vec<Value> = (0..10)
        .map(|i| json!({"_id": format!("u{i}"), "title": format!("{} {} unique {i}", WORDS[i], WORDS[i + 5]), "n": 1000 + i}))
        .collect();
    docs.extend(distinct.clone());
    docs.extend((0..300).map(doc));
    add(&url, &docs).await;
    // Each distinct document is its own query's best hit on the graph path (recall 1).
    for d in &distinct {
        let title = d["title"].as_str().unwrap_or_default();
        let hits = search(&url, title, json!({"efSearch": 10})).await;
        assert_eq!(hits[0].0, d["_id"].as_str().unwrap_or_default(), "{title}");
    }
    // The twins: any page of them scores 1, and every one of the 500 is reachable.
    let page = search(&url, "plain white cotton shirt", json!({"efSearch": 10})).await;
    assert!(
        page.iter()
            .all(|(i, s)| i.starts_with('t') && (s - 1.0).abs() < 1e-5),
        "{page:?}"
    );
    let mut seen = std::collections::HashSet::new();
    for lo in (0..500).step_by(50) {
        // efSearch ≥ limit: Marqo asks for min(limit + offset, efSearch) neighbours.
        let f = json!({"efSearch": 50, "limit": 50, "filter": format!("n:[{lo} TO {}]", lo + 49)});
        for (id, _) in search(&url, "plain white cotton shirt", f).await {
            seen.insert(id);
        }
    }
    assert_eq!(seen.len(), 500);
}

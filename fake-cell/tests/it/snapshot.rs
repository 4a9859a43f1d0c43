//! `/_fake/snapshot` against the real binary: a restore loads the carried chunks and vectors and
//! answers every search exactly as before (and as a format-1 document restored the slow way
//! does), keeps index ports, survives a restart, refuses a broken document without touching the
//! state; writers on the main port and an index server racing a restore see the old cell or the
//! restored one, never a mix, and lose nothing acknowledged after it; a running reindex job
//! writes nothing into the restored cell.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;

/// Documents long enough to split into several chunks, plus a plain field for lexical search.
fn long_docs(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "_id": format!("d{i}"),
                "title": format!("Volume {i} of the harbour chronicles"),
                "body": format!(
                    "The harbour opened in spring {i}. Ships came from the north. Sailors told \
                     stories of storm {i}. The lighthouse keeper wrote them down. Nobody read \
                     them until year {}.",
                    i * 7
                ),
                "n": i,
            })
        })
        .collect()
}

async fn add(base: &str, index: &str, docs: &[Value]) {
    let (s, v) = post(
        &format!("{base}/indexes/{index}/documents"),
        None,
        json!({"documents": docs, "tensorFields": ["title", "body"]}),
    )
    .await;
    assert_eq!((s, v["errors"].as_bool()), (200, Some(false)), "{v}");
}

/// What the searches answer: hit ids, scores and highlights for each method.
async fn answers(endpoint: &str, index: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for method in ["TENSOR", "LEXICAL", "HYBRID"] {
        let mut body = json!({"q": "storm stories from the lighthouse", "searchMethod": method,
                              "limit": 8});
        if method != "LEXICAL" {
            // Exact, so a graph still growing in the background cannot move near ties.
            body["approximate"] = json!(false);
        }
        let (s, v) = post(&format!("{endpoint}/indexes/{index}/search"), None, body).await;
        assert_eq!(s, 200, "{method}: {v}");
        let hits: Vec<Value> = v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| json!([h["_id"], h["_score"], h["_highlights"]]))
            .collect();
        assert!(!hits.is_empty(), "{method} found nothing");
        out.push(json!(hits));
    }
    out
}

async fn snapshot(url: &str) -> Vec<u8> {
    let r = client()
        .get(format!("{url}/_fake/snapshot"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().to_vec()
}

async fn restore(url: &str, doc: &[u8]) -> (u16, Value) {
    let r = client()
        .put(format!("{url}/_fake/snapshot"))
        .timeout(Duration::from_secs(120))
        .body(doc.to_vec())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn endpoint_of(url: &str, index: &str) -> String {
    let (_, v) = get(&format!("{url}/api/v2/indexes/{index}"), None).await;
    v["marqoEndpoint"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn snapshot_restore_loads_carried_chunks_and_answers_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let mut cell = CellProc::start(dir.path(), &["--open"]).await;
    create_index(&cell.url, "k", "books", json!({"model": "hf/e5-small-v2"})).await;
    create_index(&cell.url, "k", "notes", json!({"model": "hf/e5-small-v2"})).await;
    let endpoint = endpoint_of(&cell.url, "books").await;
    add(&endpoint, "books", &long_docs(40)).await;
    add(&endpoint, "notes", &long_docs(3)).await;
    let before = answers(&endpoint, "books").await;
    let doc = snapshot(&cell.url).await;
    let parsed: Value = serde_json::from_slice(&doc).unwrap();
    assert_eq!(parsed["format"], 2);
    let carried = parsed["prepared"]["books"].as_array().unwrap();
    assert_eq!(carried.len(), 40);
    assert!(
        carried[0]["chunks"].as_array().unwrap().len() >= 3,
        "{}",
        carried[0]
    );

    // Change everything the snapshot covers.
    let (s, _) = post(
        &format!("{endpoint}/indexes/books/documents/delete-batch"),
        None,
        json!(["d1", "d2", "d3"]),
    )
    .await;
    assert_eq!(s, 200);
    add(&endpoint, "books", &docs("storm", 5)).await;
    let (s, _) = call(
        Method::DELETE,
        &format!("{}/api/v2/indexes/notes", cell.url),
        None,
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_ne!(answers(&endpoint, "books").await, before);

    let (s, v) = restore(&cell.url, &doc).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["summary"]["per_index"]["books"]["documents"], 40);
    assert_eq!(v["summary"]["per_index"]["notes"]["documents"], 3);
    assert_eq!(endpoint_of(&cell.url, "books").await, endpoint, "same port");
    assert_eq!(answers(&endpoint, "books").await, before, "carried chunks");

    // Restoring what the cell already is changes nothing and writes nothing.
    let (s, v) = restore(&cell.url, &doc).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["took_ms"]["unchanged"], true, "{v}");
    assert_eq!(v["took_ms"]["indexes_kept"], 2, "{v}");

    // After a change to one index, the same document without its prepared form (format 1)
    // takes the slow path to the same index (the carried vectors are exactly what preparing
    // computes); the untouched index is kept as it is.
    add(&endpoint, "books", &docs("late", 2)).await;
    let mut old = parsed.clone();
    old["format"] = json!(1);
    old.as_object_mut().unwrap().remove("prepared");
    let (s, v) = restore(&cell.url, &serde_json::to_vec(&old).unwrap()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["took_ms"]["indexes_kept"], 1, "{v}");
    assert_eq!(v["summary"]["per_index"]["books"]["documents"], 40);
    assert_eq!(answers(&endpoint, "books").await, before, "format 1");

    let cell2 = cell.restart(dir.path()).await;
    assert_eq!(endpoint_of(&cell2.url, "books").await, endpoint);
    assert_eq!(answers(&endpoint, "books").await, before, "after a restart");
}

#[tokio::test]
async fn a_broken_snapshot_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open"]).await;
    create_index(&cell.url, "k", "books", json!({"model": "hf/e5-small-v2"})).await;
    let endpoint = endpoint_of(&cell.url, "books").await;
    add(&endpoint, "books", &long_docs(5)).await;
    let doc: Value = serde_json::from_slice(&snapshot(&cell.url).await).unwrap();
    // Changed since, so the index must be loaded from the document (not kept as it is).
    add(&endpoint, "books", &docs("late", 1)).await;
    let (_, summary) = get(&format!("{}/_fake/snapshot/summary", cell.url), None).await;

    let mut future = doc.clone();
    future["format"] = json!(3);
    let mut bad_vector = doc.clone();
    bad_vector["prepared"]["books"][2]["chunks"][0]["vector"] = json!("AAAA");
    let mut other = doc.clone();
    other["service"] = json!("fake-cognito");
    for (case, body, needle) in [
        ("a newer format", future, "format 3"),
        ("a damaged vector", bad_vector, "document d2"),
        ("another service", other, "fake-cognito"),
    ] {
        let (s, v) = restore(&cell.url, &serde_json::to_vec(&body).unwrap()).await;
        assert_eq!(s, 400, "{case}: {v}");
        assert!(v.to_string().contains(needle), "{case}: {v}");
    }
    let (s, v) = restore(&cell.url, b"{not json").await;
    assert_eq!(s, 400, "{v}");
    let (_, after) = get(&format!("{}/_fake/snapshot/summary", cell.url), None).await;
    assert_eq!(after, summary, "nothing changed");
}

/// One write: `(id, sent, answered, status, body)`.
type Write = (String, Instant, Instant, u16, Value);

/// Add one document per request until `stop`, through `base`.
async fn writer(base: String, tag: String, stop: Arc<AtomicBool>) -> Vec<Write> {
    let mut out = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let id = format!("{tag}-{n}");
        let sent = Instant::now();
        let r = client()
            .post(format!("{base}/indexes/race/documents"))
            .json(&json!({"documents": [{"_id": id, "title": "racer"}], "tensorFields": ["title"]}))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        out.push((id, sent, Instant::now(), status, body));
    }
    out
}

/// What a reader may see of the cell: accounts, aliases and index names (documents move with
/// the writers).
async fn view(url: &str) -> Option<Value> {
    let (s, v) = get(&format!("{url}/_fake/snapshot/summary"), None).await;
    (s == 200).then(|| {
        let names: Vec<&String> = v["per_index"].as_object().unwrap().keys().collect();
        json!([v["accounts"], v["aliases"], names])
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_restore_racing_writers_shows_old_or_new_and_keeps_later_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut cell = CellProc::start(dir.path(), &["--open"]).await;
    account_with_key(&cell.url, "acme", &["admin"]).await;
    create_index(&cell.url, "k", "race", json!({"model": "hf/e5-small-v2"})).await;
    create_index(&cell.url, "k", "side", json!({"model": "hf/e5-small-v2"})).await;
    let endpoint = endpoint_of(&cell.url, "race").await;
    add(&endpoint, "race", &long_docs(30)).await;
    let (s, _) = post(
        &format!("{}/api/v2/aliases/latest", cell.url),
        None,
        json!({"indexName": "race"}),
    )
    .await;
    assert_eq!(s, 200);
    let snap = snapshot(&cell.url).await;
    let restored_view = view(&cell.url).await.unwrap();
    // The live cell differs in every part a reader sees.
    account_with_key(&cell.url, "beta", &["admin"]).await;
    let (s, _) = call(
        Method::DELETE,
        &format!("{}/api/v2/aliases/latest", cell.url),
        None,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        Method::DELETE,
        &format!("{}/api/v2/indexes/side", cell.url),
        None,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let live_view = view(&cell.url).await.unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = [
        ("main-a", &cell.url),
        ("main-b", &cell.url),
        ("server-a", &endpoint),
        ("server-b", &endpoint),
    ]
    .into_iter()
    .map(|(tag, base)| tokio::spawn(writer(base.clone(), tag.into(), stop.clone())))
    .collect();
    let reader = {
        let (url, stop) = (cell.url.clone(), stop.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                seen.extend(view(&url).await);
            }
            seen
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let put_sent = Instant::now();
    let (s, v) = restore(&cell.url, &snap).await;
    let restored_at = Instant::now();
    assert_eq!(s, 200, "{v}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut writes = Vec::new();
    for w in writers {
        writes.extend(w.await.unwrap());
    }
    for seen in reader.await.unwrap() {
        assert!(
            seen == live_view || seen == restored_view,
            "a half-restored view: {seen}"
        );
    }
    check_writes(&cell.url, &writes, put_sent, restored_at).await;
    // And the same after a restart: later writes were journaled over the restored state.
    let cell2 = cell.restart(dir.path()).await;
    assert_eq!(view(&cell2.url).await.unwrap(), restored_view);
    check_writes(&cell2.url, &writes, put_sent, restored_at).await;
}

/// Writes sent after the restore answered are all there; writes acknowledged before it began are
/// gone (the snapshot did not have them); refusals name the restore.
async fn check_writes(url: &str, writes: &[Write], put_sent: Instant, restored_at: Instant) {
    let later = writes.iter().filter(|w| w.1 > restored_at).count();
    assert!(later > 0, "no write landed after the restore");
    for (id, sent, answered, status, body) in writes {
        match status {
            200 => {}
            503 => {
                assert!(body.to_string().contains("restore"), "{body}");
                continue;
            }
            other => panic!("a write during a restore answered {other}: {body}"),
        }
        let (s, _) = get(&format!("{url}/indexes/race/documents/{id}"), None).await;
        if *sent > restored_at {
            assert_eq!(s, 200, "{id}, acknowledged after the restore, is missing");
        } else if *answered < put_sent {
            assert_eq!(
                s, 404,
                "{id}, written after the snapshot, survived the restore"
            );
        }
    }
}

#[tokio::test]
async fn a_reindex_job_writes_nothing_into_a_restored_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut cell = CellProc::start(dir.path(), &["--open"]).await;
    create_index(&cell.url, "k", "src", json!({"model": "hf/e5-small-v2"})).await;
    create_index(&cell.url, "k", "dst", json!({"model": "hf/e5-small-v2"})).await;
    let endpoint = endpoint_of(&cell.url, "src").await;
    for batch in long_docs(1200).chunks(100) {
        add(&endpoint, "src", batch).await;
    }
    let snap = snapshot(&cell.url).await;
    let (s, job) = post(
        &format!("{}/api/v2/reindex", cell.url),
        None,
        json!({"sourceIndexName": "src", "targetIndexName": "dst"}),
    )
    .await;
    assert_eq!(s, 202, "{job}");
    let (s, v) = restore(&cell.url, &snap).await;
    assert_eq!(s, 200, "{v}");
    let count = |url: String| async move {
        let (_, v) = get(&format!("{url}/_fake/snapshot/summary"), None).await;
        v["per_index"]["dst"]["documents"].clone()
    };
    // Long enough for the job to have copied everything had it gone on.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(count(cell.url.clone()).await, 0);
    let (_, jobs) = get(&format!("{}/api/v2/reindex", cell.url), None).await;
    assert_eq!(jobs["results"], json!([]), "the snapshot had no job");
    let cell2 = cell.restart(dir.path()).await;
    assert_eq!(
        count(cell2.url.clone()).await,
        0,
        "nothing journaled after it"
    );
}

async fn state_sha256(url: &str) -> Value {
    let (s, v) = get(&format!("{url}/_fake/snapshot/summary"), None).await;
    assert_eq!(s, 200, "{v}");
    v["state_sha256"].clone()
}

#[tokio::test]
async fn the_summary_names_the_document_the_cell_equals_until_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open"]).await;
    assert_eq!(
        state_sha256(&cell.url).await,
        Value::Null,
        "nothing saved yet"
    );
    create_index(&cell.url, "k", "books", json!({"model": "hf/e5-small-v2"})).await;
    let endpoint = endpoint_of(&cell.url, "books").await;
    add(&endpoint, "books", &long_docs(3)).await;
    let doc = snapshot(&cell.url).await;
    let sha = fake_cell::snapshot::sha256_hex(&doc);
    assert_eq!(state_sha256(&cell.url).await, json!(sha), "after a save");

    // A read is no write; a document write is.
    answers(&endpoint, "books").await;
    assert_eq!(state_sha256(&cell.url).await, json!(sha));
    add(&endpoint, "books", &docs("later", 1)).await;
    assert_eq!(state_sha256(&cell.url).await, Value::Null, "after a write");

    let (s, v) = restore(&cell.url, &doc).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        state_sha256(&cell.url).await,
        json!(sha),
        "after the restore"
    );
    // An account write counts too.
    let (s, v) = post(
        &format!("{}/_fake/accounts", cell.url),
        None,
        json!({"account_id": "acct-later"}),
    )
    .await;
    assert!(s < 300, "{s} {v}");
    assert_eq!(
        state_sha256(&cell.url).await,
        Value::Null,
        "after an account write"
    );
}

//! Marqo's limits on the fields of a semi-structured index (`MARQO_MAX_LEXICAL_FIELD_COUNT_
//! UNSTRUCTURED`, `…TENSOR…`): an add that would pass one fails whole with Marqo's message, a
//! deleted document's fields still count (after a restart too), and structured indexes have no
//! such limit.

use serde_json::{Value, json};

use crate::in_process::ready_cell;
use crate::search_params::Target;
use crate::support::{CellProc, client};
use test_support::wait_for;

const FLAGS: [&str; 5] = [
    "--open",
    "--max-lexical-fields",
    "3",
    "--max-tensor-fields",
    "1",
];

async fn add(t: &Target, index: &str, docs: Value, tensor: &[&str]) -> (u16, Value) {
    let body = json!({"documents": docs, "tensorFields": tensor});
    t.req("POST", &format!("/indexes/{index}/documents"), body)
        .await
}

fn refused(r: &(u16, Value), field: &str, kind: &str, has: usize, limit: usize) {
    let var = kind.to_uppercase();
    let want = format!(
        "Index wide has {has} {kind} fields. Your request to add {field} as a {kind} field is \
         rejected since it exceeds the limit of {limit}. Please set a larger limit in \
         MARQO_MAX_{var}_FIELD_COUNT_UNSTRUCTURED environment variable."
    );
    assert_eq!(
        (r.0, r.1["code"].as_str(), r.1["message"].as_str()),
        (400, Some("bad_request"), Some(want.as_str())),
        "{}",
        r.1
    );
}

async fn limits(t: &Target) {
    for (name, settings) in [
        ("wide", json!({})),
        (
            "typed",
            json!({"type": "structured", "allFields": [
                {"name": "a", "type": "text"}, {"name": "b", "type": "text"},
                {"name": "c", "type": "text"}, {"name": "d", "type": "text"}],
                "tensorFields": ["a", "b"]}),
        ),
    ] {
        let (s, r) = t.req("POST", &format!("/indexes/{name}"), settings).await;
        assert_eq!(s, 200, "{r}");
    }
    // Strings count, numbers do not; a field already taken is free to reuse.
    let ok = add(
        t,
        "wide",
        json!([{"_id": "a", "f1": "x", "f2": "y", "n": 1}]),
        &[],
    )
    .await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    let ok = add(
        t,
        "wide",
        json!([{"_id": "b", "f3": "z", "f1": "again"}]),
        &[],
    )
    .await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    let r = add(t, "wide", json!([{"_id": "c", "f4": "w"}]), &[]).await;
    refused(&r, "f4", "lexical", 3, 3);
    let (s, got) = t.get("/indexes/wide/documents/c").await;
    assert_eq!(s, 404, "the refused batch stored nothing: {got}");
    // Marqo reads a batch last document first: the last one's new field is the one named.
    let r = add(
        t,
        "wide",
        json!([{"_id": "p", "g1": "1"}, {"_id": "q", "g2": "2"}]),
        &[],
    )
    .await;
    refused(&r, "g2", "lexical", 3, 3);
    // Deleting the documents does not give their fields back.
    let (s, r) = t
        .req(
            "POST",
            "/indexes/wide/documents/delete-batch",
            json!(["a", "b"]),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let r = add(t, "wide", json!([{"_id": "d", "f5": "v"}]), &[]).await;
    refused(&r, "f5", "lexical", 3, 3);
    // Tensor fields: one allowed here.
    let ok = add(t, "wide", json!([{"_id": "t", "f1": "red"}]), &["f1"]).await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    let r = add(t, "wide", json!([{"_id": "u", "f2": "blue"}]), &["f2"]).await;
    refused(&r, "f2", "tensor", 1, 1);
    // A structured index has its fields from its settings: no such limit.
    let docs = json!([{"_id": "s", "a": "1", "b": "2", "c": "3", "d": "4"}]);
    let (s, r) = t
        .req(
            "POST",
            "/indexes/typed/documents",
            json!({"documents": docs}),
        )
        .await;
    assert_eq!((s, r["errors"].as_bool()), (200, Some(false)), "{r}");
}

#[tokio::test]
async fn semi_structured_field_limits_in_process() {
    limits(&ready_cell(&FLAGS).await.target).await;
}

#[tokio::test]
async fn semi_structured_field_limits_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &FLAGS).await;
    limits(&Target::Http(cell.url.clone())).await;
}

/// Marqo's schema outlives the documents and a restart: the names are saved with the index's
/// documents when the journal is compacted into the state file.
#[tokio::test]
async fn taken_fields_outlive_their_documents_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let flags = [
        "--open",
        "--max-lexical-fields",
        "2",
        "--compact-after-bytes",
        "1",
    ];
    let mut cell = CellProc::start(dir.path(), &flags).await;
    let t = Target::Http(cell.url.clone());
    let (s, r) = t.req("POST", "/indexes/wide", json!({})).await;
    assert_eq!(s, 200, "{r}");
    let ok = add(&t, "wide", json!([{"_id": "a", "f1": "x", "f2": "y"}]), &[]).await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    let (s, r) = t
        .req("POST", "/indexes/wide/documents/delete-batch", json!(["a"]))
        .await;
    assert_eq!(s, 200, "{r}");
    // Compacted: the state file holds the index without its document, and so no journal
    // record of the document is left to replay.
    let state = dir.path().join("state.json");
    wait_for("the journal compacted into the state file", || async {
        let text = std::fs::read_to_string(&state).unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or_default();
        let index = v["indexes"].as_array()?.first()?.clone();
        (index["docs"] == json!([])).then_some(())
    })
    .await;
    let cell = cell.restart(dir.path()).await;
    let t = Target::Http(cell.url.clone());
    let r = add(&t, "wide", json!([{"_id": "b", "f3": "z"}]), &[]).await;
    refused(&r, "f3", "lexical", 2, 2);

    // A cell snapshot carries them too: restored into a fresh cell, the index still has them.
    let snap = client()
        .get(format!("{}/_fake/snapshot", cell.url))
        .send()
        .await
        .unwrap();
    assert_eq!(snap.status(), 200);
    let doc = snap.bytes().await.unwrap();
    let other = tempfile::tempdir().unwrap();
    let fresh = CellProc::start(other.path(), &flags).await;
    let restored = client()
        .put(format!("{}/_fake/snapshot", fresh.url))
        .body(doc)
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), 200);
    let t = Target::Http(fresh.url.clone());
    let r = add(&t, "wide", json!([{"_id": "c", "f4": "w"}]), &[]).await;
    refused(&r, "f4", "lexical", 2, 2);
}

/// A reindex job fills its target as an add would, so the target's field limits hold too.
#[tokio::test]
async fn a_reindex_job_stops_at_the_targets_field_limit() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open", "--max-lexical-fields", "2"]).await;
    let t = Target::Http(cell.url.clone());
    let typed = json!({"type": "structured", "tensorFields": [], "allFields": [
        {"name": "a", "type": "text"}, {"name": "b", "type": "text"}, {"name": "c", "type": "text"}]});
    for (name, settings) in [("typed", typed), ("wide", json!({}))] {
        let (s, r) = t.req("POST", &format!("/indexes/{name}"), settings).await;
        assert_eq!(s, 200, "{r}");
    }
    let docs = json!({"documents": [{"_id": "s", "a": "1", "b": "2", "c": "3"}]});
    let (s, r) = t.req("POST", "/indexes/typed/documents", docs).await;
    assert_eq!((s, r["errors"].as_bool()), (200, Some(false)), "{r}");
    let job = json!({"sourceIndexName": "typed", "targetIndexName": "wide"});
    let (s, job) = t.req("POST", "/api/v2/reindex", job).await;
    assert_eq!(s, 202, "{job}");
    let id = job["jobId"].as_str().unwrap().to_string();
    let done = wait_for("the reindex job to end", || async {
        let (_, j) = t.get(&format!("/api/v2/reindex/{id}")).await;
        (j["status"] == "failed" || j["status"] == "succeeded").then_some(j)
    })
    .await;
    assert_eq!(
        (done["status"].as_str(), done["error"].as_str()),
        (
            Some("failed"),
            Some(
                "Index wide has 2 lexical fields. Your request to add c as a lexical field is \
                 rejected since it exceeds the limit of 2. Please set a larger limit in \
                 MARQO_MAX_LEXICAL_FIELD_COUNT_UNSTRUCTURED environment variable."
            )
        ),
        "{done}"
    );
    let (_, st) = t.get("/indexes/wide/stats").await;
    assert_eq!(st["numberOfDocuments"], 0, "{st}");
}

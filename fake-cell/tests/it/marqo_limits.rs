//! Marqo's request limits come from Marqo's own environment variables (or the matching flags):
//! a team's Marqo settings carry over to fake-cell unchanged, with Marqo's messages.

use serde_json::{Value, json};

use crate::in_process::ready_cell;
use crate::search_params::Target;
use crate::support::{CellProc, index_range};

const ENV: &str = "export MARQO_MAX_SEARCH_LIMIT=5 MARQO_MAX_SEARCH_OFFSET=3 \
    MARQO_MAX_RETRIEVABLE_DOCS=7 MARQO_MAX_DOCUMENTS_BATCH_SIZE=2 MARQO_MAX_DOC_BYTES=60 \
    MARQO_MAX_DELETE_DOCS_COUNT=2 MARQO_MAX_SEARCHABLE_TENSOR_ATTRIBUTES=1";

const FLAGS: [&str; 9] = [
    "--open",
    "--max-search-limit=5",
    "--max-search-offset=3",
    "--max-retrievable-docs=7",
    "--max-documents-batch-size=2",
    "--max-doc-bytes=60",
    "--max-delete-docs-count=2",
    "--default-ef-search=20",
    "--max-searchable-tensor-attributes=1",
];

fn message(r: &(u16, Value)) -> (u16, String) {
    (r.0, r.1["message"].as_str().unwrap_or_default().to_string())
}

async fn limits(t: &Target) {
    let (s, r) = t.req("POST", "/indexes/lim", json!({})).await;
    assert_eq!(s, 200, "{r}");
    let search = |limit: u64, offset: u64| json!({"q": "x", "limit": limit, "offset": offset, "searchableAttributes": ["t"]});
    let r = t.req("POST", "/indexes/lim/search", search(6, 0)).await;
    assert_eq!(
        message(&r),
        (
            400,
            "The search result limit must be less than or equal to the MARQO_MAX_SEARCH_LIMIT \
             limit of [5]. Marqo received search result limit of `6`."
                .into()
        )
    );
    let r = t.req("POST", "/indexes/lim/search", search(1, 4)).await;
    assert!(
        message(&r)
            .1
            .contains("MARQO_MAX_SEARCH_OFFSET limit of [3]"),
        "{}",
        r.1
    );
    let r = t.req("POST", "/indexes/lim/search", search(5, 3)).await;
    assert!(
        message(&r)
            .1
            .contains("MARQO_MAX_RETRIEVABLE_DOCS limit of [7]"),
        "{}",
        r.1
    );
    let (s, r) = t.req("POST", "/indexes/lim/search", search(5, 2)).await;
    assert_eq!(s, 200, "{r}");
    let r = t
        .req("POST", "/indexes/lim/search", json!({"q": "x", "limit": 1}))
        .await;
    assert_eq!(
        message(&r),
        (
            400,
            "No searchable_attributes provided, but environment variable \
             `MARQO_MAX_SEARCHABLE_TENSOR_ATTRIBUTES` is set."
                .into()
        )
    );

    let add = |docs: Value| json!({"documents": docs, "tensorFields": []});
    let three = json!([{"_id": "a", "t": "x"}, {"_id": "b", "t": "x"}, {"_id": "c", "t": "x"}]);
    let r = t.req("POST", "/indexes/lim/documents", add(three)).await;
    assert_eq!(
        message(&r),
        (
            400,
            "Number of docs in add documents request (3) exceeds limit of 2".into()
        )
    );
    let big = json!([{"_id": "big", "t": "x".repeat(60)}, {"_id": "small", "t": "x"}]);
    let (s, r) = t.req("POST", "/indexes/lim/documents", add(big)).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["items"][0]["code"], "doc_too_large", "{r}");
    assert!(
        r["items"][0]["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("exceeds the allowed document size limit of [60].")),
        "{r}"
    );
    assert_eq!(r["items"][1]["status"], 200, "{r}");

    let ids: Vec<String> = (0..8).map(|i| format!("d{i}")).collect();
    let r = t.req("GET", "/indexes/lim/documents", json!(ids)).await;
    assert!(
        message(&r)
            .1
            .starts_with("8 documents were requested, which is more than the allowed limit of [7]"),
        "{}",
        r.1
    );
    let r = t
        .req(
            "POST",
            "/indexes/lim/documents/delete-batch",
            json!(["a", "b", "c"]),
        )
        .await;
    assert!(
        message(&r)
            .1
            .starts_with("The number of documentIds to delete `3` is greater than the limit `2`"),
        "{}",
        r.1
    );
}

#[tokio::test]
async fn marqos_limits_from_flags_in_process() {
    limits(&ready_cell(&FLAGS).await.target).await;
}

#[tokio::test]
async fn marqos_limits_from_marqos_environment_variables_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--open", "--no-watchdog", "--index-ports", &index_range()].map(String::from);
    let cell = CellProc::start_with(dir.path(), args.to_vec(), Some(ENV)).await;
    limits(&Target::Http(cell.url.clone())).await;
}

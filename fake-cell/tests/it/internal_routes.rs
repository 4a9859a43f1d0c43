//! Marqo's switched routes: the batch routes (`/batch/indexes/{create,delete}`, `DELETE
//! …/documents/delete-all`) answer Marqo's 403 unless `MARQO_ENABLE_BATCH_APIS` is `true`, and
//! work when it is; the debug, ops and upgrade routes stay off. A body Marqo's model refuses is a
//! 422 before the switch is read.

use serde_json::{Value, json};

use crate::in_process::ready_cell;
use crate::search_params::Target;
use crate::support::CellProc;

fn disabled(var: &str) -> Value {
    json!({"detail": format!("This API endpoint is disabled. Please set {var} to true to enable it.")})
}

async fn switched_off(t: &Target) {
    let (s, r) = t.req("POST", "/indexes/kept", json!({})).await;
    assert_eq!(s, 200, "{r}");
    let batch = disabled("MARQO_ENABLE_BATCH_API");
    let create = json!([{"indexName": "made"}]);
    assert_eq!(
        t.req("POST", "/batch/indexes/create", create).await,
        (403, batch.clone())
    );
    assert_eq!(
        t.req("POST", "/batch/indexes/delete", json!(["kept"]))
            .await,
        (403, batch.clone())
    );
    let (s, r) = t.req("POST", "/batch/indexes/delete", json!("kept")).await;
    assert_eq!(s, 422, "the body model answers first: {r}");
    assert_eq!(
        t.req("DELETE", "/indexes/kept/documents/delete-all", Value::Null)
            .await,
        (403, batch.clone())
    );
    // Nothing happened.
    let (s, r) = t.get("/indexes/kept/stats").await;
    assert_eq!(s, 200, "{r}");
    let (s, r) = t.get("/indexes/made/stats").await;
    assert_eq!(s, 404, "{r}");

    assert_eq!(
        t.get("/memory").await,
        (403, disabled("MARQO_ENABLE_DEBUG_API"))
    );
    let upgrade = disabled("MARQO_ENABLE_UPGRADE_API");
    assert_eq!(
        t.req("POST", "/upgrade", Value::Null).await,
        (403, upgrade.clone())
    );
    let versions = json!({"from_version": "2.22", "to_version": "2.23"});
    assert_eq!(t.req("POST", "/rollback", versions).await, (403, upgrade));
    let (s, r) = t
        .req("POST", "/rollback", json!({"from_version": "2.22"}))
        .await;
    assert_eq!(s, 422, "{r}");
    assert_eq!(r["detail"][0]["loc"], json!(["body", "to_version"]), "{r}");
    let (s, r) = t.req("POST", "/validate/index/kept", json!(7)).await;
    assert_eq!(
        (s, &r["detail"][0]["type"]),
        (422, &json!("type_error.dict"))
    );
    // pydantic 1's `dict([])` is `{}`: an empty list is a valid dict.
    assert_eq!(
        t.req("POST", "/validate/index/kept", json!([])).await,
        (403, disabled("MARQO_ENABLE_OPS_API"))
    );
    assert_eq!(
        t.req("POST", "/validate/index/kept", json!({})).await,
        (403, disabled("MARQO_ENABLE_OPS_API"))
    );
    assert_eq!(
        t.req("POST", "/rollback-vespa", Value::Null).await,
        (200, json!({"version": "2.23.1"}))
    );
}

async fn switched_on(t: &Target) {
    let create = json!([{"indexName": "one"}, {"indexName": "two"}]);
    let (s, r) = t.req("POST", "/batch/indexes/create", create).await;
    assert_eq!(
        (s, r),
        (
            200,
            json!({"acknowledged": true, "index_names": ["one", "two"]})
        )
    );
    let docs =
        json!({"documents": [{"_id": "a", "t": "x"}, {"_id": "b", "t": "y"}], "tensorFields": []});
    let (s, r) = t.req("POST", "/indexes/one/documents", docs).await;
    assert_eq!(s, 200, "{r}");
    let (s, r) = t
        .req("DELETE", "/indexes/one/documents/delete-all", Value::Null)
        .await;
    assert_eq!((s, r), (200, json!({"documentCount": 2})));
    let (_, st) = t.get("/indexes/one/stats").await;
    assert_eq!(st["numberOfDocuments"], 0, "{st}");
    let (s, r) = t
        .req("POST", "/batch/indexes/delete", json!(["one", "two"]))
        .await;
    assert_eq!(
        (s, r),
        (
            200,
            json!({"acknowledged": true, "index_names": ["one", "two"]})
        )
    );
    let (s, _) = t.get("/indexes/two/stats").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn marqos_switched_routes_in_process() {
    switched_off(&ready_cell(&["--open"]).await.target).await;
    let on = ready_cell(&["--open", "--enable-batch-apis", "True"]).await;
    switched_on(&on.target).await;
}

#[tokio::test]
async fn marqos_switched_routes_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open"]).await;
    switched_off(&Target::Http(cell.url.clone())).await;
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open", "--enable-batch-apis", "true"]).await;
    switched_on(&Target::Http(cell.url.clone())).await;
}

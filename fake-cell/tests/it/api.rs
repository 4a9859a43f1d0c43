//! Every route family over real HTTP against the real binary.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;
use test_support::wait_for;

/// A cell with account `acme` (every scope) and the index `products` (two shards, one sentence
/// per chunk); `endpoint` is the index server, `base` its `/indexes/products`.
struct Products {
    _dir: tempfile::TempDir,
    _cell: CellProc,
    url: String,
    key: String,
    endpoint: String,
    base: String,
}

impl Products {
    async fn start() -> Products {
        let dir = tempfile::tempdir().unwrap();
        let cell = CellProc::start(dir.path(), &[]).await;
        let url = cell.url.clone();
        let (_, key) = account_with_key(&url, "acme", &["read", "write", "admin"]).await;
        let created = create_index(&url, &key, "products", json!({"model": "hf/e5-small-v2", "numberOfShards": 2, "textPreprocessing": {"splitLength": 1, "splitOverlap": 0, "splitMethod": "sentence"}})).await;
        let endpoint = created["marqoEndpoint"].as_str().unwrap().to_string();
        let base = format!("{endpoint}/indexes/products");
        Products {
            _dir: dir,
            _cell: cell,
            url,
            key,
            endpoint,
            base,
        }
    }

    /// [`Products::start`] holding the four documents of [`product_docs`], `b` priced 2.5.
    async fn with_docs() -> Products {
        let p = Products::start().await;
        let (s, add) = add_docs(&p.endpoint, &p.key, "products", &product_docs()).await;
        assert_eq!(s, 200, "{add}");
        let (s, upd) = call(
            Method::PATCH,
            &format!("{}/documents", p.base),
            Some(&p.key),
            Some(&json!({"documents": [{"_id": "b", "price": 2.5}]})),
        )
        .await;
        assert_eq!(s, 200, "{upd}");
        p
    }
}

/// Six documents: three good ones, one without an id, one with a numeric id (refused), and a
/// second `c` that replaces the first.
fn product_docs() -> Vec<Value> {
    vec![
        json!({"_id": "a", "title": "Fresh green apples. Crisp and sweet.", "cat": "fruit", "price": 3, "tags": ["red", "green"]}),
        json!({"_id": "b", "title": "Ripe bananas", "cat": "fruit", "price": 1.5}),
        json!({"_id": "c", "title": "Cheddar cheese", "cat": "dairy", "price": 8, "ok": true}),
        json!({"title": "generated id"}),
        json!({"_id": 5, "title": "bad id"}),
        json!({"_id": "c", "title": "Aged cheddar cheese", "cat": "dairy", "price": 9, "ok": true}),
    ]
}

/// The root, the OpenAPI document, and an index through the control plane: listed in the strict shape, described, READY, updatable (but not its model).
#[tokio::test]
async fn the_control_plane_creates_lists_describes_and_updates_an_index() {
    let p = Products::start().await;
    let url = p.url.clone();
    let endpoint = p.endpoint.clone();
    let key = p.key.clone();
    let k = Some(key.as_str());

    // root, openapi, healthz
    let (s, root) = get(&format!("{url}/"), None).await;
    assert_eq!((s, root["version"].as_str()), (200, Some("2.23.1")));
    let (s, spec) = get(&format!("{url}/openapi.json"), None).await;
    assert_eq!(s, 200);
    assert!(spec["paths"]["/indexes/{name}/search"]["post"].is_object());
    // create (cloud) with settings; list entry passes the strict shape; describe; status
    let (s, list) = get(&format!("{url}/api/v2/indexes"), k).await;
    assert_eq!(s, 200);
    let entry = &list["results"][0];
    assert_eq!(entry["indexName"], "products");
    assert_eq!(entry["indexStatus"], "READY");
    assert_eq!(entry["marqoEndpoint"], endpoint);
    assert_eq!(entry["numberOfShards"], 2);
    assert_eq!(entry["imagePreprocessing"], json!({"patchMethod": null}));
    assert!(entry["Created"].is_string() && entry["docs.count"] == "0");
    let (s, desc) = get(&format!("{url}/api/v2/indexes/products"), k).await;
    assert_eq!((s, desc["model"].as_str()), (200, Some("hf/e5-small-v2")));
    let (s, st) = get(&format!("{url}/api/v2/indexes/products/status"), k).await;
    assert_eq!((s, st["indexStatus"].as_str()), (200, Some("READY")));
    let (s, _) = call(
        Method::PUT,
        &format!("{url}/api/v2/indexes/products"),
        k,
        Some(&json!({"numberOfReplicas": 1})),
    )
    .await;
    assert_eq!(s, 200);
    let (_, desc) = get(&format!("{url}/api/v2/indexes/products"), k).await;
    assert_eq!(desc["numberOfReplicas"], 1);
    let (s, e) = call(
        Method::PUT,
        &format!("{url}/api/v2/indexes/products"),
        k,
        Some(&json!({"model": "x"})),
    )
    .await;
    assert_eq!((s, e["code"].as_str()), (400, Some("invalid_argument")));
}

/// Adding reports bad ids per item and keeps the last duplicate; GET by id (with facets), GET with a body and PATCH without a Content-Type, as the Marqo client sends them.
#[tokio::test]
async fn documents_are_added_read_batch_read_and_patched() {
    let p = Products::start().await;
    let key = p.key.clone();
    let endpoint = p.endpoint.clone();
    let base = p.base.clone();
    let k = Some(key.as_str());

    // the index server answers GET / and the data routes
    let (s, root) = get(&format!("{endpoint}/"), None).await;
    assert_eq!(
        (s, root["message"].as_str()),
        (200, Some("Welcome to Marqo"))
    );
    let (s, add) = add_docs(&endpoint, &key, "products", &product_docs()).await;
    assert_eq!(s, 200, "{add}");
    assert_eq!(add["errors"], true);
    let items = add["items"].as_array().unwrap();
    // duplicate "c": only the last one gets an item
    assert_eq!(items.len(), 5);
    assert_eq!(items[3]["code"], "invalid_document_id");
    assert_eq!(items[4]["_id"], "c");
    assert_eq!(items.iter().filter(|i| i["_id"] == "c").count(), 1);
    assert_eq!(add["index_name"], "products");

    let (s, d) = get(&format!("{base}/documents/c"), k).await;
    assert_eq!(
        (s, d["title"].as_str(), d["price"].as_i64()),
        (200, Some("Aged cheddar cheese"), Some(9))
    );
    let (s, d) = get(&format!("{base}/documents/a?expose_facets=True"), k).await;
    assert_eq!(s, 200);
    let facets = d["_tensor_facets"].as_array().unwrap();
    assert_eq!(facets.len(), 2, "one chunk per sentence with splitLength 1");
    assert_eq!(facets[0]["_embedding"].as_array().unwrap().len(), 384);
    let (s, e) = get(&format!("{base}/documents/zzz"), k).await;
    assert_eq!((s, e["code"].as_str()), (404, Some("document_not_found")));
    // GET with a body and no Content-Type
    let (s, batch) = call(
        Method::GET,
        &format!("{base}/documents"),
        k,
        Some(&json!(["b", "nope", "a"])),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(batch["errors"], true);
    let found: Vec<bool> = batch["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["_found"].as_bool().unwrap())
        .collect();
    assert_eq!(found, vec![true, false, true]);
    // PATCH without Content-Type
    let (s, upd) = call(
        Method::PATCH,
        &format!("{base}/documents"),
        k,
        Some(&json!({"documents": [{"_id": "b", "price": 2.5}, {"_id": "nope", "x": 1}]})),
    )
    .await;
    assert_eq!(s, 200, "{upd}");
    assert_eq!(upd["items"][1]["status"], 404);
    let (_, d) = get(&format!("{base}/documents/b"), k).await;
    assert_eq!(
        (d["price"].as_f64(), d["title"].as_str()),
        (Some(2.5), Some("Ripe bananas"))
    );
}

/// Search: a literal `?&` in the query string, the three methods, filters, score modifiers, paging, and the 400/422 answers for bad limits, methods, filters and parameters.
#[tokio::test]
async fn search_runs_tensor_lexical_and_hybrid_with_filters_and_bounds() {
    let p = Products::with_docs().await;
    let base = p.base.clone();
    let key = p.key.clone();
    let k = Some(key.as_str());

    // search: literal ?& in the query string, all three methods, filters, bounds
    let (s, r) = post(&format!("{base}/search?&device=cpu"), k, json!({"q": "green apples", "limit": 10, "offset": 0, "searchMethod": "TENSOR", "showHighlights": true})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["hits"][0]["_id"], "a");
    assert!(
        r["hits"][0]["_highlights"][0]["title"]
            .as_str()
            .unwrap()
            .contains("apples")
    );
    assert_eq!(r["query"], "green apples");
    let (_, r) = post(
        &format!("{base}/search"),
        k,
        json!({"q": "cheese", "searchMethod": "lexical", "filter": "cat:dairy AND price:[5 TO *]"}),
    )
    .await;
    assert_eq!(r["hits"].as_array().unwrap().len(), 1);
    assert_eq!(r["hits"][0]["_highlights"], json!([]));
    let (_, r) = post(&format!("{base}/search"), k, json!({"q": "*", "searchMethod": "LEXICAL", "filter": "tags:red OR ok:true", "attributesToRetrieve": ["cat"]})).await;
    let mut ids: Vec<&str> = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["_id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec!["a", "c"]);
    assert!(r["hits"][0].get("title").is_none() && r["hits"][0].get("cat").is_some());
    let (_, r) = post(&format!("{base}/search"), k, json!({"q": "cheddar", "searchMethod": "HYBRID", "hybridParameters": {"alpha": 0.5, "rrfK": 60}})).await;
    assert_eq!(r["hits"][0]["_id"], "c");
    assert!(r["hits"][0]["_lexical_score"].is_number());
    // RRF scores are HybridSearcher's doubles, alpha * (1.0 / (rank + k)) per leg, bit for bit.
    let side = |rank: Option<u32>| rank.map_or(0.0, |r| 0.5 * (1.0 / f64::from(r + 60)));
    let marqos: Vec<f64> = (0..=10)
        .flat_map(|t| (0..=10).map(move |l| (t, l)))
        .filter(|&(t, l)| t + l > 0)
        .map(|(t, l)| side((t > 0).then_some(t)) + side((l > 0).then_some(l)))
        .collect();
    let top = r["hits"][0]["_score"].as_f64().expect("_score");
    assert!(marqos.contains(&top), "{top} is not a score Marqo gives");
    let (_, r) = post(&format!("{base}/search"), k, json!({"q": "fruit", "searchMethod": "TENSOR", "scoreModifiers": {"add_to_score": [{"field_name": "price", "weight": 1.0}]}, "showHighlights": false})).await;
    assert_eq!(
        r["hits"][0]["_id"], "c",
        "the highest price wins after add_to_score"
    );
    assert!(r["hits"][0].get("_highlights").is_none());
    let (_, r) = post(
        &format!("{base}/search"),
        k,
        json!({"q": "anything", "limit": 2, "offset": 2}),
    )
    .await;
    assert_eq!(r["hits"].as_array().unwrap().len(), 2);
    let (s, e) = post(&format!("{base}/search"), k, json!({"q": "x", "limit": 0})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (400, Some("illegal_requested_doc_count"))
    );
    let (s, e) = post(
        &format!("{base}/search"),
        k,
        json!({"q": "x", "searchMethod": "FUZZY"}),
    )
    .await;
    assert_eq!((s, e["code"].as_str()), (422, Some("unprocessable_entity")));
    let (s, e) = post(
        &format!("{base}/search"),
        k,
        json!({"q": "x", "filter": "cat:dairy AND"}),
    )
    .await;
    assert_eq!((s, e["code"].as_str()), (400, Some("invalid_argument")));
    let (s, e) = post(
        &format!("{base}/search"),
        k,
        json!({"q": "x", "searchMethod": "LEXICAL", "efSearch": 10}),
    )
    .await;
    assert_eq!(s, 400, "{e}");
}

/// recommend leaves out its input documents; embed, stats, settings, health and status.
#[tokio::test]
async fn recommend_embed_stats_settings_and_health_answer() {
    let p = Products::with_docs().await;
    let endpoint = p.endpoint.clone();
    let base = p.base.clone();
    let key = p.key.clone();
    let k = Some(key.as_str());

    // recommend, embed, stats, settings, health
    let (s, r) = post(
        &format!("{base}/recommend"),
        k,
        json!({"documents": ["a"], "limit": 2}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert!(
        r["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["_id"] != "a")
    );
    let (s, r) = post(
        &format!("{base}/embed"),
        k,
        json!({"content": ["hello", {"a b": 1.0}], "content_type": "query"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(r["embeddings"].as_array().unwrap().len(), 2);
    let (_, st) = get(&format!("{base}/stats"), k).await;
    assert_eq!(st["numberOfDocuments"], 4);
    assert!(st["numberOfVectors"].as_u64().unwrap() >= 5);
    let (_, set) = get(&format!("{base}/settings"), k).await;
    assert_eq!(set["textPreprocessing"]["splitLength"], 1);
    let (_, h) = get(&format!("{base}/health"), k).await;
    assert_eq!(h["status"], "green");
    let (_, h) = get(&format!("{endpoint}/indexes/products/status"), k).await;
    assert_eq!(h["indexStatus"], "READY");
}

/// Single-URL clients: the main port serves the same data plane, also through an alias; an alias cannot shadow an index.
#[tokio::test]
async fn the_main_port_serves_the_data_plane_and_aliases() {
    let p = Products::with_docs().await;
    let url = p.url.clone();
    let key = p.key.clone();
    let k = Some(key.as_str());

    // the main port serves the same data plane (single-URL clients)
    let (s, l) = get(&format!("{url}/indexes"), k).await;
    assert_eq!(
        (s, l["results"][0]["indexName"].as_str()),
        (200, Some("products"))
    );
    let (s, _) = get(&format!("{url}/indexes/products/documents/a"), k).await;
    assert_eq!(s, 200);
    // aliases
    let (s, _) = call(
        Method::PUT,
        &format!("{url}/api/v2/aliases/shop"),
        k,
        Some(&json!({"indexName": "products"})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, d) = get(&format!("{url}/indexes/shop/documents/a"), k).await;
    assert_eq!((s, d["_id"].as_str()), (200, Some("a")));
    let (_, al) = get(&format!("{url}/api/v2/aliases"), k).await;
    assert_eq!(
        al["results"][0],
        json!({"alias": "shop", "indexName": "products"})
    );
    let (s, _) = call(
        Method::PUT,
        &format!("{url}/api/v2/aliases/products"),
        k,
        Some(&json!({"indexName": "products"})),
    )
    .await;
    assert_eq!(s, 409);
}

/// Fork copies the settings and the documents.
#[tokio::test]
async fn fork_copies_settings_and_documents() {
    let p = Products::with_docs().await;
    let url = p.url.clone();
    let key = p.key.clone();
    let k = Some(key.as_str());

    // fork copies settings and documents
    let (s, f) = post(
        &format!("{url}/api/v2/indexes/products/fork"),
        k,
        json!({"targetIndexName": "products-copy"}),
    )
    .await;
    assert_eq!(s, 200, "{f}");
    let (_, st) = get(&format!("{url}/indexes/products-copy/stats"), k).await;
    assert_eq!(st["numberOfDocuments"], 4);
    let (_, set) = get(&format!("{url}/indexes/products-copy/settings"), k).await;
    assert_eq!(set["model"], "hf/e5-small-v2");
}

/// A reindex job into a fresh index copies every document (`tests/it/internal_routes.rs` empties
/// an index with delete-all, which is off here as in Marqo by default).
#[tokio::test]
async fn a_reindex_job_copies_every_document() {
    let p = Products::with_docs().await;
    let url = p.url.clone();
    let key = p.key.clone();
    let k = Some(key.as_str());

    // reindex job into a fresh index
    create_index(&url, &key, "target", json!({"model": "hf/e5-small-v2"})).await;
    let (s, job) = post(
        &format!("{url}/api/v2/reindex"),
        k,
        json!({"sourceIndexName": "products", "targetIndexName": "target"}),
    )
    .await;
    assert_eq!(s, 202, "{job}");
    let id = job["jobId"].as_str().unwrap().to_string();
    let j = wait_for("the reindex job to finish", || async {
        let (_, j) = get(&format!("{url}/api/v2/reindex/{id}"), k).await;
        assert_ne!(j["status"], "failed", "{j}");
        (j["status"] == "succeeded").then_some(j)
    })
    .await;
    assert_eq!(j["documentsCopied"], 4);
    let (_, jobs) = get(&format!("{url}/api/v2/reindex"), k).await;
    assert_eq!(jobs["results"].as_array().unwrap().len(), 1);
    let (_, st) = get(&format!("{url}/indexes/target/stats"), k).await;
    assert_eq!(st["numberOfDocuments"], 4);
    let (s, all) = call(
        Method::DELETE,
        &format!("{url}/indexes/target/documents/delete-all"),
        k,
        None,
    )
    .await;
    assert_eq!(
        (s, all),
        (
            403,
            json!({"detail": "This API endpoint is disabled. Please set MARQO_ENABLE_BATCH_API to true to enable it."})
        )
    );
    let (_, st) = get(&format!("{url}/indexes/target/stats"), k).await;
    assert_eq!(st["numberOfDocuments"], 4, "nothing was deleted");
}

/// delete-batch says per id what happened; an empty batch is a 400.
#[tokio::test]
async fn delete_batch_reports_each_id_and_refuses_an_empty_list() {
    let p = Products::with_docs().await;
    let base = p.base.clone();
    let key = p.key.clone();
    let k = Some(key.as_str());

    // delete batch / delete all
    let (s, del) = post(
        &format!("{base}/documents/delete-batch"),
        k,
        json!(["a", "ghost"]),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(del["details"]["deletedDocuments"], 1);
    assert_eq!(del["items"][1]["result"], "not_found");
    let (s, e) = post(&format!("{base}/documents/delete-batch"), k, json!([])).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("invalid_document_id")));
}

/// A duplicate name is a 409; a deleted index reports DELETED on the control plane and 404 on the data plane.
#[tokio::test]
async fn a_deleted_index_reports_deleted_and_its_data_plane_is_gone() {
    let p = Products::with_docs().await;
    let url = p.url.clone();
    let key = p.key.clone();
    let k = Some(key.as_str());

    // fork copies settings and documents
    let (s, f) = post(
        &format!("{url}/api/v2/indexes/products/fork"),
        k,
        json!({"targetIndexName": "products-copy"}),
    )
    .await;
    assert_eq!(s, 200, "{f}");
    let (_, st) = get(&format!("{url}/indexes/products-copy/stats"), k).await;
    assert_eq!(st["numberOfDocuments"], 4);
    let (_, set) = get(&format!("{url}/indexes/products-copy/settings"), k).await;
    assert_eq!(set["model"], "hf/e5-small-v2");
    // state dump, delete (status DELETED), duplicate, missing
    let (s, dump) = get(&format!("{url}/_fake/state"), None).await;
    assert_eq!(s, 200);
    assert_eq!(dump["indexes"].as_array().unwrap().len(), 2);
    let (s, e) = post(&format!("{url}/api/v2/indexes/products-copy"), k, json!({})).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("index_already_exists")));
    let (s, _) = call(
        Method::DELETE,
        &format!("{url}/api/v2/indexes/products-copy"),
        k,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, st) = get(&format!("{url}/api/v2/indexes/products-copy/status"), k).await;
    assert_eq!((s, st["indexStatus"].as_str()), (200, Some("DELETED")));
    let (s, e) = get(&format!("{url}/indexes/products-copy/stats"), k).await;
    assert_eq!((s, e["code"].as_str()), (404, Some("index_not_found")));
    let (s, e) = call(
        Method::DELETE,
        &format!("{url}/indexes/products-copy"),
        k,
        None,
    )
    .await;
    assert_eq!((s, e["code"].as_str()), (404, Some("index_not_found")));
}

/// `/_fake/reset` empties the state and stops the index servers.
#[tokio::test]
async fn reset_wipes_everything_and_stops_index_servers() {
    let p = Products::start().await;
    let url = p.url.clone();
    let endpoint = p.endpoint.clone();

    // reset wipes everything and stops index servers
    let (s, _) = post(&format!("{url}/_fake/reset"), None, json!({})).await;
    assert_eq!(s, 200);
    let (_, dump) = get(&format!("{url}/_fake/state"), None).await;
    assert_eq!(dump["indexes"], json!([]));
    assert_eq!(dump["accounts"], json!([]));
    wait_for("the index server to stop after reset", || async {
        client()
            .get(format!("{endpoint}/"))
            .send()
            .await
            .is_err()
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn structured_index_rules() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open"]).await;
    let url = &cell.url;
    let settings = json!({
        "type": "structured", "model": "hf/e5-small-v2",
        "allFields": [
            {"name": "title", "type": "text", "features": ["lexical_search"]},
            {"name": "brand", "type": "text", "features": ["filter"]},
            {"name": "price", "type": "float", "features": ["filter", "score_modifier"]},
            {"name": "combo", "type": "multimodal_combination", "dependentFields": {"title": 0.6, "brand": 0.4}}
        ],
        "tensorFields": ["title", "combo"]
    });
    let (s, v) = post(&format!("{url}/indexes/shop"), None, settings).await;
    assert_eq!(s, 200, "{v}");
    // recommend: Marqo's Recommender checks a structured index's tensor fields, and the ids
    let (s, e) = post(
        &format!("{url}/indexes/shop/recommend"),
        None,
        json!({"documents": ["a"], "tensorFields": ["title", "brand"]}),
    )
    .await;
    assert_eq!(
        (s, &e["code"], &e["message"]),
        (
            400,
            &json!("invalid_field_name"),
            &json!(
                "Tensor field \"brand\" not found in index \"shop\". Available tensor fields: title, combo"
            )
        )
    );
    let (s, e) = post(
        &format!("{url}/indexes/shop/recommend"),
        None,
        json!({"documents": []}),
    )
    .await;
    assert_eq!(
        (s, &e["message"]),
        (400, &json!("No document IDs provided"))
    );
    let (s, e) = post(
        &format!("{url}/indexes/bad"),
        None,
        json!({"type": "structured", "allFields": [], "tensorFields": ["nope"]}),
    )
    .await;
    assert_eq!(s, 400, "{e}");
    let (s, e) = post(
        &format!("{url}/indexes/bad"),
        None,
        json!({"text_preprocessing": {}}),
    )
    .await;
    assert_eq!((s, e["code"].as_str()), (422, Some("unprocessable_entity")));
    // index names: the request model's validator, answered as pydantic's error list
    let (s, e) = post(&format!("{url}/indexes/marqo__x"), None, json!({})).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("invalid_argument")));
    assert_eq!(
        e["message"],
        r#"[{"loc": ["name"], "msg": "Index name must not start with \"marqo__\"", "type": "value_error"}]"#
    );
    // with a structured body's own request errors: one list, in the request model's field order
    let (s, e) = post(
        &format!("{url}/indexes/1abc"),
        None,
        json!({"type": "structured", "audioPreprocessing": null, "allFields": []}),
    )
    .await;
    let message: Value = serde_json::from_str(e["message"].as_str().unwrap_or("")).unwrap();
    let locs: Vec<&Value> = message
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["loc"])
        .collect();
    assert_eq!(
        (s, locs),
        (
            400,
            vec![
                &json!(["name"]),
                &json!(["audio_preprocessing"]),
                &json!(["tensor_fields"])
            ]
        )
    );
    let (s, e) = post(&format!("{url}/indexes/1abc"), None, json!({})).await;
    assert_eq!(
        (s, e["message"].as_str()),
        (
            400,
            Some(
                r#"[{"loc": ["name"], "msg": "\"1abc\" is not a valid index name. Index name must match [a-zA-Z_-][a-zA-Z0-9_-]* and must not start with \"marqo__\"", "type": "value_error"}]"#
            )
        )
    );
    let (s, e) = post(
        &format!("{url}/indexes/shop/documents"),
        None,
        json!({"documents": [{"title": "x"}], "tensorFields": ["title"]}),
    )
    .await;
    assert_eq!(
        s, 400,
        "structured indexes take tensor fields from settings: {e}"
    );
    let (s, r) = post(
        &format!("{url}/indexes/shop/documents"),
        None,
        json!({"documents": [
            {"_id": "1", "title": "green tea", "brand": "Leaf", "price": 4.0},
            {"_id": "2", "title": "black tea", "brand": "Bold", "price": 2.0},
            {"_id": "3", "title": "x", "unknown": 1}
        ]}),
    )
    .await;
    assert_eq!(s, 200);
    // Marqo's structured add handler: an AddDocumentsError (400 `invalid_argument`) naming the
    // index's fields.
    assert_eq!(r["items"][2]["code"], "invalid_argument");
    let msg = r["items"][2]["error"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with(
            "Field unknown is not a valid field for structured index shop. Valid fields are: "
        ),
        "{msg}"
    );
    let (_, r) = post(
        &format!("{url}/indexes/shop/search"),
        None,
        json!({"q": "tea", "searchMethod": "LEXICAL", "filter": "brand:leaf"}),
    )
    .await;
    assert_eq!(r["hits"].as_array().unwrap().len(), 1);
    let (s, e) = post(
        &format!("{url}/indexes/shop/search"),
        None,
        json!({"q": "tea", "filter": "title:tea"}),
    )
    .await;
    assert_eq!((s, e["code"].as_str()), (400, Some("invalid_field_name")));
    let (_, r) = post(
        &format!("{url}/indexes/shop/search"),
        None,
        json!({"q": "green tea", "searchableAttributes": ["combo"]}),
    )
    .await;
    assert_eq!(r["hits"][0]["_id"], "1");
    assert!(r["hits"][0]["_highlights"][0]["combo"].is_string());
    let (_, st) = get(&format!("{url}/indexes/shop/stats"), None).await;
    assert_eq!(st["numberOfVectors"], 4, "two tensor fields x two docs");
}

#[tokio::test]
async fn errors_are_marqo_shaped_json() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open"]).await;
    let url = &cell.url;
    post(&format!("{url}/indexes/i1"), None, json!({})).await;
    // malformed JSON → 400, never a panic or 500
    for path in [
        "/indexes/i1/documents",
        "/indexes/i1/search",
        "/api/v2/indexes/x",
        "/_fake/accounts",
    ] {
        let r = client()
            .post(format!("{url}{path}"))
            .body("{\"documents\": [")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["code"], "invalid_argument", "{path}");
        assert_eq!(v["type"], "invalid_request");
        // Marqo's handler writes no `status` key and an invalid-request error's `link` is null.
        assert!(v["message"].is_string() && v["link"].is_null() && v.get("status").is_none());
    }
    let (s, e) = get(&format!("{url}/no/such/route"), None).await;
    assert_eq!((s, e["type"].as_str()), (404, Some("invalid_request")));
    let (s, e) = post(
        &format!("{url}/indexes/i1/documents"),
        None,
        json!({"documents": [{"a": "b"}]}),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (400, Some("bad_request")),
        "tensorFields is required"
    );
    let (s, e) = post(
        &format!("{url}/indexes/i1/documents"),
        None,
        json!({"documents": [], "tensorFields": []}),
    )
    .await;
    assert_eq!((s, e["code"].as_str()), (400, Some("bad_request")));
    let many: Vec<Value> = (0..129).map(|i| json!({"_id": i.to_string()})).collect();
    let (s, _) = post(
        &format!("{url}/indexes/i1/documents"),
        None,
        json!({"documents": many, "tensorFields": []}),
    )
    .await;
    assert_eq!(s, 400);
    let (s, e) = post(
        &format!("{url}/indexes/missing/documents"),
        None,
        json!({"documents": [{"a": "b"}], "tensorFields": []}),
    )
    .await;
    assert_eq!((s, e["code"].as_str()), (404, Some("index_not_found")));
    // 413 with a JSON body
    let big = "x".repeat(33 * 1024 * 1024);
    let r = client()
        .post(format!("{url}/indexes/i1/documents"))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "request_too_large");
    // per-item size limit
    let doc = json!({"_id": "big", "t": "y".repeat(100_001)});
    let (s, r) = post(
        &format!("{url}/indexes/i1/documents"),
        None,
        json!({"documents": [doc], "tensorFields": []}),
    )
    .await;
    assert_eq!(
        (s, r["items"][0]["code"].as_str()),
        (200, Some("doc_too_large"))
    );
}

#[tokio::test]
async fn document_cap_is_a_clear_400() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open", "--max-docs-per-index", "5"]).await;
    let url = &cell.url;
    post(&format!("{url}/indexes/small"), None, json!({})).await;
    let (s, _) = post(
        &format!("{url}/indexes/small/documents"),
        None,
        json!({"documents": docs("d", 5), "tensorFields": []}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, e) = post(
        &format!("{url}/indexes/small/documents"),
        None,
        json!({"documents": docs("e", 1), "tensorFields": []}),
    )
    .await;
    assert_eq!((s, e["code"].as_str()), (400, Some("bad_request")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("limit of 5"));
    // replacing an existing document is still fine
    let (s, _) = post(
        &format!("{url}/indexes/small/documents"),
        None,
        json!({"documents": docs("d", 1), "tensorFields": []}),
    )
    .await;
    assert_eq!(s, 200);
}

/// Over HTTP on the real binary: a lexical query word finds its other forms (plural, verb
/// ending, accents), as Vespa's stemming and accent removal make Marqo's lexical search do; a
/// list of strings is not lexical (`boots` misses document 3's tags), and `*` is every document.
#[tokio::test]
async fn lexical_search_over_http_matches_word_forms() {
    let dir = tempfile::tempdir().unwrap();
    let cell = open_cell_with_index(dir.path(), "forms").await;
    let base = cell.url.clone();
    let (s, r) = post(
        &format!("{base}/indexes/forms/documents"),
        None,
        json!({"documents": [
            {"_id": "1", "title": "Hiking boots for the Pyrénées"},
            {"_id": "2", "title": "a boot scraper"},
            {"_id": "3", "title": "walking sticks", "tags": ["boots"]},
            {"_id": "4", "stock": 2}
        ], "tensorFields": ["title"]}),
    )
    .await;
    assert_eq!((s, r["errors"].as_bool()), (200, Some(false)), "{r}");
    for (q, want) in [
        ("boots", vec!["1", "2"]),
        ("hike pyrenees", vec!["1"]),
        ("walk stick", vec!["3"]),
        // every document, a numbers-only one too; a list of strings is for filtering only
        ("*", vec!["1", "2", "3", "4"]),
    ] {
        let (s, r) = post(
            &format!("{base}/indexes/forms/search"),
            None,
            json!({"q": q, "searchMethod": "LEXICAL"}),
        )
        .await;
        assert_eq!(s, 200, "{r}");
        let mut got = crate::search_params::ids(&r);
        got.sort();
        assert_eq!(got, want, "{q}: {r}");
    }
}

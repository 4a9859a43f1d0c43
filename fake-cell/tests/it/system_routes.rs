//! Issue 19's small routes and Marqo's wording: `GET /` (the emulated version), `/health`,
//! index health, `GET|DELETE /models`, `/device/{cpu,cuda}`, `?telemetry=true`, and custom
//! vector dimension errors in add_documents and search. Each check runs in-process (tower
//! oneshot) and against the real binary over HTTP.

use axum::http::Method;
use serde_json::{Value, json};

use crate::in_process::{cell_with_index, send};
use crate::support::{CellProc, call};

/// Where requests go: the router in-process or a running binary.
enum Target {
    InProcess(axum::Router),
    Http(String),
}

impl Target {
    async fn req(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        match self {
            Target::InProcess(app) => {
                let m = Method::from_bytes(method.as_bytes()).unwrap();
                let text = body.map(|b| b.to_string());
                send(app, m, path, text.as_deref()).await
            }
            Target::Http(url) => {
                let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
                call(m, &format!("{url}{path}"), None, body.as_ref()).await
            }
        }
    }
}

/// Every check, against an open cell that already has the empty index `st` (`hf/e5-base-v2`).
async fn exercise(t: &Target) {
    let (s, r) = t.req("GET", "/", None).await;
    assert_eq!(
        (s, r),
        (
            200,
            json!({"message": "Welcome to Marqo", "version": "2.23.1"})
        )
    );
    let green = json!({"status": "green", "inference": {"status": "green"},
        "backend": {"status": "green", "memoryIsAvailable": true, "storageIsAvailable": true}});
    assert_eq!(t.req("GET", "/health", None).await, (200, green.clone()));
    assert_eq!(t.req("GET", "/indexes/st/health", None).await, (200, green));
    let (s, r) = t.req("GET", "/indexes/nope/health", None).await;
    assert_eq!((s, r["code"].as_str()), (404, Some("index_not_found")));

    models_and_devices(t).await;
    telemetry(t).await;
    custom_vector_dimensions(t).await;
}

async fn models_and_devices(t: &Target) {
    let (s, r) = t.req("GET", "/models", None).await;
    assert_eq!(s, 200);
    assert!(
        r["models"]
            .as_array()
            .unwrap()
            .contains(&json!({"model_name": "hf/e5-base-v2", "model_device": "cpu"})),
        "{r}"
    );
    let (s, r) = t
        .req(
            "DELETE",
            "/models?model_name=hf%2Fe5-base-v2&model_device=cpu",
            None,
        )
        .await;
    assert_eq!((s, r["result"].as_str()), (200, Some("success")), "{r}");
    assert_eq!(
        r["message"],
        "successfully eject model_name `hf/e5-base-v2` from device `cpu`"
    );
    let (s, r) = t
        .req(
            "DELETE",
            "/models?model_name=hf/e5-base-v2&model_device=cuda",
            None,
        )
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (404, Some("model_not_in_cache")),
        "{r}"
    );
    assert_eq!(
        r["message"],
        "The model_name `hf/e5-base-v2` device `cuda` is not cached or found"
    );
    let (s, r) = t.req("DELETE", "/models?model_device=cpu", None).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (422, Some("unprocessable_entity")),
        "{r}"
    );
    let missing = json!([{"loc": ["query", "model_name"], "msg": "field required",
        "type": "value_error.missing"}]);
    assert_eq!(r["detail"], missing);
    // Ejected, a model is no longer listed or ejectable, until a request embeds with it again.
    let listed = |r: &Value| {
        r["models"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["model_name"] == "hf/e5-base-v2")
    };
    let (_, r) = t.req("GET", "/models", None).await;
    assert!(!listed(&r), "{r}");
    let (s, _) = t
        .req("DELETE", "/models?model_name=hf/e5-base-v2", None)
        .await;
    assert_eq!(s, 404);
    let (s, _) = t
        .req(
            "POST",
            "/indexes/st/search",
            Some(json!({"q": "x", "searchMethod": "LEXICAL"})),
        )
        .await;
    assert_eq!(s, 200);
    let (_, r) = t.req("GET", "/models", None).await;
    assert!(!listed(&r), "a lexical search embeds nothing: {r}");
    t.req("POST", "/indexes/st/search", Some(json!({"q": "x"})))
        .await;
    let (_, r) = t.req("GET", "/models", None).await;
    assert!(listed(&r), "{r}");
    // py-marqo's eject_model sends no model_device: cpu is assumed.
    let (s, r) = t
        .req("DELETE", "/models?model_name=hf/e5-base-v2", None)
        .await;
    assert_eq!((s, r["result"].as_str()), (200, Some("success")), "{r}");

    let (s, r) = t.req("GET", "/device/cpu", None).await;
    assert_eq!(s, 200);
    for k in ["cpu_usage_percent", "memory_used_percent"] {
        assert!(r[k].as_str().unwrap().ends_with(" %"), "{r}");
    }
    assert!(
        r["memory_used_gb"].as_str().unwrap().parse::<f64>().is_ok(),
        "{r}"
    );
    let (s, r) = t.req("GET", "/device/cuda", None).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (400, Some("hardware_compatability_error")),
        "{r}"
    );
    assert_eq!(r["message"], "CUDA is not available on this instance");
}

/// The names in an answer's `telemetry.timesMs`, in order; each holds a number (or, for a
/// name timed more than once, a list of numbers).
fn timers(r: &Value) -> Vec<String> {
    let times = r["telemetry"]["timesMs"].as_object();
    for (k, v) in times.into_iter().flatten() {
        let all = v.as_array().cloned().unwrap_or_else(|| vec![v.clone()]);
        assert!(all.iter().all(Value::is_f64), "{k}: {v}");
    }
    times
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

async fn telemetry(t: &Target) {
    let q = Some(json!({"q": "anything"}));
    let (_, r) = t.req("POST", "/indexes/st/search", q).await;
    assert!(r.get("telemetry").is_none(), "{r}");
    let (s, r) = t.req("GET", "/indexes?&telemetry=true", None).await;
    assert_eq!((s, &r["telemetry"]), (200, &json!({})), "{r}");
    let (s, r) = t
        .req("GET", "/indexes/nope/stats?telemetry=true", None)
        .await;
    assert_eq!((s, &r["telemetry"]), (404, &json!({})), "{r}");

    // Marqo's timers, in the order Marqo records them (`tensor_search.py`, `hybrid_search.py`,
    // `add_documents_handler.py`, `embed.py`). Each document's vectorisation is timed apart.
    let docs = json!({"documents": [{"_id": "t1", "title": "red apple"},
        {"_id": "t2", "title": "green pear"}], "tensorFields": ["title"]});
    let (s, r) = t
        .req("POST", "/indexes/st/documents?telemetry=true", Some(docs))
        .await;
    assert_eq!(s, 200, "{r}");
    let grown = [
        "add_documents.create_vectors",
        "add_documents.processing_before_vespa",
        "add_documents.update_index",
        "add_documents.vespa._bulk",
        "add_documents.postprocess",
        "POST /indexes/st/documents",
    ];
    assert_eq!(timers(&r), grown);
    let vectorised = &r["telemetry"]["timesMs"]["add_documents.create_vectors"];
    assert_eq!(vectorised.as_array().map(Vec::len), Some(2), "{r}");
    // The same fields again: the index's schema does not change.
    let again =
        json!({"documents": [{"_id": "t3", "title": "blue plum"}], "tensorFields": ["title"]});
    let (s, r) = t
        .req("POST", "/indexes/st/documents?telemetry=true", Some(again))
        .await;
    assert_eq!(s, 200, "{r}");
    let same: Vec<&str> = grown
        .into_iter()
        .filter(|k| *k != "add_documents.update_index")
        .collect();
    assert_eq!(timers(&r), same);

    for (method, phases, extra) in [
        ("TENSOR", "search.vector", json!({})),
        ("LEXICAL", "search.lexical", json!({})),
        ("HYBRID", "search.hybrid", json!({})),
        // not cached (its answer counts every hit)
        ("HYBRID", "search.hybrid", json!({"trackTotalHits": true})),
    ] {
        let mut want: Vec<String> = match method {
            "TENSOR" => vec!["search.vector_inference_full_pipeline".into()],
            "HYBRID" => vec!["search.hybrid.vector_inference_full_pipeline".into()],
            _ => Vec::new(),
        };
        for phase in ["processing_before_vespa", "vespa", "postprocess"] {
            want.push(format!("{phase_prefix}.{phase}", phase_prefix = phases));
        }
        want.push("POST /indexes/st/search".into());
        let mut body = json!({"q": "apple", "searchMethod": method});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        // The second answer may come from the result cache: it keeps the same timers.
        for _ in 0..2 {
            let (s, r) = t
                .req(
                    "POST",
                    "/indexes/st/search?telemetry=True",
                    Some(body.clone()),
                )
                .await;
            assert_eq!(s, 200, "{r}");
            assert!(r["hits"].is_array(), "{r}");
            assert_eq!(timers(&r), want, "{body}");
        }
    }

    let (s, r) = t
        .req(
            "POST",
            "/indexes/st/recommend?telemetry=true",
            Some(json!({"documents": ["t1"]})),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        timers(&r),
        [
            "search.vector_inference_full_pipeline",
            "search.vector.processing_before_vespa",
            "search.vector.vespa",
            "search.vector.postprocess",
            "POST /indexes/st/search"
        ]
    );
    let (s, r) = t
        .req(
            "POST",
            "/indexes/st/embed?telemetry=true",
            Some(json!({"content": ["a", "b"]})),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        timers(&r),
        [
            "embed.query_preprocessing",
            "embed.vector_inference_full_pipeline",
            "POST /indexes/st/embed"
        ]
    );
    // A body Marqo's model refuses never reaches the handler, so nothing was timed; an error
    // the handler raises keeps the route's timer (Marqo's `with` block records it anyway).
    let (s, r) = t
        .req(
            "POST",
            "/indexes/st/search?telemetry=true",
            Some(json!({"q": "x", "bogus": 1})),
        )
        .await;
    assert_eq!((s, &r["telemetry"]), (422, &json!({})), "{r}");
    let (s, r) = t
        .req(
            "POST",
            "/indexes/st/search?telemetry=true",
            Some(json!({"q": "x", "filter": "a:("})),
        )
        .await;
    assert_eq!(s, 400, "{r}");
    assert!(
        timers(&r).contains(&"POST /indexes/st/search".to_string()),
        "{r}"
    );
}

async fn custom_vector_dimensions(t: &Target) {
    let docs = json!({"documents": [{"_id": "v", "vec": {"vector": [0.1, 0.2, 0.3]}}],
        "tensorFields": ["vec"], "mappings": {"vec": {"type": "custom_vector"}}});
    let (s, r) = t.req("POST", "/indexes/st/documents", Some(docs)).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (400, Some("invalid_argument")),
        "{r}"
    );
    assert_eq!(
        r["message"],
        r#"[{"loc": ["__root__"], "msg": "Custom vector must have dimension of 768, but given vector is of length 3", "type": "value_error"}]"#
    );
    let want = "The dimension of the vectors returned by the model or given by the context vectors \
                does not match the expected dimension. Expected dimension 768 but got 2";
    let ctx = json!({"q": {"x": 1}, "context": {"tensor": [{"vector": [1.0, 0.0], "weight": 1}]}});
    let (s, r) = t.req("POST", "/indexes/st/search", Some(ctx)).await;
    assert_eq!(
        (s, r["code"].as_str(), r["message"].as_str()),
        (400, Some("invalid_argument"), Some(want)),
        "{r}"
    );
    // Marqo's validate_context: a TENSOR search's context needs a weighted `q`.
    let ctx = json!({"q": "x", "context": {"tensor": [{"vector": [1.0, 0.0], "weight": 1}]}});
    let (s, r) = t.req("POST", "/indexes/st/search", Some(ctx)).await;
    assert_eq!(s, 400, "{r}");
    assert!(r["message"].as_str().unwrap_or("").starts_with(
        "Marqo received a query = `x` with type =`str` and a parameter `context`.\nThis is not supported as the context only works when the query is a dictionary."
    ), "{r}");
    let custom = json!({"q": {"customVector": {"content": "x", "vector": [1.0, 0.0]}}});
    let (s, r) = t.req("POST", "/indexes/st/search", Some(custom)).await;
    assert_eq!((s, r["message"].as_str()), (400, Some(want)), "{r}");
    custom_vector_shown_as_content(t).await;
}

/// Marqo keeps a custom vector field's `content` as the field's value: documents and hits show
/// it, the vector is only a tensor facet, and the content is lexically searchable.
async fn custom_vector_shown_as_content(t: &Target) {
    let mut vector = vec![0.0; 768];
    vector[3] = 1.0;
    let docs = json!({"documents": [{"_id": "cv", "vec": {"content": "zebra stripes", "vector": vector}}],
        "tensorFields": ["vec"], "mappings": {"vec": {"type": "custom_vector"}}});
    let (s, r) = t.req("POST", "/indexes/st/documents", Some(docs)).await;
    assert_eq!((s, &r["errors"]), (200, &json!(false)), "{r}");
    let (s, r) = t
        .req("GET", "/indexes/st/documents/cv?expose_facets=True", None)
        .await;
    assert_eq!((s, &r["vec"]), (200, &json!("zebra stripes")), "{r}");
    assert_eq!(r["_tensor_facets"][0]["vec"], "zebra stripes", "{r}");
    assert_eq!(r["_tensor_facets"][0]["_embedding"][3], 1.0, "{r}");
    let lexical = json!({"q": "zebra", "searchMethod": "LEXICAL"});
    let (s, r) = t.req("POST", "/indexes/st/search", Some(lexical)).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["hits"][0]["_id"], "cv", "{r}");
    assert_eq!(r["hits"][0]["vec"], "zebra stripes", "{r}");
}

#[tokio::test]
async fn system_routes_in_process() {
    let (_dir, cell, app) = cell_with_index("st").await;
    exercise(&Target::InProcess(app)).await;
    // An index server's router answers the cell's `/healthz` too.
    let index = fake_cell::http::index_router(cell.clone());
    let (s, h) = send(&index, Method::GET, "/healthz", None).await;
    assert_eq!((s, h["service"].as_str()), (200, Some("fake-cell")), "{h}");
    fake_cell::servers::stop_all(&cell);
}

#[tokio::test]
async fn system_routes_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open"]).await;
    let t = Target::Http(cell.url.clone());
    let (s, r) = t.req("POST", "/indexes/st", Some(json!({}))).await;
    assert_eq!(s, 200, "{r}");
    exercise(&t).await;
    // The index's own server answers `/healthz` with the cell's report.
    let (s, r) = t.req("GET", "/api/v2/indexes/st", None).await;
    assert_eq!(s, 200, "{r}");
    let endpoint = r["marqoEndpoint"].as_str().unwrap().trim_end_matches('/');
    let (s, h) = call(
        reqwest::Method::GET,
        &format!("{endpoint}/healthz"),
        None,
        None,
    )
    .await;
    assert_eq!((s, h["service"].as_str()), (200, Some("fake-cell")), "{h}");
}
